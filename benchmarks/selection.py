"""Which assets a benchmark run materializes.

"marts": the tables the DuckDB SQL baseline builds (staging, fct_order_feedback, problem_orders,
work_orders, metrics_daily), the daily work-order CSVs, and everything upstream of them (the
marketplace staging assets, which find no files in the benchmark's landing zone). "all": every asset,
including the metric roll-ups and reports the baseline does not compute.
"""

from __future__ import annotations

import dagster as dg

MARTS_CLI_SELECT = "*metrics_daily,work_orders_csv"
MARTS_SELECTION = dg.AssetSelection.assets("metrics_daily").upstream() | dg.AssetSelection.assets("work_orders_csv")
CLI_SELECT = {"marts": MARTS_CLI_SELECT, "all": "*"}
