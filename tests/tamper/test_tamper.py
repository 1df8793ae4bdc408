"""The tamper suite: every kind of row that carries money or state, edited or deleted by hand, is
found by the seal chain, which names the table and the row; so are removed seals."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from storage_support import POSTGRES_URL, clean_postgres, postgres_available

from attain.app.adjustments import add_adjustment, decide_adjustment
from attain.app.imports import import_file
from attain.app.periods import publish_period
from attain.app.runs import run_period
from attain.app.workspace import Workspace, init_workspace
from attain.demo.generate import generate
from attain.storage.seals import COVERED, current_head, verify_seals

# A hand edit per table: the money or state a fraud would change, else a text column.
EDITS = {
    "imports": "UPDATE imports SET file_name = 'other.csv' WHERE id = {key}",
    "participant_versions": "UPDATE participant_versions SET name = 'Someone Else' WHERE id = {key}",
    "quota_versions": "UPDATE quota_versions SET amount = 1 WHERE id = {key}",
    "deal_versions": "UPDATE deal_versions SET amount = 9999999 WHERE id = {key}",
    "split_versions": "UPDATE split_versions SET shares = '[]' WHERE id = {key}",
    "metric_versions": "UPDATE metric_versions SET value = 99 WHERE id = {key}",
    "rate_versions": "UPDATE rate_versions SET rate = 2 WHERE id = {key}",
    "plan_versions": "UPDATE plan_versions SET source_text = 'x' WHERE id = {key}",
    "plan_assignments": "UPDATE plan_assignments SET active = 0 WHERE id = {key}",
    "ledger_runs": "UPDATE ledger_runs SET totals = '{{}}' WHERE id = {key}",
    "ledger_entries": "UPDATE ledger_entries SET amount = 999999.00 WHERE seq = {key}",
    "audit_log": "UPDATE audit_log SET actor = 'someone' WHERE seq = {key}",
    "ledger_periods": "UPDATE ledger_periods SET state = 'open' WHERE label = '{key}'",
    "ledger_adjustments": "UPDATE ledger_adjustments SET amount = 5000 WHERE id = '{key}'",
}


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """The demo company, run, adjusted (approved) and published for 2026-Q1."""
    if request.param == "postgres":
        if not postgres_available():
            pytest.skip("no PostgreSQL server at ATTAIN_TEST_POSTGRES_URL")
        clean_postgres()
        url = POSTGRES_URL
    else:
        url = f"sqlite:///{(tmp_path_factory.mktemp('tamper') / 'store.db').as_posix()}"
    saved = os.environ.get("ATTAIN_DATABASE_URL")
    os.environ["ATTAIN_DATABASE_URL"] = url
    demo = generate(tmp_path_factory.mktemp("ws") / "ws")
    ws = init_workspace(demo.root)
    for kind in ("participants", "quotas", "deals", "splits", "metrics", "rates"):
        import_file(ws, kind, demo.data / f"{kind}.csv")
    import_file(ws, "plans", demo.root / "plans")
    run_period(ws, "2026-Q1", user="ana", executor="reference")
    adjustment = add_adjustment(ws, participant_id="ae-01", period="2026-Q1", amount="250.00", reason="spiff",
                                user="ana")
    decide_adjustment(ws, adjustment.id, approve=True, user="ben", note="")
    publish_period(ws, "2026-Q1", user="ben")
    yield ws
    ws.close()
    if saved is None:
        os.environ.pop("ATTAIN_DATABASE_URL", None)
    else:
        os.environ["ATTAIN_DATABASE_URL"] = saved


def _newest_key(conn, table: str) -> str:
    _table, key = COVERED[table]
    order = f'"{key}" DESC'
    return str(conn.execute(text(f'SELECT "{key}" FROM {table} ORDER BY {order} LIMIT 1')).scalar_one())


def _problems_after(ws: Workspace, statement: str, disable_keys: bool = False) -> list[tuple[str, str]]:
    """Apply a hand edit in a transaction never committed, and verify what it leaves."""
    with ws.engine.connect() as conn:
        if disable_keys:
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            else:
                conn.exec_driver_sql("SET session_replication_role = replica")
        try:
            conn.exec_driver_sql(statement)
            report = verify_seals(conn)
        finally:
            conn.rollback()
            if disable_keys:
                conn.exec_driver_sql("PRAGMA foreign_keys=ON" if conn.dialect.name == "sqlite"
                                     else "SET session_replication_role = origin")
                conn.commit()
    return [(p.table, p.key) for p in report.problems]


def test_the_untouched_store_verifies(store: Workspace):
    with store.engine.connect() as conn:
        report = verify_seals(conn)
    assert report.ok, report.problems
    assert report.length > 0
    with store.engine.connect() as conn:
        present = {name for name in COVERED
                   if conn.execute(text(f"SELECT count(*) FROM {name}")).scalar_one()}
    assert present == set(COVERED)  # every covered table has rows to tamper with


@pytest.mark.parametrize("table", sorted(EDITS))
def test_a_hand_edit_is_found_naming_the_row(store: Workspace, table: str):
    with store.engine.connect() as conn:
        key = _newest_key(conn, table)
    problems = _problems_after(store, EDITS[table].format(key=key))
    assert (table, key) in problems


@pytest.mark.parametrize("table", sorted(COVERED))
def test_a_deleted_row_is_found_naming_it(store: Workspace, table: str):
    _table, column = COVERED[table]
    with store.engine.connect() as conn:
        key = _newest_key(conn, table)
    literal = key if table not in ("ledger_periods", "ledger_adjustments") else f"'{key}'"
    problems = _problems_after(store, f'DELETE FROM {table} WHERE "{column}" = {literal}', disable_keys=True)
    assert (table, key) in problems


def test_removing_the_newest_seals_is_found(store: Workspace):
    with store.engine.connect() as conn:
        length, _ = current_head(conn)
    problems = _problems_after(store, f"DELETE FROM seals WHERE seq > {length - 3}")
    assert problems and all(table != "seals" for table, _ in problems)  # the rows they sealed are unsealed


def test_removing_every_seal_is_found(store: Workspace):
    problems = _problems_after(store, "DELETE FROM seals")
    assert {table for table, _ in problems} == set(COVERED)


def test_a_head_held_outside_catches_a_rewritten_chain(store: Workspace):
    with store.engine.connect() as conn:
        length, head = current_head(conn)
        assert verify_seals(conn, (length, head)).ok
        conn.exec_driver_sql(f"DELETE FROM seals WHERE seq = {length}")
        report = verify_seals(conn, (length, head))
        conn.rollback()
    assert not report.ok
    assert any(p.table == "seals" for p in report.problems)


def test_a_legitimate_write_after_a_hand_edit_of_an_entry_does_not_hide_it(store: Workspace):
    """A hand edit committed outside Attain stays found after Attain commits again."""
    if store.engine.dialect.name != "sqlite":
        pytest.skip("by design: the committed edit is shown on the SQLite file")
    raw = create_engine(store.engine.url)  # a plain connection, as a SQL client would use
    with raw.begin() as conn:
        key = _newest_key(conn, "ledger_entries")
        original = conn.exec_driver_sql(f"SELECT amount FROM ledger_entries WHERE seq = {key}").scalar_one()
        conn.exec_driver_sql(EDITS["ledger_entries"].format(key=key))
    try:
        add_adjustment(store, participant_id="ae-02", period="2026-Q1", amount="10.00", reason="x", user="ana")
    except Exception:  # a published period may refuse new adjustments; any commit will do
        with store.engine.begin() as conn:
            conn.exec_driver_sql("SELECT 1")
    result = subprocess.run([sys.executable, "-m", "attain", "audit", "verify"], capture_output=True, text=True,
                            cwd=Path(store.root), timeout=120)
    with raw.begin() as conn:  # put the amount back
        conn.exec_driver_sql(f"UPDATE ledger_entries SET amount = '{original}' WHERE seq = {key}")
    raw.dispose()
    assert result.returncode == 6, result.stdout + result.stderr
    assert f"ledger_entries {key}: differs from its seal" in result.stderr
