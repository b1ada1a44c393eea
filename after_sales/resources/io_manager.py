"""IO manager: writes a partition window in one transaction, and hands downstream assets their upstream rows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import dagster as dg
import pandas as pd

from after_sales.resources.warehouse import TableWrite
from after_sales.resources.warehouse_resource import WarehouseResource
from after_sales.tables import DATA_QUALITY_RUNS, QUARANTINE, TableSpec, table_spec
from after_sales.windows import DateWindow


@dataclass(frozen=True)
class Companion:
    """Rows of another table written with an asset's rows in the same transaction, replacing window and scope."""

    spec: TableSpec
    rows: pd.DataFrame
    scope: dict[str, str] = field(default_factory=dict)


@dataclass
class WarehouseOutput:
    """An asset's rows plus what is written with them in the same transaction.

    quarantined replaces the window's quarantine rows meant for this table; quality replaces the
    window's data_quality_runs rows of this run and asset; each companion replaces its own table's window
    (and scope).
    """

    rows: pd.DataFrame
    quarantined: pd.DataFrame | None = None
    quality: pd.DataFrame | None = None
    companions: list[Companion] = field(default_factory=list)


@dataclass(frozen=True)
class WrittenCounts:
    """Rows written by write_output: the table's, and the quarantine's when it was written."""

    table: str
    rows: int
    quarantined: int | None


def write_output(
    warehouse: WarehouseResource, spec: TableSpec, output: WarehouseOutput, window: DateWindow | None, run_id: str
) -> WrittenCounts:
    """Replace the window of the table, its quarantine rows and its quality rows of this run, in one transaction."""
    writes = [TableWrite(spec, output.rows, window, {})]
    if output.quarantined is not None:
        quarantined = output.quarantined.assign(staging_table=spec.name)[QUARANTINE.column_names]
        writes.append(TableWrite(QUARANTINE, quarantined, window, {"staging_table": spec.name}))
    if output.quality is not None:
        writes.append(TableWrite(DATA_QUALITY_RUNS, output.quality, window, {"run_id": run_id, "asset": spec.name}))
    writes += [TableWrite(c.spec, c.rows, window, dict(c.scope)) for c in output.companions]
    wh = warehouse.open()
    counts = wh.replace_all(writes)
    return WrittenCounts(f"{wh.schema}.{spec.name}", counts[0], counts[1] if output.quarantined is not None else None)


@dataclass(frozen=True)
class UpstreamRows:
    """An upstream table's rows, read from the warehouse for the part of the downstream window being built.

    A long partition range (a backfill) is built in chunks; each chunk reads only the upstream days
    its own days depend on, so memory follows the chunk, not the range.
    """

    spec: TableSpec
    warehouse: WarehouseResource
    columns: tuple[str, ...] | None
    start_offset: int
    end_offset: int

    def upstream_window(self, window: DateWindow) -> DateWindow:
        """The upstream days the downstream days of window map to (the partition mapping's offsets)."""
        return DateWindow(
            window.start + dt.timedelta(days=self.start_offset), window.end + dt.timedelta(days=self.end_offset)
        )

    def read(self, window: DateWindow) -> pd.DataFrame:
        """Upstream rows for the downstream days of window."""
        columns = list(self.columns) if self.columns else None
        return self.warehouse.open().read(self.spec, self.upstream_window(window), columns)


def upstream_in(
    key: str | None = None, mapping: dg.TimeWindowPartitionMapping | None = None, columns: list[str] | None = None
) -> dg.AssetIn:
    """An input read through UpstreamRows: the mapping's offsets and the columns to read travel in its metadata."""
    metadata: dict[str, object] = {
        "start_offset": mapping.start_offset if mapping else 0,
        "end_offset": mapping.end_offset if mapping else 0,
    }
    if columns:
        metadata["columns"] = list(columns)
    return dg.AssetIn(key=key, partition_mapping=mapping, metadata=metadata)


class WarehouseIOManager(dg.ConfigurableIOManager):
    """Delete-window-then-insert per partition range; a failed write leaves the previous rows."""

    warehouse: WarehouseResource

    def handle_output(self, context: dg.OutputContext, obj: object) -> None:
        """Replace the output's partition window in its table (and its quarantine rows, if staged)."""
        if obj is None:
            return
        spec = table_spec(context.asset_key.path[-1])
        window = _window(context)
        if isinstance(obj, pd.DataFrame):
            obj = WarehouseOutput(rows=obj)
        if not isinstance(obj, WarehouseOutput):
            raise TypeError(f"{spec.name}: the warehouse IO manager stores DataFrames, got {type(obj).__name__}")
        counts = write_output(self.warehouse, spec, obj, window, context.run_id)
        meta: dict[str, object] = {"dagster/row_count": counts.rows, "table": counts.table}
        if window is not None:
            meta["window"] = f"{window.start} .. {window.end}"
        if counts.quarantined is not None:
            meta["quarantined_rows"] = counts.quarantined
        context.add_output_metadata(meta)

    def load_input(self, context: dg.InputContext) -> UpstreamRows | pd.DataFrame:
        """A partitioned upstream as UpstreamRows (read per chunk by the asset); an unpartitioned one as all rows."""
        spec = table_spec(context.asset_key.path[-1])
        meta = context.definition_metadata or {}
        columns = meta.get("columns")
        if not context.has_asset_partitions:
            return self.warehouse.open().read(spec, None, columns)
        return UpstreamRows(
            spec=spec,
            warehouse=self.warehouse,
            columns=tuple(columns) if columns else None,
            start_offset=int(meta.get("start_offset", 0)),
            end_offset=int(meta.get("end_offset", 0)),
        )


def _window(context: dg.OutputContext) -> DateWindow | None:
    if not context.has_asset_partitions:
        return None
    tw = context.asset_partitions_time_window
    return DateWindow(tw.start.date(), tw.end.date())
