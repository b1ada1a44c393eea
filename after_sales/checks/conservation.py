"""Conservation: every landed row is staged or quarantined."""

from __future__ import annotations

import dagster as dg

from after_sales.transforms.staging import StagingResult

CONSERVATION = "rows_conserved"


def conservation_spec(asset: str) -> dg.AssetCheckSpec:
    """Spec of the conservation check for a staging asset."""
    return dg.AssetCheckSpec(
        name=CONSERVATION,
        asset=asset,
        blocking=True,
        description="Rows read = rows staged + rows quarantined (duplicates are quarantined and counted).",
    )


def conservation_result(asset: str, result: StagingResult) -> dg.AssetCheckResult:
    """Evaluate conservation on one staging result."""
    staged, quarantined = len(result.rows), len(result.quarantined)
    return dg.AssetCheckResult(
        asset_key=asset,
        check_name=CONSERVATION,
        passed=result.balanced,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "rows_read": result.rows_read,
            "rows_staged": staged,
            "rows_quarantined": quarantined,
            "duplicates_removed": result.duplicates_removed,
            "difference": result.rows_read - staged - quarantined,
        },
    )
