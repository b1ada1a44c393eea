"""Render canonical landing frames as a marketplace's native export files (for the demo sample generator)."""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np
import pandas as pd

from .config import ENUM_VALUES, KindConfig, SourceConfig, load_sources

_HASH_KEY = "after-sales-mkt0"  # 16 characters; fixed so orders and feedback rendered apart still join
_EXACT_FORMATS = re.compile(r"^(?=.*%Y)(?=.*%m)(?=.*%d)(?=.*%H)(?=.*%M)(?=.*%S)(?!.*%[fzZ]).*$")


def _text(s: pd.Series) -> pd.Series:
    """Object series of stripped text with None for empty/missing."""
    s = s.astype(object).where(s.notna(), None)
    t = s.map(lambda v: None if v is None else str(v).strip(), na_action="ignore")
    return t.where(t.notna() & (t != ""), None).astype(object)


def _native_ids(s: pd.Series, pattern: str) -> pd.Series:
    """Ids that already fit the platform's id pattern pass; others become a stable 19-digit number."""
    t = _text(s)
    ok = t.fillna("").astype(str).str.fullmatch(pattern)
    hashed = pd.util.hash_pandas_object(t.fillna("").astype(str), index=False, hash_key=_HASH_KEY)
    digits = (hashed.to_numpy(dtype=np.uint64) % np.uint64(9 * 10**18) + np.uint64(10**18)).astype(str)
    out = pd.Series(digits, index=s.index, dtype=object).where(~ok, t)
    return out.where(t.notna(), None)


def _local_times(s: pd.Series, timezone: str) -> pd.Series:
    """Parse ISO 8601 text or datetimes; offsets are converted to local time; result is naive datetime64."""
    if pd.api.types.is_datetime64_any_dtype(s):
        d = pd.Series(s)
        return d.dt.tz_convert(timezone).dt.tz_localize(None) if d.dt.tz is not None else d
    t = _text(s).fillna("").astype(str)
    aware = t.str.contains(r"(?:Z|[+-]\d{2}:?\d{2})$", regex=True)
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
    naive_part = t[~aware & (t != "")]
    if len(naive_part):
        out[naive_part.index] = pd.to_datetime(naive_part, format="ISO8601")
    if aware.any():
        conv = (
            pd.to_datetime(t[aware], format="ISO8601", utc=True).dt.tz_convert(timezone).dt.tz_localize(None)
        )
        out[conv.index] = conv
    return out


def _pick(rng: np.random.Generator, n: int, choices: list[str]) -> np.ndarray:
    """n random picks among choices."""
    return np.asarray(choices, dtype=object)[rng.integers(0, len(choices), size=n)] if n else np.array([])


def _render_dates(s: pd.Series, src: SourceConfig, rng: np.random.Generator) -> pd.Series:
    """Timestamps in the platform date formats (lossless ones only), chosen per row by the rng."""
    d = _local_times(s, src.timezone)
    formats = [f for f in src.date_formats if _EXACT_FORMATS.match(f)] or ["%Y-%m-%d %H:%M:%S"]
    chosen = _pick(rng, len(d), formats)
    out = pd.Series([None] * len(d), index=d.index, dtype=object)
    for fmt in formats:
        m = (chosen == fmt) & d.notna().to_numpy()
        if m.any():
            out[m] = d[m].dt.strftime(fmt)
    return out


def _render_ids(s: pd.Series, src: SourceConfig, rng: np.random.Generator) -> pd.Series:
    """Native ids, some wrapped as ="..." or tab-padded the way exports keep them text."""
    ids = _native_ids(s, src.id_pattern)
    style = _pick(rng, len(ids), ["excel", "tab", "plain"])
    text = ids.fillna("").astype(str)
    styled = text.where(style != "excel", '="' + text + '"').where(style != "tab", text + "\t")
    return styled.astype(object).where(ids.notna(), None)


def _render_amounts(s: pd.Series, src: SourceConfig, rng: np.random.Generator) -> pd.Series:
    """Amounts as plain, currency-marked or thousands-grouped text."""
    x = pd.to_numeric(_text(s), errors="coerce").round(2)
    sym = src.currency_symbols[0] if src.currency_symbols else ""
    sep = src.thousands[0] if src.thousands else ""
    style = _pick(rng, len(x), ["plain", "symbol", "grouped"])
    plain = x.map("{:.2f}".format, na_action="ignore")
    grouped = x.map("{:,.2f}".format, na_action="ignore").str.replace(",", sep, regex=False)
    out = plain.where(style != "symbol", sym + plain).where(style != "grouped", sym + grouped)
    return out.astype(object).where(x.notna(), None)


def _reverse(kc: KindConfig, fname: str, values: pd.Series) -> pd.Series:
    """Canonical values -> the first native label mapping to each (after the export fallback), else as-is."""
    mapping = kc.maps.get(fname, {})
    back: dict[str, str] = {}
    for label, canon in mapping.items():
        back.setdefault(canon, label)
    fallback = (kc.export.get("fallback") or {}).get(fname, {})
    for canon, other in fallback.items():
        if canon not in back and other in back:
            back[canon] = back[other]
    t = _text(values)
    return t.map(lambda v: back.get(v, v), na_action="ignore").astype(object)


def _headers(kc: KindConfig, rng: np.random.Generator) -> dict[str, str]:
    """Native header per field: the current export version, or (by seed) the previous one where it differs."""
    older = bool(rng.integers(0, 2))
    return {f: (syns[1] if older and len(syns) > 1 else syns[0]) for f, syns in kc.columns.items()}


def _template_ids(kc: KindConfig, fid: pd.Series, platform: str, native: dict[str, pd.Series]) -> None:
    """Fill the id field used by the feedback_id template, undoing `<platform>-R-<id>` where present."""
    d = kc.derivation("feedback_id")
    if "feedback_id" in kc.columns or d is None or not d.templates:
        return
    tpl = d.templates[0]
    names = re.findall(r"\{(\w+)\}", tpl)
    target = next((n for n in names if n not in {"platform", "n", "order_id"}), None)
    if target is None or target not in kc.columns:
        return
    pattern = (
        "^"
        + re.sub(
            r"\\\{(\w+)\\\}",
            lambda m: re.escape(platform) if m.group(1) == "platform" else f"(?P<{m.group(1)}>.+)",
            re.escape(tpl),
        )
        + "$"
    )
    t = _text(fid).fillna("").astype(str)
    extracted = t.str.extract(pattern)[target] if target in re.findall(r"\?P<(\w+)>", pattern) else None
    base = extracted.where(extracted.notna(), t) if extracted is not None else t
    native[target] = base.where(base != "", None)


def _rule_columns(
    kc: KindConfig, canon: dict[str, pd.Series], native: dict[str, pd.Series], direct: set[str]
) -> None:
    """Set the native columns that make each row's derived values (issue_type, resolution) come back."""
    for d in kc.derive:
        if not d.rules or d.field not in canon:
            continue
        want = _text(canon[d.field])
        done = pd.Series(False, index=want.index)
        for rule in d.rules:
            m = (want == rule.value) & ~done
            if not m.any():
                continue
            for c in rule.when:
                if c.field in direct or c.field not in kc.columns:
                    continue
                value = (c.values or c.contains or ("",))[0]
                col = native.setdefault(
                    c.field, pd.Series([None] * len(want), index=want.index, dtype=object)
                )
                col[m & col.isna()] = value
            done |= m


def _refund_status(fb: pd.DataFrame) -> pd.Series:
    """Canonical refund status per feedback row: given, or inferred from resolution/resolved_at."""
    if "refund_status" in fb.columns:
        return _text(fb["refund_status"])
    res = _text(fb.get("resolution", pd.Series([None] * len(fb), index=fb.index))).fillna("")
    resolved = _text(fb.get("resolved_at", pd.Series([None] * len(fb), index=fb.index))).notna()
    status = np.select(
        [res == "refunded", res == "rejected", resolved.to_numpy()],
        ["refunded", "refused", "closed"],
        default="requested",
    )
    return pd.Series(status, index=fb.index, dtype=object)


def _frame(
    kc: KindConfig, src: SourceConfig, canon: dict[str, pd.Series], rng: np.random.Generator, index: pd.Index
) -> pd.DataFrame:
    """Native export frame (native headers, native text) of one kind from canonical columns."""
    headers = _headers(kc, rng)
    native: dict[str, pd.Series] = {}
    direct: set[str] = set()
    for f in kc.columns:
        if f not in canon:
            continue
        s = canon[f]
        ftype = kc.field_type(f)
        if ftype == "id":
            native[f] = _render_ids(s, src, rng)
        elif ftype == "datetime":
            native[f] = _render_dates(s, src, rng)
        elif ftype == "amount":
            native[f] = _render_amounts(s, src, rng)
        elif ftype == "int":
            native[f] = pd.to_numeric(_text(s), errors="coerce").map("{:.0f}".format, na_action="ignore")
        elif ftype == "bool" or f == "reopened":
            native[f] = _text(s).map({"true": "是", "false": "否"}, na_action="ignore")
        elif f in kc.maps:
            native[f] = _reverse(kc, f, s)
        else:
            native[f] = _text(s)
        direct.add(f)
    _rule_columns(kc, canon, native, direct)
    cols = {headers[f]: native[f].reindex(index) for f in kc.columns if f in native}
    return pd.DataFrame(cols, index=index).astype(object)


def _to_bytes(
    frame: pd.DataFrame, kc: KindConfig, src: SourceConfig, rng: np.random.Generator, total: str | None
) -> bytes:
    """Csv bytes with a blank line, an optional summary row, in the export encoding."""
    frame = frame.reset_index(drop=True)
    if len(frame) > 3:
        at = int(rng.integers(1, len(frame)))
        blank = pd.DataFrame([[None] * frame.shape[1]], columns=frame.columns)
        frame = pd.concat([frame.iloc[:at], blank, frame.iloc[at:]], ignore_index=True)
    label = kc.export.get("summary_label")
    if label:
        summary = pd.DataFrame([[None] * frame.shape[1]], columns=frame.columns, dtype=object)
        summary.iloc[0, 0] = str(label)
        if total is not None and frame.shape[1] > 1:
            summary.iloc[0, -1] = total
        frame = pd.concat([frame, summary], ignore_index=True)
    text = frame.to_csv(index=False, lineterminator="\r\n")
    return text.encode(str(kc.export.get("encoding") or src.encodings[0]))


def _file_name(kc: KindConfig, stamp: str) -> str:
    """The export's file name with its timestamp stamp."""
    return str(kc.export.get("file_name") or f"{kc.subkind}_{{stamp}}.csv").replace("{stamp}", stamp)


def _stamp(*series: pd.Series) -> str:
    """YYYYMMDDHHMM of the latest timestamp, for file names."""
    times = [t for t in series if len(t)]
    latest = max((t.max() for t in times if t.notna().any()), default=pd.Timestamp("2000-01-01"))
    return latest.strftime("%Y%m%d%H%M")


def marketplace_exports(
    orders: pd.DataFrame,
    feedback: pd.DataFrame,
    platform: str,
    seed: int,
    *,
    sources: Mapping[str, SourceConfig] | None = None,
) -> list[tuple[str, bytes]]:
    """Render canonical orders/feedback frames as `platform`'s native export files: (file name, bytes)."""
    src = (sources or load_sources())[platform]
    rng = np.random.default_rng(seed)
    files: list[tuple[str, bytes]] = []
    orders = orders.reset_index(drop=True) if orders is not None else pd.DataFrame()
    feedback = feedback.reset_index(drop=True) if feedback is not None else pd.DataFrame()
    if "orders" in src.kinds and len(orders):
        kc = src.kinds["orders"]
        canon = {c: orders[c] for c in orders.columns}
        frame = _frame(kc, src, canon, rng, orders.index)
        total = pd.to_numeric(_text(orders["amount"]), errors="coerce").sum() if "amount" in orders else None
        stamp = _stamp(_local_times(orders["created_at"], src.timezone)) if "created_at" in orders else "0"
        files.append(
            (_file_name(kc, stamp), _to_bytes(frame, kc, src, rng, None if total is None else f"{total:.2f}"))
        )
    if not len(feedback):
        return files
    itype = _text(feedback.get("issue_type", pd.Series([None] * len(feedback)))).fillna("")
    amounts = None
    if "order_id" in orders and "amount" in orders:
        amounts = orders.drop_duplicates("order_id").set_index("order_id")["amount"]
    for sub in ("refunds", "reviews"):
        kc = src.kinds.get(sub)
        if kc is None:
            continue
        d = kc.derivation("issue_type")
        produced = (
            {"review"}
            if sub == "reviews"
            else (({d.default} if d and d.default else set()) | {r.value for r in (d.rules if d else ())})
            - {"review"}
        )
        if sub == "refunds" and not produced:
            produced = set(ENUM_VALUES["issue_type"]) - {"review"}
        part = feedback[itype.isin(produced)]
        if not len(part):
            continue
        canon = {c: part[c] for c in part.columns}
        if sub == "refunds":
            canon["refund_status"] = _refund_status(part)
            if "refund_amount" not in part.columns:
                looked = (
                    part["order_id"].map(amounts)
                    if amounts is not None
                    else pd.Series(None, index=part.index)
                )
                canon["refund_amount"] = looked.where(looked.notna(), "0.00")
        desc = kc.derivation("issue_description")
        if desc is not None and desc.join and "issue_description" in part.columns:
            canon[desc.join[-1]] = part["issue_description"]
        native_ids: dict[str, pd.Series] = {}
        _template_ids(
            kc, part.get("feedback_id", pd.Series([None] * len(part), index=part.index)), src.name, native_ids
        )
        canon.update(native_ids)
        frame = _frame(kc, src, canon, rng, part.index)
        stamp = _stamp(_local_times(part["created_at"], src.timezone)) if "created_at" in part else "0"
        files.append((_file_name(kc, stamp), _to_bytes(frame, kc, src, rng, None)))
    return files
