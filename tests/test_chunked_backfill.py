"""A long partition range is built in chunks inside one run: same tables as one pass, check results merged."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from after_sales.assets.chunked import chunk_windows, merge_check_results
from after_sales.resources.warehouse import DateWindow
from after_sales.sample import generate, write_landing
from after_sales.tables import ALL_TABLES
from after_sales.windows import DayTotals
from tests.support.runs import TZ, other_warehouse, run_range

FIRST = dt.date(2025, 3, 1)
DAYS = 9
# Columns that name the run or the clock rather than the data.
RUN_COLUMNS = {"run_id", "evaluated_at"}


def test_chunk_windows_cover_the_window_in_order() -> None:
    window = DateWindow(dt.date(2025, 1, 1), dt.date(2025, 1, 11))
    parts = chunk_windows(window, 4)
    assert [(p.start.day, p.end.day) for p in parts] == [(1, 5), (5, 9), (9, 11)]
    assert chunk_windows(DateWindow(dt.date(2025, 1, 1), dt.date(2025, 1, 2)), 4) == [
        DateWindow(dt.date(2025, 1, 1), dt.date(2025, 1, 2))
    ]


def test_chunks_hold_days_while_their_rows_fit() -> None:
    """A chunk grows day by day while its estimated rows beyond its first day's fit the budget; a day over the
    budget is a chunk alone; the day cap still holds."""
    days = [dt.date(2025, 1, 1) + dt.timedelta(days=i) for i in range(10)]
    window = DateWindow(days[0], days[-1] + dt.timedelta(days=1))
    rows = DayTotals.of(window, {d: 10 for d in days} | {days[4]: 500})
    parts = chunk_windows(window, 366, rows.over, 30)
    assert [(p.start.day, p.end.day) for p in parts] == [(1, 5), (5, 9), (9, 11)]
    assert chunk_windows(window, 366, rows.over, 10**6) == [window]
    assert len(chunk_windows(window, 3, rows.over, 10**6)) == 4

    # A look-back read whatever the chunk's length is paid once, not counted against the budget.
    def with_lookback(w: DateWindow) -> int:
        return rows.over(DateWindow(w.start - dt.timedelta(days=7), w.end)) + 1000

    assert chunk_windows(window, 366, with_lookback, 30)[0] == DateWindow(days[0], days[4])


def test_day_totals_sum_any_window() -> None:
    window = DateWindow(dt.date(2025, 1, 1), dt.date(2025, 1, 5))
    totals = DayTotals.of(window, {dt.date(2025, 1, 2): 3, dt.date(2025, 1, 4): 4, dt.date(2025, 2, 1): 99})
    assert totals.over(window) == 7
    assert totals.over(DateWindow(dt.date(2024, 12, 1), dt.date(2025, 1, 3))) == 3
    assert totals.over(DateWindow(dt.date(2025, 1, 4), dt.date(2025, 3, 1))) == 4
    assert totals.over(DateWindow(dt.date(2025, 3, 1), dt.date(2025, 3, 2))) == 0


def test_chunk_settings_come_from_the_environment(tmp_path: Path) -> None:
    """AFTER_SALES_CHUNK_DAYS and AFTER_SALES_CHUNK_ROWS reach the warehouse resource of the definitions."""
    env = {**os.environ, "AFTER_SALES_CHUNK_DAYS": "5", "AFTER_SALES_CHUNK_ROWS": "1234", "DAGSTER_HOME": str(tmp_path)}
    code = (
        "from after_sales.definitions import defs; w = defs.resources['warehouse']; print(w.chunk_days, w.chunk_rows)"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split()[-2:] == ["5", "1234"]


def test_check_results_merge_over_chunks() -> None:
    def result(passed: bool, unexpected: int) -> dg.AssetCheckResult:
        return dg.AssetCheckResult(
            asset_key="stg_orders",
            check_name="values",
            passed=passed,
            metadata={"expectations": 5, "unexpected_rows": unexpected, "summary": "ok" if passed else "bad"},
        )

    [merged] = merge_check_results([[result(True, 0)], [result(False, 3)], [result(False, 2)]])
    assert not merged.passed
    meta = {k: getattr(v, "value", v) for k, v in merged.metadata.items()}
    assert meta["unexpected_rows"] == 5 and meta["expectations"] == 5 and meta["summary"] == "bad"
    assert (meta["chunks"], meta["chunks_failed"]) == (3, 2)


def _tables(resources: dict[str, object]) -> dict[str, pd.DataFrame]:
    wh = resources["warehouse"].open()  # type: ignore[attr-defined]
    out = {}
    for spec in list(ALL_TABLES.values()):
        frame = wh.query(f'SELECT * FROM after_sales."{spec.name}"')
        frame = frame.drop(columns=[c for c in frame.columns if c in RUN_COLUMNS])
        out[spec.name] = frame.sort_values(list(frame.columns)).reset_index(drop=True)
    return out


@pytest.mark.slow
def test_backfill_in_chunks_equals_one_pass(tmp_path: Path, landing: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_landing(generate(FIRST, DAYS, 40, seed=3, fault_rate=0.05, tz=TZ), landing)
    last = (FIRST + dt.timedelta(days=DAYS - 1)).isoformat()
    runs = {}
    # Chunks of 2 days; chunks of about 60 input rows (a day's 40 orders are about 60 estimated rows of CSV).
    for name, days, rows in (("one_pass", 60, 10**9), ("chunks", 2, 10**9), ("row_chunks", 60, 60)):
        resources = other_warehouse(tmp_path, landing, name, chunk_days=days, chunk_rows=rows)
        result = run_range(resources, FIRST.isoformat(), last)
        assert result.success, name
        runs[name] = (result, _tables(resources))
    one = runs["one_pass"][1]
    assert len(one["fct_order_feedback"]) > 0 and len(one["quarantine"]) > 0
    for name in ("chunks", "row_chunks"):
        for table, frame in one.items():
            pd.testing.assert_frame_equal(frame, runs[name][1][table], obj=f"{name}: {table}")

    def chunks(name: str, asset: str) -> int:
        return runs[name][0].asset_materializations_for_node(asset)[-1].metadata["chunks"].value

    assert chunks("one_pass", "stg_orders") == 1 and chunks("chunks", "stg_orders") == 5  # 9 days in chunks of 2
    assert 1 < chunks("row_chunks", "stg_orders") < DAYS and chunks("row_chunks", "problem_orders") > 1
    exports = sorted(p.name for p in (tmp_path / "chunks_exports" / "work_orders").iterdir())
    assert len(exports) == DAYS


@pytest.mark.slow
def test_a_frame_without_rows_is_judged_as_gx_judges_it() -> None:
    from after_sales.arrow_frames import empty_frame
    from after_sales.checks.gx_runner import validate
    from after_sales.checks.quality import evaluate
    from after_sales.checks.suites import rules_for
    from after_sales.tables import STG_ORDERS

    window = DateWindow(dt.date(2025, 3, 1), dt.date(2025, 3, 3))
    now = pd.Timestamp("2025-03-10", tz="UTC")
    frame = empty_frame(STG_ORDERS, TZ)
    direct = validate(frame, rules_for(STG_ORDERS, window, now), STG_ORDERS.partition_column)
    report = evaluate("stg_orders", STG_ORDERS, frame, window, "run", now=now)  # judged in SQL
    assert report.passed
    got = report.rows.loc[report.rows["partition_date"] == window.start]
    assert sorted(zip(got["rule"], got["passed"], strict=True)) == sorted((o.rule.label, o.success) for o in direct)


@pytest.mark.slow
def test_marketplace_feedback_before_a_chunk_boundary_finds_orders_landed_after_it(
    tmp_path: Path, landing: Path
) -> None:
    """Reviews and refunds landed on the last day of a chunk name orders landed the next day: staged as in one pass,
    not quarantined as unknown orders."""
    fixtures = Path(__file__).parent / "fixtures" / "marketplaces" / "taobao" / "2026-10-01"
    for name, day in (("评价导出_utf8.csv", "2026-10-01"), ("退款导出_utf8.csv", "2026-10-01")):
        (landing / "taobao" / day).mkdir(parents=True, exist_ok=True)
        (landing / "taobao" / day / name).write_bytes((fixtures / name).read_bytes())
    (landing / "taobao" / "2026-10-02").mkdir(parents=True)
    orders = fixtures / "ExportOrderList202610011230_utf8.csv"
    (landing / "taobao" / "2026-10-02" / orders.name).write_bytes(orders.read_bytes())
    selection = ["stg_taobao_orders", "stg_taobao_feedback"]
    tables = {}
    for name, days in (("one_pass", 60), ("chunks", 1)):
        resources = other_warehouse(tmp_path, landing, name, chunk_days=days)
        result = run_range(resources, "2026-10-01", "2026-10-02", selection)
        assert result.success, name
        assert result.asset_materializations_for_node("stg_taobao")[-1].metadata["chunks"].value == (
            1 if name == "one_pass" else 2
        )
        wh = resources["warehouse"].open()  # type: ignore[attr-defined]
        tables[name] = {}
        for table in ("stg_taobao_feedback", "quarantine"):
            frame = wh.query(f"SELECT * FROM after_sales.{table}")
            frame = frame.drop(columns=[c for c in frame.columns if c in RUN_COLUMNS])
            tables[name][table] = frame.sort_values(list(frame.columns)).reset_index(drop=True)
    staged = tables["one_pass"]["stg_taobao_feedback"]
    assert len(staged) > 0 and set(staged["landing_date"].astype(str)) == {"2026-10-01"}
    for table, frame in tables["one_pass"].items():
        pd.testing.assert_frame_equal(frame, tables["chunks"][table], obj=table)
