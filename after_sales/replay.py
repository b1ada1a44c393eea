"""Replay landing days of a source: the runs its landing sensor would request for them, executed now.

    python -m after_sales.replay feedback 2026-10-05 [2026-10-06 ...]

Re-stages the source for those days and rebuilds every partition that reads them (the marts of the business
dates the rows belong to, found through the asset graph's partition mappings, as the sensor does), so a row
moved out of quarantine reaches its business date's partition. Runs in this process, recorded in the Dagster
instance of DAGSTER_HOME.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from collections.abc import Sequence

import dagster as dg

from after_sales.jobs import daily_job
from after_sales.sensors.landing import RANGE_END, RANGE_START, Scan, run_requests, source_assets
from after_sales.sources import MARKETPLACE_SOURCES


def replay_requests(definitions: dg.Definitions, source: str, days: Sequence[dt.date]) -> list[dg.RunRequest]:
    """The run requests for re-reading the source's landing days (one per merged partition range)."""
    sources = source_assets(MARKETPLACE_SOURCES)
    if source not in sources:
        raise ValueError(f"unknown source {source!r}; expected one of {', '.join(sorted(sources))}")
    graph = definitions.get_repository_def().asset_graph
    found = Scan(changes={f"{source}/{day.isoformat()}/*": None for day in sorted(set(days))})
    return run_requests(f"replay_{source}", graph, [dg.AssetKey(a) for a in sources[source]], found, f"replay:{source}")


def replay(
    definitions: dg.Definitions,
    source: str,
    days: Sequence[dt.date],
    instance: dg.DagsterInstance | None = None,
) -> list[dg.ExecuteInProcessResult]:
    """Execute the replay runs in this process, one after the other; stop at the first failure."""
    job = definitions.resolve_job_def(daily_job.name)
    results = []
    for request in replay_requests(definitions, source, days):
        result = job.execute_in_process(
            tags=request.tags, asset_selection=request.asset_selection, instance=instance, raise_on_error=False
        )
        results.append(result)
        if not result.success:
            break
    return results


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: a source and its landing days."""
    parser = argparse.ArgumentParser(prog="python -m after_sales.replay", description=__doc__.splitlines()[0])
    parser.add_argument("source", help="landing source folder: orders, feedback, behaviour or a marketplace")
    parser.add_argument("days", nargs="+", type=dt.date.fromisoformat, help="landing days, YYYY-MM-DD")
    args = parser.parse_args(argv)
    from after_sales.definitions import defs  # loads every asset: only when run as a command

    instance = dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()
    results = replay(defs, args.source, args.days, instance)
    for result in results:
        tags = result.dagster_run.tags
        span = f"{tags[RANGE_START]} .. {tags[RANGE_END]}"
        print(f"run {result.run_id} ({span}): {'succeeded' if result.success else 'FAILED'}")
    return 0 if results and all(r.success for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
