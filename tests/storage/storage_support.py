"""Store fixtures: every store test runs on SQLite and on PostgreSQL (skipped if no server)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from attain.app.workspace import Workspace, init_workspace

POSTGRES_URL = os.environ.get(
    "ATTAIN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/attain_test"
)
_postgres_ready: bool | None = None


def postgres_available() -> bool:
    """Create the test database if missing; False when the server cannot be reached."""
    global _postgres_ready
    if _postgres_ready is None:
        url = make_url(POSTGRES_URL)
        try:
            admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                      {"n": url.database}).first()
                if not exists:
                    conn.execute(text(f'CREATE DATABASE "{url.database}"'))
            admin.dispose()
            _postgres_ready = True
        except Exception:
            if os.environ.get("CI"):
                raise
            _postgres_ready = False
    return _postgres_ready


def clean_postgres() -> None:
    engine = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path,
              monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A database URL for a clean store, set as ATTAIN_DATABASE_URL for workspaces."""
    if request.param == "postgres":
        if not postgres_available():
            pytest.skip("no PostgreSQL server at ATTAIN_TEST_POSTGRES_URL")
        clean_postgres()
        url = POSTGRES_URL
    else:
        url = f"sqlite:///{(tmp_path / 'store.db').as_posix()}"
    monkeypatch.setenv("ATTAIN_DATABASE_URL", url)
    yield url


@pytest.fixture
def workspace(tmp_path: Path, store_url: str) -> Iterator[Workspace]:
    ws = init_workspace(tmp_path / "ws")
    yield ws
    ws.close()
