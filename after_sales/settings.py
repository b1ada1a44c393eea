"""Configuration read from the environment, with defaults that need nothing."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

ENV_LANDING_DIR = "AFTER_SALES_LANDING_DIR"
ENV_WAREHOUSE_URL = "AFTER_SALES_WAREHOUSE_URL"
ENV_WAREHOUSE_SCHEMA = "AFTER_SALES_WAREHOUSE_SCHEMA"
ENV_TIMEZONE = "AFTER_SALES_TIMEZONE"
ENV_START_DATE = "AFTER_SALES_START_DATE"
ENV_LATE_ARRIVAL_DAYS = "AFTER_SALES_LATE_ARRIVAL_DAYS"
ENV_REBUILD_DAYS = "AFTER_SALES_REBUILD_DAYS"
ENV_CHUNK_DAYS = "AFTER_SALES_CHUNK_DAYS"
ENV_CHUNK_ROWS = "AFTER_SALES_CHUNK_ROWS"
ENV_EXPORT_DIR = "AFTER_SALES_EXPORT_DIR"
ENV_SOURCES_DIRS = "AFTER_SALES_SOURCES_DIRS"
ENV_BACKFILL_DAYS_PER_RUN = "AFTER_SALES_BACKFILL_DAYS_PER_RUN"

DEFAULTS: dict[str, str] = {
    ENV_LANDING_DIR: "data/landing",
    ENV_WAREHOUSE_URL: "duckdb:///data/warehouse.duckdb",
    ENV_WAREHOUSE_SCHEMA: "after_sales",
    ENV_TIMEZONE: "Asia/Shanghai",
    ENV_START_DATE: "",  # empty: the first landing day (first_landing_day), else FALLBACK_START_DATE
    ENV_LATE_ARRIVAL_DAYS: "7",
    ENV_REBUILD_DAYS: "3",
    ENV_CHUNK_DAYS: "366",
    ENV_CHUNK_ROWS: "1000000",
    ENV_EXPORT_DIR: "data/exports",
    ENV_SOURCES_DIRS: "",
    ENV_BACKFILL_DAYS_PER_RUN: "0",  # 0: a backfill is one run; N: runs of at most N days, run side by side
}


FALLBACK_START_DATE = dt.date(2025, 1, 1)


def env(name: str) -> str:
    """Value of a setting: the environment variable if set and non-empty, else its default."""
    value = os.environ.get(name, "").strip()
    return value or DEFAULTS[name]


def first_landing_day(landing_dir: Path) -> dt.date | None:
    """The earliest day folder <landing_dir>/<source>/<YYYY-MM-DD>/ holding a file, if any."""
    days = []
    if landing_dir.is_dir():
        for source in landing_dir.iterdir():
            if not source.is_dir() or source.name.startswith(("_", ".")):
                continue
            for folder in source.iterdir():
                try:
                    day = dt.date.fromisoformat(folder.name)
                except ValueError:
                    continue
                if folder.is_dir() and any(folder.iterdir()):
                    days.append(day)
    return min(days, default=None)


def start_date(landing_dir: Path) -> dt.date:
    """AFTER_SALES_START_DATE if set, else the first landing day, else 2025-01-01: partitions begin where data does."""
    explicit = env(ENV_START_DATE)
    if explicit:
        return dt.date.fromisoformat(explicit)
    return first_landing_day(landing_dir) or FALLBACK_START_DATE


@dataclass(frozen=True)
class Settings:
    """A snapshot of every setting, resolved once."""

    landing_dir: Path
    warehouse_url: str
    warehouse_schema: str
    timezone: str
    start_date: dt.date
    late_arrival_days: int
    rebuild_days: int
    chunk_days: int
    chunk_rows: int
    export_dir: Path
    sources_dirs: tuple[Path, ...]
    backfill_days_per_run: int

    @property
    def tz(self) -> ZoneInfo:
        """The business time zone."""
        return ZoneInfo(self.timezone)


def load_settings() -> Settings:
    """Read every setting from the environment now."""
    landing_dir = Path(env(ENV_LANDING_DIR))
    return Settings(
        landing_dir=landing_dir,
        warehouse_url=env(ENV_WAREHOUSE_URL),
        warehouse_schema=env(ENV_WAREHOUSE_SCHEMA),
        timezone=env(ENV_TIMEZONE),
        start_date=start_date(landing_dir),
        late_arrival_days=int(env(ENV_LATE_ARRIVAL_DAYS)),
        rebuild_days=int(env(ENV_REBUILD_DAYS)),
        chunk_days=max(1, int(env(ENV_CHUNK_DAYS))),
        chunk_rows=max(1, int(env(ENV_CHUNK_ROWS))),
        export_dir=Path(env(ENV_EXPORT_DIR)),
        sources_dirs=tuple(Path(p) for p in env(ENV_SOURCES_DIRS).split(os.pathsep) if p),
        backfill_days_per_run=max(0, int(env(ENV_BACKFILL_DAYS_PER_RUN))),
    )
