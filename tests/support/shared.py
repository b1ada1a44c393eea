"""A warehouse materialized once per test session, for tests that only read it."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from after_sales.resources.warehouse import Warehouse, open_warehouse
from tests.support.runs import TZ, resources_for, run_range


@dataclass(frozen=True)
class SharedWarehouse:
    """A DuckDB warehouse built once from a landing folder; tests read it, or copy it before writing."""

    root: Path
    result: dg.ExecuteInProcessResult
    digest: str

    @property
    def landing(self) -> Path:
        """The landing folder it was built from."""
        return self.root / "landing"

    @property
    def exports(self) -> Path:
        """The export folder of the run."""
        return self.root / "exports"

    @property
    def path(self) -> Path:
        """The DuckDB file."""
        return self.root / "warehouse.duckdb"

    def open(self) -> Warehouse:
        """A client of the shared warehouse, for reading."""
        return open_warehouse(f"duckdb:///{self.path}", "after_sales", TZ, 5)

    def copy_to(self, folder: Path) -> dict[str, object]:
        """The Definitions' resources over a copy of the warehouse in folder, same landing: for tests that write."""
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.path, folder / "warehouse.duckdb")
        return resources_for(f"duckdb:///{folder / 'warehouse.duckdb'}", self.landing, folder / "exports")

    def assert_unchanged(self) -> None:
        """Fail when a test wrote to the shared file (they must copy_to() first)."""
        assert file_digest(self.path) == self.digest, f"a test wrote to the shared warehouse {self.path}"


def file_digest(path: Path) -> str:
    """SHA-256 of a DuckDB file and of its write-ahead log, if one is left."""
    wal = path.with_name(path.name + ".wal")
    return hashlib.sha256(path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")).hexdigest()


def build_shared(
    root: Path, land: Callable[[Path], object], first: str, last: str, selection: list[str] | None = None
) -> SharedWarehouse:
    """Land the files with land(landing), run the daily job over [first, last] (every asset, or the selection)."""
    (root / "landing").mkdir(parents=True)
    land(root / "landing")
    resources = resources_for(f"duckdb:///{root / 'warehouse.duckdb'}", root / "landing", root / "exports")
    result = run_range(resources, first, last, selection)
    return SharedWarehouse(root, result, file_digest(root / "warehouse.duckdb"))
