"""The metric assets in Dagster on a real DuckDB file: hand figures, an out-of-order backfill, report, metadata."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from after_sales.definitions import defs
from after_sales.jobs import daily_job
from after_sales.resources.warehouse import Warehouse
from after_sales.schedules import RANGE_END, RANGE_START
from tests.support.landing import BEHAVIOUR_HEADER, ORDERS_HEADER, write_landing
from tests.support.runs import other_warehouse
from tests.test_metrics import (
    HAND_FEEDBACK,
    HAND_FEEDBACK_HEADER,
    HAND_ORDERS,
    HAND_SESSIONS,
    check_by_cause,
    check_by_channel,
    check_by_item,
    check_cause_rollups,
    check_daily,
    check_item_scores,
    check_rollups,
)

STAGING = ["stg_orders", "stg_feedback", "stg_behaviour"]
MARTS = ["fct_order_feedback", "problem_orders", "work_orders"]
METRICS = [
    "metrics_daily",
    "metrics_daily_by_channel",
    "metrics_daily_by_cause",
    "metrics_daily_by_service_item",
    "metrics_rollups",
    "metrics_rollups_by_cause",
    "service_item_scores",
]


def hand_landing(landing: Path) -> None:
    """Write the hand-made dataset of tests/test_metrics.py as landing files."""
    for source, header, by_day in (
        ("orders", ORDERS_HEADER, HAND_ORDERS),
        ("feedback", HAND_FEEDBACK_HEADER, HAND_FEEDBACK),
        ("behaviour", BEHAVIOUR_HEADER, HAND_SESSIONS),
    ):
        for day, lines in by_day.items():
            write_landing(landing, source, day.isoformat(), lines, header)


def run(resources: dict[str, object], first: str, last: str, assets: list[str]) -> dg.ExecuteInProcessResult:
    """Materialize the given assets over [first, last] as one single-run backfill."""
    test_defs = dg.Definitions(assets=list(defs.assets or []), jobs=[daily_job], resources=resources)  # type: ignore[arg-type]
    job = test_defs.resolve_job_def("after_sales_daily")
    result = job.execute_in_process(
        tags={RANGE_START: first, RANGE_END: last},
        raise_on_error=False,
        asset_selection=[dg.AssetKey(a) for a in assets],
    )
    failures = [e.message for e in result.all_events if e.is_step_failure]
    assert result.success, failures
    return result


def table(wh: Warehouse, name: str) -> pd.DataFrame:
    """A whole table, rows in a stable order."""
    frame = wh.query(f'SELECT * FROM after_sales."{name}"')
    return frame.sort_values(list(frame.columns[:4])).reset_index(drop=True)


@pytest.mark.slow
def test_out_of_order_backfill_matches_one_run_and_the_hand_figures(
    resources: dict[str, object], landing: Path, warehouse: Warehouse, tmp_path: Path
) -> None:
    hand_landing(landing)
    # A: every landing day staged, then the later days built before the earlier ones.
    run(resources, "2026-09-30", "2026-10-03", STAGING)
    run(resources, "2026-10-02", "2026-10-03", MARTS + METRICS)
    early = table(warehouse, "metrics_rollups").set_index(["period", "period_end", "channel"])
    assert early.loc[("rolling_7d", pd.Timestamp("2026-10-02").date(), "all"), "orders"] == 2  # D1 not built yet
    run(resources, "2026-09-30", "2026-10-01", MARTS + METRICS)
    # B: the same days in one run, in order, with the report.
    in_order = other_warehouse(tmp_path, landing, "in_order")
    result = run(in_order, "2026-09-30", "2026-10-03", STAGING + MARTS + METRICS + ["metrics_report"])
    b = in_order["warehouse"].open()  # type: ignore[attr-defined]
    for name in METRICS:
        pd.testing.assert_frame_equal(table(warehouse, name), table(b, name), obj=name)

    check_daily(table(warehouse, "metrics_daily"))
    check_by_channel(table(warehouse, "metrics_daily_by_channel"))
    check_by_cause(table(warehouse, "metrics_daily_by_cause"))
    check_by_item(table(warehouse, "metrics_daily_by_service_item"))
    check_rollups(table(warehouse, "metrics_rollups"))
    check_cause_rollups(table(warehouse, "metrics_rollups_by_cause"))
    check_item_scores(table(warehouse, "service_item_scores"), graded=False)

    [reports] = (tmp_path / "in_order_exports" / "reports").iterdir()  # one folder per warehouse
    page = (reports / "metrics_30d.html").read_text(encoding="utf-8")
    assert "in_order.duckdb" in page and result.run_id in page  # stamped with its warehouse and run
    assert (reports / "metrics_30d.png").stat().st_size > 10_000
    assert "data:image/png;base64," in page and "查看物流进度" in page and "too few ratings" in page
    by_partition = {
        m.partition: m.metadata for m in result.asset_materializations_for_node("metrics_daily") if m.partition
    }
    assert by_partition["2026-10-01"]["complaint_rate"].value == 5 / 6
    assert by_partition["2026-10-02"]["csat"].value == 1.0
    assert by_partition["2026-10-01"]["orders"].value == 6 and by_partition["2026-10-02"]["orders"].value == 2
    rolled = {"metrics_rollups_by_cause": "problem_issues_28d/", "service_item_scores": "followup_ratings_28d/"}
    for node, key in rolled.items():
        recorded = [m for m in result.asset_materializations_for_node(node) if m.partition == "2026-10-03"]
        assert any(k.startswith(key) for m in recorded for k in m.metadata), node
    checks = result.get_asset_check_evaluations()
    assert checks and all(c.passed for c in checks)
