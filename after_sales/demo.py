"""The demo: generate sample landing files, materialize every asset for every day in one run, report."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from after_sales.settings import load_settings


def main(argv: list[str] | None = None) -> int:
    """Run the demo end to end and print where to look next."""
    parser = argparse.ArgumentParser(prog="python -m after_sales.demo", description=__doc__)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--orders-per-day", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--fault-rate", type=float, default=0.0)
    parser.add_argument("--marketplaces", default="all", help="marketplace sources to emit exports for ('' for none)")
    args = parser.parse_args(argv)
    settings = load_settings()
    end = dt.datetime.now(ZoneInfo(settings.timezone)).date() - dt.timedelta(days=1)
    start = end - dt.timedelta(days=args.days - 1)
    if start < settings.start_date:
        sys.exit(f"AFTER_SALES_START_DATE={settings.start_date} is after the first demo day {start}")

    from after_sales.sample.__main__ import main as sample_main

    began = time.perf_counter()
    code = sample_main(
        [
            "--days",
            str(args.days),
            "--orders-per-day",
            str(args.orders_per_day),
            "--seed",
            str(args.seed),
            "--end-date",
            end.isoformat(),
            "--fault-rate",
            str(args.fault_rate),
            "--landing-dir",
            str(settings.landing_dir),
            "--marketplaces",
            args.marketplaces,
        ]
    )
    if code:
        sys.exit(code)
    generated = time.perf_counter() - began

    home = Path(os.environ.setdefault("DAGSTER_HOME", str(Path("data/dagster_home").resolve())))
    home.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        "-m",
        "dagster",
        "asset",
        "materialize",
        "-m",
        "after_sales.definitions",
        "--select",
        "*",
        "--partition-range",
        f"{start.isoformat()}...{end.isoformat()}",
    ]
    print("\n$ " + " ".join(command[1:]), flush=True)
    began = time.perf_counter()
    done = subprocess.run(command, check=False, capture_output=True, text=True)
    materialized = time.perf_counter() - began
    if done.returncode != 0:
        print(done.stdout[-5000:], done.stderr[-20000:], sep="\n")
        print(f"materialization failed (exit {done.returncode}); the log above says which step and why")
        return done.returncode

    from after_sales.resources.warehouse import open_warehouse

    wh = open_warehouse(settings.warehouse_url, settings.warehouse_schema, settings.timezone)
    print(f"\nGenerated {args.days} days in {generated:.1f}s; materialized all assets, one run, {materialized:.1f}s")
    print(f"Warehouse {settings.warehouse_url}, schema {settings.warehouse_schema}:")
    import after_sales.definitions  # noqa: F401  (registers the marketplace staging tables)
    from after_sales.tables import ALL_TABLES

    for spec in ALL_TABLES.values():
        if not wh.table_exists(spec.name):
            continue
        part = spec.partition_column
        days = f"count(DISTINCT {part})" if part else "0"
        stats = wh.query(f'SELECT count(*) AS n, {days} AS d FROM "{settings.warehouse_schema}"."{spec.name}"').iloc[0]
        print(f"  {spec.name:<28} {int(stats['n']):>9,} rows over {int(stats['d'])} days")
    channels = wh.query(
        f'SELECT channel, count(DISTINCT order_id) AS orders FROM "{settings.warehouse_schema}".fct_order_feedback '
        "GROUP BY channel ORDER BY orders DESC"
    )
    print(
        "Orders per channel: "
        + ", ".join(f"{c} {n:,}" for c, n in zip(channels["channel"], channels["orders"], strict=True))
    )
    print(f"Work-order CSVs for helpdesk import: {settings.export_dir / 'work_orders'}")
    print(
        f"Metrics report (last 30 days, charts and definitions): {settings.export_dir / 'reports' / 'metrics_30d.html'}"
    )
    print(f"Dagster runs are recorded in DAGSTER_HOME={home}")
    print("Next: `make ui` and open http://127.0.0.1:3000 (asset graph, partitions, checks), or point a BI tool")
    if settings.warehouse_url.startswith("duckdb"):
        print(f"at {settings.warehouse_url.removeprefix('duckdb:///')} (DuckDB, schema {settings.warehouse_schema}).")
    else:
        print(f"at {settings.warehouse_url}, schema {settings.warehouse_schema}: read the bi_* views (docs/bi.md).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
