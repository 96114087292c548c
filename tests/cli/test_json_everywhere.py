"""``--format json`` on every command, ``-`` as stdout for every ``--out``, and file modes.

Every leaf command of the parser takes ``--format text|json``; with JSON, stdout is exactly
one JSON document (a denial too: ``{"allowed": false, "reasons": [...]}``, exit 4). Files the
CLI writes get the mode any new file gets (0666 less the umask), never a surprising 0600.
"""

from __future__ import annotations

import argparse
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from canarykit.cli.main import build_parser, main
from canarykit.traces.generate import generate_traces

MODEL = "risk-default"
CLOCK = "2026-11-25T10:00:00Z"


def _leaves(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield path, parser
        return
    for name, child in subs[0].choices.items():
        yield from _leaves(child, (*path, name))


def test_every_command_takes_format_json() -> None:
    leaves = dict(_leaves(build_parser()))
    assert len(leaves) > 30
    missing = []
    for path, parser in leaves.items():
        formats = [a for a in parser._actions if "--format" in a.option_strings]
        if not formats or "json" not in (formats[0].choices or ()):
            missing.append(" ".join(path))
    assert not missing, missing


def _json(capsys: pytest.CaptureFixture[str]) -> object:
    out = capsys.readouterr().out
    return json.loads(out)


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("json") / "identical.parquet"
    pq.write_table(generate_traces("identical", n_requests=20_000, canary_share=0.25, seed=5), path)
    return path


def test_store_and_verdict_commands_speak_json(
    source: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "s.duckdb")
    assert main(["ingest", str(source), "--db", db, "--format", "json"]) == 0
    ingested = _json(capsys)
    assert ingested["rows_ingested"] == ingested["rows_read"] == 20_000
    assert ingested["db"] == db

    table = pq.read_table(source)
    labels = tmp_path / "labels.parquet"
    pq.write_table(
        pa.table(
            {
                "request_id": table["request_id"].slice(0, 10),
                "arm": table["arm"].slice(0, 10),
                "label": table["label"].slice(0, 10),
            }
        ),
        labels,
    )
    assert main(["ingest-labels", str(labels), "--db", db, "--format", "json"]) == 0
    assert _json(capsys)["labels_read"] == 10

    assert main(["info", "--db", db, "--format", "json"]) == 0
    assert _json(capsys)

    verdict = tmp_path / "v.json"
    assert main(["evaluate", db, "--out", str(verdict), "--format", "json"]) == 0
    assert _json(capsys)["decision"] == "PROCEED"

    assert main(["replay", str(verdict), db, "--format", "json"]) == 0
    replayed = _json(capsys)
    assert replayed["identical"] is True
    assert replayed["differences"] == []

    assert main(["log", "--db", db, "--format", "json"]) == 0
    assert _json(capsys)[0]["decision"] == "PROCEED"

    out = tmp_path / "r.html"
    code = main(["report", str(verdict), db, "--out", str(out), "--dpi", "20", "--format", "json"])
    assert code == 0
    reported = _json(capsys)
    assert reported["out"] == str(out)
    assert reported["decision_follows"] is True


def test_dash_means_stdout_for_every_out(
    source: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["evaluate", str(source), "--out", "-", "--no-log"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["schema"] == "canarykit.verdict/1"  # nothing else on stdout
    verdict = tmp_path / "v.json"
    verdict.write_text(captured.out)
    assert not (tmp_path / "-").exists()

    assert main(["report", str(verdict), str(source), "--out", "-", "--dpi", "20"]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("<!DOCTYPE html>")
    assert captured.out.rstrip().endswith("</html>")
    assert "PROCEED report" in captured.err
    assert not Path("-").exists()


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o027])
def test_written_files_get_the_umask_mode(
    source: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], umask: int
) -> None:
    previous = os.umask(umask)
    try:
        verdict = tmp_path / "v.json"
        assert main(["evaluate", str(source), "--out", str(verdict), "--no-log"]) == 0
        report = tmp_path / "r.html"
        assert main(["report", str(verdict), str(source), "--out", str(report), "--dpi", "20"]) == 0
    finally:
        os.umask(previous)
    capsys.readouterr()
    for path in (verdict, report):
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask, path


class Registry:
    """Promotion commands against one registry with a fixed clock, always ``--format json``."""

    def __init__(self, tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.tmp, self.capsys = tmp, capsys
        self.path = str(tmp / "reg.sqlite")

    def __call__(self, *argv: str, actor: str | None = "olga") -> tuple[int, str, str]:
        args = [*argv, "--registry", self.path, "--clock", CLOCK, "--format", "json"]
        if actor is not None:
            args += ["--actor", actor]
        code = main(args)
        out, err = self.capsys.readouterr()
        return code, out, err

    def file(self, name: str, data: object) -> str:
        path = self.tmp / name
        path.write_text(yaml.safe_dump(data))
        return str(path)


@pytest.fixture
def registry(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Registry:
    monkeypatch.delenv("CANARYKIT_KEY", raising=False)
    registry = Registry(tmp_path, capsys)  # a drill registry: fixed clock, unsigned acts
    init = ("config", "init", registry.path, "--drill", "--actor", "sam", "--format", "json")
    assert main(list(init)) == 0
    created = json.loads(capsys.readouterr().out)
    assert (created["drill"], created["registry"]) == (True, registry.path)
    return registry


def test_promotion_commands_speak_json(registry: Registry) -> None:
    roster = {
        "people": {
            "ann": ["product"],
            "sam": ["security"],
            "olga": ["operations"],
            "otto": ["operations"],
        }
    }
    calendar = {
        "windows": [
            {
                "name": "always",
                "weekly": {"days": ["mon", "tue", "wed"], "start": "00:00", "end": "23:59"},
            }
        ]
    }
    code, out, err = registry(
        "config", "set-roster", registry.file("roster.yaml", roster), actor="sam"
    )
    assert code == 0, err
    assert (json.loads(out)["set"], json.loads(out)["drill"]) == ("roster", True)
    code, out, err = registry("config", "set-calendar", registry.file("cal.yaml", calendar))
    assert code == 0, err
    assert json.loads(out)["id"] == "CFG-1"  # configured: a proposal, for a second person
    code, out, err = registry("config", "approve", "CFG-1", actor="otto")
    assert code == 0, err
    assert json.loads(out)["state"] == "applied"
    code, out, err = registry("config", "proposals", actor=None)
    assert code == 0, err
    assert json.loads(out)["proposals"][0]["approved_by"] == "otto"
    code, out, err = registry("config", "show", actor=None)
    assert code == 0, err
    assert json.loads(out)["roster"]["people"]["ann"] == ["product"]

    artifact = registry.tmp / "model.bin"
    artifact.write_bytes(b"weights")
    code, out, err = registry("submit", MODEL, "v1", "--artifact", str(artifact), actor="ann")
    assert code == 0, err
    assert json.loads(out)["version"] == "v1"

    code, out, err = registry(
        "approve", MODEL, "v1", "--role", "security", "--stage", "Staging", actor="sam"
    )
    assert code == 0, err
    assert json.loads(out)["role"] == "security"

    code, out, err = registry(
        "waive",
        MODEL,
        "--id",
        "SCDR-1",
        "--check",
        "CVE-2026-0001",
        "--reason",
        "not reachable",
        "--owner",
        "sam",
        "--expires",
        "2026-12-20T00:00:00Z",
        actor="sam",
    )
    assert code == 0, err
    assert json.loads(out)["check"] == "CVE-2026-0001"

    ticket = {
        "id": "CHG-1",
        "type": "Normal",
        "scope": {"model": MODEL, "versions": ["v1"]},
        "risk": "low",
        "impact": "scoring",
        "steps": ["go"],
        "backout_plan": "rollback",
        "window": {"start": "2026-11-25T08:00:00Z", "end": "2026-11-27T18:00:00Z"},
        "post_change_validation": ["check-startup"],
        "owners": ["olga"],
    }
    code, out, err = registry("change", "create", registry.file("chg.yaml", ticket))
    assert code == 0, err
    assert json.loads(out)["id"] == "CHG-1"
    code, out, err = registry("change", "approve", "CHG-1", "--role", "operations", actor="otto")
    assert code == 0, err
    assert json.loads(out)["role"] == "operations"

    code, out, err = registry("status", MODEL, actor=None)
    assert code == 0, err
    assert json.loads(out)

    code, out, err = registry("audit", "verify", actor=None)
    assert code == 0, out + err
    assert json.loads(out)["ok"] is True


def test_a_denial_with_format_json_is_a_json_document_and_exit_4(registry: Registry) -> None:
    roster = {"people": {"ann": ["product"], "sam": ["security"]}}
    roster_file = registry.file("roster.yaml", roster)
    assert registry("config", "set-roster", roster_file, actor="sam")[0] == 0
    artifact = registry.tmp / "model.bin"
    artifact.write_bytes(b"weights")
    assert registry("submit", MODEL, "v1", "--artifact", str(artifact), actor="ann")[0] == 0

    code, out, err = registry("approve", MODEL, "v1", "--role", "product", actor="ann")
    assert code == 4
    denial = json.loads(out)
    assert (denial["allowed"], denial["drill"]) == (False, True)
    assert err.startswith("DRILL registry: ")
    assert any("four-eyes" in r for r in denial["reasons"])
    assert "canarykit: denied: approve risk-default v1" in err.splitlines()[1]
    assert "  - four-eyes: ann submitted risk-default v1 and cannot approve it" in err
    assert all(len(line) <= 300 for line in err.splitlines())

    code, out, _ = registry("promote", MODEL, "v1", "--to", "Staging", actor="sam")
    assert code == 4
    assert json.loads(out)["allowed"] is False

    code, out, _ = registry("audit", "export", "--out", "-", actor=None)
    assert code == 0
    events = [json.loads(line) for line in out.splitlines()]
    assert events[-1]["kind"] == "gate_denied"


def test_release_refuses_dash_and_an_existing_file(registry: Registry, tmp_path: Path) -> None:
    existing = tmp_path / "release"
    existing.write_text("not a folder")
    for out, message in (("-", "--out -: a release is a folder"), (str(existing), "is a file")):
        code, stdout, err = registry(
            "release", MODEL, "v1", "--out", out, "--signing-key", "k.pem", "--key-id", "k"
        )
        assert code == 2
        assert stdout == ""
        assert err.count("\n") == 1
        assert message in err
    assert existing.read_text() == "not a folder"
