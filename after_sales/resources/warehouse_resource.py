"""The warehouse as a Dagster resource: the one reader and writer of partitioned tables every asset uses."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import dagster as dg
import pandas as pd
import pyarrow as pa
from pydantic import Field

from after_sales.partitions import SAME_DAYS, DayWindow
from after_sales.resources.warehouse import TableWrite, Warehouse, open_warehouse
from after_sales.tables import DATA_QUALITY_RUNS, QUARANTINE, TableSpec, table_spec
from after_sales.windows import DateWindow, DayTotals, RowEstimate, Sizer


@dataclass(frozen=True)
class Upstream:
    """A dependency on a warehouse table, declared once: Dagster's AssetDep and the rows a window of days reads."""

    table: str
    days: DayWindow = SAME_DAYS
    columns: tuple[str, ...] | None = None

    @property
    def spec(self) -> TableSpec:
        """The upstream table's spec."""
        return table_spec(self.table)

    @property
    def dep(self) -> dg.AssetDep:
        """The dependency as Dagster draws it, with the days as its partition mapping."""
        return dg.AssetDep(self.table, partition_mapping=self.days.mapping)

    def window(self, window: DateWindow) -> DateWindow:
        """The upstream days the days of window read."""
        return self.days.of(window)


def upstream(table: str, days: DayWindow = SAME_DAYS, columns: Sequence[str] | None = None) -> Upstream:
    """An Upstream reading the given columns (all when None) of table's days."""
    return Upstream(table, days, tuple(columns) if columns else None)


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
    cast_rows: pa.Table | None = None  # rows as frame_to_arrow cast them for the checks: not cast again


@dataclass(frozen=True)
class WrittenCounts:
    """Rows written: the table's, and the quarantine's when it was written."""

    table: str
    rows: int
    quarantined: int | None


class WarehouseResource(dg.ConfigurableResource):
    """Where the tables live (any SQLAlchemy URL: DuckDB file by default, PostgreSQL in production), read and
    written a window of partitions at a time."""

    url: str = Field(description="SQLAlchemy URL, e.g. duckdb:///data/warehouse.duckdb or postgresql+psycopg://...")
    schema_name: str = Field(default="after_sales", description="Schema holding every table.")
    timezone: str = Field(default="Asia/Shanghai", description="Business time zone for timestamps read back.")
    lock_timeout_seconds: float = Field(default=60.0, description="How long to wait for a locked DuckDB file.")
    chunk_days: int = Field(
        default=366,
        ge=1,
        description="A run over a partition range builds, validates and writes it in chunks of at most this many "
        "days, each in one transaction, so memory follows the chunk.",
    )
    chunk_rows: int = Field(
        default=1_000_000,
        ge=1,
        description="A chunk holds consecutive days while the rows they read (estimated: upstream rows per day, or "
        "landed bytes) stay within this; fewer rows, less memory; more rows, fewer fixed costs per chunk.",
    )

    def open(self) -> Warehouse:
        """The warehouse client."""
        return open_warehouse(self.url, self.schema_name, self.timezone, self.lock_timeout_seconds)

    def read(
        self,
        spec: TableSpec,
        window: DateWindow | None = None,
        columns: Sequence[str] | None = None,
        scope: Mapping[str, str] | None = None,
    ) -> pd.DataFrame:
        """Rows of a window of the table (all rows without one), typed; empty when the table is absent."""
        return self.open().read(spec, window, columns, scope)

    def rows(self, dependency: Upstream, window: DateWindow) -> pd.DataFrame:
        """The upstream rows the days of window read."""
        return self.read(dependency.spec, dependency.window(window), dependency.columns)

    def rows_of(self, dependencies: Mapping[str, Upstream], window: DateWindow) -> dict[str, pd.DataFrame]:
        """Each dependency's rows for the days of window, read on one connection."""
        wh = self.open()
        with wh.held():
            return {name: wh.read(d.spec, d.window(window), d.columns) for name, d in dependencies.items()}

    def sizer(
        self, *dependencies: Upstream, reads: Callable[[DateWindow], DateWindow] | None = None
    ) -> Sizer:
        """Estimates of the rows a chunk of days reads from dependencies (counted once over the run's window);
        reads, when given, maps a chunk to the upstream days it reads instead of each dependency's DayWindow."""

        def counted(whole: DateWindow) -> RowEstimate:
            wh = self.open()
            with wh.held():
                totals = []
                for d in dependencies:
                    days = reads(whole) if reads else d.window(whole)
                    totals.append((d, DayTotals.of(days, wh.day_counts(d.spec, days))))
            return lambda chunk: sum(t.over(reads(chunk) if reads else d.window(chunk)) for d, t in totals)

        return counted

    def replace(
        self, spec: TableSpec, rows: pd.DataFrame, window: DateWindow | None, scope: Mapping[str, str] | None = None
    ) -> int:
        """Replace a window (and scope) of one table by rows in one transaction."""
        return self.open().replace(spec, rows, window, scope)

    def write(self, spec: TableSpec, output: WarehouseOutput, window: DateWindow | None, run_id: str) -> WrittenCounts:
        """Replace the window of the table, its quarantine rows, its quality rows of this run and its companions'
        windows, in one transaction."""
        writes = [TableWrite(spec, output.rows, window, {}, output.cast_rows)]
        if output.quarantined is not None:
            quarantined = output.quarantined.assign(staging_table=spec.name)[QUARANTINE.column_names]
            writes.append(TableWrite(QUARANTINE, quarantined, window, {"staging_table": spec.name}))
        if output.quality is not None:
            scope = {"run_id": run_id, "asset": spec.name}
            writes.append(TableWrite(DATA_QUALITY_RUNS, output.quality, window, scope))
        writes += [TableWrite(c.spec, c.rows, window, dict(c.scope)) for c in output.companions]
        wh = self.open()
        counts = wh.replace_all(writes)
        quarantined = counts[1] if output.quarantined is not None else None
        return WrittenCounts(f"{wh.schema}.{spec.name}", counts[0], quarantined)
