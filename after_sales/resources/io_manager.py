"""IO manager writing each partition window to the warehouse in one transaction, and reading windows back."""

from __future__ import annotations

from dataclasses import dataclass

import dagster as dg
import pandas as pd

from after_sales.resources.warehouse import DateWindow, TableWrite
from after_sales.resources.warehouse_resource import WarehouseResource
from after_sales.tables import DATA_QUALITY_RUNS, QUARANTINE, table_spec


@dataclass
class WarehouseOutput:
    """An asset's rows plus what is written with them in the same transaction.

    quarantined replaces the window's quarantine rows meant for this table; quality replaces the
    window's data_quality_runs rows of this run and asset.
    """

    rows: pd.DataFrame
    quarantined: pd.DataFrame | None = None
    quality: pd.DataFrame | None = None


def _window(context: dg.InputContext | dg.OutputContext) -> DateWindow | None:
    if not context.has_asset_partitions:
        return None
    tw = context.asset_partitions_time_window
    return DateWindow(tw.start.date(), tw.end.date())


class WarehouseIOManager(dg.ConfigurableIOManager):
    """Delete-window-then-insert per partition range; a failed write leaves the previous rows."""

    warehouse: WarehouseResource

    def handle_output(self, context: dg.OutputContext, obj: object) -> None:
        """Replace the output's partition window in its table (and its quarantine rows, if staged)."""
        if obj is None:
            return
        spec = table_spec(context.asset_key.path[-1])
        window = _window(context)
        if isinstance(obj, WarehouseOutput):
            writes = [TableWrite(spec, obj.rows, window, {})]
            if obj.quarantined is not None:
                quarantined = obj.quarantined.assign(staging_table=spec.name)[QUARANTINE.column_names]
                writes.append(TableWrite(QUARANTINE, quarantined, window, {"staging_table": spec.name}))
            if obj.quality is not None:
                scope = {"run_id": context.run_id, "asset": spec.name}
                writes.append(TableWrite(DATA_QUALITY_RUNS, obj.quality, window, scope))
        elif isinstance(obj, pd.DataFrame):
            writes = [TableWrite(spec, obj, window, {})]
        else:
            raise TypeError(f"{spec.name}: the warehouse IO manager stores DataFrames, got {type(obj).__name__}")
        wh = self.warehouse.open()
        counts = wh.replace_all(writes)
        meta: dict[str, object] = {
            "dagster/row_count": counts[0],
            "table": f"{wh.schema}.{spec.name}",
        }
        if window is not None:
            meta["window"] = f"{window.start} .. {window.end}"
        if isinstance(obj, WarehouseOutput) and obj.quarantined is not None:
            meta["quarantined_rows"] = counts[1]
        context.add_output_metadata(meta)

    def load_input(self, context: dg.InputContext) -> pd.DataFrame:
        """Rows of the upstream window (all rows of an unpartitioned table)."""
        spec = table_spec(context.asset_key.path[-1])
        columns = (context.definition_metadata or {}).get("columns")
        return self.warehouse.open().read(spec, _window(context), columns)
