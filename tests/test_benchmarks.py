"""The benchmark's code paths at a tiny scale: both sides of each comparison produce the same output.

No timing is asserted here; the figures come from `make bench`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
from pathlib import Path

import pytest

from after_sales.assets.exports import write_daily_csvs
from after_sales.sample import generate, write_landing
from benchmarks import report
from benchmarks.baseline import render_sql, run_baseline, statements
from benchmarks.compare import compare_tables
from benchmarks.datasets import Dataset, label, parse_count
from benchmarks.measure import RESULT_MARK, run_measured
from benchmarks.pure_pipeline import run_pure, stage_all, work_order_as_of
from benchmarks.seed_loop import seed_work_orders
from benchmarks.workorders import check, run_ours, run_seed

TZ = "Asia/Shanghai"
START = dt.date(2025, 1, 1)
DAYS = 3
END = START + dt.timedelta(days=DAYS)


@pytest.fixture(scope="module")
def tiny_landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three days of generated landing files, 60 orders a day, fault rate 0."""
    landing = tmp_path_factory.mktemp("bench") / "landing"
    write_landing(generate(START, DAYS, 60, seed=11, fault_rate=0.0, tz=TZ), landing)
    return landing


@pytest.fixture(scope="module")
def baseline_db(tiny_landing: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The SQL baseline's warehouse for the three days."""
    out = tmp_path_factory.mktemp("baseline")
    db = out / "baseline.duckdb"
    result = run_baseline(db, tiny_landing, out / "exports", START, END, TZ, 7, work_order_as_of(END, TZ))
    assert set(result["phases"]) >= {"stg_orders", "fct_order_feedback", "work_orders", "metrics_daily", "export"}
    return db


@pytest.mark.slow
def test_seed_loop_and_our_transforms_give_identical_work_order_rows(tiny_landing: Path, tmp_path: Path) -> None:
    staged = stage_all(tiny_landing, [START + dt.timedelta(days=i) for i in range(DAYS)], TZ, 7)
    orders, feedback = staged["orders"].rows, staged["feedback"].rows
    run_ours(orders, feedback, START, END, work_order_as_of(END, TZ), tmp_path / "ours")
    seed = run_seed(orders, feedback, tmp_path / "seed", budget=None)
    assert seed["complete"] and seed["problem_orders"] > 0
    result = check(tmp_path / "ours", tmp_path / "seed", seed_complete=True)
    assert result["equal"], result
    assert result["seed_orders_written"] == result["our_low_rated_orders"] == seed["problem_orders"]
    # One CSV per problem order, as the seed wrote them.
    assert len(list((tmp_path / "seed" / "csv").glob("*.csv"))) == seed["problem_orders"]


@pytest.mark.slow
def test_capped_seed_loop_is_checked_on_the_orders_it_wrote(tiny_landing: Path, tmp_path: Path) -> None:
    staged = stage_all(tiny_landing, [START + dt.timedelta(days=i) for i in range(DAYS)], TZ, 7)
    orders, feedback = staged["orders"].rows, staged["feedback"].rows
    capped = seed_work_orders(orders, feedback, tmp_path / "probe", deadline=0.0)
    assert capped.written == 1 and not capped.complete
    run_ours(orders, feedback, START, END, work_order_as_of(END, TZ), tmp_path / "ours")
    seed = run_seed(orders, feedback, tmp_path / "seed", budget=0.0)
    assert not seed["complete"] and seed["orders_written"] == 1
    assert seed["estimated_full_seconds"] >= seed["seconds"]
    assert check(tmp_path / "ours", tmp_path / "seed", seed_complete=False)["equal"]


@pytest.mark.slow
def test_sql_baseline_equals_the_pure_transforms(tiny_landing: Path, baseline_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "pure.duckdb"
    result = run_pure(tiny_landing, f"duckdb:///{db}", tmp_path / "exports", START, END, TZ, 7, True, write_daily_csvs)
    assert result["rows"]["fct_order_feedback"] > 0 and result["rows"]["work_orders"] > 0
    assert {"read+stage", "marts", "metrics", "validate", "write", "export"} <= set(result["phases"])
    comparisons = compare_tables(baseline_db, db)
    assert all(c.equal for c in comparisons), [c.as_dict() for c in comparisons if not c.equal]
    assert len(list((tmp_path / "exports" / "work_orders").glob("*.csv"))) == DAYS


@pytest.mark.slow
def test_sql_baseline_equals_the_dagster_marts(tiny_landing: Path, baseline_db: Path, tmp_path: Path) -> None:
    from benchmarks.child import task_dagster_inprocess

    db = tmp_path / "dagster.duckdb"
    result = task_dagster_inprocess(
        {
            "landing": str(tiny_landing),
            "url": f"duckdb:///{db}",
            "export_dir": str(tmp_path / "exports"),
            "first": START.isoformat(),
            "last": (END - dt.timedelta(days=1)).isoformat(),
            "tz": TZ,
            "select": "marts",
        }
    )
    assert result["success"], result
    assert {"stg_orders", "fct_order_feedback", "work_orders", "metrics_daily"} <= set(result["steps"])
    comparisons = compare_tables(baseline_db, db)
    assert all(c.equal for c in comparisons), [c.as_dict() for c in comparisons if not c.equal]


@pytest.mark.slow
def test_comparison_reports_the_differing_column(baseline_db: Path, tmp_path: Path) -> None:
    import shutil

    import duckdb

    other = tmp_path / "other.duckdb"
    shutil.copyfile(baseline_db, other)
    with duckdb.connect(str(other)) as con:
        con.execute(
            "UPDATE after_sales.work_orders SET priority = 'P9' WHERE work_order_id = "
            "(SELECT min(work_order_id) FROM after_sales.work_orders)"
        )
    by_table = {c.table: c for c in compare_tables(baseline_db, other)}
    assert by_table["fct_order_feedback"].equal
    wo = by_table["work_orders"]
    assert not wo.equal and wo.only_a == wo.only_b == 1 and wo.differing_columns == ["priority (1/1)"]


def test_floats_on_a_rounding_boundary_are_equal_but_a_real_difference_is_not(tmp_path: Path) -> None:
    import duckdb

    def table(path: Path, values: list[float]) -> None:
        with duckdb.connect(str(path)) as con:
            con.execute("CREATE SCHEMA after_sales")
            con.execute("CREATE TABLE after_sales.metrics_daily (business_date DATE, hours DOUBLE)")
            for day, v in enumerate(values, start=1):
                con.execute("INSERT INTO after_sales.metrics_daily VALUES (?, ?)", [f"2025-01-0{day}", v])

    # The pipeline stores 12 significant digits of the script's raw value: rounded to 9 decimals, the two differ.
    table(tmp_path / "raw.duckdb", [1.00000000049999, 2.0])
    table(tmp_path / "stored.duckdb", [1.0000000005, 2.0])
    table(tmp_path / "other.duckdb", [1.0000000005, 2.1])
    [close] = compare_tables(tmp_path / "raw.duckdb", tmp_path / "stored.duckdb", ("metrics_daily",))
    [far] = compare_tables(tmp_path / "raw.duckdb", tmp_path / "other.duckdb", ("metrics_daily",))
    assert close.equal and close.within_tolerance
    assert not far.equal and not far.within_tolerance and far.differing_columns

def test_sql_script_is_filled_from_the_rule_tables(tiny_landing: Path, tmp_path: Path) -> None:
    sql = render_sql(tiny_landing, tmp_path, START, END, TZ, 7, work_order_as_of(END, TZ))
    assert not re.search(r"\{\{[A-Z_]+\}\}", sql)
    assert "更换支付方式" in sql and "regexp_matches(t," in sql and "'P1'" in sql
    assert len(statements(sql)) >= 10


@pytest.mark.slow
def test_measured_child_reports_result_memory_and_caps(tmp_path: Path) -> None:
    code = f"import json; x = bytearray(60_000_000); print({RESULT_MARK!r} + json.dumps({{'seconds': 0.5}}))"
    ok = run_measured("probe", [sys.executable, "-c", code], log_path=tmp_path / "probe.log")
    assert ok.ok and ok.result == {"seconds": 0.5} and ok.peak_rss_mb > 55
    slow = run_measured("slow", [sys.executable, "-c", "import time; time.sleep(30)"], timeout=0.5)
    assert slow.status == "timeout" and slow.wall_seconds < 10


@pytest.mark.slow
def test_report_renders_targets_and_chart(tmp_path: Path) -> None:
    side = {"status": "ok", "wall_seconds": 2.0, "peak_rss_mb": 100.0, "peak_single_rss_mb": 100.0}
    info = {"rows": {"orders": 100_000, "feedback": 1, "behaviour": 1}, "days": 30, "orders_per_day": 3333, "seed": 7}
    store = {
        "records": {
            "workorders@100k": {
                "scenario": "workorders",
                "scale": "100k",
                "orders": 100_000,
                "dataset": info,
                "sides": {
                    "ours": {**side, "result": {"seconds": 0.01, "phases": {"fact": 0.005}}},
                    "seed": {
                        **side,
                        "result": {
                            "seconds": 9.0,
                            "complete": True,
                            "problem_orders": 10,
                            "estimated_full_seconds": 9.0,
                        },
                    },
                },
                "check": {"equal": True},
            }
        }
    }
    text = report.render(store)
    assert "| work orders at 100k orders at least 200x faster" in text and "**met**" in text
    assert "900x" in text and "not measured" in text
    report.chart(store, tmp_path / "chart.png")
    assert (tmp_path / "chart.png").stat().st_size > 1000
    json.dumps(store)


def test_scale_labels_and_chunks() -> None:
    assert [parse_count(s) for s in ("10k", "100K", "1m", "2.5M", "5000")] == [
        10_000,
        100_000,
        1_000_000,
        2_500_000,
        5000,
    ]
    assert label(36_500) == "36.5k" and label(10_000_000) == "10m"
    year = Dataset(10_000_000, 365)
    assert sum(days for _, days in year.chunks()) == 365 and len(year.chunks()) == 5


@pytest.mark.slow
def test_events_baseline_equals_the_behaviour_assets(tmp_path: Path) -> None:
    """The hand-written SQL and the assets give the same signals and funnels (EXCEPT ALL both ways)."""
    from benchmarks.events import generate as generate_events
    from benchmarks.events import run_assets
    from benchmarks.events import run_baseline as run_events_baseline

    staged = tmp_path / "staged.duckdb"
    made = generate_events(staged, START, 10, 3_000, TZ)
    assert made["rows"]["stg_orders"] == 10 * 90
    assert made["rows"]["stg_events"] > 10 * 3_000  # plus the events landed twice
    last = START + dt.timedelta(days=9)
    base = run_events_baseline(staged, tmp_path / "baseline.duckdb", START, last, TZ)
    assets_db = tmp_path / "assets.duckdb"
    assets_db.write_bytes(staged.read_bytes())
    ours = run_assets(assets_db, START, last, TZ)
    assert ours["success"], ours["failed_steps"]
    assert base["rows"]["behaviour_funnels"] == 10 and base["rows"]["behaviour_signals"] > 0
    comparisons = compare_tables(tmp_path / "baseline.duckdb", assets_db, ("behaviour_signals", "behaviour_funnels"))
    assert all(c.equal for c in comparisons), [c.as_dict() for c in comparisons]


@pytest.mark.slow
def test_report_renders_the_events_target_at_the_scale_measured() -> None:
    side = {"status": "ok", "wall_seconds": 2.0, "peak_rss_mb": 1024.0, "peak_single_rss_mb": 1024.0}
    rows = {"behaviour_signals": 5, "behaviour_funnels": 3}
    store = {
        "records": {
            "events@100kx3": {
                "key": "events@100kx3",
                "scenario": "events",
                "scale": "100k",
                "events_per_day": 100_000,
                "days": 3,
                "dataset": {"rows": {"stg_events": 300_300, "stg_orders": 9_000}},
                "sides": {
                    "duckdb_sql": {**side, "result": {"seconds": 4.0, "rows": rows, "phases": {"e": 1.0}}},
                    "dagster_in_process": {**side, "result": {"seconds": 6.0, "rows": rows, "steps": {"x": 3.0}}},
                },
                "checks": {"dagster_in_process": {"equal": True}},
            }
        }
    }
    text = report.render(store)
    verdict = "**met (at 100k events a day x 3 days)** | 1.50x (6.00 s vs 4.00 s), output equal: yes; peak RSS 1.00 GiB"
    assert verdict in text
    assert "| 100k x 3 | 300,300 | assets, execute_in_process | 6.00 | 2.00 | 1,024 | 1.50x | yes | 5 / 3 |" in text
