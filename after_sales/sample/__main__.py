"""Command line: python -m after_sales.sample --days 30 --orders-per-day N --seed S."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from zoneinfo import ZoneInfo

from after_sales.sample.actions import SOURCE as ACTIONS
from after_sales.sample.events import SOURCE as EVENTS
from after_sales.sample.events import write_events_landing
from after_sales.sample.generator import MAX_FAULT_RATE, SOURCES, generate, landing_relpath
from after_sales.sample.landing import clean_landing, foreign_files, record_written, write_landing
from after_sales.settings import ENV_LANDING_DIR, ENV_TIMEZONE, env


def _date(text: str) -> dt.date:
    """Parse YYYY-MM-DD for argparse."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {text!r}") from exc


def _positive(text: str) -> int:
    """Parse an integer >= 1 for argparse."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1: {text}")
    return value


def _rate(text: str) -> float:
    """Parse a fault rate for argparse."""
    value = float(text)
    if not 0.0 <= value <= MAX_FAULT_RATE:
        raise argparse.ArgumentTypeError(f"must be between 0 and {MAX_FAULT_RATE}: {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the sample generator."""
    parser = argparse.ArgumentParser(
        prog="python -m after_sales.sample",
        description="Write deterministic sample landing files of the orders, feedback and behaviour sources.",
    )
    parser.add_argument("--days", type=_positive, default=30, help="number of landing days (default 30)")
    parser.add_argument("--orders-per-day", type=_positive, default=500, help="orders placed per day (default 500)")
    parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    parser.add_argument(
        "--end-date",
        type=_date,
        default=None,
        help="last landing day, YYYY-MM-DD (default: yesterday in AFTER_SALES_TIMEZONE)",
    )
    parser.add_argument(
        "--fault-rate",
        type=_rate,
        default=0.0,
        help="share of rows per source made bad, listed in <landing>/_sample/faults.csv (default 0)",
    )
    parser.add_argument(
        "--marketplaces",
        default="",
        help="comma-separated marketplace sources to emit native exports for, or 'all' (default none)",
    )
    parser.add_argument(
        "--landing-dir",
        type=Path,
        default=None,
        help="landing directory (default: AFTER_SALES_LANDING_DIR or data/landing)",
    )
    parser.add_argument(
        "--allow-foreign",
        action="store_true",
        help="write into day folders that hold files the generator did not write (they are kept, never deleted)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Generate, remove its own earlier files of those days, write, and print exactly what was written.

    Refuses (exit 2) when the day folders hold files it did not write, unless `--allow-foreign`; those files are
    never deleted. Every file written is recorded in <landing>/_sample/written.json.
    """
    args = build_parser().parse_args(argv)
    tz = env(ENV_TIMEZONE)
    landing = args.landing_dir if args.landing_dir is not None else Path(env(ENV_LANDING_DIR))
    end = args.end_date or (dt.datetime.now(ZoneInfo(tz)).date() - dt.timedelta(days=1))
    start = end - dt.timedelta(days=args.days - 1)
    names: list[str] = []
    if args.marketplaces:
        from after_sales.marketplaces import load_sources

        names = sorted(load_sources()) if args.marketplaces == "all" else args.marketplaces.split(",")
    targets = (*SOURCES, EVENTS, ACTIONS, *names)
    foreign = foreign_files(landing, start, args.days, targets)
    if foreign:
        more = f"\n  ... {len(foreign) - 20} more" if len(foreign) > 20 else ""
        shown = "\n".join(f"  {p}" for p in foreign[:20]) + more
        verb = "keeping" if args.allow_foreign else "refusing to write:"
        print(
            f"{verb} {len(foreign)} file(s) in the target day folders that the sample generator did not write:\n"
            f"{shown}",
            file=sys.stderr,
        )
        if not args.allow_foreign:
            print(
                "move them away, choose another --landing-dir, or pass --allow-foreign to write next to them "
                "(they are never deleted)",
                file=sys.stderr,
            )
            return 2

    began = time.perf_counter()
    sample = generate(start, args.days, args.orders_per_day, args.seed, args.fault_rate, tz)
    clean_landing(landing, start, args.days, targets)
    paths = write_landing(sample, landing)
    events = write_events_landing(sample, landing)  # behaviour events and _sample/planted_journeys.csv

    summary = sample.summary()
    print(f"landing dir {landing} ({tz}), {start} .. {end}, seed {args.seed}, fault rate {args.fault_rate}")
    for source in SOURCES:
        for day in sample.landing_days:
            counts = summary["files"][source][day.isoformat()]
            faulty = f" ({counts['faulty_rows']} faulty)" if counts["faulty_rows"] else ""
            print(f"  {landing_relpath(source, day)}: {counts['rows']} rows{faulty}")
    for source in SOURCES:
        t = summary["totals"][source]
        print(f"{source}: {t['rows']} rows in {args.days} files, {t['faulty_rows']} faulty")
    if sample.surge_days:
        print("traffic surge days: " + ", ".join(d.isoformat() for d in sample.surge_days))
    print(f"fault manifest: {paths[-2]} ({len(sample.faults)} rows)")
    print(f"summary: {paths[-1]}")
    print(f"events and helpdesk action logs: {len(events) - 1} daily files; planted journeys: {events[-1]}")
    exports: list[Path] = []
    if names:
        from after_sales.sample.marketplaces import write_marketplace_landing

        per_platform = max(1, args.orders_per_day // 4)
        exports = write_marketplace_landing(landing, start, args.days, per_platform, args.seed, tz, names)
        for path in exports:
            print(f"  {path.relative_to(landing).as_posix()}")
        print(f"marketplace exports: {len(exports)} files for {', '.join(names)} ({per_platform} orders/day each)")
    written = [*paths, *events, *exports]
    manifest = record_written(landing, written)
    print(f"wrote {len(written)} files in {time.perf_counter() - began:.1f}s (listed in {manifest})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
