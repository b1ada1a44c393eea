"""Read one marketplace export file into canonical landing-shaped rows, rejections and warnings."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

import numpy as np
import pandas as pd

from .cleaning import (
    Cleaned,
    clean_amounts,
    clean_bools,
    clean_datetimes,
    clean_enum,
    clean_ids,
    clean_ints,
    clean_ratings,
    clean_text,
    repeated_name,
)
from .config import (
    ALWAYS_DATE_FORMATS,
    OUTPUT_COLUMNS,
    RAW_FIELDS,
    Condition,
    Derivation,
    KindConfig,
    SourceConfig,
    norm_key,
)

REJECTED_COLUMNS = ("source_row", "column", "rule", "reason", "raw")
STRICT_ENUMS = frozenset({"status", "refund_status", "issue_type", "resolution"})
CSV_SUFFIXES = frozenset({".csv", ".txt"})
XLSX_SUFFIXES = frozenset({".xlsx", ".xlsm"})


class ExportFileError(ValueError):
    """A whole export file cannot be read; the message names the file and, where known, row and column."""

    no_kind = False  # True when no header row matches any kind of the mapping (a file of another kind)

    def __init__(self, file: str, message: str, row: int | None = None, column: str | None = None) -> None:
        """Compose the message from file, row and column."""
        where = file
        if row is not None:
            where += f" row {row}"
        if column is not None:
            where += f", column {column}" if row is not None else f" column {column}"
        super().__init__(f"{where}: {message}")
        self.file = file
        self.row = row
        self.column = column


class LandedRows(Mapping[int, str]):
    """`{source_row: the row as landed, as JSON (landed header -> landed cell)}`, rendered on access."""

    def __init__(self, records: list[list[str]], names: list[str], width: int, rows: list[int]) -> None:
        """Keep the records; nothing is rendered until asked for."""
        self._records, self._names, self._width, self._rows = records, names, width, rows
        self._set = set(rows)

    def __getitem__(self, row: int) -> str:
        """The landed cells of one data row (1-based)."""
        if row not in self._set:
            raise KeyError(row)
        return _landed_json(self._records[row - 1], self._names, self._width)

    def __iter__(self) -> Iterator[int]:
        """The data rows, in file order."""
        return iter(self._rows)

    def __len__(self) -> int:
        """How many rows."""
        return len(self._rows)


@dataclass
class ExportRead:
    """The outcome of reading one export file."""

    path: Path
    file: str
    platform: str
    channel: str
    kind: str
    subkind: str
    rows: pd.DataFrame
    rejected: pd.DataFrame
    rows_read: int
    dropped_summary_rows: int
    blank_rows: int
    warnings: list[str] = field(default_factory=list)
    encoding: str | None = None
    sheet: str | None = None
    header_line: int = 1
    columns_used: dict[str, str] = field(default_factory=dict)
    landing_date: dt.date | None = None
    timezone: str = "Asia/Shanghai"
    kind_name: str = ""
    landed: Mapping[int, str] = field(default_factory=dict)
    parts: list[ExportRead] = field(default_factory=list)
    items: pd.DataFrame | None = None
    merged_lines: int = 0
    details: pd.DataFrame | None = None  # joined order fields that are not order columns, aligned with rows

    def all_reads(self) -> list[ExportRead]:
        """This read and the reads of kinds taken from the same rows (e.g. refunds of an order report)."""
        return [self, *self.parts]


@dataclass
class _Table:
    """Raw records of one file or sheet, before the header is known."""

    records: list[list[str]]
    encoding: str | None = None
    sheet: str | None = None
    broken_record: int | None = None
    ends_with_newline: bool = True


@dataclass
class _Header:
    """The header row found in a table and the kind it identifies."""

    index: int
    kind: KindConfig
    matched: dict[str, int]
    missing: list[str]


def _display(path: Path, landing_dir: Path | None) -> str:
    """The file name used in messages: relative to the landing dir when inside it."""
    if landing_dir is not None:
        try:
            return path.resolve().relative_to(Path(landing_dir).resolve()).as_posix()
        except ValueError:
            pass
    return str(path)


# ---------------------------------------------------------------- raw tables


def _parse_csv(text: str, delimiter: str) -> _Table:
    """Records of a decoded csv, noting an unclosed quote at the end."""
    records: list[list[str]] = []
    broken: int | None = None
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True))
    except csv.Error as exc:
        if "unexpected end of data" in str(exc):
            broken = len(_strict_prefix(text, delimiter))
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False))
    return _Table(records, broken_record=broken, ends_with_newline=text.endswith(("\n", "\r")))


def _strict_prefix(text: str, delimiter: str) -> list[list[str]]:
    """Records a strict parser reads before its first error."""
    out: list[list[str]] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        for rec in reader:
            out.append(rec)
    except csv.Error:
        pass
    return out


def _cell_text(v: object) -> str:
    """An xlsx cell value as text; lossy floats keep their scientific form so ids get rejected."""
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if v.is_integer() and abs(v) < 1e15:
            return str(int(v))
        return format(v, ".15g") if abs(v) >= 1e15 else repr(v)
    if isinstance(v, dt.datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(v, dt.date):
        return v.strftime("%Y-%m-%d")
    return str(v)


def _read_xlsx(data: bytes, display: str) -> list[_Table]:
    """Records of every sheet of a workbook."""
    import openpyxl

    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise ExportFileError(
            display,
            "not a valid .xlsx file (not a zip archive): the file is truncated or is not an Excel workbook",
        )
    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            tables = []
            for ws in wb.worksheets:
                ws.reset_dimensions()  # do not trust the stored used range; read every row present
                recs = [[_cell_text(v) for v in row] for row in ws.iter_rows(values_only=True)]
                tables.append(_Table(recs, sheet=ws.title))
        finally:
            wb.close()
    except Exception as exc:  # openpyxl raises many types for broken archives
        raise ExportFileError(
            display, f"not a valid .xlsx file ({type(exc).__name__}: {exc}): the file is truncated or corrupt"
        ) from exc
    return tables


def _decode_csv(data: bytes, source: SourceConfig, display: str) -> Iterator[_Table]:
    """Parsed tables, lazily, for each configured encoding that decodes the bytes (in configured order)."""
    failures = []
    for enc in source.encodings:
        try:
            text = data.decode(enc)
        except UnicodeDecodeError as exc:
            failures.append(f"{enc}: {exc.reason} at byte offset {exc.start} (byte 0x{data[exc.start]:02x})")
            continue
        table = _parse_csv(text.lstrip("\ufeff"), source.delimiter)
        table.encoding = enc
        yield table
    if len(failures) == len(source.encodings):
        raise ExportFileError(
            display, "cannot be decoded with any configured encoding; tried " + "; ".join(failures)
        )


# ---------------------------------------------------------------- header and kind


def _match(keys: dict[str, int], kc: KindConfig) -> dict[str, int]:
    """Column index per field of a kind, by header synonyms in priority order."""
    matched: dict[str, int] = {}
    for f, synonyms in kc.columns.items():
        for syn in synonyms:
            i = keys.get(norm_key(syn))
            if i is not None:
                matched[f] = i
                break
    return matched


def _detect(cells: list[str], source: SourceConfig) -> _Header | None:
    """The best-matching kind for a header row, or None."""
    keys: dict[str, int] = {}
    for i, c in enumerate(cells):
        k = norm_key(c)
        if k:
            keys.setdefault(k, i)
    best: tuple[tuple[float, int], _Header] | None = None
    for kc in source.detectable():
        if any(norm_key(h) in keys for h in kc.not_with):
            continue
        matched = _match(keys, kc)
        req = [f for f in kc.required if f in matched]
        need = max(1, -(-len(kc.required) // 2)) if kc.required else 2
        if len(req) < need or len(matched) < min(2, len(kc.columns)):
            continue
        score = (len(req) / max(1, len(kc.required)), len(matched))
        missing = [f for f in kc.required if f not in matched]
        if best is None or score > best[0]:
            best = (score, _Header(-1, kc, matched, missing))
    return best[1] if best else None


def _expected_headers(source: SourceConfig) -> str:
    """Required headers per kind, for error messages."""
    parts = []
    for kc in source.detectable():
        fields = [f"{'/'.join(kc.columns[f])}" for f in kc.required]
        parts.append(f"{kc.name}: " + ", ".join(fields))
    return "; ".join(parts)


def _find_header(tables: Iterable[_Table], source: SourceConfig, display: str) -> tuple[_Table, _Header]:
    """The first table and row (within header_search_rows) whose header matches a kind."""
    seen = []
    for table in tables:
        seen.append(table)
        for i, rec in enumerate(table.records[: source.header_search_rows]):
            hdr = _detect(rec, source)
            if hdr is not None:
                hdr.index = i
                return table, hdr
    first = next((r for t in seen for r in t.records if any(c.strip() for c in r)), [])
    decoded = [t.encoding for t in seen if t.encoding]
    # The first line's text is not repeated: in a file without a header it is a data row (names, phones).
    shown = f"the first non-empty line has {sum(bool(c.strip()) for c in first)} field(s)" if first else "no text"
    err = ExportFileError(
        display,
        f"no header row in the first {source.header_search_rows} lines matches a {source.name} export kind; "
        f"expected headers (synonyms separated by /) for {_expected_headers(source)}; "
        f"{shown}"
        + (f" (read as {', '.join(enc for enc in decoded)})" if decoded else ""),
    )
    err.no_kind = True
    raise err


# ---------------------------------------------------------------- derivations


def _cond_mask(c: Condition, s: pd.Series) -> pd.Series:
    """Rows where one rule condition holds."""
    present = s.notna() & (s.astype(object) != "")
    text = s.where(present, "").astype(str)
    keys = text.map({v: norm_key(v) for v in pd.unique(text)})  # normalise each distinct label once
    mask = pd.Series(True, index=s.index)
    if c.values:
        mask &= keys.isin({norm_key(v) for v in c.values}) & present
    if c.contains:
        wanted = [norm_key(v) for v in c.contains]
        # astype(bool): on zero rows map() keeps the str dtype, which & cannot combine with booleans.
        mask &= keys.map(lambda k: any(w in k for w in wanted)).astype(bool) & present
    if c.empty is not None:
        mask &= ~present if c.empty else present
    if c.not_in:
        mask &= ~(keys.isin({norm_key(v) for v in c.not_in}) & present)
    return mask


def _render(template: str, ctx: dict[str, pd.Series], index: pd.Index, platform: str) -> pd.Series:
    """A template filled per row from context fields."""
    out = pd.Series([""] * len(index), index=index, dtype=object)
    for part in re.split(r"(\{\w+\})", template):
        m = re.fullmatch(r"\{(\w+)\}", part)
        if not m:
            out = out + part
        elif m.group(1) == "platform":
            out = out + platform
        else:
            field = ctx.get(m.group(1), pd.Series([None] * len(index), index=index, dtype=object))
            out = out + field.fillna("").astype(str)
    return out


def _derive(d: Derivation, ctx: dict[str, pd.Series], index: pd.Index, platform: str) -> pd.Series:
    """One derived field per row: join, templates, rules, then default."""
    empty = pd.Series([None] * len(index), index=index, dtype=object)
    cur = ctx.get(d.field, empty).copy()
    if d.join:
        acc = pd.Series([""] * len(index), index=index, dtype=object)
        for f in d.join:
            part = ctx.get(f, empty).fillna("").astype(str)
            glue = pd.Series(np.where((acc != "") & (part != ""), d.sep, ""), index=index, dtype=object)
            acc = acc + glue + part
        cur = acc.where(acc != "", None)
    if d.templates:
        for tpl in d.templates:
            names = [n for n in re.findall(r"\{(\w+)\}", tpl) if n not in {"platform", "n"}]
            ok = cur.isna()
            for n in names:
                ok &= ctx.get(n, empty).notna()
            if not ok.any():
                continue
            if "{n}" in tpl:
                base = _render(tpl.replace("{n}", "\x00"), ctx, index, platform)[ok]
                nth = base.groupby(base).cumcount() + 1
                rendered = pd.Series(
                    [b.replace("\x00", str(k)) for b, k in zip(base, nth, strict=True)],
                    index=base.index,
                    dtype=object,
                )
            else:
                rendered = _render(tpl, ctx, index, platform)[ok]
            cur[rendered.index] = rendered
    if d.rules:
        done = pd.Series(False, index=index)
        for rule in d.rules:
            m = ~done
            for c in rule.when:
                m &= _cond_mask(c, ctx.get(c.field, empty))
            cur[m] = rule.value
            done |= m
    if d.default is not None:
        cur = cur.where(cur.notna(), d.default)
    return cur.astype(object)


# ---------------------------------------------------------------- main entry


def _clean_field(name: str, s: pd.Series, kc: KindConfig, source: SourceConfig) -> Cleaned:
    """Clean one mapped column by its field type."""
    ftype = kc.field_type(name)
    mapping = kc.maps.get(name, {})
    if ftype == "id":
        return clean_ids(s, kc.id_pattern or source.id_pattern)
    if ftype == "amount":
        return clean_amounts(s, source.currency_symbols, source.thousands)
    if ftype == "datetime":
        return clean_datetimes(s, (*source.date_formats, *ALWAYS_DATE_FORMATS), source.timezone)
    if ftype == "int":
        return clean_ints(s)
    if ftype == "rating":
        return clean_ratings(s, mapping)
    if ftype == "bool":
        return clean_bools(s, mapping)
    if ftype == "enum" or mapping:
        return clean_enum(s, name, mapping, strict=name in STRICT_ENUMS)
    return clean_text(s)


RULE_NAMES = {
    "id": "unparseable_id",
    "amount": "unparseable_amount",
    "datetime": "unparseable_date",
    "int": "unparseable_quantity",
    "rating": "unparseable_rating",
    "bool": "unparseable_bool",
}


def _rule_for(name: str, kc: KindConfig) -> str:
    """Rejection rule name for a bad value of a field."""
    ftype = kc.field_type(name)
    if ftype == "enum" or name in STRICT_ENUMS:
        return f"unknown_{name}"
    return RULE_NAMES.get(ftype, f"invalid_{name}")


def _landing_date(path: Path) -> dt.date | None:
    """The landing date from the parent folder name, if it is one."""
    try:
        return dt.date.fromisoformat(path.parent.name)
    except ValueError:
        return None


def read_export(path: Path, source: SourceConfig, landing_dir: Path | None = None) -> ExportRead:
    """Read one export file of `source` into canonical landing rows, row rejections and warnings."""
    path = Path(path)
    display = _display(path, landing_dir)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ExportFileError(display, f"cannot read file: {exc}") from exc
    if not data:
        raise ExportFileError(display, "empty file (0 bytes): the export is missing or was cut off")
    suffix = path.suffix.lower()
    tables: Iterable[_Table]
    if suffix in XLSX_SUFFIXES:
        tables = _read_xlsx(data, display)
    elif suffix in CSV_SUFFIXES:
        if data[:4] == b"PK\x03\x04":
            raise ExportFileError(display, "is a zip/xlsx archive named .csv; rename it to .xlsx")
        tables = _decode_csv(data, source, display)
    elif suffix == ".xls":
        raise ExportFileError(
            display, "legacy .xls workbooks are not supported; save the export as .xlsx or csv"
        )
    else:
        raise ExportFileError(
            display, f"unsupported file type {suffix or '(none)'!r}; expected .csv or .xlsx"
        )

    table, hdr = _find_header(tables, source, display)
    kc = hdr.kind
    header = [c.strip().lstrip("\ufeff") for c in table.records[hdr.index]]
    header_line = hdr.index + 1
    repeated = repeated_name(header, {norm_key(s) for synonyms in kc.columns.values() for s in synonyms})
    if repeated is not None:
        name, first, second = repeated
        raise ExportFileError(
            display,
            f"duplicate column name '{name}' in the header on line {header_line} (columns {first} and {second}); "
            "which one holds the data is ambiguous, so the file is refused: rename or remove one",
            column=name,
        )
    if hdr.missing:
        names = "; ".join(f"{f} (one of: {', '.join(kc.columns[f])})" for f in hdr.missing)
        raise ExportFileError(
            display,
            f"required column missing for kind '{kc.name}' (header on line {header_line}): {names}",
            column=kc.columns[hdr.missing[0]][0],
        )

    data_records = table.records[hdr.index + 1 :]
    width = len(header)
    while width and not header[width - 1]:
        width -= 1
    if table.broken_record is not None:
        rec = table.records[table.broken_record] if table.broken_record < len(table.records) else []
        row = table.broken_record - hdr.index
        col = header[min(max(len(rec) - 1, 0), max(width - 1, 0))] if header else None
        raise ExportFileError(
            display,
            "file is truncated: a quoted field is never closed (unbalanced quote); the export was cut off",
            row=row,
            column=col,
        )
    if data_records and not table.ends_with_newline and table.sheet is None:
        last = data_records[-1]
        if any(c.strip() for c in last) and len(last) < width:
            raise ExportFileError(
                display,
                f"file is truncated: the last line stops after {len(last)} of {width} columns "
                "(cut mid-record)",
                row=len(data_records),
                column=header[len(last) - 1],
            )
    main = _build(path, display, source, kc, hdr, header, width, data_records, table, landing_dir)
    keys: dict[str, int] = {}
    for i, c in enumerate(table.records[hdr.index]):
        if norm_key(c):
            keys.setdefault(norm_key(c), i)
    for part in source.parts_of(kc.name):
        matched = _match(keys, part)
        missing = [f for f in part.required if f not in matched]
        if missing:
            names = "; ".join(f"{f} (one of: {', '.join(part.columns[f])})" for f in missing)
            raise ExportFileError(
                display,
                f"required column missing for kind '{part.name}', read from the rows of '{kc.name}': {names}",
                column=part.columns[missing[0]][0],
            )
        part_hdr = _Header(hdr.index, part, matched, [])
        main.parts.append(
            _build(path, display, source, part, part_hdr, header, width, data_records, table, landing_dir)
        )
    return main


def _build(
    path: Path,
    display: str,
    source: SourceConfig,
    kc: KindConfig,
    hdr: _Header,
    header: list[str],
    width: int,
    data_records: list[list[str]],
    table: _Table,
    landing_dir: Path | None,
) -> ExportRead:
    """Rows, rejections and warnings from the records below the header."""
    warnings: list[str] = []
    is_part = kc.part_of is not None
    if hdr.index and not is_part:
        warnings.append(f"skipped {hdr.index} line(s) above the header (header is line {hdr.index + 1})")
    n = len(data_records)
    full_width = max([len(header), *map(len, data_records)]) if data_records else len(header)
    padded = [rec + [""] * (full_width - len(rec)) for rec in data_records]
    frame = (
        pd.DataFrame(padded, columns=range(full_width), dtype=object)
        if n
        else pd.DataFrame(columns=range(full_width), dtype=object)
    )
    frame.index = pd.RangeIndex(1, n + 1)
    stripped = frame.apply(lambda c: c.str.strip()).astype(object) if n else frame
    cells = stripped.to_numpy(dtype=object) if n else np.empty((0, full_width), dtype=object)
    filled = cells != ""
    blank = pd.Series(~filled.any(axis=1), index=frame.index) if n else pd.Series(dtype=bool)
    first_cell = pd.Series(
        cells[np.arange(n), filled.argmax(axis=1)] if n and full_width else [""] * n,
        index=frame.index,
        dtype=object,
    )
    summary_re = "|".join(f"(?:{p})" for p in source.summary_patterns)
    summary = (~blank) & first_cell.str.fullmatch(summary_re).astype(bool) if n else blank
    nonempty = pd.DataFrame(filled, index=frame.index, columns=frame.columns)
    live = ~(blank | summary)

    names = [h if h else f"(column {i + 1})" for i, h in enumerate(header)]
    seen: dict[str, int] = {}
    raw_names = []
    for nm in names + [f"(column {i + 1})" for i in range(len(header), full_width)]:
        seen[nm] = seen.get(nm, 0) + 1
        raw_names.append(nm if seen[nm] == 1 else f"{nm} ({seen[nm]})")

    # unknown and unused columns
    used_idx = set(hdr.matched.values())
    known = {norm_key(s) for syns in kc.columns.values() for s in syns} | {norm_key(s) for s in kc.ignore}
    unknown = [
        h for i, h in enumerate(header[:width]) if i not in used_idx and h and norm_key(h) not in known
    ]
    if unknown and not is_part:
        warnings.append(
            f"ignored {len(unknown)} column(s) not in the {source.name} mapping: {', '.join(unknown)}"
        )
    for f, i in hdr.matched.items():
        others = [
            h for j, h in enumerate(header) if j != i and norm_key(h) in {norm_key(s) for s in kc.columns[f]}
        ]
        if others:
            also = " (and them where it is empty)" if f in kc.coalesce else ""
            warnings.append(f"column(s) {', '.join(others)} also match {f}; using {header[i]}{also}")
    nameless = [i for i in range(width) if not header[i] and n and nonempty[i][live].any()]
    if nameless:
        warnings.append(f"ignored {len(nameless)} column(s) with data but no header")

    null_values = source.null_values
    values: dict[str, pd.Series] = {}
    errors: list[pd.DataFrame] = []
    index = frame.index[live] if n else pd.RangeIndex(0)
    for f, i in hdr.matched.items():
        cell = stripped[i][live] if n else pd.Series(dtype=object)
        cell = cell.where(~cell.isin(null_values), None).astype(object)
        if f in kc.coalesce and n:
            # every present synonym column, in priority order, fills the cells still empty
            for j in _synonym_columns(header, kc.columns[f], i):
                more = stripped[j][live]
                cell = cell.where(cell.notna() & (cell != ""), more.where(~more.isin(null_values), None))
            cell = cell.astype(object)
        res = _clean_field(f, cell, kc, source)
        values[f] = res.values
        if f in RAW_FIELDS.values():
            values[f"{f}_raw"] = cell
        if res.bad.any():
            errors.append(
                pd.DataFrame(
                    {
                        "source_row": res.bad[res.bad].index,
                        "pos": i,
                        "column": header[i],
                        "rule": _rule_for(f, kc),
                        "message": res.message[res.bad].to_numpy(),
                    }
                )
            )
        if f in kc.required:
            miss = cell.isna()
            if miss.any():
                errors.append(
                    pd.DataFrame(
                        {
                            "source_row": miss[miss].index,
                            "pos": i,
                            "column": header[i],
                            "rule": "missing_required",
                            "message": f"required value ({f}) is empty",
                        }
                    )
                )
    if n and full_width > width:
        extra = nonempty.iloc[:, width:].any(axis=1) & live
        if extra.any():
            counts = [len(data_records[i - 1]) for i in extra[extra].index]
            errors.append(
                pd.DataFrame(
                    {
                        "source_row": extra[extra].index,
                        "pos": width,
                        "column": f"(after {header[width - 1]})",
                        "rule": "wrong_field_count",
                        "message": [f"row has {c} fields but the header has {width}" for c in counts],
                    }
                )
            )

    ctx = dict(values)
    for d in kc.derive:
        ctx[d.field] = _derive(d, ctx, index, source.name)
    out_cols = kc.output_columns()
    if kc.kind == "feedback":
        fid = ctx.get("feedback_id", pd.Series([None] * len(index), index=index, dtype=object))
        miss = fid.isna()
        if miss.any():
            errors.append(
                pd.DataFrame(
                    {
                        "source_row": miss[miss].index,
                        "pos": width + 1,
                        "column": "feedback_id",
                        "rule": "underivable_id",
                        "message": "no feedback id column and no template could derive one",
                    }
                )
            )
        ctx.setdefault("reopened", pd.Series(["false"] * len(index), index=index, dtype=object))

    rejected, bad_rows = _rejections(errors, display, data_records, raw_names, width)
    if kc.where:
        wanted = pd.Series(True, index=index)
        empty = pd.Series([None] * len(index), index=index, dtype=object)
        for c in kc.where:
            wanted &= _cond_mask(c, ctx.get(c.field, empty))
        index = index[wanted.to_numpy()]
        rejected = rejected[rejected["source_row"].isin(index)].reset_index(drop=True)
    keep = index.difference(bad_rows)
    rows = pd.DataFrame(index=keep)
    for col in out_cols:
        if col == "channel":
            rows[col] = pd.Series([source.channel] * len(keep), index=keep, dtype=object)
        elif col == "source_row":
            rows[col] = pd.Series([str(i) for i in keep], index=keep, dtype=object)
        elif col in ctx:
            s = ctx[col].reindex(keep).astype(object)
            rows[col] = s.where(s.notna() & (s != ""), None)
        else:
            rows[col] = pd.Series([None] * len(keep), index=keep, dtype=object)
    rows = rows.reset_index(drop=True).astype(object)

    if kc.kind == "orders" and "payment_method" in hdr.matched and kc.maps.get("payment_method"):
        keyed = {norm_key(k) for k in kc.maps["payment_method"]} | set(kc.maps["payment_method"].values())
        raw_pm = values["payment_method"].dropna()
        odd = sorted({v for v in raw_pm if norm_key(v) not in keyed and v not in keyed})
        if odd:
            warnings.append(f"payment method label(s) not in the mapping, kept as-is: {', '.join(odd)}")
    items: pd.DataFrame | None = None
    merged_lines = 0
    if kc.kind == "items":
        rows = _item_rows(ctx, keep, source.channel, line_amount=False, extra=_join_fields(kc))
    elif kc.item_lines:
        items = _item_rows(ctx, keep, source.channel, line_amount=True)
        rows, merged_lines, note = _merge_lines(rows)
        warnings += note
    key = "order_id" if kc.kind == "orders" else "feedback_id"
    dup = rows[key].dropna() if kc.kind in {"orders", "feedback"} else pd.Series(dtype=object)
    dup = dup[dup.duplicated()]
    if len(dup):
        warnings.append(f"{len(dup)} row(s) repeat an earlier {key} (e.g. {dup.iloc[0]}); all are kept")
    folder = path.parent.parent.name if landing_dir is not None else None
    if folder and folder != source.name:
        warnings.append(f"file is in folder {folder!r} but was read with the {source.name!r} mapping")

    return ExportRead(
        path=path,
        file=display,
        platform=source.name,
        channel=source.channel,
        kind=kc.kind,
        subkind=kc.subkind,
        rows=rows,
        rejected=rejected,
        rows_read=len(index) if is_part else n,
        dropped_summary_rows=0 if is_part else (int(summary.sum()) if n else 0),
        blank_rows=0 if is_part else (int(blank.sum()) if n else 0),
        warnings=warnings,
        encoding=table.encoding,
        sheet=table.sheet,
        header_line=hdr.index + 1,
        columns_used={f: header[i] for f, i in hdr.matched.items()},
        landing_date=_landing_date(path),
        timezone=source.timezone,
        kind_name=kc.name,
        landed=LandedRows(data_records, raw_names, width, [int(i) for i in keep]),
        items=items,
        merged_lines=merged_lines,
    )


def _line_amount(price: object, qty: object) -> str | None:
    """unit price x quantity (1 when empty), two decimals; None without a price."""
    if price is None or (isinstance(price, float) and np.isnan(price)):
        return None
    n = int(qty) if isinstance(qty, str) and qty.isdigit() else 1
    try:
        total = Decimal(str(price)) * n
    except (InvalidOperation, ValueError):
        return None
    # Never rounded: a product that is not whole cents (or not finite) is written as is and judged where it is typed.
    return f"{total:.2f}" if total.is_finite() and total == total.quantize(Decimal("0.01")) else str(total)


def _join_fields(kc: KindConfig) -> tuple[str, ...]:
    """Helper fields an items kind's join reads besides the item columns (e.g. a freight value to sum)."""
    if kc.join is None:
        return ()
    named = [kc.join.key, *(a.source for a in kc.join.fields), *(a.order_by for a in kc.join.fields if a.order_by)]
    return tuple(f for f in dict.fromkeys(named) if f not in OUTPUT_COLUMNS["items"])


def _item_rows(
    ctx: dict[str, pd.Series], keep: pd.Index, channel: str, line_amount: bool, extra: tuple[str, ...] = ()
) -> pd.DataFrame:
    """One item row per kept line; amount is unit price x quantity where the line has no amount of its own."""
    def col(name: str) -> pd.Series:
        s = ctx.get(name)
        if s is None:
            return pd.Series([None] * len(keep), index=keep, dtype=object)
        s = s.reindex(keep).astype(object)
        return s.where(s.notna() & (s != ""), None)

    out = pd.DataFrame(index=keep)
    for c in ("order_id", "sku", "product", "quantity", "unit_price"):
        out[c] = col(c)
    out["quantity"] = out["quantity"].where(out["quantity"].notna(), "1")  # a line without a quantity is one unit
    computed = pd.Series(
        [_line_amount(p, q) for p, q in zip(out["unit_price"], out["quantity"], strict=True)], index=keep, dtype=object
    )
    own = col("amount") if not line_amount else pd.Series([None] * len(keep), index=keep, dtype=object)
    out["amount"] = own.where(own.notna(), computed)
    out["line_no"] = (out.groupby("order_id", dropna=False).cumcount() + 1).astype(str)
    out["channel"] = channel
    out["source_row"] = [str(i) for i in keep]
    for c in extra:
        out[c] = col(c)
    return out[[*OUTPUT_COLUMNS["items"], *extra]].reset_index(drop=True).astype(object)


def _merge_lines(rows: pd.DataFrame) -> tuple[pd.DataFrame, int, list[str]]:
    """Per-item lines of one order merged into one order row: quantities summed, products joined."""
    if rows.empty:
        return rows, 0, []
    first = ~rows["order_id"].duplicated()
    if first.all():
        return rows, 0, []
    by = rows.groupby("order_id", sort=False)
    qty = pd.to_numeric(rows["quantity"], errors="coerce").groupby(rows["order_id"], sort=False).sum(min_count=1)
    products = by["product"].agg(lambda s: " / ".join(dict.fromkeys(v for v in s if v)) or None)
    amounts = by["amount"].nunique()
    merged = rows[first].copy()
    merged["quantity"] = merged["order_id"].map(qty).map(lambda v: None if pd.isna(v) else str(int(v)))
    merged["product"] = merged["order_id"].map(products)
    notes = [f"merged {int((~first).sum())} item line(s) into their orders ({int(first.sum())} orders)"]
    differ = amounts[amounts > 1]
    if len(differ):
        notes.append(
            f"{len(differ)} order(s) have lines with different amounts (e.g. {differ.index[0]}); "
            "the first line's is kept"
        )
    return merged.reset_index(drop=True), int((~first).sum()), notes


def _synonym_columns(header: list[str], synonyms: tuple[str, ...], used: int) -> list[int]:
    """Indexes of the other header cells matching a field's synonyms, in synonym priority order."""
    keys = [norm_key(h) for h in header]
    out: list[int] = []
    for syn in synonyms:
        out += [j for j, k in enumerate(keys) if k == norm_key(syn) and j != used and j not in out]
    return out


def _landed_json(rec: list[str], raw_names: list[str], width: int) -> str:
    """One landed row as JSON: landed header -> landed cell text."""
    return json.dumps({raw_names[i]: v for i, v in enumerate(rec) if i < width or v != ""}, ensure_ascii=False)


def _rejections(
    errors: list[pd.DataFrame], display: str, records: list[list[str]], raw_names: list[str], width: int
) -> tuple[pd.DataFrame, pd.Index]:
    """One rejection per bad row: first fault by column order, others listed in the reason."""
    empty = pd.DataFrame(
        {c: pd.Series(dtype="int64" if c == "source_row" else object) for c in REJECTED_COLUMNS}
    )
    errs = [e for e in errors if len(e)]
    if not errs:
        return empty, pd.Index([])
    allerr = pd.concat(errs, ignore_index=True).sort_values(["source_row", "pos"], kind="stable")
    allerr["text"] = "column " + allerr["column"].astype(str) + ": " + allerr["message"].astype(str)
    first = allerr.drop_duplicates("source_row", keep="first").set_index("source_row")
    reason = display + " row " + first.index.astype(str) + ", " + first["text"]
    more = allerr[allerr.duplicated("source_row", keep="first")]
    if len(more):
        also = more.groupby("source_row")["text"].agg("; ".join)
        reason = reason.where(
            ~reason.index.isin(also.index), reason + " (also " + also.reindex(reason.index) + ")"
        )
    raws = [_landed_json(records[row - 1], raw_names, width) for row in first.index]
    rej = pd.DataFrame(
        {
            "source_row": first.index.to_numpy(dtype="int64"),
            "column": first["column"].astype(object).to_numpy(),
            "rule": first["rule"].astype(object).to_numpy(),
            "reason": reason.astype(object).to_numpy(),
            "raw": pd.Series(raws, dtype=object).to_numpy(),
        }
    )
    for c in REJECTED_COLUMNS[1:]:
        rej[c] = rej[c].astype(object)
    return rej, pd.Index(first.index)


TIME_COLUMNS = ("created_at", "first_response_at", "resolved_at")


def to_business_time(rows: pd.DataFrame, source_tz: str, business_tz: str) -> pd.DataFrame:
    """Naive source-local timestamps as instants with an offset, so staging places them in the business zone.

    Nonexistent local times (spring forward) move forward to the first valid instant; ambiguous ones (fall
    back) take the first occurrence.
    """
    if source_tz == business_tz or rows.empty:
        return rows
    out = rows.copy()
    for col in TIME_COLUMNS:
        if col not in out.columns:
            continue
        text = out[col]
        present = text.notna() & (text.astype(object) != "")
        if not present.any():
            continue
        naive = pd.to_datetime(text[present], format="%Y-%m-%d %H:%M:%S", errors="coerce")
        ok = naive.notna()
        local = naive[ok].dt.tz_localize(
            source_tz, ambiguous=np.ones(int(ok.sum()), dtype=bool), nonexistent="shift_forward"
        )
        stamped = local.dt.strftime("%Y-%m-%dT%H:%M:%S%z").str.replace(r"(\d{2})(\d{2})$", r"\1:\2", regex=True)
        out.loc[stamped.index, col] = stamped.astype(object)
    return out
