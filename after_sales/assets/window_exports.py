"""Inputs of the behaviour SQL: a DuckDB warehouse's landing days exported to Parquet, else rows in memory."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from after_sales.behaviour.signals import Exported, Source
from after_sales.resources import Upstream, WarehouseResource
from after_sales.resources.warehouse import Warehouse
from after_sales.transforms.sql_models import MEMORY_LIMIT
from after_sales.windows import DateWindow


class WindowExports:
    """Landing days exported once per run and reused by every chunk whose window reads them.

    Chunks of a range overlap in what they read (a rule's look-back, the late-arrival days): each landing day
    is copied out of the warehouse once, with the other days missing at that chunk, and a chunk reads the
    files that hold its days, keeping only those. Files all of whose days precede a chunk are deleted
    (chunks go forward). Where the warehouse cannot export (not a DuckDB file), the rows are read instead.
    """

    def __init__(
        self, warehouse: WarehouseResource, folder: Path, select: Mapping[str, Mapping[str, str]] | None = None
    ) -> None:
        self.warehouse = warehouse
        self.folder = folder
        self.select = select or {}
        self.files: dict[str, list[tuple[DateWindow, Path]]] = {}

    def inputs(self, window: DateWindow, **inputs: Upstream) -> dict[str, Source]:
        """Each input's rows for window: the exported files when the warehouse can export them, else rows."""
        out: dict[str, Source] = {}
        wh = self.warehouse.open()
        with wh.held():
            for name, dependency in inputs.items():
                out[name] = self._input(wh, name, dependency, window)
        return out

    def _input(self, wh: Warehouse, name: str, dependency: Upstream, window: DateWindow) -> Source:
        days = dependency.window(window)
        held = self.files.setdefault(name, [])
        behind = any(w.start > days.start for w, _ in held)  # a window before the ones held: start afresh
        for w, f in [x for x in held if behind or x[0].end <= days.start]:
            f.unlink(missing_ok=True)
            held.remove((w, f))
        covered = max((w.end for w, _ in held), default=days.start)
        spec = dependency.spec
        if covered < days.end:
            new = DateWindow(max(covered, days.start), days.end)
            path = self.folder / f"{name}_{len(held)}_{new.start.isoformat()}.parquet"
            columns = dependency.columns or spec.column_names
            if not wh.export_parquet(spec, new, columns, path, self.select.get(name), MEMORY_LIMIT):
                return wh.read(spec, days, dependency.columns)
            held.append((new, path))
        files = tuple(f for w, f in held if w.start < days.end and days.start < w.end)
        return Exported(files, spec.partition_column or "landing_date", days.start, days.end)


@contextmanager
def window_exports(
    warehouse: WarehouseResource, select: Mapping[str, Mapping[str, str]] | None = None
) -> Iterator[WindowExports]:
    """A WindowExports in a scratch folder deleted at the end (select: per input, expressions in place of columns)."""
    with tempfile.TemporaryDirectory(prefix="after_sales_behaviour_") as tmp:
        yield WindowExports(warehouse, Path(tmp), select)


@contextmanager
def sql_inputs(warehouse: WarehouseResource, window: DateWindow, **inputs: Upstream) -> Iterator[dict[str, Source]]:
    """Each input's rows for window, as Parquet files in a scratch folder when the warehouse can export them."""
    with window_exports(warehouse) as exports:
        yield exports.inputs(window, **inputs)
