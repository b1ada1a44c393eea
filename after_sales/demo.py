"""The demo: generate sample landing files, backfill every asset over the demo's days, report.

The materialization is a real Dagster asset backfill (the UI's Backfills tab lists it): the demo records it
in the instance of DAGSTER_HOME and runs `dagster-daemon` until the backfill is done. With the single-run
backfill policy, the partitioned assets are built in one run over the whole range and the unpartitioned
bi_views in a second one after them. The partitions begin at the first landing day unless
AFTER_SALES_START_DATE says otherwise (settings.start_date), so the UI shows no empty days before the data.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from after_sales.settings import ENV_START_DATE, env, first_landing_day, load_settings

ROOT = Path(__file__).resolve().parents[1]
BACKFILL_TIMEOUT_SECONDS = 3600


def launch_backfill(first: dt.date, last: dt.date, title: str) -> str:
    """Record an asset backfill of every asset over first..last in the instance of DAGSTER_HOME; its id."""
    import dagster as dg
    from dagster._core.execution.backfill import PartitionBackfill
    from dagster._core.utils import make_new_backfill_id

    from after_sales.definitions import defs
    from after_sales.partitions import partition_keys_between

    instance = dg.DagsterInstance.get()
    graph = defs.resolve_asset_graph()
    backfill = PartitionBackfill.from_asset_partitions(
        backfill_id=make_new_backfill_id(),
        asset_graph=graph,
        partition_names=partition_keys_between(first, last),
        asset_selection=sorted(graph.get_all_asset_keys()),
        backfill_timestamp=time.time(),
        tags={"after_sales/trigger": "demo"},
        dynamic_partitions_store=instance,
        all_partitions=False,
        title=title,
        description="Every asset over the demo's days, launched by python -m after_sales.demo.",
        run_config=None,
    )
    instance.add_backfill(backfill)
    return backfill.backfill_id


def run_backfill(backfill_id: str, timeout: float = BACKFILL_TIMEOUT_SECONDS) -> tuple[str, list[str]]:
    """Run dagster-daemon until the backfill is done; its final status and the ids of its failed runs."""
    import dagster as dg
    from dagster._core.execution.backfill import BULK_ACTION_TERMINAL_STATUSES

    instance = dg.DagsterInstance.get()
    log = Path(os.environ["DAGSTER_HOME"]) / "demo_daemon.log"
    with log.open("w") as out:
        daemon = subprocess.Popen(
            [sys.executable, "-m", "after_sales.demo_daemon", "run", "-w", str(ROOT / "workspace.yaml")],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline, seen = time.monotonic() + timeout, {}
        while True:
            backfill = instance.get_backfill(backfill_id)
            assert backfill is not None
            runs = instance.get_runs(filters=dg.RunsFilter(tags={"dagster/backfill": backfill_id}))
            for run in runs:
                if seen.get(run.run_id) != run.status:
                    seen[run.run_id] = run.status
                    print(f"  run {run.run_id[:8]}: {run.status.value}", flush=True)
            if backfill.status in BULK_ACTION_TERMINAL_STATUSES:
                failed = [r.run_id for r in runs if r.status != dg.DagsterRunStatus.SUCCESS]
                return backfill.status.value, failed
            if daemon.poll() is not None:
                return f"daemon exited with {daemon.returncode} (see {log})", []
            if time.monotonic() > deadline:
                return f"not done after {timeout:.0f}s (see {log})", []
            time.sleep(2)
    finally:
        if daemon.poll() is None:
            os.killpg(daemon.pid, signal.SIGTERM)
            try:
                daemon.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(daemon.pid, signal.SIGKILL)


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
    if env(ENV_START_DATE) and start < settings.start_date:
        sys.exit(f"AFTER_SALES_START_DATE={settings.start_date} is after the first demo day {start}")
    print(
        f"Writing sample landing files for {start} .. {end} under {settings.landing_dir} (the sample's own files "
        "there are replaced) and building the warehouse at "
        f"{settings.warehouse_url}; set AFTER_SALES_LANDING_DIR / AFTER_SALES_WAREHOUSE_URL to use other places.",
        flush=True,
    )

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
    # Partitions begin at the first landing day (what `make ui` derives too), unless the user set a start.
    first_partition = settings.start_date if env(ENV_START_DATE) else (first_landing_day(settings.landing_dir) or start)
    os.environ[ENV_START_DATE] = first_partition.isoformat()
    if first_partition < start:
        print(f"Landing files older than the demo exist: partitions begin at {first_partition}, not {start}.")
    began = time.perf_counter()
    backfill_id = launch_backfill(start, end, f"demo: {args.days} days, {start} .. {end}")
    print(f"\nBackfill {backfill_id}: every asset over {start} .. {end}, run by dagster-daemon", flush=True)
    status, failed = run_backfill(backfill_id)
    materialized = time.perf_counter() - began
    if status != "COMPLETED_SUCCESS":
        print(f"backfill {backfill_id}: {status}; failed runs: {', '.join(failed) or 'none'}")
        print("`make ui`, then Overview > Backfills, shows which step failed and why")
        return 1

    from after_sales.resources.warehouse import open_warehouse

    wh = open_warehouse(settings.warehouse_url, settings.warehouse_schema, settings.timezone)
    print(f"\nGenerated {args.days} days in {generated:.1f}s; backfilled all assets in {materialized:.1f}s")
    from after_sales.assets.reports import HTML_NAME, REPORT_FOLDER, redacted_url, warehouse_folder

    print(f"Warehouse {redacted_url(settings.warehouse_url)}, schema {settings.warehouse_schema}:")
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
    from after_sales.behaviour_summary import loop_lines, summary_lines

    print("\n".join(summary_lines(wh, settings.warehouse_schema, settings.landing_dir)))
    print("\n".join(loop_lines(wh, settings.warehouse_schema)))
    print(f"Work-order CSVs for helpdesk import: {settings.export_dir / 'work_orders'}")
    report = settings.export_dir / REPORT_FOLDER / warehouse_folder(settings.warehouse_url, settings.warehouse_schema)
    print(f"Metrics report (last 30 days, charts and definitions): {report / HTML_NAME}")
    print(f"Dagster runs and the backfill are recorded in DAGSTER_HOME={home}")
    print("Next: `make ui` and open http://127.0.0.1:3000 (asset graph, partitions, checks, Overview > Backfills),")
    if settings.warehouse_url.startswith("duckdb"):
        from after_sales.resources.duckdb_warehouse import snapshot_path

        snapshot = snapshot_path(settings.warehouse_url.removeprefix("duckdb:///"))
        print(
            f"or point a BI tool at the read-only snapshot {snapshot} "
            f"(DuckDB, schema {settings.warehouse_schema}, bi_* views), not at the warehouse file: "
            "a reader holding that open blocks the next run (docs/bi.md)."
        )
    else:
        where = redacted_url(settings.warehouse_url)
        print(f"or point a BI tool at {where}, schema {settings.warehouse_schema}: the bi_* views (docs/bi.md).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
