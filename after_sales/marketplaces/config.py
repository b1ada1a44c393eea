"""Mapping files: one YAML per marketplace, loaded into validated `SourceConfig` objects."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from after_sales.vocabulary import ISSUE_TYPES, LANDING_COLUMNS, ORDER_STATUSES, REFUND_STATUSES, RESOLUTIONS

SOURCES_DIR = Path(__file__).parent / "sources"

SUBKINDS: dict[str, str] = {"orders": "orders", "refunds": "feedback", "reviews": "feedback"}

_OWN_ORDERS = LANDING_COLUMNS["orders"]
ORDER_COLUMNS: tuple[str, ...] = (*_OWN_ORDERS[:-1], "status_raw", _OWN_ORDERS[-1], "source_row")
FEEDBACK_COLUMNS: tuple[str, ...] = (
    *LANDING_COLUMNS["feedback"],
    "refund_amount",
    "refund_status",
    "refund_status_raw",
    "channel",
    "source_row",
)
OUTPUT_COLUMNS: dict[str, tuple[str, ...]] = {"orders": ORDER_COLUMNS, "feedback": FEEDBACK_COLUMNS}

# Built-in field types; any other field named in a mapping file is free text unless `types` says otherwise.
FIELD_TYPES: dict[str, str] = {
    "order_id": "id",
    "feedback_id": "id",
    "refund_id": "id",
    "review_id": "id",
    "created_at": "datetime",
    "first_response_at": "datetime",
    "resolved_at": "datetime",
    "paid_at": "datetime",
    "amount": "amount",
    "refund_amount": "amount",
    "quantity": "int",
    "status": "enum",
    "refund_status": "enum",
    "issue_type": "enum",
    "resolution": "enum",
    "rating": "rating",
    "reopened": "bool",
}
FIELD_TYPE_NAMES = frozenset({"id", "datetime", "amount", "int", "enum", "rating", "bool", "text"})
ENUM_VALUES: dict[str, frozenset[str]] = {
    "status": ORDER_STATUSES,
    "refund_status": REFUND_STATUSES,
    "issue_type": ISSUE_TYPES,
    "resolution": RESOLUTIONS,
}
RAW_FIELDS: dict[str, str] = {"status_raw": "status", "refund_status_raw": "refund_status"}
BOOL_WORDS: dict[str, str] = {
    "true": "true",
    "false": "false",
    "1": "true",
    "0": "false",
    "yes": "true",
    "no": "false",
    "y": "true",
    "n": "false",
    "是": "true",
    "否": "false",
}

DEFAULT_NULLS = ("", "-", "--", "null", "NULL", "None", "none", "N/A", "n/a", "0000-00-00 00:00:00")
DEFAULT_DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d")
ALWAYS_DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d")
DEFAULT_SUMMARY = (r"(合计|总计|小计)\s*[:：]?.*", r"共\s*\d+\s*(条|笔|行|个).*")
DEFAULT_CURRENCY = ("¥", "￥", "元", "RMB", "CNY")
DEFAULT_THOUSANDS = (",", "，")


class SourceConfigError(ValueError):
    """A mapping file that cannot be used, with the file and key named."""


def norm_key(text: object) -> str:
    """Matching key for headers and labels: NFKC, no whitespace or wrapping quotes, case-folded."""
    s = unicodedata.normalize("NFKC", str(text)).replace("\ufeff", "")
    s = re.sub(r"\s+", "", s).strip("\"'")
    if s.startswith("=") and len(s) > 1:
        s = s[1:].strip("\"'")
    return s.casefold()


@dataclass(frozen=True)
class Condition:
    """One test on a field: equal to one of `values`, containing one of `contains`, or (non-)empty."""

    field: str
    values: tuple[str, ...] = ()
    contains: tuple[str, ...] = ()
    empty: bool | None = None


@dataclass(frozen=True)
class Rule:
    """Set a derived field to `value` where every condition holds."""

    when: tuple[Condition, ...]
    value: str


@dataclass(frozen=True)
class Derivation:
    """How one output field is derived: default, rules, a join of fields or id templates."""

    field: str
    default: str | None = None
    rules: tuple[Rule, ...] = ()
    join: tuple[str, ...] = ()
    sep: str = " "
    templates: tuple[str, ...] = ()


@dataclass(frozen=True)
class KindConfig:
    """One export kind of one marketplace (orders, refunds or reviews)."""

    subkind: str
    columns: dict[str, tuple[str, ...]]
    required: tuple[str, ...]
    maps: dict[str, dict[str, str]]
    derive: tuple[Derivation, ...]
    ignore: tuple[str, ...] = ()
    types: dict[str, str] = field(default_factory=dict)
    export: dict[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        """'orders' or 'feedback'."""
        return SUBKINDS[self.subkind]

    def field_type(self, name: str) -> str:
        """Logical type of a mapped or derived field."""
        return self.types.get(name) or FIELD_TYPES.get(name, "text")

    def derivation(self, name: str) -> Derivation | None:
        """The derivation for a field, if any."""
        return next((d for d in self.derive if d.field == name), None)


@dataclass(frozen=True)
class SourceConfig:
    """Everything needed to read one marketplace's exports."""

    name: str
    channel: str
    label: str
    path: Path
    encodings: tuple[str, ...]
    delimiter: str
    header_search_rows: int
    null_values: frozenset[str]
    id_pattern: str
    currency_symbols: tuple[str, ...]
    thousands: tuple[str, ...]
    date_formats: tuple[str, ...]
    timezone: str
    summary_patterns: tuple[str, ...]
    kinds: dict[str, KindConfig]
    export: dict[str, Any] = field(default_factory=dict)


def _err(path: Path, key: str, msg: str) -> SourceConfigError:
    """A SourceConfigError naming file and key."""
    return SourceConfigError(f"{path}: {key}: {msg}")


def _str_list(value: Any, path: Path, key: str) -> tuple[str, ...]:
    """A scalar or list of scalars as a tuple of strings."""
    if value is None:
        return ()
    if isinstance(value, (str, int, float)):
        return (str(value),)
    if isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value):
        return tuple(str(v) for v in value)
    raise _err(path, key, "expected a string or a list of strings")


def _condition(fname: str, spec: Any, path: Path, key: str) -> Condition:
    """One rule condition from YAML."""
    if isinstance(spec, Mapping):
        unknown = set(spec) - {"contains", "empty", "in"}
        if unknown:
            raise _err(path, key, f"unknown condition keys {sorted(unknown)} (use in, contains, empty)")
        empty = spec.get("empty")
        if empty is not None and not isinstance(empty, bool):
            raise _err(path, key, "empty must be true or false")
        return Condition(fname, _str_list(spec.get("in"), path, key), _str_list(spec.get("contains"), path, key), empty)
    return Condition(fname, values=_str_list(spec, path, key))


def _derivation(fname: str, spec: Any, path: Path, key: str) -> Derivation:
    """One derive entry from YAML."""
    if not isinstance(spec, Mapping):
        return Derivation(fname, default=str(spec))
    unknown = set(spec) - {"default", "rules", "join", "sep", "templates"}
    if unknown:
        raise _err(path, key, f"unknown keys {sorted(unknown)} (use default, rules, join, sep, templates)")
    rules = []
    for i, r in enumerate(spec.get("rules") or []):
        rkey = f"{key}.rules[{i}]"
        if not isinstance(r, Mapping) or "value" not in r or not isinstance(r.get("when"), Mapping):
            raise _err(path, rkey, "a rule needs `when: {field: condition}` and `value`")
        conds = tuple(_condition(str(f), c, path, f"{rkey}.when.{f}") for f, c in r["when"].items())
        rules.append(Rule(conds, str(r["value"])))
    default = spec.get("default")
    return Derivation(
        fname,
        default=None if default is None else str(default),
        rules=tuple(rules),
        join=_str_list(spec.get("join"), path, f"{key}.join"),
        sep=str(spec.get("sep", " ")),
        templates=_str_list(spec.get("templates"), path, f"{key}.templates"),
    )


def _kind(subkind: str, spec: Any, path: Path) -> KindConfig:
    """One kind section from YAML, validated."""
    key = f"kinds.{subkind}"
    if not isinstance(spec, Mapping):
        raise _err(path, key, "expected a mapping")
    unknown = set(spec) - {"columns", "required", "maps", "derive", "ignore", "types", "export"}
    if unknown:
        raise _err(path, key, f"unknown keys {sorted(unknown)}")
    cols_spec = spec.get("columns")
    if not isinstance(cols_spec, Mapping) or not cols_spec:
        raise _err(path, f"{key}.columns", "expected a mapping of canonical field -> list of native headers")
    columns = {str(f): _str_list(h, path, f"{key}.columns.{f}") for f, h in cols_spec.items()}
    for f, headers in columns.items():
        if not headers:
            raise _err(path, f"{key}.columns.{f}", "no native headers listed")
    seen: dict[str, str] = {}
    for f, headers in columns.items():
        for h in headers:
            k = norm_key(h)
            if k in seen and seen[k] != f:
                raise _err(path, f"{key}.columns.{f}", f"header {h!r} is already a synonym of {seen[k]}")
            seen[k] = f
    types = {str(f): str(t) for f, t in (spec.get("types") or {}).items()}
    for f, t in types.items():
        if t not in FIELD_TYPE_NAMES:
            raise _err(path, f"{key}.types.{f}", f"unknown type {t!r} (one of {sorted(FIELD_TYPE_NAMES)})")
    required = _str_list(spec.get("required"), path, f"{key}.required")
    for f in required:
        if f not in columns:
            raise _err(path, f"{key}.required", f"required field {f!r} has no entry under columns")
    maps: dict[str, dict[str, str]] = {}
    for f, m in (spec.get("maps") or {}).items():
        if not isinstance(m, Mapping):
            raise _err(path, f"{key}.maps.{f}", "expected a mapping native label -> canonical value")
        maps[str(f)] = {str(k): str(v) for k, v in m.items()}
    derive = tuple(_derivation(str(f), d, path, f"{key}.derive.{f}") for f, d in (spec.get("derive") or {}).items())
    kc = KindConfig(
        subkind=subkind,
        columns=columns,
        required=required,
        maps=maps,
        derive=derive,
        ignore=_str_list(spec.get("ignore"), path, f"{key}.ignore"),
        types=types,
        export=dict(spec.get("export") or {}),
    )
    _check_kind(kc, path, key)
    return kc


def _check_value(kc: KindConfig, fname: str, value: str, path: Path, key: str) -> None:
    """Fail unless value is valid for the canonical field."""
    allowed = ENUM_VALUES.get(fname)
    if allowed is not None and value not in allowed:
        raise _err(path, key, f"{value!r} is not a canonical {fname} (one of {sorted(allowed)})")
    if fname == "rating" and value not in {"1", "2", "3", "4", "5"}:
        raise _err(path, key, f"rating {value!r} must be 1-5")
    if fname == "reopened" and value not in {"true", "false"}:
        raise _err(path, key, f"reopened {value!r} must be true or false")


def _check_kind(kc: KindConfig, path: Path, key: str) -> None:
    """Cross-field checks of one kind: map/derive values, referenced fields, feedback ids."""
    outputs = set(OUTPUT_COLUMNS[kc.kind]) - {"channel", "source_row"}
    known = set(kc.columns) | {d.field for d in kc.derive} | set(RAW_FIELDS) | outputs | {"platform", "n"}
    for f, m in kc.maps.items():
        for label, value in m.items():
            _check_value(kc, f, value, path, f"{key}.maps.{f}.{label}")
    for d in kc.derive:
        dkey = f"{key}.derive.{d.field}"
        if d.default is not None:
            _check_value(kc, d.field, d.default, path, f"{dkey}.default")
        for i, r in enumerate(d.rules):
            _check_value(kc, d.field, r.value, path, f"{dkey}.rules[{i}].value")
            for c in r.when:
                if c.field not in known:
                    raise _err(path, f"{dkey}.rules[{i}].when", f"unknown field {c.field!r}")
        for f in d.join:
            if f not in known:
                raise _err(path, f"{dkey}.join", f"unknown field {f!r}")
        for t in d.templates:
            for f in re.findall(r"\{(\w+)\}", t):
                if f not in known:
                    raise _err(path, f"{dkey}.templates", f"unknown field {f!r} in {t!r}")
    if kc.kind == "feedback" and "feedback_id" not in kc.columns and not kc.derivation("feedback_id"):
        raise _err(path, key, "feedback needs a feedback_id column or a feedback_id derivation (templates)")


def load_source(path: Path) -> SourceConfig:
    """Read and validate one mapping file."""
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise SourceConfigError(f"{path}: cannot read mapping file: {exc}") from exc
    if not isinstance(doc, Mapping):
        raise SourceConfigError(f"{path}: expected a YAML mapping at the top level")
    allowed = {
        "channel",
        "label",
        "encodings",
        "delimiter",
        "header_search_rows",
        "null_values",
        "ids",
        "amounts",
        "date_formats",
        "timezone",
        "summary_rows",
        "kinds",
        "export",
    }
    unknown = set(doc) - allowed
    if unknown:
        raise _err(path, "top level", f"unknown keys {sorted(unknown)}")
    name = path.stem
    if not re.fullmatch(r"[a-z0-9][a-z0-9_]*", name):
        raise _err(path, "file name", "source names are lower-case letters, digits and _")
    kinds_spec = doc.get("kinds")
    if not isinstance(kinds_spec, Mapping) or not kinds_spec:
        raise _err(path, "kinds", "expected at least one of orders, refunds, reviews")
    bad = set(kinds_spec) - set(SUBKINDS)
    if bad:
        raise _err(path, "kinds", f"unknown kinds {sorted(bad)} (use {sorted(SUBKINDS)})")
    ids = doc.get("ids") or {}
    amounts = doc.get("amounts") or {}
    summary = _str_list(doc.get("summary_rows"), path, "summary_rows") or DEFAULT_SUMMARY
    for p in summary:
        try:
            re.compile(p)
        except re.error as exc:
            raise _err(path, "summary_rows", f"bad pattern {p!r}: {exc}") from exc
    id_pattern = str(ids.get("pattern", r"\d+"))
    try:
        re.compile(id_pattern)
    except re.error as exc:
        raise _err(path, "ids.pattern", f"bad pattern: {exc}") from exc
    encodings = _str_list(doc.get("encodings"), path, "encodings") or ("utf-8-sig", "gb18030")
    for enc in encodings:
        try:
            "".encode(enc)
        except LookupError as exc:
            raise _err(path, "encodings", f"unknown encoding {enc!r}") from exc
    channel = str(doc.get("channel") or name)
    return SourceConfig(
        name=name,
        channel=channel,
        label=str(doc.get("label") or channel),
        path=path,
        encodings=encodings,
        delimiter=str(doc.get("delimiter", ",")),
        header_search_rows=int(doc.get("header_search_rows", 10)),
        null_values=frozenset(_str_list(doc.get("null_values"), path, "null_values") or DEFAULT_NULLS),
        id_pattern=id_pattern,
        currency_symbols=_str_list(amounts.get("strip"), path, "amounts.strip") or DEFAULT_CURRENCY,
        thousands=_str_list(amounts.get("thousands"), path, "amounts.thousands") or DEFAULT_THOUSANDS,
        date_formats=_str_list(doc.get("date_formats"), path, "date_formats") or DEFAULT_DATE_FORMATS,
        timezone=str(doc.get("timezone", "Asia/Shanghai")),
        summary_patterns=summary,
        kinds={k: _kind(k, v, path) for k, v in kinds_spec.items()},
        export=dict(doc.get("export") or {}),
    )


def load_sources(extra_dirs: Sequence[Path] = ()) -> dict[str, SourceConfig]:
    """Every mapping file in the built-in sources folder, then in each extra folder (later wins)."""
    found: dict[str, SourceConfig] = {}
    for folder in (SOURCES_DIR, *map(Path, extra_dirs)):
        if not folder.is_dir():
            raise SourceConfigError(f"{folder}: mapping folder does not exist")
        for path in sorted(folder.glob("*.y*ml")):
            if path.suffix in {".yaml", ".yml"} and not path.name.startswith(("_", ".")):
                cfg = load_source(path)
                found[cfg.name] = cfg
    return found
