"""The promotion commands end to end through ``canarykit.cli.main.main`` (exit codes, output),
in the signed flow of issue 13: people sign their acts with ``--key`` (or ``$CANARYKIT_KEY``),
configuration changes under four eyes, and a fixed ``--clock`` only on a drill registry."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from pathlib import Path

import pytest

from canarykit.cli import common
from canarykit.cli.main import main
from canarykit.promotion import acts
from tests.cli.signed_cli import MODEL, Cli


@pytest.fixture
def cli(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    monkeypatch.delenv(common.KEY_ENV, raising=False)
    runner = Cli(tmp_path, capsys, drill=False)
    runner.setup()
    return runner


@pytest.fixture
def drill(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Cli:
    monkeypatch.delenv(common.KEY_ENV, raising=False)
    runner = Cli(tmp_path, capsys, drill=True)
    runner.setup()
    return runner


def test_seed_flow_through_the_cli(cli: Cli) -> None:
    cli.to_approved("v1")
    std = cli.ticket("CHG-STD", ["v1"], kind="Standard")
    assert cli("change", "create", std)[0] == 0
    code, out, _ = cli("change", "show", "CHG-STD", actor=None)
    assert code == 0
    assert "CHG-STD (Standard" in out
    code, out, err = cli("alias", "set", MODEL, "v1", "--expect", "none", "--chg", "CHG-STD")
    assert code == 0, err
    assert "production of risk-default → v1 (generation 1)" in out
    assert "DRILL" not in out + err
    code, out, _ = cli("status", MODEL, "--format", "json", actor=None)
    assert json.loads(out)["aliases"][0]["version"] == "v1"
    assert "drill" not in json.loads(out)

    out_dir = cli.tmp / "rel"
    code, out, err = cli(
        *("release", MODEL, "v1", "--out", str(out_dir)),
        *("--signing-key", cli.pem("release-key"), "--key-id", "release-key"),
        *("--policy", str(cli.policy)),
    )
    assert code == 0, err
    assert (out_dir / "release_manifest.json").is_file()
    assert (out_dir / "policy_snapshot" / "snapshot.dsse.json").is_file()
    v1_bin = str(cli.tmp / "v1.bin")
    code, out, err = cli("release", "verify", str(out_dir), "--artifact", v1_bin, actor=None)
    assert code == 0, out + err
    assert "VERIFIED" in out.splitlines()[-1]

    startup = ("check-startup", MODEL, "--policy-digest", cli.digest, "--artifact", v1_bin)
    code, out, _ = cli(*startup)
    assert (code, out.splitlines()[0]) == (0, "OK risk-default v1 (production): may start")
    code, out, _ = cli(
        "check-startup", MODEL, "--policy-digest", "sha256:" + "0" * 64, "--artifact", v1_bin
    )
    assert code == 15
    assert "runbook:" in out

    code, out, _ = cli("revoke", MODEL, "v1", "--reason", "leak", actor="sam")
    assert code == 0
    assert "production BLOCKED" in out
    code, out, _ = cli(*startup)
    assert code == 10
    code, out, _ = cli(*startup, "--version", "v1")
    assert code == 11
    assert "FAIL risk-default v1" in out
    code, out, _ = cli("alias", "history", MODEL, actor=None)
    assert "revocation" in out
    assert "BLOCKED" in out

    code, out, _ = cli("audit", "verify", actor=None)
    assert code == 0
    assert "audit log intact" in out
    export = cli.tmp / "audit.jsonl"
    assert cli("audit", "export", "--out", str(export), actor=None)[0] == 0
    events = [json.loads(line) for line in export.read_text().splitlines()]
    kinds = [e["kind"] for e in events]
    for kind in ("registry_init", "config", "promotion", "approval", "alias_update", "release"):
        assert kind in kinds
    assert "revocation" in kinds
    assert events[0]["payload"]["drill"] is False
    approvals = [e for e in events if e["kind"] == "approval"]
    assert approvals
    assert all(e["payload"]["act"]["signed"] for e in approvals)  # each approval is signed


def test_denials_exit_4_with_reasons_and_audit_event(cli: Cli) -> None:
    assert cli("submit", MODEL, "v1", "--artifact", cli.artifact("v1"), actor="ann")[0] == 0
    code, _, err = cli("approve", MODEL, "v1", "--role", "product", actor="ann")
    assert code == 4
    assert "four-eyes: ann submitted risk-default v1" in err
    code, out, _ = cli("audit", "export", "--out", "-", actor=None)
    assert json.loads(out.splitlines()[-1])["kind"] == "gate_denied"


def test_an_act_without_a_key_is_a_one_line_usage_error(cli: Cli) -> None:
    before = len(cli("audit", "export", "--out", "-", actor=None)[1].splitlines())
    code, out, err = cli(
        "submit", MODEL, "v1", "--artifact", cli.artifact("v1"), actor="ann", key=None
    )
    assert code == 2
    assert out == ""
    assert len(err.splitlines()) == 1
    assert "--key FILE or $CANARYKIT_KEY" in err
    after = len(cli("audit", "export", "--out", "-", actor=None)[1].splitlines())
    assert after == before  # nothing written
    for argv in (
        ("approve", MODEL, "v1", "--role", "security", "--stage", "Staging"),
        (
            "waive",
            MODEL,
            "--id",
            "SCDR-1",
            "--check",
            "CVE-1",
            "--reason",
            "r",
            "--owner",
            "sam",
            "--expires",
            "2100-01-01T00:00:00Z",
        ),
        ("revoke", MODEL, "v1", "--reason", "leak"),
        ("change", "create", cli.ticket("CHG-1", ["v1"])),
        ("change", "approve", "CHG-1", "--role", "operations"),
        ("config", "propose", "calendar", cli.file("c.yaml", cli.calendar())),
        ("config", "approve", "CFG-1"),
    ):
        code, _, err = cli(*argv, actor="sam", key=None)
        assert (code, "$CANARYKIT_KEY" in err) == (2, True), argv


def test_another_persons_key_is_refused(cli: Cli) -> None:
    assert cli("submit", MODEL, "v1", "--artifact", cli.artifact("v1"), actor="ann")[0] == 0
    approve = ("approve", MODEL, "v1", "--role", "security", "--stage", "Staging")
    code, _, err = cli(*approve, actor="sue", key=cli.pem("sam"))
    assert code == 4
    assert "signed with sam's key, not sue's" in err
    code, _, err = cli(*approve, actor="sue", key=cli.pem("release-key"))
    assert code == 4
    assert "which the roster does not list for sue" in err
    code, _, err = cli(*approve, actor="sue", key=str(cli.tmp / "roster.yaml"))
    assert code == 2
    assert "not a PEM private key" in err
    code, out, _ = cli("audit", "export", "--out", "-", actor=None)
    assert json.loads(out.splitlines()[-1])["kind"] == "gate_denied"


def test_the_key_comes_from_canarykit_key_and_key_wins(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert common.KEY_ENV == acts.KEY_ENV == "CANARYKIT_KEY"
    monkeypatch.setenv("CANARYKIT_KEY", cli.pem("ann"))
    submit = ("submit", MODEL, "v1", "--artifact", cli.artifact("v1"))
    code, out, err = cli(*submit, actor="ann", key=None)
    assert code == 0, err
    assert "submitted by ann" in out
    monkeypatch.setenv("CANARYKIT_KEY", cli.pem("pat"))  # --key wins over the variable
    approve = ("approve", MODEL, "v1", "--role", "security", "--stage", "Staging")
    code, _, err = cli(*approve, actor="sam", key=cli.pem("sam"))
    assert code == 0, err


def test_the_fixed_clock_is_only_for_drill_registries(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CANARYKIT_ALLOW_CLOCK_OVERRIDE", "1")  # has no effect any more
    events = cli("audit", "export", "--out", "-", actor=None)[1]
    fixed = ("--clock", "2026-12-01T10:00:00Z")
    for argv, actor in (
        (("status",), None),
        (("submit", MODEL, "v1", "--artifact", cli.artifact("v1")), "ann"),
        (("change", "create", cli.ticket("CHG-1", ["v1"])), "olga"),
    ):
        code, out, err = cli(*argv, *fixed, actor=actor)
        assert code == 2, argv
        assert "--clock: only for drill registries (canarykit config init --drill)" in err
        assert out == ""
    assert cli("audit", "export", "--out", "-", actor=None)[1] == events  # nothing written
    path = cli.tmp / "other.sqlite"
    code = main(["config", "init", str(path), "--actor", "sam", "--clock", "2026-12-01T10:00:00Z"])
    assert code == 2
    assert "only for drill registries" in cli.capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["submit", "--help"])
    help_text = " ".join(cli.capsys.readouterr().out.split())
    assert "only for drill registries" in help_text
    assert "CANARYKIT_ALLOW_CLOCK_OVERRIDE no longer has any effect" in help_text
    assert not hasattr(common, "CLOCK_ENV")


def test_a_registry_is_created_once(cli: Cli) -> None:
    code, _, err = cli("config", "init", "--actor", "sam", actor=None)
    assert code == 2
    assert "a registry is created once" in err


def test_configuration_changes_under_four_eyes(cli: Cli) -> None:
    nina = cli.keygen("nina")
    roster = cli.roster(nina={"roles": ["security"], "keys": [nina]})
    code, out, err = cli("config", "set-roster", cli.file("roster2.yaml", roster), actor="sam")
    assert code == 0, err
    assert "CFG-1: roster" in out
    assert "canarykit config approve CFG-1" in out
    code, out, _ = cli("config", "proposals", "--pending", "--format", "json", actor=None)
    assert [p["id"] for p in json.loads(out)["proposals"]] == ["CFG-1"]
    code, _, err = cli("config", "approve", "CFG-1", actor="sam")
    assert code == 4
    assert "four-eyes: sam proposed CFG-1" in err
    code, _, err = cli("config", "approve", "CFG-1", actor="otto")
    assert code == 4
    assert "otto holds none of the roles security" in err
    code, out, err = cli("config", "approve", "CFG-1", actor="sue")
    assert code == 0, err
    assert "roster in force" in out
    code, out, _ = cli("config", "show", "--format", "json", actor=None)
    assert "nina" in json.loads(out)["roster"]["people"]
    code, out, _ = cli("config", "proposals", actor=None)
    assert "CFG-1: roster" in out
    assert "approved by sue" in out
    # the calendar is the operations people's: proposed by one, approved by another
    freeze = {"name": "xmas", "start": "2026-12-24T00:00:00Z", "end": "2026-12-27T00:00:00Z"}
    cal = cli.file("cal2.yaml", {**cli.calendar(), "freezes": [freeze]})
    code, out, err = cli("config", "propose", "calendar", cal, actor="olga")
    assert code == 0, err
    assert cli("config", "approve", "CFG-2", actor="sam")[0] == 4
    assert cli("config", "approve", "CFG-2", actor="otto")[0] == 0
    code, _, err = cli("config", "approve", "CFG-2", actor="otto")
    assert code == 4
    assert "already" in err
    code, _, err = cli("config", "bootstrap", "--roster", cli.file("r3.yaml", roster), actor="sam")
    assert code == 4
    assert "bootstrap happens once" in err


def test_keygen_writes_a_private_key_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = tmp_path / "me.pem"
    pub = tmp_path / "me.pub"
    assert main(["keygen", "--out", str(key), "--public-out", str(pub)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == pub.read_text().strip()
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    first = key.read_bytes()
    assert main(["keygen", "--out", str(key)]) == 2
    assert "never overwrites" in capsys.readouterr().err
    assert key.read_bytes() == first
    link = tmp_path / "link.pem"
    link.symlink_to(tmp_path / "elsewhere.pem")
    assert main(["keygen", "--out", str(link)]) == 2
    assert not (tmp_path / "elsewhere.pem").exists()


def test_stale_compare_and_set_exits_4(cli: Cli) -> None:
    cli.to_approved("v1")
    cli.to_approved("v2")
    assert cli("change", "create", cli.ticket("CHG-S", ["v1", "v2"], kind="Standard"))[0] == 0
    assert cli("alias", "set", MODEL, "v1", "--expect", "none", "--chg", "CHG-S")[0] == 0
    code, _, err = cli("alias", "set", MODEL, "v2", "--expect", "none", "--chg", "CHG-S")
    assert code == 4
    assert "compare-and-set: production is v1" in err
    assert cli("alias", "set", MODEL, "v2", "--expect", "v1", "--chg", "CHG-S")[0] == 0
    code, out, err = cli("rollback", MODEL, "--chg", "CHG-S", "--expect", "v2")
    assert code == 0, err
    assert "rolled back to v1" in out


def test_tampered_audit_log_exits_5(cli: Cli) -> None:
    conn = sqlite3.connect(cli.registry)
    conn.executescript(
        "DROP TRIGGER events_append_only_update;UPDATE events SET actor = 'mallory' WHERE seq = 2;"
    )
    conn.close()
    code, out, _ = cli("audit", "verify", actor=None)
    assert code == 5
    assert "seq 2: hash does not match" in out


def test_missing_registry_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["status", "--registry", str(tmp_path / "nope.sqlite")])
    assert code == 2
    assert "registry does not exist" in capsys.readouterr().err
    assert not (tmp_path / "nope.sqlite").exists()


def test_bad_ticket_file_lists_every_field_error(cli: Cli) -> None:
    code, _, err = cli("change", "create", cli.file("bad.yaml", {"id": "CHG-1", "type": "Big"}))
    assert code == 2
    assert len([line for line in err.splitlines() if "error:" in line]) == 1
    for field in ("type: 'Big'", "scope: required", "window: required", "owners: required"):
        assert field in err


def test_check_startup_help_documents_every_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["check-startup", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for code in (
        "0 may start",
        "10 resolve",
        "11 revoked",
        "12 stage",
        "13 artifact",
        "14 signature",
        "15 policy",
        "16 audit",
        "17 undecided",
        "18 degraded",
        "19 drill",
    ):
        assert code in text


# -- drill registries -------------------------------------------------------------------------


def test_a_drill_registry_takes_the_fixed_clock_and_says_drill(drill: Cli) -> None:
    code, out, err = drill("status", actor=None)
    assert code == 0
    assert err.startswith("DRILL registry: ")
    assert "clock fixed at 2026-11-25T10:00:00Z" in err
    code, out, err = drill("status", actor=None, clock=False)  # a drill on the system clock
    assert (code, err.startswith("DRILL registry: "), "clock fixed" in err) == (0, True, False)
    code, out, err = drill("status", "--format", "json", actor=None)
    assert json.loads(out)["drill"] is True
    assert "DRILL registry" in err
    artifact = drill.artifact("v1")
    code, out, err = drill(
        "submit", MODEL, "v1", "--artifact", artifact, "--format", "json", actor="ann"
    )
    assert code == 0, err
    assert json.loads(out)["drill"] is True
    assert json.loads(out)["submitted_at"].startswith("2026-11-25T10:00:00")
    code, out, err = drill(
        "approve", MODEL, "v1", "--role", "product", "--format", "json", actor="ann"
    )
    assert code == 4
    assert json.loads(out) == {**json.loads(out), "allowed": False, "drill": True}
    assert "DRILL registry" in err
    code, out, _ = drill("audit", "export", "--out", "-", actor=None)
    first = json.loads(out.splitlines()[0])
    assert (first["kind"], first["payload"]["drill"]) == ("registry_init", True)


def test_check_startup_refuses_a_drill_registry_with_exit_19(drill: Cli) -> None:
    drill.to_approved("v1")
    assert drill("change", "create", drill.ticket("CHG-STD", ["v1"], kind="Standard"))[0] == 0
    code, _, err = drill("alias", "set", MODEL, "v1", "--expect", "none", "--chg", "CHG-STD")
    assert code == 0, err
    v1_bin = str(drill.tmp / "v1.bin")
    startup = ("check-startup", MODEL, "--policy-digest", drill.digest, "--artifact", v1_bin)
    code, out, err = drill(*startup)
    assert code == 19
    assert "drill" in out.lower()
    assert "DRILL registry" in err


def test_a_drill_registry_accepts_unsigned_acts_of_people_without_keys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(common.KEY_ENV, raising=False)
    run = Cli(tmp_path, capsys, drill=True)
    assert run("config", "init", "--drill", "--actor", "sam", actor=None)[0] == 0
    roster = run.file("old.yaml", {"people": {"ann": ["product"], "sam": ["security"]}})
    code, out, err = run("config", "set-roster", roster, actor="sam", key=None)
    assert code == 0, err
    assert "by bootstrap" in out
    code, _, err = run(
        "submit", MODEL, "v1", "--artifact", run.artifact("v1"), actor="ann", key=None
    )
    assert code == 0, err
    approve = ("approve", MODEL, "v1", "--role", "security", "--stage", "Staging")
    code, _, err = run(*approve, actor="sam", key=None)
    assert code == 0, err


def test_events_of_a_drill_registry_say_drill(drill: Cli) -> None:
    code = main(["events", "--registry", drill.registry, "--format", "jsonl"])
    out, err = drill.capsys.readouterr()
    assert code == 0, err
    assert err.startswith("DRILL registry: ")
    events = [json.loads(line) for line in out.splitlines()]
    assert events
    assert all("drill" in line for line in out.splitlines())


def test_configuring_a_new_registry_without_a_key_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(common.KEY_ENV, raising=False)
    roster = tmp_path / "roster.yaml"
    roster.write_text("people:\n  sam: [security]\n")
    registry = tmp_path / "new.sqlite"
    for argv in (
        ["config", "set-roster", str(roster)],
        ["config", "bootstrap", "--roster", str(roster)],
    ):
        code = main([*argv, "--registry", str(registry), "--actor", "sam"])
        assert code == 2
        assert "$CANARYKIT_KEY" in capsys.readouterr().err
        assert not registry.exists()
