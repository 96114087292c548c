"""Inputs the documentation forbids are refused with one line (issue 11).

Blank or duplicate people on a roster, a file that is not a registry, an empty change window,
the reserved version name ``none``, and a release folder that is a file or a symbolic link.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from promotion_world import (
    MODEL,
    PEOPLE_KEYS,
    ROSTER,
    SignedPromotion,
    World,
    make_verdict,
    pem,
)

from canarykit.cli.main import main
from canarykit.errors import GateDeniedError, InvalidInputError, StorageError
from canarykit.promotion.api import Promotion
from canarykit.promotion.approvals import Roster, person_key
from canarykit.promotion.calendar import Calendar
from canarykit.promotion.changes import ChangeTicket
from canarykit.promotion.clock import parse_instant
from canarykit.promotion.registry import RegistryStore
from canarykit.promotion.session import check_actor

# -- people -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("people", "rule"),
    [
        ({"": ["product"]}, "'' is not a name"),
        ({"  ": ["product"]}, "'  ' is not a name"),
        ({None: ["product"]}, "None is not a name"),
        ({5: ["product"]}, "5 is not a name"),
        ({"ann o'neil": ["product"]}, "is not an identity"),
        ({"x" * 200: ["product"]}, "is not an identity"),
        ({"a\x00b": ["product"]}, "is not an identity"),
        ({"Ann": ["product"], "ann": ["security"]}, "'Ann' and 'ann' are the same person"),
        # full-width letters are the same person after NFKC
        ({"ann": ["product"], "\uff21\uff4e\uff4e": ["security"]}, "are the same person"),
    ],
)
def test_a_roster_refuses_blank_odd_and_duplicate_people(people: dict[Any, Any], rule: str) -> None:
    with pytest.raises(InvalidInputError, match=rule):
        Roster.from_dict({"people": people})


def test_a_blank_person_in_a_yaml_roster_is_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    roster = tmp_path / "roster.yaml"
    roster.write_text('people:\n  "": [product]\n  ~: [security]\n  sam: [security]\n')
    registry = tmp_path / "r.sqlite"
    key = pem(Ed25519PrivateKey.generate(), tmp_path / "a.pem")
    code = main(
        [
            "config",
            "set-roster",
            str(roster),
            "--registry",
            str(registry),
            "--actor",
            "a",
            "--key",
            str(key),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert err == (
        f"canarykit: error: {roster}: roster: people: '' is not a name (every person needs a"
        " non-empty name); people: None is not a name (every person needs a non-empty name)\n"
    )


def test_names_are_compared_after_nfkc_and_case_folding(world: World) -> None:
    assert person_key("ANN") == person_key("\uff41nn") == "ann"
    assert check_actor("Sam") == "sam"
    assert Roster.from_dict({"people": {"Sam": ["security"]}}).roles_of("SAM") == ("security",)
    # the submitter cannot approve under another spelling of the same name ...
    world.submit("v1", actor="Ann")
    assert world.promotion.version(MODEL, "v1").submitter == "ann"
    with pytest.raises(GateDeniedError, match="four-eyes: ann submitted"):
        world.promotion.approve(
            MODEL, "v1", role="product", actor="ANN", verdict=make_verdict("v1", "sha256:x")
        )
    # ... and one person cannot approve in two roles under two spellings
    world.to_staging("v1")
    verdict = world.signed(make_verdict("v1", world.policy_digest))
    world.promotion.approve(MODEL, "v1", role="security", actor="Max", verdict=verdict)
    with pytest.raises(GateDeniedError, match="max already approved"):
        world.promotion.approve(MODEL, "v1", role="product", actor="MAX", verdict=verdict)
    assert {a.actor for a in world.promotion.status(MODEL).approvals} == {"sam", "max"}


def test_a_requester_cannot_approve_their_own_change_in_capitals(world: World) -> None:
    world.chg("CHG-7", ["v1"], approve=False, requester="olga")
    with pytest.raises(GateDeniedError, match="olga requested CHG-7"):
        world.promotion.approve_change("CHG-7", actor="OLGA", role="operations")


def test_the_roster_in_force_is_unchanged_by_a_refused_roster(world: World) -> None:
    with pytest.raises(InvalidInputError):
        world.promotion.configure(actor="sam", roster={"people": {"": ["security"]}})
    shown = world.promotion.store.config_get("roster")
    assert shown is not None
    assert set(yaml.safe_load(shown)["people"]) == set(ROSTER["people"])


# -- the registry file ------------------------------------------------------------------------


def test_an_empty_file_is_not_used_or_overwritten_as_a_registry(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "registry.sqlite"
    empty.touch()
    with pytest.raises(StorageError, match="an empty file, not a canarykit registry"):
        Promotion(empty)
    roster = tmp_path / "roster.yaml"
    roster.write_text(yaml.safe_dump(ROSTER))
    for argv in (
        ["config", "set-roster", str(roster), "--actor", "sam"],
        ["status"],
        ["audit", "verify"],
    ):
        assert main([*argv, "--registry", str(empty)]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"canarykit: error: {empty}: an empty file, not a canarykit")
        assert err.count("\n") == 1
        assert empty.read_bytes() == b""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["registry.sqlite", "roster.yaml"]


def test_an_sqlite_file_without_our_schema_is_never_written(tmp_path: Path) -> None:
    for name, setup in (
        ("blank.sqlite", "PRAGMA user_version = 7"),  # an SQLite file with no tables
        ("meta.sqlite", "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"),
    ):
        path = tmp_path / name
        conn = sqlite3.connect(path)
        conn.execute(setup)
        conn.close()
        before = path.read_bytes()
        with pytest.raises(StorageError, match="not a canarykit registry"):
            RegistryStore(path)
        assert path.read_bytes() == before


def test_a_broken_symbolic_link_is_not_followed_to_create_a_registry(tmp_path: Path) -> None:
    link = tmp_path / "registry.sqlite"
    link.symlink_to(tmp_path / "elsewhere.sqlite")
    with pytest.raises(StorageError, match="a broken symbolic link"):
        RegistryStore(link)
    assert not (tmp_path / "elsewhere.sqlite").exists()


def test_a_new_registry_is_published_whole_with_the_usual_mode(tmp_path: Path) -> None:
    path = tmp_path / "registry.sqlite"
    umask = os.umask(0o022)
    try:
        with SignedPromotion(path) as promotion:
            promotion.configure(actor="sam", roster=ROSTER)
    finally:
        os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
    with Promotion(path) as again:  # reopened: WAL mode and the schema are in the file
        assert again.store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert again.store.config_get("roster") is not None


# -- windows ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "rule"),
    [
        ({"weekly": {"days": ["mon"], "start": "08:00", "end": "08:00"}}, "make an empty window"),
        ({"weekly": {"days": ["mon"], "start": "00:00", "end": "00:00"}}, "make an empty window"),
        ({"weekly": {"days": ["mon"], "start": "24:00", "end": "08:00"}}, "start: must be HH:MM"),
        (
            {"start": "2026-11-25T08:00:00Z", "end": "2026-11-25T08:00:00Z"},
            "end: must be after",
        ),
        (
            {"start": "2026-11-25T09:00:00+01:00", "end": "2026-11-25T08:00:00Z"},  # same instant
            "end: must be after",
        ),
        (
            {"start": "2026-11-26T08:00:00Z", "end": "2026-11-25T08:00:00Z"},
            "end: must be after",
        ),
    ],
)
def test_an_empty_or_backward_calendar_window_is_refused(entry: dict[str, Any], rule: str) -> None:
    for key in ("windows", "freezes"):
        document = {"windows": [{"name": "ok", "weekly": _WEEKDAYS}]}
        document[key] = [*document.get(key, []), {"name": "bad", **entry}]  # type: ignore[list-item]
        with pytest.raises(InvalidInputError, match=rule):
            Calendar.from_dict(document)


_WEEKDAYS = {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "08:00", "end": "18:00"}


def test_a_whole_day_window_ends_at_24_00() -> None:
    calendar = Calendar.from_dict(
        {
            "windows": [
                {"name": "always", "weekly": {"days": ["sun"], "start": "00:00", "end": "24:00"}}
            ]
        }
    )
    sunday = parse_instant("2026-11-22T00:00:00Z")
    windows, _ = calendar.intervals_near(sunday)
    assert {"name": "always", "start_ns": sunday, "end_ns": sunday + 86_400 * 10**9} in windows
    assert Calendar.from_dict(calendar.to_dict()) == calendar


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("2026-11-25T08:00:00Z", "2026-11-25T08:00:00Z"),
        ("1970-01-01T00:00:00Z", "1970-01-01T00:00:00Z"),  # the epoch is an instant like others
        ("1970-01-01T00:00:01Z", "1970-01-01T00:00:00Z"),
        ("2026-11-25T09:00:00Z", "2026-11-25T08:00:00Z"),
    ],
)
def test_an_empty_or_backward_ticket_window_is_refused(start: str, end: str) -> None:
    ticket = {
        "id": "CHG-1",
        "type": "Normal",
        "scope": {"model": MODEL, "versions": ["v1"]},
        "risk": "low",
        "impact": "none",
        "window": {"start": start, "end": end},
        "steps": ["promote"],
        "backout_plan": "rollback",
        "post_change_validation": ["check-startup"],
        "owners": ["olga"],
    }
    with pytest.raises(InvalidInputError, match=r"window.end: must be after window.start"):
        ChangeTicket.from_dict(ticket)


# -- version names ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "version", "rule"),
    [
        (MODEL, "none", "is reserved"),
        (MODEL, "None", "is reserved"),
        (MODEL, "NONE", "is reserved"),
        ("none", "v1", "is reserved"),
        (MODEL, "v1\x1b[31m", "must be 1-128 letters"),
        (MODEL, "v1\n", "must be 1-128 letters"),
        (MODEL, "\x00", "must be 1-128 letters"),
        (MODEL, "v 1", "must be 1-128 letters"),
    ],
)
def test_reserved_and_control_character_names_are_not_submitted(
    world: World, capsys: pytest.CaptureFixture[str], model: str, version: str, rule: str
) -> None:
    registry = world.tmp / "registry.sqlite"
    before = registry.read_bytes()
    code = main(
        [
            "submit",
            model,
            version,
            "--artifact",
            str(world.artifact("v1")),
            "--registry",
            str(registry),
            "--actor",
            "ann",
            "--key",
            str(pem(PEOPLE_KEYS["ann"], world.tmp / "ann.pem")),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert rule in err
    assert err.count("\n") == 1
    assert registry.read_bytes() == before
    assert world.promotion.status().versions == ()


# -- release folders --------------------------------------------------------------------------


def _release(world: World, out: Path) -> Any:
    return world.promotion.release(
        MODEL,
        "v1",
        out=out,
        signing_key=world.key,
        key_id="release-key",
        policy=world.policy_dir,
        actor="olga",
    )


def test_release_never_follows_a_symbolic_link_or_overwrites_a_file(world: World) -> None:
    world.approved("v1")
    target_dir = world.tmp / "elsewhere"
    target_dir.mkdir()
    victim = world.tmp / "victim.txt"
    victim.write_text("precious")
    cases = {
        "link-to-folder": (target_dir, "is a symbolic link"),
        "link-to-file": (victim, "is a symbolic link"),
        "dangling-link": (world.tmp / "missing", "is a symbolic link"),
    }
    for name, (target, rule) in cases.items():
        link = world.tmp / name
        link.symlink_to(target)
        with pytest.raises(InvalidInputError, match=rule):
            _release(world, link)
        assert link.is_symlink()
    existing = world.tmp / "release.txt"
    existing.write_text("not a folder")
    with pytest.raises(InvalidInputError, match="is a file"):
        _release(world, existing)
    busy = world.tmp / "busy"
    busy.mkdir()
    (busy / "release_notes.md").symlink_to(victim)
    with pytest.raises(InvalidInputError, match="is not empty"):
        _release(world, busy)
    assert victim.read_text() == "precious"
    assert list(target_dir.iterdir()) == []
    assert existing.read_text() == "not a folder"
    assert not (world.tmp / "missing").exists()
    # a new or empty folder is fine, and leaves no private build folder behind
    empty = world.tmp / "empty"
    empty.mkdir()
    result = _release(world, empty)
    assert "release_manifest.json" in result.files
    assert (empty / "policy_snapshot" / "snapshot.dsse.json").is_file()
    assert not [p for p in world.tmp.iterdir() if p.name.startswith(".empty")]
    with pytest.raises(InvalidInputError, match="already holds a release"):
        _release(world, empty)


def test_release_out_on_a_file_or_link_is_exit_2_from_the_cli(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.approved("v1")
    victim = world.tmp / "victim.txt"
    victim.write_text("precious")
    link = world.tmp / "rel"
    link.symlink_to(victim)
    key = world.tmp / "release.pem"
    from promotion_world import pem

    pem(world.key, key)
    for out in (str(link), str(victim)):
        code = main(
            [
                "release",
                MODEL,
                "v1",
                "--out",
                out,
                "--signing-key",
                str(key),
                "--key-id",
                "release-key",
                "--policy",
                str(world.policy_dir),
                "--registry",
                str(world.tmp / "registry.sqlite"),
                "--actor",
                "olga",
            ]
        )
        err = capsys.readouterr().err
        assert code == 2, err
        assert err.count("\n") == 1
        assert victim.read_text() == "precious"
