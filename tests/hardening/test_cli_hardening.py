"""The command line with hostile user data and a failing machine: no traceback, a clear line."""

from __future__ import annotations

import errno
import sys
from pathlib import Path

import pytest

from attain.cli import main
from attain.demo.generate import generate


@pytest.fixture(scope="module")
def company(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("company")
    generate(root)
    return root


def run_cli(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    from attain.cli import calc_commands

    monkeypatch.setattr(sys, "argv", ["attain", *args])
    monkeypatch.setattr(calc_commands.console, "width", 400)  # a table cell is never wrapped
    with pytest.raises(SystemExit) as exited:
        main.run()
        raise SystemExit(0)
    out, err = capsys.readouterr()
    return int(exited.value.code or 0), out, err


def _rename_first_ae(company: Path, tmp_path: Path, name: str) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    for file in (company / "data").iterdir():
        text = file.read_text(encoding="utf-8")
        if file.name == "participants.csv":
            lines = text.splitlines()
            for index, line in enumerate(lines):
                if line.startswith("ae-01,"):
                    fields = line.split(",")
                    fields[1] = name
                    lines[index] = ",".join(fields)
            text = "\n".join(lines) + "\n"
        (data / file.name).write_text(text, encoding="utf-8")
    return data


@pytest.mark.parametrize("name", ["[/]", "Maria Lopez [contractor]", "[bold red]Boss[/]"])
def test_names_with_brackets_are_shown_whole(company, tmp_path, monkeypatch, capsys, name):
    data = _rename_first_ae(company, tmp_path, name)
    code, out, err = run_cli(monkeypatch, capsys, "calc", "--period", "2026-Q1", "--plan",
                             str(company / "plans" / "account-executive.yaml"), "--data", str(data))
    assert code == 0, err
    assert f"ae-01 {name} " in out


def test_escape_sequences_in_names_never_reach_the_terminal(company, tmp_path, monkeypatch,
                                                             capsys):
    data = _rename_first_ae(company, tmp_path, "Eve\x1b]0;owned\x07\x1b[31mRed")
    code, out, err = run_cli(monkeypatch, capsys, "calc", "--period", "2026-Q1", "--plan",
                             str(company / "plans" / "account-executive.yaml"), "--data", str(data))
    assert code == 0, err
    assert "\x1b" not in out and "\x07" not in out
    assert "\\x1b]0;owned\\x07\\x1b[31mRed" in out


def test_visible_escapes_every_control_character():
    from attain.cli.consoles import visible

    assert visible("a\x1b[2Jb\x9b\u202ec\td\ne") == "a\\x1b[2Jb\\x9b\\u202ec\td\ne"
    assert visible("Zoë Ünal") == "Zoë Ünal"


@pytest.mark.parametrize(("number", "words"), [
    (errno.ENOSPC, "disk is full"), (errno.EROFS, "read-only"), (errno.ENOENT, "must exist"),
    (errno.EISDIR, "a directory"),
])
def test_an_os_error_is_one_line_and_exit_6(monkeypatch, capsys, number, words):
    def fail(*args, **kwargs):
        raise OSError(number, "simulated", "out/payouts.csv")

    monkeypatch.setattr(main, "app", fail)
    code, _out, err = run_cli(monkeypatch, capsys, "calc")
    assert code == main.SYSTEM_EXIT_CODE == 7
    assert "out/payouts.csv" in err and words in err
    assert "Traceback" not in err


def test_a_read_only_database_is_a_clear_error(tmp_path, monkeypatch, capsys):
    import sqlalchemy

    path = tmp_path / "ro.db"
    engine = sqlalchemy.create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.execute(sqlalchemy.text("create table t (x integer)"))
    read_only = sqlalchemy.create_engine(f"sqlite:///file:{path}?mode=ro&uri=true")

    def write(*args, **kwargs):
        with read_only.begin() as connection:
            connection.execute(sqlalchemy.text("insert into t values (1)"))

    monkeypatch.setattr(main, "app", write)
    code, _out, err = run_cli(monkeypatch, capsys, "run")
    assert code == 7
    assert "database cannot be written" in err and "readonly" in err
