"""Vectorised cleaners: native export text -> canonical landing text, with a reason for every failure."""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

import pandas as pd

from after_sales.transforms.parsing import AMOUNT_LIMIT, parse_timestamps

from .config import BOOL_WORDS, ENUM_VALUES, norm_key

SCIENTIFIC = re.compile(r"[+-]?\d+(\.\d*)?[eE][+-]?\d+")
_ID_EDGES = re.compile(r"^[=\s\"'`\u3000\xa0]+|[\s\"'`\u3000\xa0]+$")
_STARS = re.compile(r"[★☆]+")
_CENT = Decimal("0.01")


class Cleaned(NamedTuple):
    """Clean values (None where empty or bad), a mask of bad cells and a message per bad cell."""

    values: pd.Series
    bad: pd.Series
    message: pd.Series


def _result(values: pd.Series, bad: pd.Series, message: pd.Series) -> Cleaned:
    """Package values/bad/message, blanking values of bad cells."""
    values = values.astype(object).where(~bad & values.notna(), None)
    return Cleaned(values, bad.astype(bool), message.astype(object).where(bad, None))


def _none(index: pd.Index) -> pd.Series:
    """An object series of None."""
    return pd.Series([None] * len(index), index=index, dtype=object)


def _msg(raw: pd.Series, bad: pd.Series, template: str) -> pd.Series:
    """Message per bad cell: template with {} replaced by the quoted raw value; None elsewhere."""
    out = _none(raw.index)
    if bad.any():
        out[bad] = [template.format(repr(v) if v is not None else "''") for v in raw[bad]]
    return out


def clean_text(s: pd.Series) -> Cleaned:
    """Free text: already stripped; empty stays None."""
    bad = pd.Series(False, index=s.index)
    return _result(s, bad, _none(s.index))


def clean_ids(s: pd.Series, pattern: str) -> Cleaned:
    """Ids: drop `="..."` wrappers, quotes, tabs and spaces at the ends; must then fully match pattern."""
    present = s.notna()
    t = s.where(
        ~present,
        s.astype(object).map(
            lambda v: _ID_EDGES.sub("", unicodedata.normalize("NFKC", v)) if isinstance(v, str) else v
        ),
    )
    ok = t.where(present, "").astype(str).str.fullmatch(pattern) & present
    sci = t.where(present, "").astype(str).str.fullmatch(SCIENTIFIC.pattern) & present
    bad = present & ~ok
    msg = _msg(s, bad & ~sci, "unparseable id {}").where(
        ~sci,
        _msg(
            s,
            sci,
            "id {} is in scientific notation: the digits were lost by a spreadsheet; re-export the id column "
            "as text",
        ),
    )
    return _result(t.where(ok, None), bad, msg)


def _to_money(text: str) -> str:
    """Decimal text with two places when that is exact; any other number as written, for staging to judge
    (too many decimals, out of range): an amount is never rounded."""
    try:
        d = Decimal(text)
        if d.is_finite() and abs(d) < AMOUNT_LIMIT and d == d.quantize(_CENT):
            return f"{d.quantize(_CENT):.2f}"
    except InvalidOperation:
        pass
    return text


def _below_zero(text: object) -> bool:
    try:
        return isinstance(text, str) and Decimal(text) < 0
    except InvalidOperation:
        return False


def clean_amounts(s: pd.Series, symbols: tuple[str, ...], thousands: tuple[str, ...]) -> Cleaned:
    """Money: strip currency marks and thousands separators, never negative; the number is kept exactly."""
    present = s.notna()
    t = s.where(present, "").astype(str).map(lambda v: unicodedata.normalize("NFKC", v))
    for sym in sorted({unicodedata.normalize("NFKC", x) for x in symbols}, key=len, reverse=True):
        t = t.str.replace(sym, "", regex=False)
    t = t.str.replace(r"\s+", "", regex=True)
    seps = "".join(re.escape(unicodedata.normalize("NFKC", x)) for x in thousands) or ","
    number = rf"[+-]?([0-9]{{1,3}}([{seps}][0-9]{{3}})+|[0-9]+)(\.[0-9]+)?([eE][+-]?[0-9]+)?|[+-]?\.[0-9]+"
    shape = rf"{number}|(?i:[+-]?inf(inity)?)"
    ok = t.str.fullmatch(shape) & present
    plain = t.str.replace(rf"[{seps}]", "", regex=True)
    money = plain.where(ok, "").map(lambda v: _to_money(v) if v else None)
    signed = ok & money.fillna("").astype(str).str.startswith("-")
    negative = signed & money.map(_below_zero).astype(bool)  # -0 and -0.00 are zero
    bad = present & (~ok | negative)
    msg = _msg(s, bad & ~negative, "unparseable amount {}").where(
        ~negative, _msg(s, negative, "negative amount {}")
    )
    money = money.where(~(signed & ~negative), "0.00")
    return _result(money, bad, msg)


def clean_datetimes(s: pd.Series, formats: tuple[str, ...], timezone: str) -> Cleaned:
    """Timestamps: the first configured format that parses wins; output naive local `YYYY-MM-DD HH:MM:SS`."""
    present = s.notna()
    t = s.where(present, "").astype(str).map(lambda v: unicodedata.normalize("NFKC", v).strip())
    out = pd.Series([None] * len(s), index=s.index, dtype=object)
    todo = present.copy()
    for fmt in formats:
        if not todo.any():
            break
        part = t[todo]
        if "%z" in fmt or "%Z" in fmt:
            parsed = pd.to_datetime(part, format=fmt, errors="coerce", utc=True)
            parsed = parsed.dt.tz_convert(timezone).dt.tz_localize(None)
        else:
            parsed = pd.to_datetime(part, format=fmt, errors="coerce")
        hit = parsed.notna()
        if hit.any():
            out[hit[hit].index] = parsed[hit].dt.strftime("%Y-%m-%d %H:%M:%S")
            todo[hit[hit].index] = False
    # ISO 8601 that no configured format reads (+08 offsets, 7-9 fraction digits, Z), as the own sources read it.
    iso = todo & t.str.match(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]")
    if iso.any():
        parsed = parse_timestamps(t[iso], timezone)
        hit = parsed.notna()
        out[hit[hit].index] = parsed[hit].dt.tz_localize(None).dt.strftime("%Y-%m-%d %H:%M:%S")
    bad = present & out.isna()
    return _result(out, bad, _msg(s, bad, "unparseable date {}"))


def clean_ints(s: pd.Series) -> Cleaned:
    """Quantities: whole numbers >= 1 (`2`, `2.0`, `2件`)."""
    present = s.notna()
    t = s.where(present, "").astype(str).str.replace(r"\s+|件|个", "", regex=True)
    ok = t.str.fullmatch(r"\d+(\.0+)?") & present
    num = t.where(ok, "").map(lambda v: str(int(float(v))) if v else None)
    ok &= num.fillna("0").astype(str).map(lambda v: v.isdigit() and int(v) >= 1).astype(bool)
    bad = present & ~ok
    return _result(num, bad, _msg(s, bad, "unparseable quantity {} (whole number >= 1 expected)"))


def _rating_one(v: str, mapping: dict[str, str]) -> str | None:
    """One rating cell as 1-5 text, or None."""
    k = norm_key(v)
    if k in mapping:
        return mapping[k]
    m = re.fullmatch(r"([1-5])(\.0+)?(分|星)?", k)
    if m:
        return m.group(1)
    if _STARS.fullmatch(v):
        n = v.count("★")
        return str(n) if 1 <= n <= 5 else None
    return None


def clean_ratings(s: pd.Series, mapping: dict[str, str]) -> Cleaned:
    """Ratings 1-5 from digits, stars or labels such as 好评/中评/差评."""
    keyed = {norm_key(k): v for k, v in mapping.items()}
    present = s.notna()
    out = s.where(present, "").astype(str).map(lambda v: _rating_one(v, keyed) if v else None)
    bad = present & out.isna()
    return _result(out, bad, _msg(s, bad, "unparseable rating {} (1-5 or a mapped label expected)"))


def clean_bools(s: pd.Series, mapping: dict[str, str]) -> Cleaned:
    """Booleans as 'true'/'false'; empty means 'false'."""
    keyed = {**BOOL_WORDS, **{norm_key(k): v for k, v in mapping.items()}}
    present = s.notna()
    out = s.where(present, "").astype(str).map(lambda v: keyed.get(norm_key(v)) if v else "false")
    bad = present & out.isna()
    return _result(out, bad, _msg(s, bad, "unparseable true/false value {}"))


def clean_enum(s: pd.Series, field: str, mapping: dict[str, str], strict: bool) -> Cleaned:
    """Native labels -> canonical values; canonical values pass through; unknown labels are bad if strict."""
    keyed = {norm_key(k): v for k, v in mapping.items()}
    allowed = ENUM_VALUES.get(field, frozenset())
    keyed.update({v: v for v in allowed if v not in keyed})
    present = s.notna()
    out = s.where(present, "").astype(str).map(lambda v: keyed.get(norm_key(v)) if v else None)
    if not strict:
        out = out.where(out.notna(), s)
        return _result(out, pd.Series(False, index=s.index), _none(s.index))
    bad = present & out.isna()
    label = field.replace("_", " ")
    return _result(out, bad, _msg(s, bad, f"unknown {label} {{}}"))


def repeated_name(header: list[str], wanted: set[str]) -> tuple[str, int, int] | None:
    """The first header name (compared as matching keys) given twice among the wanted keys, with both 1-based
    column numbers; a repeated unused column is harmless, a repeated mapped one is ambiguous."""
    seen: dict[str, int] = {}
    for i, name in enumerate(header):
        key = norm_key(name)
        if not key or key not in wanted:
            continue
        if key in seen:
            return name, seen[key] + 1, i + 1
        seen[key] = i
    return None
