"""The one Definitions object: assets, checks, jobs, schedules and resources."""

from __future__ import annotations

import os

import dagster as dg

from after_sales.assets import bi, exports, marketplaces, marts, metrics, staging
from after_sales.jobs import daily_job
from after_sales.partitions import SETTINGS
from after_sales.resources import ExportDirectory, LandingZone, WarehouseIOManager, WarehouseResource
from after_sales.schedules import daily_schedule
from after_sales.settings import ENV_EXPORT_DIR, ENV_LANDING_DIR, ENV_WAREHOUSE_SCHEMA, ENV_WAREHOUSE_URL


def _env_or(name: str, default: str) -> str | dg.EnvVar:
    """The env var (so the UI shows where it came from) when set, else the default."""
    return dg.EnvVar(name) if os.environ.get(name, "").strip() else default


warehouse = WarehouseResource(
    url=_env_or(ENV_WAREHOUSE_URL, SETTINGS.warehouse_url),
    schema_name=_env_or(ENV_WAREHOUSE_SCHEMA, SETTINGS.warehouse_schema),
    timezone=SETTINGS.timezone,
)

# Steps run in parallel processes forked from a server that has already imported the project, pandas and
# Great Expectations: a fresh interpreter per step would spend seconds on imports alone.
executor = dg.multiprocess_executor.configured(
    {"start_method": {"forkserver": {"preload_modules": ["after_sales.definitions"]}}}
)

defs = dg.Definitions(
    assets=dg.load_assets_from_modules([staging, marketplaces, marts, metrics, exports, bi]),
    jobs=[daily_job],
    schedules=[daily_schedule],
    executor=executor,
    resources={
        "warehouse": warehouse,
        "warehouse_io_manager": WarehouseIOManager(warehouse=warehouse),
        "landing": LandingZone(base_dir=_env_or(ENV_LANDING_DIR, str(SETTINGS.landing_dir))),
        "exports": ExportDirectory(base_dir=_env_or(ENV_EXPORT_DIR, str(SETTINGS.export_dir))),
    },
)
