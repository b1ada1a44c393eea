"""Mapping files: one YAML per marketplace, validated by pydantic models into `SourceConfig` objects.

A user's mapping file may `extend` a built-in (or earlier) one: it then lists only what it adds.
"""

from __future__ import annotations

import copy
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from after_sales.vocabulary import ISSUE_TYPES, LANDING_COLUMNS, ORDER_STATUSES, REFUND_STATUSES, RESOLUTIONS

SOURCES_DIR = Path(__file__).parent / "sources"

SUBKINDS: dict[str, str] = {
    "orders": "orders",
    "refunds": "feedback",
    "reviews": "feedback",
    "items": "items",
    "joined": "joined",
}

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
    "joined": ("channel", "source_row"),  # plus every field the kind maps or derives
}
# What a `join:` may aggregate into: the kind families whose rows receive joined fields.
JOIN_TARGETS = ("orders", "items")
AGGREGATES = ("sum", "min", "max", "first", "last", "count", "count_distinct", "list")
# Lineage columns of the order details table: a joined field may not take these names.
RESERVED_FIELDS = frozenset({"order_id", "channel", "landing_date", "source", "source_file", "source_row"})

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
class Aggregate:
    """One joined field: `op` over the joining file's `source` field per key (`order_by` for first/last)."""

    field: str
    op: str
    source: str
    order_by: str | None = None
    sep: str = " / "


@dataclass(frozen=True)
class Join:
    """How a kind's rows join another kind's rows: its `key` equals their `match`; `fields` aggregate per key."""

    into: str
    key: str
    match: str
    unique: bool
    fields: tuple[Aggregate, ...]


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
    join: Join | None = None

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

    def fields(self) -> tuple[str, ...]:
        """Every field the kind maps or derives, in mapping order."""
        return tuple(dict.fromkeys([*self.columns, *(d.field for d in self.derive)]))

    def output_columns(self) -> tuple[str, ...]:
        """The columns of the rows read for this kind."""
        if self.kind == "joined":
            return (*self.fields(), *OUTPUT_COLUMNS["joined"])
        return OUTPUT_COLUMNS[self.kind]

    def aggregate_type(self, agg: Aggregate) -> str:
        """Logical type of an aggregate's result."""
        if agg.op in {"count", "count_distinct"}:
            return "int"
        if agg.op == "list":
            return "text"
        return self.field_type(agg.source)


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

    def joins(self) -> list[KindConfig]:
        """Kinds joined onto other kinds' rows, in the order they apply (into items before into orders)."""
        joining = [k for k in self.kinds.values() if k.join is not None]
        return sorted(joining, key=lambda k: JOIN_TARGETS.index(k.join.into), reverse=True)  # type: ignore[union-attr]

    def order_attributes(self) -> dict[str, tuple[str, str]]:
        """Joined order fields that are not order columns (the order details table): logical type, description."""
        out: dict[str, tuple[str, str]] = {}
        for kc in self.joins():
            assert kc.join is not None
            if kc.join.into != "orders":
                continue
            for agg in kc.join.fields:
                if agg.field not in ORDER_COLUMNS:
                    how = f"{agg.op} of {agg.source}" + (f" by {agg.order_by}" if agg.order_by else "")
                    out[agg.field] = (kc.aggregate_type(agg), f"{how} over the order's {kc.name} rows.")
        return out


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


class AggregateModel(_Strict):
    """`{sum: field}`, `{first: field, order_by: field}`, `{list: field, sep: "+"}`, ...: exactly one operation."""

    sum: Text | None = None
    min: Text | None = None
    max: Text | None = None
    first: Text | None = None
    last: Text | None = None
    count: Text | None = None
    count_distinct: Text | None = None
    list_: Text | None = Field(default=None, alias="list")
    order_by: Text | None = None
    sep: Text = " / "

    @model_validator(mode="after")
    def _one_operation(self) -> AggregateModel:
        """Exactly one of the operations is given."""
        if len(self.operations()) != 1:
            raise ValueError(f"give exactly one of {', '.join(AGGREGATES)} (the field it aggregates)")
        return self

    def operations(self) -> list[tuple[str, str]]:
        """(operation, field) pairs given."""
        ops = {op: getattr(self, "list_" if op == "list" else op) for op in AGGREGATES}
        return [(op, f) for op, f in ops.items() if f is not None]


class JoinModel(_Strict):
    """`join:` of a kind whose rows are joined onto other rows by key (payments, customers, products, items)."""

    into: Literal["orders", "items"] = "orders"
    key: Text
    match: Text | None = None
    unique: bool = False
    fields: dict[str, AggregateModel] = Field(default_factory=dict)


class KindModel(_Strict):
    """One kind section: an orders, refunds or reviews layout."""

    kind: Literal["orders", "refunds", "reviews", "items", "joined"] | None = None
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
    join: JoinModel | None = None


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
        elif key == "join" and isinstance(value, Mapping) and isinstance(out.get("join"), Mapping):
            fields = {**(out["join"].get("fields") or {}), **(value.get("fields") or {})}
            out["join"] = {**out["join"], **value, "fields": fields}
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
    kc = replace(kc, join=_join(kc, spec.join, path, f"{key}.join"))
    if kc.id_pattern is not None:
        try:
            re.compile(kc.id_pattern)
        except re.error as exc:
            raise _err(path, f"{key}.ids.pattern", f"bad pattern: {exc}") from exc
    _check_kind(kc, path, key)
    return kc


def _join(kc: KindConfig, spec: JoinModel | None, path: Path, key: str) -> Join | None:
    """The kind's join, with `sum_into_orders` (items) as sums into the orders; fields checked against both sides."""
    if spec is None and not kc.sum_into_orders:
        if kc.kind == "joined":
            raise _err(path, key, "a joined kind needs a join: {into, key, fields}")
        return None
    if kc.kind not in {"items", "joined"}:
        raise _err(path, key, "only an items or joined kind joins onto other rows")
    spec = spec or JoinModel(key="order_id")
    own = set(kc.fields()) | (set(ITEM_COLUMNS) - {"channel", "source_row"} if kc.kind == "items" else set())
    if spec.key not in own:
        raise _err(path, f"{key}.key", f"{spec.key!r} is not a field of this kind")
    if kc.kind == "items" and spec.into == "items":
        raise _err(path, f"{key}.into", "an items kind joins into orders")
    target = set(ORDER_COLUMNS if spec.into == "orders" else ITEM_COLUMNS) - {"channel", "source_row", "status_raw"}
    match = spec.match or spec.key
    if match not in target:
        fields = ", ".join(sorted(target))
        raise _err(path, f"{key}.match", f"{match!r} is not a field of the {spec.into} rows ({fields})")
    fields = [
        Aggregate(f, op, src, a.order_by, a.sep) for f, a in spec.fields.items() for op, src in a.operations()
    ]
    fields += [Aggregate(f, "sum", f) for f in kc.sum_into_orders if f not in spec.fields]
    for agg in fields:
        fkey = f"{key}.fields.{agg.field}"
        for f in (agg.source, agg.order_by):
            if f is not None and f not in own:
                raise _err(path, fkey, f"{f!r} is not a field of this kind")
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", agg.field) or agg.field in RESERVED_FIELDS | {"status", "status_raw"}:
            raise _err(path, fkey, "a joined field is lower-case letters, digits and _, not a key or lineage column")
        result = kc.aggregate_type(agg)
        if agg.op == "sum" and result not in {"amount", "int"}:
            raise _err(path, fkey, f"sum needs an amount or int field; {agg.source!r} is {result}")
        if spec.into == "items" and agg.field not in target:
            raise _err(path, fkey, f"a join into items fills item columns ({', '.join(sorted(target))})")
        expected = FIELD_TYPES.get(agg.field) if agg.field in target else None
        if expected is not None and expected != result:
            raise _err(path, fkey, f"{agg.field} is {expected}; {agg.op} of {agg.source!r} gives {result}")
    return Join(spec.into, spec.key, match, spec.unique, tuple(fields))


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
    outputs = set(kc.output_columns()) - {"channel", "source_row"}
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
    filled: dict[tuple[str, str], str] = {}
    for kc in kinds.values():
        for agg in kc.join.fields if kc.join is not None else ():
            other = filled.setdefault((kc.join.into, agg.field), kc.name)
            if other != kc.name:
                raise _err(path, f"kinds.{kc.name}.join.fields.{agg.field}", f"kind {other!r} already fills it")
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
