"""Quarantine and data-quality history as assets: each partition records what its table holds for that day.

Both tables are written by the assets that stage and check the rows, in the same transaction as the rows
themselves (so a failed write leaves neither). These assets run after their writers in the same run and
read each day back: rows per rule and per staging table for `quarantine`, rules evaluated and failed per
asset for `data_quality_runs`. The figures are per partition, so the UI plots them over days.
"""

import datetime as dt
from collections.abc import Sequence

import dagster as dg
import pandas as pd

from after_sales.assets.common import BACKFILL_POLICY, OWNERS, RETRY_POLICY, WAREHOUSE_KIND, table_metadata
from after_sales.partitions import daily_partitions, date_window
from after_sales.resources import WarehouseResource
from after_sales.tables import DATA_QUALITY_RUNS, QUARANTINE
from after_sales.windows import DateWindow

GROUP = "quality"


def _md(frame: pd.DataFrame, empty: str = "none") -> dg.MetadataValue:
    return dg.MetadataValue.md(frame.to_markdown(index=False) if len(frame) else empty)


def _day_column(frame: pd.DataFrame, column: str) -> pd.Series:
    return pd.to_datetime(frame[column]).dt.date if len(frame) else pd.Series([], dtype=object)


def quarantine_figures(frame: pd.DataFrame, days: list[dt.date]) -> dict[dt.date, dict[str, object]]:
    """Per landing day: quarantined rows, rows per rule (every rule of the window, 0 where absent), per table."""
    frame = frame.assign(_day=_day_column(frame, "landing_date").to_numpy())
    rules = sorted(frame["rule"].unique()) if len(frame) else []
    out: dict[dt.date, dict[str, object]] = {}
    for day in days:
        mine = frame.loc[frame["_day"] == day]
        by_rule = mine["rule"].value_counts()
        figures: dict[str, object] = {"dagster/row_count": len(mine)}
        figures.update({f"rule/{r}": int(by_rule.get(r, 0)) for r in rules})
        tables = mine.groupby(["staging_table", "rule"]).size().rename("rows").reset_index()
        figures["rows_by_table_and_rule"] = _md(tables)
        sample = mine.sort_values(["staging_table", "source_file", "source_row"]).head(20)
        figures["first_reasons"] = _md(sample[["staging_table", "source_file", "source_row", "rule", "reason"]])
        out[day] = figures
    return out


def quality_figures(frame: pd.DataFrame, days: list[dt.date]) -> dict[dt.date, dict[str, object]]:
    """Per partition day: history rows, and the latest evaluation of each asset (rules evaluated, failed)."""
    frame = frame.assign(_day=_day_column(frame, "partition_date").to_numpy())
    if len(frame):
        latest = frame.sort_values("evaluated_at").groupby(["_day", "asset"])["run_id"].last().rename("_latest")
        frame = frame.join(latest, on=["_day", "asset"])
        current = frame.loc[frame["run_id"] == frame["_latest"]]
    else:
        current = frame
    out: dict[dt.date, dict[str, object]] = {}
    for day in days:
        mine = current.loc[current["_day"] == day]
        failed = mine.loc[~mine["passed"].astype(bool)]
        out[day] = {
            "dagster/row_count": int((frame["_day"] == day).sum()),
            "assets_checked": int(mine["asset"].nunique()),
            "rules_evaluated": len(mine),
            "rules_failed": len(failed),
            "rules_failed_blocking": int(failed["blocking"].astype(bool).sum()),
            "failed_rules": _md(failed[["asset", "check_name", "rule", "unexpected_count"]]),
        }
    return out


def _record(
    context: dg.AssetExecutionContext, by_day: dict[dt.date, dict[str, object]], window: DateWindow
) -> dg.MaterializeResult:
    for day, figures in by_day.items():
        context.add_asset_metadata(figures, partition_key=day.isoformat())
    return dg.MaterializeResult(metadata={"run_window": f"{window.start} .. {window.end - dt.timedelta(days=1)}"})


def quality_assets(staging: Sequence[dg.AssetKey], checked: Sequence[dg.AssetKey]) -> list[dg.AssetsDefinition]:
    """The quarantine asset after the staging assets, the data_quality_runs asset after every checked asset."""

    @dg.asset(
        name=QUARANTINE.name,
        description=QUARANTINE.description
        + " Written by the staging assets with their rows; each landing day records its rows per rule and table.",
        partitions_def=daily_partitions,
        backfill_policy=BACKFILL_POLICY,
        group_name=GROUP,
        kinds={"pandas", WAREHOUSE_KIND},
        owners=OWNERS,
        metadata=table_metadata(QUARANTINE),
        deps=list(staging),
        retry_policy=RETRY_POLICY,
        code_version="1",
    )
    def quarantine(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        """Read the quarantined rows of each landing day back and record them per rule and staging table."""
        window = date_window(context.partition_time_window)
        frame = warehouse.read(QUARANTINE, window)
        return _record(context, quarantine_figures(frame, window.days()), window)

    @dg.asset(
        name=DATA_QUALITY_RUNS.name,
        description=DATA_QUALITY_RUNS.description
        + " Written by every checked asset with its rows; each day records the latest outcome per asset.",
        partitions_def=daily_partitions,
        backfill_policy=BACKFILL_POLICY,
        group_name=GROUP,
        kinds={"pandas", WAREHOUSE_KIND},
        owners=OWNERS,
        metadata=table_metadata(DATA_QUALITY_RUNS),
        deps=list(checked),
        retry_policy=RETRY_POLICY,
        code_version="1",
    )
    def data_quality_runs(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        """Read each partition day's rule outcomes back and record the latest per asset."""
        window = date_window(context.partition_time_window)
        frame = warehouse.read(DATA_QUALITY_RUNS, window)
        return _record(context, quality_figures(frame, window.days()), window)

    return [quarantine, data_quality_runs]
