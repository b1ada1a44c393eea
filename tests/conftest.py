"""Shared fixtures: a temp landing zone and DuckDB warehouse, the resources over them; helpers in tests/support/."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from after_sales.resources.warehouse import Warehouse
from tests.support.landing import small_landing
from tests.support.postgres import pg_url
from tests.support.runs import TZ, resources_for
from tests.support.shared import SharedWarehouse, build_shared

__all__ = ["TZ", "pg_url"]  # TZ: tests import it from here; pg_url: a fixture
# Partitions begin at the first landing day unless set: pin them, so a demo's data/landing cannot move the
# partitions the tests use (set before after_sales.partitions is imported by any test module).
os.environ.setdefault("AFTER_SALES_START_DATE", "2025-01-01")

# Property tests (tests/test_fuzz_inputs.py): the default profile keeps `make test` bounded (under 60 s for the
# fuzz file); HYPOTHESIS_PROFILE=long runs 1000 examples per property (about 15 minutes).
_FUZZ = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow], "derandomize": False}
settings.register_profile("default", max_examples=30, **_FUZZ)
settings.register_profile("long", max_examples=1000, **_FUZZ)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    """An empty landing directory."""
    path = tmp_path / "landing"
    path.mkdir()
    return path


@pytest.fixture
def duckdb_url(tmp_path: Path) -> str:
    """URL of a fresh DuckDB warehouse file."""
    return f"duckdb:///{tmp_path / 'warehouse.duckdb'}"


@pytest.fixture
def resources(landing: Path, duckdb_url: str, tmp_path: Path) -> dict[str, object]:
    """The Definitions' resources, pointed at the temp landing zone and warehouse."""
    return resources_for(duckdb_url, landing, tmp_path / "exports")


@pytest.fixture
def warehouse(resources: dict[str, object]) -> Warehouse:
    """A client of the temp warehouse."""
    return resources["warehouse"].open()  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def two_days(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SharedWarehouse]:
    """small_landing materialized once by every asset of the daily job over 2026-10-01..02; read it, never write it."""
    shared = build_shared(tmp_path_factory.mktemp("two_days"), small_landing, "2026-10-01", "2026-10-02")
    yield shared
    shared.assert_unchanged()
