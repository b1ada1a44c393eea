"""The source registry: the marketplace sources the mapping files configure, loaded once."""

from __future__ import annotations

from after_sales.marketplaces.config import SourceConfig, load_sources
from after_sales.settings import load_settings

MARKETPLACE_SOURCES: dict[str, SourceConfig] = load_sources(load_settings().sources_dirs)
# A marketplace channel's rows come from its sources' landing folders; every other channel from the own sources.
CHANNEL_SOURCES: dict[str, tuple[str, ...]] = {
    channel: tuple(s.name for s in MARKETPLACE_SOURCES.values() if s.channel == channel)
    for channel in dict.fromkeys(s.channel for s in MARKETPLACE_SOURCES.values())
}
