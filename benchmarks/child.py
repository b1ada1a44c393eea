"""One measured side, run as `python -m benchmarks.child TASK 'JSON ARGS'`; prints one BENCH_RESULT line.

Imports happen before the clock starts; `seconds` is the work only. The parent records the
process's wall time and peak memory around it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import pandas as pd

from benchmarks.measure import emit_result

warnings.filterwarnings("ignore")


def _date(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def task_stage(a: dict[str, Any]) -> dict[str, object]:
    """Staged orders and feedback as Parquet, the shared input of the work-order comparison (not timed)."""
    from after_sales.settings import load_settings
    from benchmarks.pure_pipeline import stage_all

    settings = load_settings()
    start, end = _date(a["start"]), _date(a["end"])
    days = [start + dt.timedelta(days=i) for i in range((end - start).days)]
    staged = stage_all(Path(a["landing"]), days, settings.timezone, settings.late_arrival_days)
    out = Path(a["out_dir"])
    out.mkdir(parents=True, exist_ok=True)
    staged["orders"].rows.to_parquet(out / "orders.parquet")
    staged["feedback"].rows.to_parquet(out / "feedback.parquet")
    return {"orders": len(staged["orders"].rows), "feedback": len(staged["feedback"].rows)}


def task_wo_ours(a: dict[str, Any]) -> dict[str, object]:
    """Our work-order transforms on the staged frames."""
    from benchmarks.workorders import load_staged, run_ours

    orders, feedback = load_staged(Path(a["staged_dir"]))
    return run_ours(orders, feedback, _date(a["start"]), _date(a["end"]), pd.Timestamp(a["as_of"]), Path(a["out_dir"]))


def task_wo_seed(a: dict[str, Any]) -> dict[str, object]:
    """The seed's loop on the staged frames, within a time budget."""
    from benchmarks.workorders import load_staged, run_seed

    orders, feedback = load_staged(Path(a["staged_dir"]))
    return run_seed(orders, feedback, Path(a["out_dir"]), a.get("budget"))


def task_baseline(a: dict[str, Any]) -> dict[str, object]:
    """The hand-written DuckDB SQL script."""
    from benchmarks.baseline import run_baseline

    return run_baseline(
        Path(a["db"]),
        Path(a["landing"]),
        Path(a["export_dir"]),
        _date(a["start"]),
        _date(a["end"]),
        a["tz"],
        int(a["late_days"]),
        pd.Timestamp(a["as_of"]),
        threads=a.get("threads"),
        memory_limit=a.get("memory_limit"),
    )


def task_pure(a: dict[str, Any]) -> dict[str, object]:
    """The pipeline's transforms and writes as plain calls."""
    from after_sales.assets.exports import write_daily_csvs
    from after_sales.settings import load_settings
    from benchmarks.pure_pipeline import run_pure

    settings = load_settings()
    return run_pure(
        Path(a["landing"]),
        a["url"],
        Path(a["export_dir"]),
        _date(a["start"]),
        _date(a["end"]),
        settings.timezone,
        settings.late_arrival_days,
        validate=bool(a.get("validate", True)),
        write_csvs=write_daily_csvs,
    )


def _resources(a: dict[str, Any]) -> dict[str, object]:
    from after_sales.resources import ExportDirectory, LandingZone, WarehouseResource

    warehouse = WarehouseResource(url=a["url"], schema_name="after_sales", timezone=a["tz"])
    return {
        "warehouse": warehouse,
        "landing": LandingZone(base_dir=a["landing"]),
        "exports": ExportDirectory(base_dir=a["export_dir"]),
    }


def task_dagster_inprocess(a: dict[str, Any]) -> dict[str, object]:
    """Assets for a partition range in one run, execute_in_process (ephemeral instance, in-process executor).

    select "marts" (default): the tables the SQL baseline builds and everything upstream of them;
    "all": every asset.
    """
    import dagster as dg

    from after_sales.definitions import defs
    from after_sales.jobs import daily_job
    from after_sales.schedules import RANGE_END, RANGE_START
    from benchmarks.selection import MARTS_SELECTION

    run_defs = dg.Definitions(assets=list(defs.assets or []), jobs=[daily_job], resources=_resources(a))
    job = run_defs.resolve_job_def(daily_job.name)
    keys = None
    if a.get("select", "marts") == "marts":
        keys = sorted(MARTS_SELECTION.resolve(run_defs.resolve_asset_graph()), key=lambda k: k.to_user_string())
    began = time.perf_counter()
    result = job.execute_in_process(
        tags={RANGE_START: a["first"], RANGE_END: a["last"]}, raise_on_error=False, asset_selection=keys
    )
    seconds = time.perf_counter() - began
    steps: dict[str, float] = {}
    for event in result.all_events:
        if event.event_type_value == "STEP_SUCCESS" and event.step_key:
            steps[event.step_key] = round(event.event_specific_data.duration_ms / 1000, 3)  # type: ignore[union-attr]
    failed = [e.step_key for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    return {"seconds": round(seconds, 3), "success": result.success, "steps": steps, "failed_steps": failed}


def task_dagster_stats(a: dict[str, Any]) -> dict[str, object]:
    """Run and step durations of the newest run in a DAGSTER_HOME (for the CLI side; not timed)."""
    os.environ["DAGSTER_HOME"] = a["home"]
    import dagster as dg

    instance = dg.DagsterInstance.get()
    records = instance.get_run_records(limit=1)
    if not records:
        return {"found": False}
    run = records[0].dagster_run
    stats = instance.get_run_stats(run.run_id)
    steps = {
        s.step_key: round((s.end_time or 0) - (s.start_time or 0), 3)
        for s in instance.get_run_step_stats(run.run_id)
        if s.start_time and s.end_time
    }
    run_seconds = (stats.end_time or 0) - (stats.start_time or stats.launch_time or 0)
    from after_sales.definitions import defs

    executor = getattr(defs.executor, "name", None) or "multi_or_in_process (default)"
    return {
        "found": True,
        "status": str(run.status.value),
        "run_seconds": round(run_seconds, 3),
        "steps": steps,
        "executor": executor,
        "forkserver": "forkserver" in Path(sys.modules["after_sales.definitions"].__file__ or "").read_text(),
    }


def task_compare(a: dict[str, Any]) -> dict[str, object]:
    """Two sides' tables compared; in a process of its own, since DuckDB may take gigabytes for it.

    Run in the parent, that memory would also show in the peak RSS of every later side: on Linux a
    child's ru_maxrss starts from its parent's size when it was forked.
    """
    from benchmarks.compare import compare_tables, summary

    comparisons = compare_tables(Path(a["a"]), Path(a["b"]))
    return {
        "equal": all(c.equal for c in comparisons),
        "summary": summary(comparisons),
        "tables": [c.as_dict() for c in comparisons],
    }


def task_writes(a: dict[str, Any]) -> dict[str, object]:
    """Warehouse write throughput per backend (benchmarks/warehouse_writes.py), one result row per method."""
    from benchmarks.warehouse_writes import run

    return {"results": run(int(a["rows"]))}


def task_events_data(a: dict[str, Any]) -> dict[str, object]:
    """The events scenario's staged orders and events (benchmarks/events_data.sql; not timed)."""
    from benchmarks.events import generate

    return generate(Path(a["db"]), _date(a["start"]), int(a["days"]), int(a["events_per_day"]), a["tz"])


def task_events_baseline(a: dict[str, Any]) -> dict[str, object]:
    """The hand-written DuckDB SQL for behaviour_signals and behaviour_funnels."""
    from benchmarks.events import run_baseline

    return run_baseline(Path(a["src"]), Path(a["db"]), _date(a["first"]), _date(a["last"]), a["tz"])


def task_events_assets(a: dict[str, Any]) -> dict[str, object]:
    """The behaviour_signals and behaviour_funnels assets, one execute_in_process run over the range."""
    from benchmarks.events import run_assets

    return run_assets(Path(a["db"]), _date(a["first"]), _date(a["last"]), a["tz"])


def task_events_compare(a: dict[str, Any]) -> dict[str, object]:
    """The two sides' behaviour tables compared (EXCEPT ALL both ways)."""
    from benchmarks.compare import compare_tables, summary
    from benchmarks.events import TABLES

    comparisons = compare_tables(Path(a["a"]), Path(a["b"]), tables=TABLES)
    return {
        "equal": all(c.equal for c in comparisons),
        "summary": summary(comparisons),
        "tables": [c.as_dict() for c in comparisons],
    }


TASKS = {
    "events-data": task_events_data,
    "events-baseline": task_events_baseline,
    "events-assets": task_events_assets,
    "events-compare": task_events_compare,
    "writes": task_writes,
    "stage": task_stage,
    "wo-ours": task_wo_ours,
    "wo-seed": task_wo_seed,
    "baseline": task_baseline,
    "pure": task_pure,
    "dagster-inprocess": task_dagster_inprocess,
    "dagster-stats": task_dagster_stats,
    "compare": task_compare,
}


def main(argv: list[str]) -> int:
    """Run the task named by argv[0] with the JSON arguments in argv[1]."""
    task, args = argv[0], json.loads(argv[1]) if len(argv) > 1 else {}
    emit_result(TASKS[task](args))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
