"""Writing generated sample data into the landing zone, and clearing what a run replaces."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pandas as pd

from after_sales.sample.generator import SOURCES, SampleData, landing_relpath

SAMPLE_DIR = "_sample"
MANIFEST_FILE = "faults.csv"
SUMMARY_FILE = "summary.json"


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


def clean_landing(landing_dir: str | Path, start: dt.date, days: int) -> list[Path]:
    """Remove the generated source folders of the given days and the _sample folder; return what went."""
    root = Path(landing_dir)
    targets = [
        root / source / (start + dt.timedelta(days=i)).isoformat() for source in SOURCES for i in range(days)
    ]
    targets.append(root / SAMPLE_DIR)
    removed: list[Path] = []
    for target in targets:
        if target.is_symlink() or target.is_file():
            target.unlink()
        elif target.is_dir():
            shutil.rmtree(target)
        else:
            continue
        removed.append(target)
    return removed
