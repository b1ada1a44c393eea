"""The one Definitions object: assets, checks, jobs, schedules, sensors and resources."""

from __future__ import annotations

import os

import dagster as dg

from after_sales import dagster_sqlite
from after_sales.assets import (
    behaviour,
    bi,
    bi_snapshot,
    closed_loop,
    exports,
    marketplaces,
    marts,
    metrics,
    own_staging,
    reports,
)
from after_sales.assets.common import FRESHNESS_GROUPS, MARTS_FRESHNESS
from after_sales.assets.quality import quality_assets
from after_sales.jobs import daily_job
from after_sales.partitions import SETTINGS
from after_sales.resources import ExportDirectory, LandingZone, WarehouseResource
from after_sales.schedules import daily_schedule
from after_sales.sensors import build_sensors, source_assets
from after_sales.settings import (
    ENV_EXPORT_DIR,
    ENV_LANDING_DIR,
    ENV_WAREHOUSE_SCHEMA,
    ENV_WAREHOUSE_URL,
)
from after_sales.sources import MARKETPLACE_SOURCES
from after_sales.tables import ALL_TABLES

dagster_sqlite.install()


def _env_or(name: str, default: str) -> str | dg.EnvVar:
    """The env var (so the UI shows where it came from) when set, else the default."""
    return dg.EnvVar(name) if os.environ.get(name, "").strip() else default


warehouse = WarehouseResource(
    url=_env_or(ENV_WAREHOUSE_URL, SETTINGS.warehouse_url),
    schema_name=_env_or(ENV_WAREHOUSE_SCHEMA, SETTINGS.warehouse_schema),
    timezone=SETTINGS.timezone,
    # Numbers from the settings (which read AFTER_SALES_CHUNK_DAYS and AFTER_SALES_CHUNK_ROWS), not dg.EnvVar.int:
    # pydantic checks the fields' bounds against the EnvVar object itself and refuses it.
    chunk_days=SETTINGS.chunk_days,
    chunk_rows=SETTINGS.chunk_rows,
)

# Steps run in parallel processes forked from a server that has already imported the project, pandas, Great
# Expectations (the definitions do not import GX; the staging steps validate with it) and the instance's storage
# (SQLite locally, PostgreSQL in production): a fresh interpreter per step would spend seconds on imports alone,
# and each step opening the instance imported the storage modules again (0.2 s a step, measured).
FORKSERVER_PRELOAD = [
    "after_sales.definitions",
    "great_expectations",
    "dagster._core.storage.sqlite_storage",
    "dagster_postgres",
]
executor = dg.multiprocess_executor.configured(
    lambda config: {
        "max_concurrent": config["max_concurrent"],
        "start_method": {"forkserver": {"preload_modules": FORKSERVER_PRELOAD}},
    },
    config_schema={"max_concurrent": dg.Field(int, default_value=0, description="Steps at once; 0 = one per CPU.")},
)

SOURCES = source_assets(MARKETPLACE_SOURCES)
LANDING_OF = {asset: source for source, assets in SOURCES.items() for asset in assets}


def with_operations(spec: dg.AssetSpec) -> dg.AssetSpec:
    """Lineage metadata on every asset, and the freshness policy on the daily marts and metrics."""
    key = spec.key.to_user_string()
    upstream = sorted(d.asset_key.to_user_string() for d in spec.deps)
    lineage: dict[str, object] = {}
    if key in LANDING_OF:
        lineage["lineage/landing"] = f"{SETTINGS.landing_dir}/{LANDING_OF[key]}/<YYYY-MM-DD>/*.csv|xlsx|parquet"
    if upstream:
        lineage["lineage/upstream"] = ", ".join(
            f"{SETTINGS.warehouse_schema}.{u}" if u in ALL_TABLES else u for u in upstream
        )
    fresh = spec.group_name in FRESHNESS_GROUPS and spec.partitions_def is not None and not spec.freshness_policy
    spec = spec.replace_attributes(freshness_policy=MARTS_FRESHNESS) if fresh else spec
    return spec.merge_attributes(metadata=lineage)


ASSET_MODULES = [own_staging, marketplaces, marts, metrics, reports, exports, bi, bi_snapshot, behaviour, closed_loop]


def with_quality(assets: list[dg.AssetsDefinition]) -> list[dg.AssetsDefinition]:
    """The assets plus quarantine (after every staging asset) and data_quality_runs (after every checked table)."""
    keys = [k for a in assets for k in a.keys]
    staging_keys = [k for a in assets for k in a.keys if a.group_names_by_key.get(k) == "staging"]
    with_checks = {c.asset_key for a in assets for c in a.check_keys}
    checked = [k for k in keys if k.to_user_string() in ALL_TABLES and k in with_checks]
    return [*assets, *quality_assets(staging_keys, checked)]


defs = dg.Definitions(
    assets=dg.map_asset_specs(
        with_operations,
        with_quality(dg.load_assets_from_modules(ASSET_MODULES)),
    ),
    jobs=[daily_job],
    schedules=[daily_schedule],
    sensors=build_sensors(MARKETPLACE_SOURCES),
    executor=executor,
    resources={
        "warehouse": warehouse,
        "landing": LandingZone(base_dir=_env_or(ENV_LANDING_DIR, str(SETTINGS.landing_dir))),
        "exports": ExportDirectory(base_dir=_env_or(ENV_EXPORT_DIR, str(SETTINGS.export_dir))),
    },
)
