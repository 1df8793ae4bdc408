"""An import of participants, quotas or metrics resolves for bulk runs only the participants whose
records changed, from the state kept after the earlier import; the tables are those a resolution
of everyone gives, order and decimal scale included."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import attain.app.bulk as bulk_module
from attain.app.bulk import RESOLVED_TABLES, _resolve_small, cache_folder, resolved_small
from attain.app.imports import import_file
from attain.app.workspace import Workspace
from csv_support import write_csv


def _people(changes: dict[str, dict[str, str]] | None = None) -> list[dict[str, str]]:
    rows = []
    for i in range(12):
        row = {"id": f"p{i:02d}", "name": f"Payee {i}", "role": "ae", "team": f"t{i % 3}", "manager_id": "",
               "start_date": "2026-02-10" if i == 4 else "", "end_date": "", "ramp": "50%;75%" if i == 4 else "",
               "effective_from": ""}
        row.update((changes or {}).get(row["id"], {}))
        rows.append(row)
    # p07 moves to another team on 1 March: a second term.
    rows.append({**rows[7], "team": "t9", "effective_from": "2026-03-01"})
    return rows


def _quotas(amounts: dict[str, str] | None = None) -> list[dict[str, str]]:
    rows = [{"participant_id": f"p{i:02d}", "metric": "bookings", "period": "2026-Q1",
             "amount": (amounts or {}).get(f"p{i:02d}", f"{100000 + i * 1000}"), "effective_from": "", "reason": ""}
            for i in range(12)]
    # p02's quota is raised mid-quarter: resolved pro rata.
    rows.append({"participant_id": "p02", "metric": "bookings", "period": "2026-Q1", "amount": "150000",
                 "effective_from": "2026-02-15", "reason": "territory added"})
    return rows


def _full(ws: Workspace) -> dict[str, Any]:
    with ws.engine.connect() as conn:
        return _resolve_small(conn, ws.known_import(), ws.settings.calendar)


def _kept(ws: Workspace) -> dict[str, Any]:
    with ws.engine.connect() as conn:
        return resolved_small(conn, cache_folder(ws), ws.known_import(), ws.settings.calendar)


def _assert_equal(kept: dict[str, Any], full: dict[str, Any]) -> None:
    for name in RESOLVED_TABLES:
        assert kept[name].schema == full[name].schema, name
        assert kept[name].to_pylist() == full[name].to_pylist(), name


@pytest.fixture
def patches(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many participants each patched resolution resolved again."""
    seen: list[int] = []
    original = bulk_module._patched

    def spy(old: Any, fresh: Any, changed: set[str]) -> Any:
        seen.append(len(changed))
        return original(old, fresh, changed)

    monkeypatch.setattr(bulk_module, "_patched", spy)
    return seen


def test_each_import_resolves_only_who_changed(workspace: Workspace, tmp_path: Path, patches: list[int]) -> None:
    import_file(workspace, "participants", write_csv(tmp_path / "people.csv", _people()))
    assert patches == []  # nothing kept yet: everyone resolved
    _assert_equal(_kept(workspace), _full(workspace))
    import_file(workspace, "quotas", write_csv(tmp_path / "quotas.csv", _quotas()))
    import_file(workspace, "metrics", write_csv(tmp_path / "metrics.csv", [
        {"participant_id": "p01", "metric": "csat", "period": "2026-Q1", "value": "4.5"},
        {"participant_id": "p03", "metric": "csat", "period": "2026-01", "value": "3.25"}]))
    assert patches == [12, 2]
    _assert_equal(_kept(workspace), _full(workspace))
    # A new start date for p04 changes the proration of p04's quota; nobody else's rows.
    import_file(workspace, "participants", write_csv(tmp_path / "people.csv", _people(
        {"p04": {"start_date": "2026-01-20"}})))
    assert patches[-1] == 1
    _assert_equal(_kept(workspace), _full(workspace))
    # A quota with four decimal places widens the column's scale; replacing it narrows it again.
    import_file(workspace, "quotas", write_csv(tmp_path / "quotas.csv", _quotas({"p09": "120000.1250"})))
    assert _kept(workspace)["quotas"].schema.field("amount").type.scale == 4
    _assert_equal(_kept(workspace), _full(workspace))
    import_file(workspace, "quotas", write_csv(tmp_path / "quotas.csv", _quotas({"p09": "120000.50"})))
    assert patches[-3:] == [1, 1, 1]
    assert _kept(workspace)["quotas"].schema.field("amount").type.scale == 2
    _assert_equal(_kept(workspace), _full(workspace))
    # A participant first seen now, in the middle of the order.
    import_file(workspace, "participants", write_csv(tmp_path / "people.csv", [
        *_people({"p04": {"start_date": "2026-01-20"}}),
        {"id": "p05a", "name": "New", "role": "ae", "team": "t1"}]))
    assert patches[-1] == 1
    _assert_equal(_kept(workspace), _full(workspace))
    assert "p05a" in _kept(workspace)["people"].column("participant_id").to_pylist()


def test_a_state_of_a_later_store_is_not_a_base(workspace: Workspace, tmp_path: Path, patches: list[int]) -> None:
    import_file(workspace, "participants", write_csv(tmp_path / "people.csv", _people()))
    first = workspace.known_import()
    import_file(workspace, "quotas", write_csv(tmp_path / "quotas.csv", _quotas()))
    for folder in cache_folder(workspace).glob("resolved-*"):
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        if manifest["last"] == {"participants": first}:
            for item in folder.iterdir():
                item.unlink()
            folder.rmdir()
    # As known at the first import: the only kept state saw quotas this state does not see.
    with workspace.engine.connect() as conn:
        early = resolved_small(conn, cache_folder(workspace), first, workspace.settings.calendar)
        full = _resolve_small(conn, first, workspace.settings.calendar)
    assert patches == [12]  # the quotas import's own; the early state was resolved whole
    assert early["quotas"].num_rows == 0
    _assert_equal(early, full)


def test_an_unreadable_kept_state_is_not_a_base(workspace: Workspace, tmp_path: Path, patches: list[int]) -> None:
    import_file(workspace, "participants", write_csv(tmp_path / "people.csv", _people()))
    (kept,) = cache_folder(workspace).glob("resolved-*")
    (kept / "terms.parquet").write_bytes(b"not parquet")  # another process pruning it, a broken disk
    import_file(workspace, "quotas", write_csv(tmp_path / "quotas.csv", _quotas()))
    assert patches == []  # everyone resolved again
    _assert_equal(_kept(workspace), _full(workspace))


def test_a_quota_beyond_the_declared_precision_is_refused_at_import(workspace: Workspace, tmp_path: Path) -> None:
    """17 places are more than bulk runs carry: the import's declared limit (12 places) refuses the
    row, so no recorded quota can later stop a bulk run."""
    from attain.core.errors import DataError

    import_file(workspace, "participants", write_csv(tmp_path / "people.csv", _people()))
    quotas = write_csv(tmp_path / "quotas.csv", _quotas({"p03": "1.00000000000000001"}))
    with pytest.raises(DataError) as raised:
        import_file(workspace, "quotas", quotas)
    (problem,) = raised.value.problems
    assert problem.code == "out_of_range" and "column amount" in str(problem)
