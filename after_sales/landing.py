"""The landing zone: `<landing>/<source>/<YYYY-MM-DD>/` folders of csv, xlsx or parquet files."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from after_sales.transforms.staging import LandedFile, LandingFileError

DATA_SUFFIXES = (".csv", ".xlsx", ".parquet")
CSV_ENCODINGS = ("utf-8-sig", "gb18030")


def source_names(landing_dir: Path) -> list[str]:
    """Source folders present in the landing zone (folders starting with _ or . are not sources)."""
    if not landing_dir.is_dir():
        return []
    return sorted(p.name for p in landing_dir.iterdir() if p.is_dir() and p.name[0] not in "._")


def landed_paths(landing_dir: Path, source: str, days: list[dt.date]) -> list[tuple[dt.date, Path]]:
    """Data files of a source for the given landing days, in a stable order."""
    found: list[tuple[dt.date, Path]] = []
    for day in days:
        folder = landing_dir / source / day.isoformat()
        if folder.is_dir():
            found += [
                (day, p)
                for p in sorted(folder.iterdir())
                if p.is_file() and p.suffix.lower() in DATA_SUFFIXES and not p.name.startswith((".", "~$"))
            ]
    return found


def landed_days(landing_dir: Path, source: str) -> list[dt.date]:
    """Every landing day that has a folder for the source."""
    base = landing_dir / source
    if not base.is_dir():
        return []
    days = []
    for p in base.iterdir():
        try:
            days.append(dt.date.fromisoformat(p.name))
        except ValueError:
            continue
    return sorted(days)


def _decode(path: Path, rel: str, data: bytes) -> str:
    errors = []
    for encoding in CSV_ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError as exc:
            errors.append(f"{encoding} fails at byte {exc.start}")
    raise LandingFileError(f"{rel}: cannot decode the file as {' or '.join(CSV_ENCODINGS)} ({'; '.join(errors)})")


def _header(names: list[object], rel: str) -> list[str]:
    """Header names stripped; an empty name becomes '(column N)'; a name given twice refuses the file."""
    header = [str(n).strip() if n is not None and not (isinstance(n, float) and n != n) else "" for n in names]
    header = [h or f"(column {i + 1})" for i, h in enumerate(header)]
    seen: dict[str, int] = {}
    for i, name in enumerate(header):
        if name in seen:
            raise LandingFileError(
                f"{rel}: duplicate column name '{name}' in the header (columns {seen[name] + 1} and {i + 1}); "
                "which one holds the data is ambiguous, so the file is refused: rename or remove one"
            )
        seen[name] = i
    return header


def _with_header(raw: pd.DataFrame, rel: str) -> pd.DataFrame:
    """The first row of a header-less read as the column names (so no reader renames a repeated name)."""
    if raw.empty:
        raise LandingFileError(f"{rel}: the file is empty (no header)")
    frame = raw.iloc[1:].reset_index(drop=True)
    frame.columns = _header(raw.iloc[0].tolist(), rel)
    return frame


def _read_csv(path: Path, rel: str) -> pd.DataFrame:
    data = path.read_bytes()
    if not data.strip():
        raise LandingFileError(f"{rel}: the file is empty (no header)")
    text = _decode(path, rel, data)
    try:
        raw = pd.read_csv(
            io.StringIO(text),
            header=None,
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=False,
            on_bad_lines="error",
        )
    except pd.errors.EmptyDataError as exc:
        raise LandingFileError(f"{rel}: the file is empty (no header)") from exc
    except (pd.errors.ParserError, csv.Error) as exc:
        raise LandingFileError(f"{rel}: malformed csv: {exc}") from exc
    frame = _with_header(raw, rel)
    if not text.endswith(("\n", "\r")) and len(frame):
        last_line = text.splitlines()[-1]
        fields = next(csv.reader([last_line]), [])
        if len(fields) < len(frame.columns):
            raise LandingFileError(
                f"{rel}: truncated file: the last line (row {len(frame)}) has {len(fields)} of "
                f"{len(frame.columns)} columns and no line end; the export was cut off"
            )
    return frame


def _as_text(frame: pd.DataFrame, rel: str) -> pd.DataFrame:
    header = _header(list(frame.columns), rel)
    out = pd.DataFrame(index=frame.index)
    for i, column in enumerate(header):
        series = frame.iloc[:, i]
        if pd.api.types.is_datetime64_any_dtype(series):
            text = series.dt.strftime("%Y-%m-%dT%H:%M:%S%z" if series.dt.tz is not None else "%Y-%m-%d %H:%M:%S")
        else:
            text = series.astype("string")
        out[column] = text.fillna("")
    return out


def read_landed_file(landing_dir: Path, source: str, landing_date: dt.date, path: Path) -> LandedFile:
    """Read one file as text columns with 1-based source_row; blank lines are not rows."""
    rel = path.relative_to(landing_dir).as_posix() if path.is_relative_to(landing_dir) else str(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        frame = _read_csv(path, rel)
    elif suffix == ".parquet":
        try:
            _header(pq.read_schema(path).names, rel)  # a repeated name refuses the file before pandas reads it
            table = pd.read_parquet(path)
        except LandingFileError:
            raise
        except Exception as exc:
            raise LandingFileError(f"{rel}: unreadable parquet file: {exc}") from exc
        frame = _as_text(table, rel)
    elif suffix == ".xlsx":
        try:
            raw = pd.read_excel(path, dtype=str, keep_default_na=False, header=None)
        except Exception as exc:
            raise LandingFileError(f"{rel}: unreadable xlsx file: {exc}") from exc
        frame = _with_header(raw, rel)
    else:
        raise LandingFileError(f"{rel}: unsupported file type {suffix}")
    frame = frame.astype("string").fillna("")
    frame["source_row"] = range(1, len(frame) + 1)
    data_cols = [c for c in frame.columns if c != "source_row"]
    if data_cols:
        empty = (frame[data_cols].apply(lambda s: s.str.strip()) == "").all(axis=1)
        frame = frame.loc[~empty]
    return LandedFile(source=source, landing_date=landing_date, path=rel, frame=frame.reset_index(drop=True))
