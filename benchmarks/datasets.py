"""Benchmark data sets: landing files from the deterministic sample generator, generated once, not timed."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

from after_sales.sample import SOURCES, generate, write_landing

START = dt.date(2025, 1, 1)
TZ = "Asia/Shanghai"
SEED = 7
# The generator holds a whole range in memory (about 1.1 GB per million orders); bigger ranges are
# generated in consecutive chunks of whole days with their own seed. Feedback that a chunk's orders
# would have received after the chunk's last day is not generated (the counts are recorded).
MAX_ORDERS_PER_CHUNK = 2_000_000


@dataclass(frozen=True)
class Dataset:
    """A landing zone of `days` days starting at START with about `orders` orders in all."""

    orders: int
    days: int
    seed: int = SEED

    @property
    def orders_per_day(self) -> int:
        """Orders placed per day (orders / days, rounded, at least 1)."""
        return max(1, round(self.orders / self.days))

    @property
    def name(self) -> str:
        """Folder name, e.g. 100k-30d-s7."""
        return f"{label(self.orders)}-{self.days}d-s{self.seed}"

    @property
    def first_day(self) -> dt.date:
        """First landing day."""
        return START

    @property
    def last_day(self) -> dt.date:
        """Last landing day."""
        return START + dt.timedelta(days=self.days - 1)

    def chunks(self) -> list[tuple[dt.date, int]]:
        """(first day, number of days) of each generation chunk."""
        per_chunk = max(1, MAX_ORDERS_PER_CHUNK // self.orders_per_day)
        out = []
        for offset in range(0, self.days, per_chunk):
            out.append((START + dt.timedelta(days=offset), min(per_chunk, self.days - offset)))
        return out


def label(n: int) -> str:
    """10000 -> 10k, 1000000 -> 1m, 36500 -> 36.5k."""
    for unit, size in (("m", 1_000_000), ("k", 1_000)):
        if n >= size:
            value = n / size
            return f"{value:g}{unit}"
    return str(n)


def parse_count(text: str) -> int:
    """'100k' -> 100000, '1m' -> 1000000, '2.5M' -> 2500000, '5000' -> 5000."""
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([kKmM]?)\s*", text)
    if not m:
        raise ValueError(f"not a count: {text!r} (use e.g. 10k, 100k, 1m, 10m)")
    factor = {"": 1, "k": 1_000, "m": 1_000_000}[m.group(2).lower()]
    return round(float(m.group(1)) * factor)


def ensure_landing(ds: Dataset, work_dir: Path, fresh: bool = False) -> tuple[Path, dict[str, object]]:
    """The dataset's landing directory (generated if missing) and its row counts."""
    root = work_dir / "data" / ds.name
    landing = root / "landing"
    info_path = root / "dataset.json"
    if info_path.exists() and not fresh:
        return landing, json.loads(info_path.read_text())
    if root.exists():
        shutil.rmtree(root)
    rows = dict.fromkeys(SOURCES, 0)
    for first, days in ds.chunks():
        chunk_seed = ds.seed + (first - START).days
        sample = generate(first, days, ds.orders_per_day, chunk_seed, 0.0, TZ)
        write_landing(sample, landing)
        for source in SOURCES:
            rows[source] += sum(len(f) for f in sample.frames[source].values())
        del sample
    shutil.rmtree(landing / "_sample", ignore_errors=True)  # fault manifest: empty at fault rate 0
    info = {
        **asdict(ds),
        "name": ds.name,
        "orders_per_day": ds.orders_per_day,
        "first_day": ds.first_day.isoformat(),
        "last_day": ds.last_day.isoformat(),
        "chunks": len(ds.chunks()),
        "rows": rows,
        "fault_rate": 0.0,
        "timezone": TZ,
        "landing_bytes": sum(p.stat().st_size for p in landing.rglob("*.csv")),
    }
    info_path.parent.mkdir(parents=True, exist_ok=True)
    info_path.write_text(json.dumps(info, indent=2))
    return landing, info


def single_day_landing(landing: Path, day: dt.date, target: Path) -> Path:
    """A landing zone holding only one day's files of another (hard links, no copy)."""
    if target.exists():
        shutil.rmtree(target)
    for source in SOURCES:
        folder = landing / source / day.isoformat()
        if folder.is_dir():
            dest = target / source / day.isoformat()
            dest.mkdir(parents=True)
            for f in folder.iterdir():
                try:
                    (dest / f.name).hardlink_to(f)
                except OSError:
                    shutil.copy2(f, dest / f.name)
    return target
