"""Behaviour: problems located from what customers do (events), as YAML rules run in SQL on DuckDB."""
