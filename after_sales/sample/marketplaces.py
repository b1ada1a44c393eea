"""Sample marketplace exports: each platform's own orders and refunds, rendered in its native export layout."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from after_sales.marketplaces import load_sources, marketplace_exports
from after_sales.sample.generator import generate


def write_marketplace_landing(
    landing_dir: str | Path,
    start: dt.date,
    days: int,
    orders_per_day: int,
    seed: int,
    tz: str,
    platforms: list[str],
) -> list[Path]:
    """Write export files for each platform and day under <landing>/<platform>/<day>/; return their paths.

    Nothing is deleted here: `clean_landing` removes the generator's own earlier files first.
    """
    root = Path(landing_dir)
    sources = load_sources()
    unknown = [p for p in platforms if p not in sources]
    if unknown:
        raise ValueError(f"no mapping file for {', '.join(unknown)}; known: {', '.join(sorted(sources))}")
    written: list[Path] = []
    for k, platform in enumerate(platforms):
        sample = generate(start, days, orders_per_day, seed + 1000 + k, 0.0, tz)
        for day in sample.landing_days:
            folder = root / platform / day.isoformat()
            # Prefix ids with the platform so two platforms' samples never share an order id.
            orders = sample.frames["orders"][day].assign(
                order_id=lambda f, p=platform: p + "-" + f["order_id"], channel=platform
            )
            feedback = sample.frames["feedback"][day].assign(order_id=lambda f, p=platform: p + "-" + f["order_id"])
            files = marketplace_exports(orders, feedback, platform, seed + k, sources=sources)
            folder.mkdir(parents=True, exist_ok=True)
            for name, payload in files:
                path = folder / name
                path.write_bytes(payload)
                written.append(path)
    return written
