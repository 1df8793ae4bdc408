"""Quota, participant, plan and assignment changes land in the hash-chained audit log."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import text

from attain.app.audit import verify_chain
from attain.app.imports import import_file
from attain.app.workspace import init_workspace
from attain.demo.generate import generate


def audit_rows(ws, action: str) -> list[tuple[str, str, str, str]]:
    with ws.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(
            text("SELECT subject, actor, before, after FROM audit_log WHERE action = :a"), {"a": action})]


def test_a_changed_quota_is_audited_with_before_after_and_who(tmp_path: Path):
    demo = generate(tmp_path / "demo")
    ws = init_workspace(tmp_path / "ws")
    try:
        import_file(ws, "participants", demo.data / "participants.csv", actor="alice")
        import_file(ws, "quotas", demo.data / "quotas.csv", actor="alice")
        changed = tmp_path / "quotas.csv"
        original = (demo.data / "quotas.csv").read_text()
        changed.write_text(original.replace("ae-01,bookings,2026-Q1,1800000", "ae-01,bookings,2026-Q1,1700000"))
        import_file(ws, "quotas", changed, actor="bob")
        import_file(ws, "quotas", changed, actor="carol")   # same content: nothing new, no audit
        rows = [r for r in audit_rows(ws, "quota.set") if r[0].startswith("default/ae-01|bookings")]
        before = [json.loads(r[2]) for r in rows]
        assert [(r[1], b and b["amount"], json.loads(r[3])["amount"]) for r, b in zip(rows, before, strict=True)] == [
            ("alice", None, "1800000"), ("bob", "1800000", "1700000")]
        assert len(audit_rows(ws, "participant.set")) == 32
        with ws.engine.connect() as conn:
            assert verify_chain(conn).ok
    finally:
        ws.close()


def test_plan_versions_and_assignments_are_audited_once(tmp_path: Path):
    demo = generate(tmp_path / "demo")
    ws = init_workspace(tmp_path / "ws")
    try:
        import_file(ws, "plans", demo.root / "plans", actor="alice")
        import_file(ws, "plans", demo.root / "plans", actor="alice")
        plans = audit_rows(ws, "plan.set")
        assert len(plans) == 5
        assert all(json.loads(r[3])["source_text"].startswith("sha256:") for r in plans)
        assert len(audit_rows(ws, "assignment.set")) == 5
    finally:
        ws.close()
