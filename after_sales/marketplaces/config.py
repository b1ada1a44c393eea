"""Mapping files: one YAML per marketplace, validated by pydantic models into `SourceConfig` objects.

A user's mapping file may `extend` a built-in (or earlier) one: it then lists only what it adds.
"""

from __future__ import annotations

import copy
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from after_sales.vocabulary import ISSUE_TYPES, LANDING_COLUMNS, ORDER_STATUSES, REFUND_STATUSES, RESOLUTIONS

SOURCES_DIR = Path(__file__).parent / "sources"

SUBKINDS: dict[str, str] = {"orders": "orders", "refunds": "feedback", "reviews": "feedback", "items": "items"}

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
# One line of an order: from an items file, or from the per-SKU lines of an order export.
ITEM_COLUMNS: tuple[str, ...] = (
    "order_id",
    "line_no",
    "sku",
    "product",
    "quantity",
    "unit_price",
    "amount",
    "channel",
    "source_row",
)
OUTPUT_COLUMNS: dict[str, tuple[str, ...]] = {
    "orders": ORDER_COLUMNS,
    "feedback": FEEDBACK_COLUMNS,
    "items": ITEM_COLUMNS,
}

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
    "unit_price": "amount",
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
    """One test on a field: equal to one of `values`, containing one of `contains`, (non-)empty, none of `not_in`."""

    field: str
    values: tuple[str, ...] = ()
    contains: tuple[str, ...] = ()
    empty: bool | None = None
    not_in: tuple[str, ...] = ()


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
    """One export kind of one marketplace: an orders, refunds or reviews layout, named in the mapping file."""

    subkind: str
    columns: dict[str, tuple[str, ...]]
    required: tuple[str, ...]
    maps: dict[str, dict[str, str]]
    derive: tuple[Derivation, ...]
    ignore: tuple[str, ...] = ()
    types: dict[str, str] = field(default_factory=dict)
    export: dict[str, Any] = field(default_factory=dict)
    name: str = ""
    part_of: str | None = None
    where: tuple[Condition, ...] = ()
    not_with: tuple[str, ...] = ()
    id_pattern: str | None = None
    item_lines: bool = False
    sum_into_orders: tuple[str, ...] = ()
    coalesce: tuple[str, ...] = ()

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
    extends: str | None = None
    document: dict[str, Any] = field(default_factory=dict)

    def detectable(self) -> list[KindConfig]:
        """Kinds a file can be recognised as (not the ones read only as part of another kind)."""
        return [k for k in self.kinds.values() if k.part_of is None]

    def parts_of(self, name: str) -> list[KindConfig]:
        """Kinds read from the same rows as kind `name`."""
        return [k for k in self.kinds.values() if k.part_of == name]


def _err(path: Path, key: str, msg: str) -> SourceConfigError:
    """A SourceConfigError naming file and key."""
    return SourceConfigError(f"{path}: {key}: {msg}")


# ---------------------------------------------------------------- the YAML document, as pydantic models


def _text(v: Any) -> Any:
    """YAML scalars as text (`5` -> '5', `true` -> 'true'); anything else is left for pydantic to refuse."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    return v


def _text_list(v: Any) -> Any:
    """A scalar or a list of scalars as a list of text; None as an empty list."""
    if v is None:
        return []
    if isinstance(v, (str, int, float, bool)):
        return [_text(v)]
    if isinstance(v, list):
        return [_text(x) for x in v]
    return v


Text = Annotated[str, BeforeValidator(_text)]
TextList = Annotated[list[Text], BeforeValidator(_text_list)]


class _Strict(BaseModel):
    """Unknown keys are errors (a typo fails at load time, naming the key)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class ConditionModel(_Strict):
    """`{in: [...], contains: [...], empty: bool, not_in: [...]}`."""

    in_: TextList = Field(default_factory=list, alias="in")
    contains: TextList = Field(default_factory=list)
    empty: bool | None = None
    not_in: TextList = Field(default_factory=list)


ConditionSpec = ConditionModel | TextList


class RuleModel(_Strict):
    """`{when: {field: condition}, value: v}`."""

    when: dict[str, ConditionSpec]
    value: Text


class DeriveModel(_Strict):
    """One derive entry."""

    default: Text | None = None
    rules: list[RuleModel] = Field(default_factory=list)
    join: TextList = Field(default_factory=list)
    sep: Text = " "
    templates: TextList = Field(default_factory=list)


class KindModel(_Strict):
    """One kind section: an orders, refunds or reviews layout."""

    kind: Literal["orders", "refunds", "reviews", "items"] | None = None
    columns: dict[str, TextList]
    required: TextList = Field(default_factory=list)
    maps: dict[Text, dict[Text, Text]] = Field(default_factory=dict)
    derive: dict[str, DeriveModel | Text] = Field(default_factory=dict)
    ignore: TextList = Field(default_factory=list)
    types: dict[str, Literal["id", "datetime", "amount", "int", "enum", "rating", "bool", "text"]] = Field(
        default_factory=dict
    )
    export: dict[str, Any] = Field(default_factory=dict)
    part_of: str | None = None
    where: dict[str, ConditionSpec] = Field(default_factory=dict)
    not_with: TextList = Field(default_factory=list)
    ids: IdsModel | None = None
    item_lines: bool = False
    sum_into_orders: TextList = Field(default_factory=list)
    coalesce: TextList = Field(default_factory=list)


class IdsModel(_Strict):
    """`ids:`."""

    pattern: Text = r"\d+"


class AmountsModel(_Strict):
    """`amounts:`."""

    strip: TextList = Field(default_factory=list)
    thousands: TextList = Field(default_factory=list)


class SourceModel(_Strict):
    """A whole mapping file."""

    extend: str | None = None
    channel: Text | None = None
    label: Text | None = None
    encodings: TextList = Field(default_factory=list)
    delimiter: Text = ","
    header_search_rows: int = Field(default=10, ge=1)
    null_values: TextList = Field(default_factory=list)
    ids: IdsModel = Field(default_factory=IdsModel)
    amounts: AmountsModel = Field(default_factory=AmountsModel)
    date_formats: TextList = Field(default_factory=list)
    timezone: Text = "Asia/Shanghai"
    summary_rows: TextList = Field(default_factory=list)
    kinds: dict[str, KindModel]
    export: dict[str, Any] = Field(default_factory=dict)


KindModel.model_rebuild()


def _validation_error(path: Path, exc: ValidationError) -> SourceConfigError:
    """The first pydantic error as file: key: message (union branches folded into one key)."""
    err = exc.errors()[0]
    loc = [str(p) for p in err["loc"] if not str(p).startswith(("function-", "list[", "ConditionModel"))]
    loc = [p for p in loc if p not in {"DeriveModel", "str", "constrained-str"}]
    return _err(path, ".".join(loc) or "top level", err["msg"])


# ---------------------------------------------------------------- extending a mapping


def _merge_derive(base: Any, ext: Any) -> Any:
    """An extension's derive entry over the base one: its rules first (they win), other keys replace."""
    if not isinstance(ext, Mapping) or not isinstance(base, Mapping):
        return copy.deepcopy(ext) if not isinstance(ext, Mapping) or base is None else dict(ext)
    out = dict(base)
    for k, v in ext.items():
        out[k] = [*(v or []), *(base.get("rules") or [])] if k == "rules" else v
    return out


def _merge_kind(base: Mapping[str, Any], ext: Mapping[str, Any]) -> dict[str, Any]:
    """An extension's kind section over the base one: synonyms, labels, ignores and rules are added."""
    out = copy.deepcopy(dict(base))
    for key, value in ext.items():
        if key == "columns" and isinstance(value, Mapping):
            cols = dict(out.get("columns") or {})
            for f, syns in value.items():
                have, more = _text_list(cols.get(f)), _text_list(syns)
                # anything but a list of headers is left as written, for the validation to name
                cols[f] = [*have, *(s for s in more if s not in have)] if isinstance(more, list) else syns
            out["columns"] = cols
        elif key in {"maps", "types"} and isinstance(value, Mapping):
            merged = dict(out.get(key) or {})
            for f, m in value.items():
                merged[f] = {**(merged.get(f) or {}), **m} if key == "maps" and isinstance(m, Mapping) else m
            out[key] = merged
        elif key == "derive" and isinstance(value, Mapping):
            derive = dict(out.get("derive") or {})
            for f, d in value.items():
                derive[f] = _merge_derive(derive.get(f), d)
            out["derive"] = derive
        elif key in {"ignore", "not_with", "coalesce"}:
            have = _text_list(out.get(key))
            out[key] = [*have, *(s for s in _text_list(value) if s not in have)]
        else:
            out[key] = copy.deepcopy(value)
    return out


def merge_documents(base: Mapping[str, Any], ext: Mapping[str, Any]) -> dict[str, Any]:
    """The mapping document `ext` (which says `extend: <base>`) applied on top of `base`."""
    out = copy.deepcopy({k: v for k, v in base.items() if k != "extend"})
    for key, value in ext.items():
        if key == "extend":
            continue
        if key == "kinds" and isinstance(value, Mapping):
            kinds = dict(out.get("kinds") or {})
            for name, spec in value.items():
                kinds[name] = _merge_kind(kinds[name], spec) if name in kinds and isinstance(spec, Mapping) else spec
            out["kinds"] = kinds
        elif key in {"ids", "amounts"} and isinstance(value, Mapping):
            out[key] = {**(out.get(key) or {}), **value}
        else:
            out[key] = copy.deepcopy(value)
    return out


# ---------------------------------------------------------------- building the runtime objects


def _condition(fname: str, spec: ConditionModel | list[str]) -> Condition:
    """One rule condition."""
    if isinstance(spec, ConditionModel):
        return Condition(fname, tuple(spec.in_), tuple(spec.contains), spec.empty, tuple(spec.not_in))
    return Condition(fname, values=tuple(spec))


def _derivation(fname: str, spec: DeriveModel | str) -> Derivation:
    """One derive entry."""
    if isinstance(spec, str):
        return Derivation(fname, default=spec)
    rules = tuple(Rule(tuple(_condition(f, c) for f, c in r.when.items()), r.value) for r in spec.rules)
    return Derivation(fname, spec.default, rules, tuple(spec.join), spec.sep, tuple(spec.templates))


def _kind(name: str, spec: KindModel, path: Path) -> KindConfig:
    """One kind section, validated across fields."""
    key = f"kinds.{name}"
    subkind = spec.kind or name
    if subkind not in SUBKINDS:
        raise _err(path, key, f"unknown kind {name!r}: name it orders, refunds, reviews or items, or say `kind:`")
    if not spec.columns:
        raise _err(path, f"{key}.columns", "expected a mapping of canonical field -> list of native headers")
    columns = {f: tuple(h) for f, h in spec.columns.items()}
    seen: dict[str, str] = {}
    for f, headers in columns.items():
        if not headers:
            raise _err(path, f"{key}.columns.{f}", "no native headers listed")
        for h in headers:
            k = norm_key(h)
            if k in seen and seen[k] != f:
                raise _err(path, f"{key}.columns.{f}", f"header {h!r} is already a synonym of {seen[k]}")
            seen[k] = f
    for f in spec.required:
        if f not in columns:
            raise _err(path, f"{key}.required", f"required field {f!r} has no entry under columns")
    kc = KindConfig(
        subkind=subkind,
        columns=columns,
        required=tuple(spec.required),
        maps={f: dict(m) for f, m in spec.maps.items()},
        derive=tuple(_derivation(f, d) for f, d in spec.derive.items()),
        ignore=tuple(spec.ignore),
        types=dict(spec.types),
        export=dict(spec.export),
        name=name,
        part_of=spec.part_of,
        where=tuple(_condition(f, c) for f, c in spec.where.items()),
        not_with=tuple(spec.not_with),
        id_pattern=spec.ids.pattern if spec.ids is not None else None,
        item_lines=spec.item_lines,
        sum_into_orders=tuple(spec.sum_into_orders),
        coalesce=tuple(spec.coalesce),
    )
    for f in kc.coalesce:
        if f not in columns:
            raise _err(path, f"{key}.coalesce", f"field {f!r} has no entry under columns")
    if kc.item_lines and kc.kind != "orders":
        raise _err(path, f"{key}.item_lines", "only an orders kind has one line per item")
    bad = set(kc.sum_into_orders) - {"amount", "quantity"}
    if bad or (kc.sum_into_orders and kc.kind != "items"):
        raise _err(path, f"{key}.sum_into_orders", "an items kind may sum amount and/or quantity into its orders")
    if kc.id_pattern is not None:
        try:
            re.compile(kc.id_pattern)
        except re.error as exc:
            raise _err(path, f"{key}.ids.pattern", f"bad pattern: {exc}") from exc
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
    for c in kc.where:
        if c.field not in known:
            raise _err(path, f"{key}.where", f"unknown field {c.field!r}")
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
    if kc.kind == "orders" and "status" not in kc.columns and not kc.derivation("status"):
        raise _err(path, key, "orders need a status column or a status derivation")
    if kc.kind == "items" and "order_id" not in kc.columns:
        raise _err(path, key, "items need an order_id column")


def _read_document(path: Path) -> dict[str, Any]:
    """The YAML mapping of one file."""
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise SourceConfigError(f"{path}: cannot read mapping file: {exc}") from exc
    if not isinstance(doc, Mapping):
        raise SourceConfigError(f"{path}: expected a YAML mapping at the top level")
    return dict(doc)


def build_source(name: str, path: Path, doc: Mapping[str, Any], extends: str | None = None) -> SourceConfig:
    """Validate a (merged) mapping document and build its `SourceConfig`."""
    if not re.fullmatch(r"[a-z0-9][a-z0-9_]*", name):
        raise _err(path, "file name", "source names are lower-case letters, digits and _")
    if not isinstance(doc.get("kinds"), Mapping) or not doc.get("kinds"):
        raise _err(path, "kinds", "expected at least one of orders, refunds, reviews")
    try:
        model = SourceModel.model_validate(doc)
    except ValidationError as exc:
        raise _validation_error(path, exc) from exc
    summary = tuple(model.summary_rows) or DEFAULT_SUMMARY
    for p in summary:
        try:
            re.compile(p)
        except re.error as exc:
            raise _err(path, "summary_rows", f"bad pattern {p!r}: {exc}") from exc
    try:
        re.compile(model.ids.pattern)
    except re.error as exc:
        raise _err(path, "ids.pattern", f"bad pattern: {exc}") from exc
    encodings = tuple(model.encodings) or ("utf-8-sig", "gb18030")
    for enc in encodings:
        try:
            "".encode(enc)
        except LookupError as exc:
            raise _err(path, "encodings", f"unknown encoding {enc!r}") from exc
    try:
        ZoneInfo(model.timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise _err(path, "timezone", f"unknown time zone {model.timezone!r}") from exc
    kinds = {k: _kind(k, v, path) for k, v in model.kinds.items()}
    for kc in kinds.values():
        if kc.part_of is not None:
            parent = kinds.get(kc.part_of)
            if parent is None or parent.part_of is not None:
                raise _err(path, f"kinds.{kc.name}.part_of", f"{kc.part_of!r} is not a kind of this file")
    if not any(kc.part_of is None for kc in kinds.values()):
        raise _err(path, "kinds", "every kind is part_of another; at least one must be read on its own")
    channel = model.channel or name
    return SourceConfig(
        name=name,
        channel=channel,
        label=model.label or channel,
        path=path,
        encodings=encodings,
        delimiter=model.delimiter,
        header_search_rows=model.header_search_rows,
        null_values=frozenset(model.null_values or DEFAULT_NULLS),
        id_pattern=model.ids.pattern,
        currency_symbols=tuple(model.amounts.strip) or DEFAULT_CURRENCY,
        thousands=tuple(model.amounts.thousands) or DEFAULT_THOUSANDS,
        date_formats=tuple(model.date_formats) or DEFAULT_DATE_FORMATS,
        timezone=model.timezone,
        summary_patterns=summary,
        kinds=kinds,
        export=dict(model.export),
        extends=extends,
        document=dict(doc),
    )


def load_source(path: Path, known: Mapping[str, SourceConfig] | None = None) -> SourceConfig:
    """Read and validate one mapping file; `extend: <name>` resolves against `known` (default: the built-ins)."""
    path = Path(path)
    doc = _read_document(path)
    base_name = doc.get("extend")
    if base_name is None:
        return build_source(path.stem, path, doc)
    if known is None:
        known = {p.stem: build_source(p.stem, p, _read_document(p)) for p in _mapping_files(SOURCES_DIR)}
    base = known.get(str(base_name))
    if base is None:
        raise _err(path, "extend", f"no mapping named {base_name!r} to extend (known: {', '.join(sorted(known))})")
    merged = merge_documents(base.document, doc)
    return build_source(path.stem, path, merged, extends=str(base_name))


def _mapping_files(folder: Path) -> list[Path]:
    """The mapping files of one folder, in name order."""
    return [
        p for p in sorted(folder.glob("*.y*ml")) if p.suffix in {".yaml", ".yml"} and not p.name.startswith(("_", "."))
    ]


def load_sources(extra_dirs: Sequence[Path] = ()) -> dict[str, SourceConfig]:
    """Every mapping file in the built-in sources folder, then in each extra folder (later wins or extends)."""
    found: dict[str, SourceConfig] = {}
    for folder in (SOURCES_DIR, *map(Path, extra_dirs)):
        if not folder.is_dir():
            raise SourceConfigError(f"{folder}: mapping folder does not exist")
        for path in _mapping_files(folder):
            cfg = load_source(path, found)
            found[cfg.name] = cfg
    return found
