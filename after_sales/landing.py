"""The landing zone: `<landing>/<source>/<YYYY-MM-DD>/` folders of csv, xlsx or parquet files."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from after_sales.transforms.staging import LandedFile, LandingFileError

DATA_SUFFIXES = (".csv", ".xlsx", ".parquet")
CSV_ENCODINGS = ("utf-8-sig", "gb18030")
OUTSIDE = "resolves outside the landing zone (a link): refused, not read"


@dataclass(frozen=True)
class Misplaced:
    """A path under the landing zone that is not loaded, and why (path relative to the landing root)."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


def _hidden(path: Path) -> bool:
    return path.name.startswith((".", "_", "~$"))


def inside(landing_dir: Path, path: Path) -> bool:
    """Whether the path, links followed, stays under the landing root."""
    try:
        return path.resolve().is_relative_to(landing_dir.resolve())
    except (OSError, RuntimeError):  # a link loop resolves nowhere
        return False


def folder_day(name: str) -> dt.date | None:
    """The date a day folder is named after, only in the form YYYY-MM-DD."""
    try:
        day = dt.date.fromisoformat(name)
    except ValueError:
        return None
    return day if day.isoformat() == name else None


def source_names(landing_dir: Path) -> list[str]:
    """Source folders present in the landing zone (not starting with _ or ., not leading outside it)."""
    if not landing_dir.is_dir():
        return []
    return sorted(
        p.name for p in landing_dir.iterdir() if p.is_dir() and not _hidden(p) and inside(landing_dir, p)
    )


def _day_folders(landing_dir: Path, source: str) -> dict[dt.date, Path]:
    base = landing_dir / source
    if not base.is_dir() or not inside(landing_dir, base):
        return {}
    found = {}
    for p in base.iterdir():
        day = folder_day(p.name)
        if day is not None and p.is_dir() and inside(landing_dir, p):
            found[day] = p
    return found


def landed_paths(landing_dir: Path, source: str, days: list[dt.date]) -> list[tuple[dt.date, Path]]:
    """Data files of a source for the given landing days, in a stable order; links leading outside are skipped."""
    folders = _day_folders(landing_dir, source)
    found: list[tuple[dt.date, Path]] = []
    for day in days:
        folder = folders.get(day)
        if folder is not None:
            found += [
                (day, p)
                for p in sorted(folder.iterdir())
                if p.is_file()
                and p.suffix.lower() in DATA_SUFFIXES
                and not p.name.startswith((".", "~$"))
                and inside(landing_dir, p)
            ]
    return found


def landed_days(landing_dir: Path, source: str) -> list[dt.date]:
    """Every landing day that has a folder for the source (inside the landing zone)."""
    return sorted(_day_folders(landing_dir, source))


def _day_problems(landing_dir: Path, rel: str, folder: Path) -> list[Misplaced]:
    out = []
    for p in sorted(folder.iterdir()):
        if p.name.startswith((".", "~$")):
            continue
        if not inside(landing_dir, p):
            out.append(Misplaced(f"{rel}/{p.name}", OUTSIDE))
        elif p.is_dir():
            out.append(Misplaced(f"{rel}/{p.name}", "a folder inside a day folder: not read"))
        elif p.suffix.lower() not in DATA_SUFFIXES:
            kind = p.suffix.lower() or "(no extension)"
            out.append(Misplaced(f"{rel}/{p.name}", f"unsupported file type {kind} (expected .csv, .xlsx or .parquet)"))
    return out


def landing_problems(
    landing_dir: Path, sources: list[str] | None = None, days: list[dt.date] | None = None
) -> list[Misplaced]:
    """Everything under the landing zone that is not loaded, and why (sources=None: any folder is a source).

    Links leading outside, unconfigured source folders, folders that are not days, unsupported files; days limits
    the day folders whose files are looked at (every folder's name is judged).
    """
    if not landing_dir.is_dir():
        return []
    configured = set(sources) if sources is not None else None
    wanted = set(days) if days is not None else None
    out: list[Misplaced] = []
    for base in sorted(landing_dir.iterdir()):
        if _hidden(base):
            continue
        if not inside(landing_dir, base):
            out.append(Misplaced(base.name, OUTSIDE))
        elif not base.is_dir():
            out.append(Misplaced(base.name, "a file directly in the landing zone (expected <source>/<YYYY-MM-DD>/)"))
        elif configured is not None and base.name not in configured:
            near = [s for s in configured if s.lower() == base.name.lower()]
            hint = f" (did you mean {near[0]}/? folder names are case-sensitive)" if near else ""
            out.append(Misplaced(base.name, f"not a configured source folder{hint}: not read"))
        else:
            for folder in sorted(base.iterdir()):
                rel = f"{base.name}/{folder.name}"
                if _hidden(folder):
                    continue
                day = folder_day(folder.name)
                if not inside(landing_dir, folder):
                    out.append(Misplaced(rel, OUTSIDE))
                elif not folder.is_dir():
                    out.append(Misplaced(rel, "a file outside a day folder (expected <source>/<YYYY-MM-DD>/)"))
                elif day is None:
                    out.append(Misplaced(rel, "not a day folder (expected a valid date, YYYY-MM-DD): not read"))
                elif wanted is None or day in wanted:
                    out += _day_problems(landing_dir, rel, folder)
    return out


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


# A last line appended to a CSV read by Arrow: if it is not read back as its own row, the file ended inside a
# quoted field (a cut-off export), which Arrow would accept and pandas refuses.
_SENTINEL = "\x01after_sales_end\x01"


def _regular_csv(text: str) -> pd.DataFrame | None:
    """A CSV whose every line has the first line's number of fields, read by Arrow's parser (about 6x pandas'
    here) as the same text cells; None for anything else (a blank or short line, a NUL, an open quote at the
    end): pandas reads those, with its messages."""
    if "\x00" in text:
        return None
    try:
        first = next(csv.reader(io.StringIO(text)), None)
    except csv.Error:
        return None
    if not first:
        return None
    names = [f"f{i}" for i in range(len(first))]
    irregular: list[object] = []

    def skip(row: object) -> str:
        irregular.append(row)
        return "skip"

    ended = text if text.endswith(("\n", "\r")) else text + "\n"
    try:
        table = pa_csv.read_csv(
            io.BytesIO((ended + ",".join([_SENTINEL] * len(names)) + "\n").encode("utf-8")),
            read_options=pa_csv.ReadOptions(column_names=names),
            parse_options=pa_csv.ParseOptions(
                newlines_in_values=True, ignore_empty_lines=False, invalid_row_handler=skip
            ),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, UnicodeEncodeError):
        return None
    if irregular or table.column_names != names or table.num_rows == 0:
        return None
    if any(table.column(name)[-1].as_py() != _SENTINEL for name in names):
        return None
    table = table.slice(0, table.num_rows - 1)
    return pd.DataFrame({i: table.column(name).to_pandas() for i, name in enumerate(names)})


def _read_csv(path: Path, rel: str) -> pd.DataFrame:
    data = path.read_bytes()
    if not data.strip():
        raise LandingFileError(f"{rel}: the file is empty (no header)")
    text = _decode(path, rel, data)
    raw = _regular_csv(text)
    if raw is None:
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
    # A blank line is a row whose every cell is blank: each column is judged only on the rows still blank.
    empty = np.ones(len(frame), dtype=bool) if data_cols else np.zeros(len(frame), dtype=bool)
    for column in data_cols:
        at = np.flatnonzero(empty)
        if not len(at):
            break
        empty[at] = (frame[column].iloc[at].str.strip() == "").to_numpy(dtype=bool)
    if empty.any():
        frame = frame.loc[~empty]
    return LandedFile(source=source, landing_date=landing_date, path=rel, frame=frame.reset_index(drop=True))
