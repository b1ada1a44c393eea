"""The demo is a real backfill the UI lists, and the partitions begin where the landed data begins."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from after_sales.settings import ENV_START_DATE, FALLBACK_START_DATE, first_landing_day, start_date

ROOT = Path(__file__).resolve().parents[1]


def test_partitions_begin_at_the_first_landing_day(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_START_DATE, raising=False)
    assert first_landing_day(tmp_path / "absent") is None
    assert start_date(tmp_path / "absent") == FALLBACK_START_DATE
    for folder in ("orders/2026-03-04", "jd/2026-03-02", "_sample/2020-01-01", "feedback/2026-01-01", "orders/notes"):
        (tmp_path / folder).mkdir(parents=True)
    for folder in ("orders/2026-03-04", "jd/2026-03-02", "_sample/2020-01-01", "orders/notes"):
        (tmp_path / folder / "x.csv").write_text("a\n")
    # feedback/2026-01-01 is empty and _sample is the generator's own folder: neither is a landing day.
    assert first_landing_day(tmp_path) == dt.date(2026, 3, 2) == start_date(tmp_path)
    monkeypatch.setenv(ENV_START_DATE, "2026-01-15")
    assert start_date(tmp_path) == dt.date(2026, 1, 15)


@pytest.mark.slow
def test_the_demo_leaves_a_backfill_in_the_instance(tmp_path: Path) -> None:
    home = tmp_path / "dagster_home"
    env = {
        **{k: v for k, v in os.environ.items() if k != ENV_START_DATE},
        "AFTER_SALES_LANDING_DIR": str(tmp_path / "landing"),
        "AFTER_SALES_WAREHOUSE_URL": f"duckdb:///{tmp_path / 'warehouse.duckdb'}",
        "AFTER_SALES_EXPORT_DIR": str(tmp_path / "exports"),
        "DAGSTER_HOME": str(home),
        "PYTHONPATH": str(ROOT),
    }
    demo = [sys.executable, "-m", "after_sales.demo", "--days", "2", "--orders-per-day", "40", "--marketplaces", ""]
    done = subprocess.run(demo, env=env, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    tz = ZoneInfo(os.environ.get("AFTER_SALES_TIMEZONE", "").strip() or "Asia/Shanghai")
    last = dt.datetime.now(tz).date() - dt.timedelta(days=1)
    first = last - dt.timedelta(days=1)
    assert first_landing_day(tmp_path / "landing") == first
    with dg.DagsterInstance.from_config(str(home)) as instance:
        [backfill] = instance.get_backfills()
        assert backfill.status.value == "COMPLETED_SUCCESS" and backfill.title and backfill.title.startswith("demo")
        assert backfill.is_asset_backfill
        runs = instance.get_runs(filters=dg.RunsFilter(tags={"dagster/backfill": backfill.backfill_id}))
        assert runs and all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs)
        ranged = [r for r in runs if r.tags.get("dagster/asset_partition_range_start")]
        # The action ranking of a day reads the work orders of the days before it, so the backfill runs the marts
        # after the first day in a second range: the ranges start on the first day and end on the last.
        starts = {r.tags["dagster/asset_partition_range_start"] for r in ranged}
        ends = {r.tags["dagster/asset_partition_range_end"] for r in ranged}
        assert min(starts) == first.isoformat() and max(ends) == last.isoformat()
        stg = instance.get_latest_materialization_event(dg.AssetKey("stg_orders"))
        [staged_by] = [r for r in ranged if r.run_id == stg.run_id] if stg else [None]
        assert staged_by is not None and staged_by.tags["dagster/asset_partition_range_start"] == first.isoformat()
        assert staged_by.tags["dagster/asset_partition_range_end"] == last.isoformat()


@pytest.mark.slow
def test_ui_command_stops_on_sigint_even_when_started_in_the_background() -> None:
    import signal

    probe = "import signal; print(signal.getsignal(signal.SIGINT) is signal.default_int_handler)"

    def background(*command: str) -> str:
        """Run command as a background job does: SIGINT ignored when it starts."""
        return subprocess.run(
            command,
            capture_output=True,
            text=True,
            check=True,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
        ).stdout.strip()

    assert background(sys.executable, "-c", probe) == "False"  # what `make ui &` did before
    foreground = str(ROOT / "scripts" / "foreground.py")
    assert background(sys.executable, foreground, sys.executable, "-c", probe) == "True"
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "exec $(PY) scripts/foreground.py $(VENV)/bin/dagster dev" in makefile
