"""Jobs: every daily asset, materialized together over a partition range."""

from __future__ import annotations

import dagster as dg

daily_job = dg.define_asset_job(
    name="after_sales_daily",
    selection=dg.AssetSelection.all(),
    description="Stage every landing source, rebuild the marts and exports for the selected days.",
)
