"""The metrics report says where it came from, keeps warehouses apart and draws a one-day window readably."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from after_sales.assets.reports import (
    ReportData,
    Stamp,
    cjk_font,
    redacted_url,
    render_html,
    render_png,
    warehouse_folder,
)
from after_sales.tables import METRICS_ROLLUPS, METRICS_ROLLUPS_BY_CAUSE, SERVICE_ITEM_SCORES, TableSpec
from after_sales.transforms.metric_rules import load_metric_rules

DAY = dt.date(2026, 10, 3)


def _rows(spec: TableSpec, rows: list[dict[str, object]]) -> pd.DataFrame:
    """Rows with every column of spec: the given values, else 0.5 for numbers and 'x' for text."""
    filler = {"int": 3, "float": 0.5, "text": "x", "bool": False, "date": DAY}
    return pd.DataFrame([{c.name: r.get(c.name, filler.get(c.type)) for c in spec.columns} for r in rows])


def one_day() -> ReportData:
    """Report data of a single day: two channels and 'all', one graded service item."""
    days = _rows(METRICS_ROLLUPS, [{"channel": c, "period": "day", "period_end": DAY} for c in ("all", "web", "jd")])
    items = _rows(
        SERVICE_ITEM_SCORES,
        [
            {
                "service_action": "查看物流进度",
                "rating_status": "graded",
                "score": 4.2,
                "grade": "A",
                "score_ci_low": 3.8,
                "score_ci_high": 4.6,
            },
            {"service_action": "立即维修", "rating_status": "too_few_ratings", "score": None, "grade": None},
        ],
    )
    causes = _rows(METRICS_ROLLUPS_BY_CAUSE, [{"cause": "物流", "period": "rolling_28d"}])
    return ReportData(DAY, DAY, days, days.assign(period="rolling_28d"), items, causes)


def test_reports_of_different_warehouses_go_to_different_folders_and_hide_passwords() -> None:
    a = warehouse_folder("duckdb:///data/warehouse.duckdb", "after_sales")
    assert a.startswith("warehouse_after_sales-")
    assert a != warehouse_folder("duckdb:///other/warehouse.duckdb", "after_sales")
    assert a != warehouse_folder("duckdb:///data/warehouse.duckdb", "staging_test")
    pg = "postgresql+psycopg://bi:s3cret@db.internal:5432/after_sales"
    assert "s3cret" not in redacted_url(pg) and "db.internal:5432/after_sales" in redacted_url(pg)
    assert "s3cret" not in warehouse_folder(pg, "after_sales")


@pytest.mark.slow
def test_a_one_day_window_is_drawn_over_its_day_and_stamped(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    data, rules = one_day(), load_metric_rules()
    stamp = Stamp("duckdb:///tmp/w.duckdb", "after_sales", "run-1234", "2026-10-04T01:00:00+00:00")
    png = render_png(data, tmp_path / "r.png", rules, stamp)
    page = render_html(data, png, tmp_path / "r.html", rules, stamp).read_text(encoding="utf-8")
    assert png.stat().st_size > 50_000
    assert "run-1234" in page and "duckdb:///tmp/w.duckdb" in page and f"window {DAY} .. {DAY}" in page
    assert '<table class="text">' in page  # the definitions are left-aligned
    # The 28-day table has a row per figure and a column per channel, not a column per figure.
    assert "<th>figure</th><th>all</th>" in page and "<td><code>backlog_age_hours_median</code></td>" in page
    assert "查看物流进度" in page
    if cjk_font() is None:  # the chart fell back to English names: the table shows both
        assert "查看物流进度 (" in page


def test_short_window_axes_span_the_window() -> None:
    from matplotlib import dates as mdates
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from after_sales.assets.reports import _date_axis

    fig = Figure()
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    ax.plot([pd.Timestamp(DAY)], [1.0], marker="o")
    _date_axis(ax, DAY, DAY)
    low, high = (mdates.num2date(x).date() for x in ax.get_xlim())
    assert low == DAY - dt.timedelta(days=1) and high == DAY  # half a day either side of the one day
