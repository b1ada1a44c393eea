"""The source registry: the marketplace sources the mapping files configure, loaded once."""

from __future__ import annotations

from after_sales.marketplaces.config import SourceConfig, load_sources
from after_sales.settings import load_settings

MARKETPLACE_SOURCES: dict[str, SourceConfig] = load_sources(load_settings().sources_dirs)
