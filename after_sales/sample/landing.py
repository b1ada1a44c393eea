"""Writing generated sample data into the landing zone, and clearing what a run replaces."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd

from after_sales.sample.generator import SOURCES, SampleData, landing_relpath

SAMPLE_DIR = "_sample"
MANIFEST_FILE = "faults.csv"
SUMMARY_FILE = "summary.json"
WRITTEN_FILE = "written.json"


def write_frame_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write one frame as UTF-8 CSV with a header row and no index, byte-stable."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")


def write_landing(sample: SampleData, landing_dir: str | Path) -> list[Path]:
    """Write every landing file, the fault manifest and the summary; return the paths written."""
    root = Path(landing_dir)
    written: list[Path] = []
    for source in SOURCES:
        for day, frame in sample.frames[source].items():
            path = root / landing_relpath(source, day)
            write_frame_csv(frame, path)
            written.append(path)
    manifest = root / SAMPLE_DIR / MANIFEST_FILE
    write_frame_csv(sample.faults, manifest)
    summary = root / SAMPLE_DIR / SUMMARY_FILE
    summary.write_text(json.dumps(sample.summary(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return [*written, manifest, summary]


def manifest_path(landing_dir: str | Path) -> Path:
    """The list of every file the sample generator wrote under a landing directory."""
    return Path(landing_dir) / SAMPLE_DIR / WRITTEN_FILE


def written_files(landing_dir: str | Path) -> set[str]:
    """Relative posix paths the generator wrote (its manifest, plus the names it always writes)."""
    root = Path(landing_dir)
    path = manifest_path(root)
    own = {f"{SAMPLE_DIR}/{MANIFEST_FILE}", f"{SAMPLE_DIR}/{SUMMARY_FILE}", f"{SAMPLE_DIR}/{WRITTEN_FILE}"}
    if path.is_file():
        own |= set(json.loads(path.read_text(encoding="utf-8")))
    return own


def record_written(landing_dir: str | Path, paths: list[Path]) -> Path:
    """Add written files to the manifest; return its path."""
    root = Path(landing_dir)
    own = written_files(root) | {p.resolve().relative_to(root.resolve()).as_posix() for p in paths}
    path = manifest_path(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(sorted(own), ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    return path


def target_folders(landing_dir: str | Path, start: dt.date, days: int, sources: tuple[str, ...]) -> list[Path]:
    """The day folders a run writes to, and the _sample folder."""
    root = Path(landing_dir)
    folders = [root / s / (start + dt.timedelta(days=i)).isoformat() for s in sources for i in range(days)]
    return [*folders, root / SAMPLE_DIR]


def _own_names(start: dt.date, days: int) -> set[str]:
    """The own-source file names the generator writes for these days (also before it kept a manifest)."""
    return {landing_relpath(s, start + dt.timedelta(days=i)) for s in SOURCES for i in range(days)}


def foreign_files(landing_dir: str | Path, start: dt.date, days: int, sources: tuple[str, ...] = SOURCES) -> list[Path]:
    """Files in the target folders that the sample generator did not write."""
    root = Path(landing_dir)
    own = written_files(root) | _own_names(start, days)
    found: list[Path] = []
    for folder in target_folders(root, start, days, sources):
        if folder.is_dir():
            found += [p for p in sorted(folder.rglob("*")) if p.is_file() and p.relative_to(root).as_posix() not in own]
    return found


def clean_landing(landing_dir: str | Path, start: dt.date, days: int, sources: tuple[str, ...] = SOURCES) -> list[Path]:
    """Remove the files the generator itself wrote earlier in the folders it is about to write; never others."""
    root = Path(landing_dir)
    own = written_files(root) | _own_names(start, days)
    removed: list[Path] = []
    for folder in target_folders(root, start, days, sources):
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*")):
            rel = path.relative_to(root).as_posix()
            if path.is_file() and rel in own and path.name != WRITTEN_FILE:
                path.unlink()
                removed.append(path)
        if folder.name != SAMPLE_DIR and not any(folder.iterdir()):
            folder.rmdir()
    return removed
