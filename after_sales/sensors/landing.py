"""One sensor per landing source: new, changed or removed files of a landing day request the partitions they touch.

Each tick lists the data files of the source in the day folders that are partitions (start date .. yesterday),
as `{relative path: [size, mtime_ns]}`, and compares them with the cursor:

- a file seen with the same size and mtime as the cursor's record is done;
- a new or changed file is requested when it is settled: unchanged since the previous tick, or last modified
  more than `settle_seconds` ago; otherwise it is recorded as settling and waits for the next tick;
- a file that disappeared from a day folder counts as a change of that day.

The first tick (no cursor) takes the landing zone as it finds it as the baseline and requests nothing: what
is already there was loaded by the demo, the schedule or a backfill. The landing days that changed are
mapped through the asset graph's own partition mappings to the business dates of the marts and metrics
they feed; overlapping day ranges merge, and each range becomes one run of the source's staging asset(s),
the staging assets that read them (stg_feedback matches tickets to stg_orders: a ticket that landed before its
order leaves quarantine when the order lands) and everything downstream of them (other sources' staging
assets and unpartitioned assets excluded), with a run key made of the changes, so the same change is never
requested twice. Links leading outside the landing zone and misplaced files are never observed; each tick
logs them as warnings (the landing_zone_audit sensor alerts on them).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
from dagster._core.definitions.assets.graph.base_asset_graph import BaseAssetGraph

from after_sales.jobs import daily_job
from after_sales.landing import landed_days, landed_paths
from after_sales.partitions import ORDERS_FOR_FEEDBACK, SETTINGS, daily_partitions
from after_sales.resources import LandingZone

RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"
TRIGGER_TAG = "after_sales/trigger"
FILES_TAG = "after_sales/files"
MAX_FILES_TAG_CHARS = 1000
SETTLE_SECONDS = 60
MINIMUM_INTERVAL_SECONDS = 60
# Own sources: landing folder -> staging assets. Marketplace sources add stg_<name>_orders and _feedback.
OWN_SOURCES: dict[str, list[str]] = {
    "orders": ["stg_orders"],
    "feedback": ["stg_feedback"],
    "behaviour": ["stg_behaviour"],
    "events": ["stg_events"],
    "actions": ["stg_actions"],
}

Observed = dict[str, tuple[int, int]]


def source_assets(marketplaces: Iterable[str]) -> dict[str, list[str]]:
    """Every landing source and the staging asset(s) that read it."""
    return {**OWN_SOURCES, **{m: [f"stg_{m}_orders", f"stg_{m}_feedback"] for m in marketplaces}}


def feedback_reads_orders(sources: Iterable[dg.AssetKey]) -> dict[dg.AssetKey, dg.AssetKey]:
    """A marketplace step's feedback table -> its orders table, which the feedback is matched against over
    ORDERS_FOR_FEEDBACK (the unknown-order rule). Not a graph edge: Dagster's asset backfills cannot order two
    outputs of one step by a shifted partition mapping, so the widening is done here."""
    names = {k.to_user_string() for k in sources}
    return {
        dg.AssetKey(n): dg.AssetKey(n.removesuffix("_feedback") + "_orders")
        for n in sorted(names)
        if n.endswith("_feedback") and n.removesuffix("_feedback") + "_orders" in names
    }


def observe(landing_dir: Path, source: str, first: dt.date, last: dt.date) -> Observed:
    """Size and mtime (ns) of every data file of the source in day folders first .. last, by relative path."""
    days = [d for d in landed_days(landing_dir, source) if first <= d <= last]
    found: Observed = {}
    for _, path in landed_paths(landing_dir, source, days):
        try:
            stat = path.stat()
        except FileNotFoundError:  # removed while listing: the next tick sees it gone
            continue
        found[path.relative_to(landing_dir).as_posix()] = (stat.st_size, stat.st_mtime_ns)
    return found


def file_day(relative_path: str) -> dt.date | None:
    """The landing day of a relative path `<source>/<YYYY-MM-DD>/<file>`."""
    parts = relative_path.split("/")
    try:
        return dt.date.fromisoformat(parts[1]) if len(parts) >= 3 else None
    except ValueError:
        return None


@dataclass
class Scan:
    """What one tick found: settled changes (None = removed), files still settling, the next cursor."""

    changes: dict[str, tuple[int, int] | None] = field(default_factory=dict)
    settling: list[str] = field(default_factory=list)
    cursor: dict[str, dict[str, list[int]]] = field(default_factory=dict)
    baseline: bool = False

    @property
    def days(self) -> list[dt.date]:
        """Landing days with settled changes."""
        return sorted({d for rel in self.changes if (d := file_day(rel)) is not None})


def load_cursor(raw: str | None) -> dict[str, dict[str, list[int]]] | None:
    """The cursor as {"files": {path: [size, mtime_ns]}, "settling": {...}}, or None before the first tick."""
    return json.loads(raw) if raw else None


def scan(
    previous: Mapping[str, Mapping[str, Sequence[int]]] | None,
    observed: Observed,
    now_ns: int,
    settle_seconds: float,
    first: dt.date,
    last: dt.date,
) -> Scan:
    """Compare this tick's observation with the cursor; see the module docstring for the rules."""
    if previous is None:
        return Scan(cursor=_cursor(dict(observed), {}), baseline=True)
    done = {k: (int(v[0]), int(v[1])) for k, v in previous.get("files", {}).items()}
    before = {k: (int(v[0]), int(v[1])) for k, v in previous.get("settling", {}).items()}
    result = Scan()
    settling: Observed = {}
    for rel, seen in sorted(observed.items()):
        if done.get(rel) == seen:
            continue
        quiet = now_ns - seen[1] >= settle_seconds * 1_000_000_000
        if before.get(rel) == seen or quiet:
            result.changes[rel] = seen
            done[rel] = seen
        else:
            settling[rel] = seen
    for rel in sorted(set(done) - set(observed)):
        day = file_day(rel)
        if day is not None and first <= day <= last:  # gone from a day still in range: that day changed
            result.changes[rel] = None
        del done[rel]
    result.settling = sorted(settling)
    result.cursor = _cursor(done, settling)
    return result


def _cursor(done: Observed, settling: Observed) -> dict[str, dict[str, list[int]]]:
    return {
        "files": {k: list(v) for k, v in sorted(done.items())},
        "settling": {k: list(v) for k, v in sorted(settling.items())},
    }


def restaged_keys(graph: BaseAssetGraph, sources: list[dg.AssetKey]) -> list[dg.AssetKey]:
    """Other staging assets that read the sources' staging tables (stg_feedback matches feedback to stg_orders)."""
    return [
        key
        for key in graph.toposorted_asset_keys
        if key not in sources
        and graph.get(key).is_materializable
        and graph.get(key).group_name == "staging"
        and any(parent in sources for parent in graph.get(key).parent_entity_keys)
    ]


def downstream_keys(graph: BaseAssetGraph, sources: list[dg.AssetKey]) -> list[dg.AssetKey]:
    """The source's staging assets, the staging assets reading them, and every partitioned asset downstream."""
    restaged = set(restaged_keys(graph, sources))
    selected = set(sources) | restaged
    for key in graph.toposorted_asset_keys:
        if key in selected:
            continue
        node = graph.get(key)
        if not node.is_partitioned or not node.is_materializable or node.group_name == "staging":
            continue
        if any(parent in selected for parent in node.parent_entity_keys):
            selected.add(key)
    return [k for k in graph.toposorted_asset_keys if k in selected]


def affected_partitions(
    graph: BaseAssetGraph, sources: list[dg.AssetKey], keys: list[dg.AssetKey], days: list[dt.date]
) -> dict[dg.AssetKey, set[str]]:
    """Partitions of each selected asset that read the sources' landing days, per the graph's partition mappings.

    A re-staged dependent (stg_feedback for orders) gets the partitions that read the changed days, but does not
    widen its children's partitions: re-staging it only moves rows that name the changed orders (quarantined as
    unknown_order, or back), and those belong to the business dates the changed orders already map to.
    """
    restaged = set(restaged_keys(graph, sources))
    within_step = feedback_reads_orders(sources)
    landed = {d.isoformat() for d in days}
    affected: dict[dg.AssetKey, set[str]] = {k: landed for k in sources}
    # What an asset passes on to the marts below it: a source its landing days (a marketplace's feedback, widened
    # by the orders it reads, does not widen them), a re-staged reader nothing, a mart the partitions it rebuilds.
    passed: dict[dg.AssetKey, set[str]] = {k: landed for k in sources}
    for key in keys:
        staging = key in sources or key in restaged
        child = graph.get(key).partitions_def
        parts = set(affected.get(key, ()))
        parents = [(p, graph.get_partition_mapping(key, p)) for p in graph.get(key).parent_entity_keys]
        if key in within_step:
            parents.append((within_step[key], ORDERS_FOR_FEEDBACK.mapping))
        for parent, mapping in parents:
            upstream = affected.get(parent) if staging else passed.get(parent)
            if not upstream:
                continue
            parent_def = graph.get(parent).partitions_def
            assert parent_def is not None and child is not None
            mapped = mapping.get_downstream_partitions_for_partitions(
                parent_def.empty_subset().with_partition_keys(sorted(upstream)),
                parent_def,
                downstream_partitions_def=child,
            )
            parts.update(mapped.get_partition_keys())
        if parts:
            affected[key] = parts
            passed.setdefault(key, set() if key in restaged else parts)
    return affected


def day_ranges(
    graph: BaseAssetGraph, sources: list[dg.AssetKey], keys: list[dg.AssetKey], days: list[dt.date]
) -> list[tuple[dt.date, dt.date, list[dt.date]]]:
    """Contiguous partition ranges (first, last, landing days in it) covering every affected partition."""
    dates = sorted(
        {dt.date.fromisoformat(p) for ps in affected_partitions(graph, sources, keys, days).values() for p in ps}
    )
    ranges: list[tuple[dt.date, dt.date, list[dt.date]]] = []
    for date in dates:
        if ranges and date == ranges[-1][1] + dt.timedelta(days=1):
            ranges[-1] = (ranges[-1][0], date, ranges[-1][2])
        else:
            ranges.append((date, date, []))
    return [(first, last, [d for d in days if first <= d <= last]) for first, last, _ in ranges]


def _files_tag(paths: list[str]) -> str:
    text = ""
    for i, path in enumerate(paths):
        more = f" (+{len(paths) - i} more)"
        candidate = f"{text}, {path}" if text else path
        if len(candidate) + len(more) > MAX_FILES_TAG_CHARS and i < len(paths) - 1:
            return text + more
        text = candidate
    return text


def run_requests(
    sensor_name: str,
    graph: BaseAssetGraph,
    source_keys: list[dg.AssetKey],
    found: Scan,
    trigger: str | None = None,
) -> list[dg.RunRequest]:
    """One run per merged day range of the settled changes, keyed by those changes."""
    keys = downstream_keys(graph, source_keys)
    requests = []
    for first, last, landed in day_ranges(graph, source_keys, keys, found.days):
        changed = {rel: obs for rel, obs in found.changes.items() if file_day(rel) in landed}
        digest = hashlib.sha1(json.dumps(sorted(changed.items())).encode()).hexdigest()[:16]
        requests.append(
            dg.RunRequest(
                run_key=f"{sensor_name}:{first}...{last}:{digest}",
                asset_selection=keys,
                tags={
                    RANGE_START: first.isoformat(),
                    RANGE_END: last.isoformat(),
                    TRIGGER_TAG: trigger or f"sensor:{sensor_name}",
                    FILES_TAG: _files_tag(sorted(changed)),
                },
            )
        )
    return requests


def last_partition_day() -> dt.date | None:
    """The newest daily partition now (yesterday in the business zone), or None before the start date."""
    key = daily_partitions.get_last_partition_key()
    return dt.date.fromisoformat(key) if key else None


def landing_sensor(
    source: str,
    staging_assets: list[str],
    settle_seconds: float = SETTLE_SECONDS,
    minimum_interval_seconds: int = MINIMUM_INTERVAL_SECONDS,
    default_status: dg.DefaultSensorStatus = dg.DefaultSensorStatus.STOPPED,
) -> dg.SensorDefinition:
    """The sensor watching `<landing>/<source>/<YYYY-MM-DD>/` for the source's staging asset(s)."""
    name = f"landing_{source}"
    source_keys = [dg.AssetKey(a) for a in staging_assets]

    @dg.sensor(
        name=name,
        job=daily_job,
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=default_status,
        description=(
            f"New, changed or removed files under <landing>/{source}/<YYYY-MM-DD>/ request {', '.join(staging_assets)} "
            "and the marts and metrics they feed, for the partitions those landing days touch (one run per day "
            f"range, once per change). A file whose size or mtime moved since the last tick waits for the next one."
        ),
        tags={"after_sales/source": source},
    )
    def _sensor(context: dg.SensorEvaluationContext, landing: LandingZone) -> dg.SensorResult | dg.SkipReason:
        last = last_partition_day()
        if last is None:
            return dg.SkipReason(f"no daily partition exists yet (start date {SETTINGS.start_date})")
        observed = observe(landing.path, source, SETTINGS.start_date, last)
        # Not loaded (links leading outside, misplaced files): a warning on every tick; the audit sensor alerts.
        skipped = [str(p) for p in landing.problems(source, landed_days(landing.path, source))]
        for note in skipped:
            context.log.warning(f"not loaded: {note}")
        not_loaded = f"; not loaded: {'; '.join(skipped[:10])}" if skipped else ""
        found = scan(load_cursor(context.cursor), observed, time.time_ns(), settle_seconds, SETTINGS.start_date, last)
        cursor = json.dumps(found.cursor, separators=(",", ":"))
        if found.baseline:
            context.update_cursor(cursor)
            return dg.SkipReason(
                f"first tick: {len(observed)} file(s) under {source}/ taken as the baseline{not_loaded}"
            )
        requests = []
        if found.changes:
            if context.repository_def is None:
                raise dg.DagsterInvariantViolationError(f"{name} needs the repository to map partitions")
            requests = run_requests(name, context.repository_def.asset_graph, source_keys, found)
        if requests:
            return dg.SensorResult(run_requests=requests, cursor=cursor)
        context.update_cursor(cursor)
        waiting = f"; settling: {', '.join(found.settling)}" if found.settling else ""
        return dg.SkipReason(f"no settled change under {source}/ (last partition {last}){waiting}{not_loaded}")

    return _sensor
