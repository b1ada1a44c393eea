"""Dagster's local SQLite files get the chosen synchronous level; other SQLite files keep SQLite's."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from after_sales import dagster_sqlite


def _synchronous(url: str) -> int:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as con:
        return int(con.execute(sa.text("PRAGMA synchronous")).scalar_one())


def test_only_files_under_dagster_home_are_tuned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home, other = tmp_path / "home", tmp_path / "other"
    home.mkdir(), other.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.delenv(dagster_sqlite.ENV_SYNC, raising=False)
    dagster_sqlite.install()
    assert _synchronous(f"sqlite:///{home / 'runs.db'}") == 0  # OFF
    assert _synchronous(f"sqlite:///{other / 'warehouse.db'}") == 2  # SQLite's default, FULL
    monkeypatch.setenv(dagster_sqlite.ENV_SYNC, "normal")
    assert _synchronous(f"sqlite:///{home / 'index.db'}") == 1


def test_an_unknown_level_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(dagster_sqlite.ENV_SYNC, "fast")
    with pytest.raises(ValueError, match="AFTER_SALES_DAGSTER_SQLITE_SYNC=FAST"):
        dagster_sqlite.sync_level()
