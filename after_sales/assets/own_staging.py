"""Staging assets of the own sources (site orders, helpdesk feedback, site sessions), partitioned by landing date."""

import dagster as dg

from after_sales.assets.chunked import Emitted
from after_sales.assets.common import partitioned_asset_kwargs
from after_sales.assets.staging import stage_source
from after_sales.checks.conservation import STAGING_CHECKS
from after_sales.checks.quality import check_specs
from after_sales.partitions import ORDERS_FOR_FEEDBACK
from after_sales.resources import LandingZone, WarehouseResource, upstream
from after_sales.transforms.staging import KINDS

# Feedback landed on day X names orders landed around X.
KNOWN_ORDERS = upstream("stg_orders", ORDERS_FOR_FEEDBACK, ["order_id", "landing_date"])


@dg.asset(
    **partitioned_asset_kwargs(KINDS["orders"].spec, "staging"),
    check_specs=check_specs("stg_orders", STAGING_CHECKS),
    code_version="2",
)
def stg_orders(context: dg.AssetExecutionContext, landing: LandingZone, warehouse: WarehouseResource) -> Emitted:
    """Own-site orders, typed; bad rows quarantined."""
    yield from stage_source(context, landing, warehouse, "orders")


@dg.asset(
    **partitioned_asset_kwargs(KINDS["feedback"].spec, "staging"),
    deps=[KNOWN_ORDERS.dep],
    check_specs=check_specs("stg_feedback", STAGING_CHECKS),
    code_version="2",
)
def stg_feedback(context: dg.AssetExecutionContext, landing: LandingZone, warehouse: WarehouseResource) -> Emitted:
    """Own helpdesk tickets and reviews, typed; bad rows and feedback for unknown orders quarantined."""
    yield from stage_source(context, landing, warehouse, "feedback", KNOWN_ORDERS)


@dg.asset(
    **partitioned_asset_kwargs(KINDS["behaviour"].spec, "staging"),
    check_specs=check_specs("stg_behaviour", STAGING_CHECKS),
    code_version="2",
)
def stg_behaviour(context: dg.AssetExecutionContext, landing: LandingZone, warehouse: WarehouseResource) -> Emitted:
    """Own-site sessions, typed; bad rows quarantined."""
    yield from stage_source(context, landing, warehouse, "behaviour")
