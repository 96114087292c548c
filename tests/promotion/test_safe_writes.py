"""Outputs never follow symbolic links, and release notes cannot be forged by ticket text (issue 13,
"Safe writes and bounded work").

Every file canarykit writes goes through :mod:`canarykit.safe_io`: a target or an output folder
that is a symbolic link is refused with one line naming it (exit status 2) and whatever the link
points to is left as it was; files are replaced atomically (temporary file, fsync, rename).
Ticket text (impact, steps, backout plan, validation) reaches ``release_notes.md`` escaped: a
newline, ``#``, ``|`` or HTML in it cannot start a section, a table row or markup.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from promotion_world import MODEL, World, pem, shipped_policy

from canarykit.cli.common import write_output
from canarykit.cli.main import main
from canarykit.errors import InvalidInputError
from canarykit.promotion.release import md_text
from canarykit.safe_io import publish_folder, write_file

VICTIM_TEXT = "precious: do not overwrite\n"


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    """A file an attacker wants overwritten (outside every output folder)."""
    target = tmp_path / "victim" / "authorized_keys"
    target.parent.mkdir()
    target.write_text(VICTIM_TEXT)
    return target


def _intact(victim: Path) -> None:
    assert victim.read_text() == VICTIM_TEXT
    assert sorted(p.name for p in victim.parent.iterdir()) == [victim.name]


# -- the writer -------------------------------------------------------------------------------
def test_a_target_that_is_a_link_is_refused(tmp_path: Path, victim: Path) -> None:
    link = tmp_path / "out.json"
    link.symlink_to(victim)
    with pytest.raises(InvalidInputError, match=r"out\.json: is a symbolic link"):
        write_file(link, "{}")
    _intact(victim)
    assert link.is_symlink()  # not replaced either


def test_a_folder_that_is_a_link_is_refused(tmp_path: Path, victim: Path) -> None:
    folder = tmp_path / "outdir"
    folder.symlink_to(victim.parent, target_is_directory=True)
    with pytest.raises(InvalidInputError, match=r"outdir: is a symbolic link"):
        write_file(folder / "authorized_keys", "ssh-ed25519 AAAA attacker")
    with pytest.raises(InvalidInputError, match=r"outdir: is a symbolic link"):
        write_file(folder / "new.json", "{}")
    _intact(victim)


def test_a_dangling_link_is_refused_and_nothing_is_created(tmp_path: Path) -> None:
    link = tmp_path / "out.json"
    link.symlink_to(tmp_path / "created-through-the-link")
    with pytest.raises(InvalidInputError, match="symbolic link"):
        write_file(link, "{}")
    assert not (tmp_path / "created-through-the-link").exists()


def test_writes_are_atomic_and_leave_no_temporary_files(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "er" / "out.json"
    write_file(target, "old")
    write_file(target, b"new")
    assert target.read_text() == "new"
    assert [p.name for p in target.parent.iterdir()] == ["out.json"]
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask
    with pytest.raises(InvalidInputError, match="exists already"):
        write_file(target, "again", exclusive=True)
    assert target.read_text() == "new"


def test_a_folder_as_target_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="is a folder"):
        write_file(tmp_path, "x")


def test_publish_folder_refuses_links_and_names_outside(tmp_path: Path, victim: Path) -> None:
    link = tmp_path / "rel"
    link.symlink_to(victim.parent, target_is_directory=True)
    with pytest.raises(InvalidInputError, match="symbolic link"):
        publish_folder(link, {"authorized_keys": b"attacker"})
    with pytest.raises(InvalidInputError, match="not a file name inside"):
        publish_folder(tmp_path / "new", {"../escape": b"x"})
    parent = tmp_path / "parent-link"
    parent.symlink_to(victim.parent, target_is_directory=True)
    with pytest.raises(InvalidInputError, match="parent-link: is a symbolic link"):
        publish_folder(parent / "rel", {"a": b"x"})
    _intact(victim)
    assert not (tmp_path / "new").exists()


def test_cli_outputs_refuse_links(tmp_path: Path, victim: Path) -> None:
    """``write_output`` (every ``--out`` of the CLI: verdicts, envelopes, model cards, reports,
    policy signatures) refuses a link, exit status 2."""
    link = tmp_path / "verdict.json"
    link.symlink_to(victim)
    with pytest.raises(InvalidInputError, match="symbolic link"):  # exit status 2
        write_output(link, "{}")
    _intact(victim)


# -- the release folder -----------------------------------------------------------------------
def _approved(world: World, version: str = "v1", ticket: dict[str, Any] | None = None) -> None:
    world.submit(version)
    world.to_staging(version)
    world.approvals(version)
    chg_id = f"CHG-{version}"
    doc = {
        "id": chg_id,
        "type": "Normal",
        "scope": {"model": MODEL, "versions": [version]},
        "risk": "low",
        "impact": "scoring traffic of risk-default",
        "window": {"start": "2026-11-25T08:00:00Z", "end": "2026-11-25T18:00:00Z"},
        "steps": ["promote"],
        "backout_plan": f"canarykit rollback {MODEL}",
        "post_change_validation": ["canarykit check-startup"],
        "owners": ["olga"],
        **(ticket or {}),
    }
    world.promotion.create_change(doc, actor="olga")
    world.promotion.approve_change(chg_id, actor="otto", role="operations")
    world.promotion.approve_change(chg_id, actor="sam", role="security")
    world.to_approved(version, chg_id)


def _release(world: World, out: Path) -> Any:
    return world.promotion.release(
        MODEL, "v1", out=out, signing_key=world.key, key_id="release-key", actor="olga"
    )


@pytest.mark.parametrize("name", ["release_notes.md", "release_manifest.json", "policy_snapshot"])
def test_a_release_folder_with_planted_links_is_refused(
    world: World, victim: Path, name: str
) -> None:
    """issue 13: ``release`` followed symlinks and overwrote their targets."""
    _approved(world)
    out = world.tmp / "rel"
    out.mkdir()
    (out / name).symlink_to(victim if name != "policy_snapshot" else victim.parent)
    events = len(world.promotion.events())
    with pytest.raises(InvalidInputError, match="rel: "):
        _release(world, out)
    _intact(victim)
    assert len(world.promotion.events()) == events  # refused before anything was recorded
    assert [p.name for p in out.iterdir()] == [name]


def test_a_release_folder_that_is_a_link_is_refused(world: World, victim: Path) -> None:
    _approved(world)
    out = world.tmp / "rel"
    out.symlink_to(victim.parent, target_is_directory=True)
    with pytest.raises(InvalidInputError, match="is a symbolic link"):
        _release(world, out)
    parent = world.tmp / "releases"
    parent.symlink_to(victim.parent, target_is_directory=True)
    with pytest.raises(InvalidInputError, match="releases: is a symbolic link"):
        _release(world, parent / "rel")
    _intact(victim)


def test_a_release_is_written_whole(world: World) -> None:
    _approved(world)
    out = world.tmp / "rel"
    _release(world, out)
    names = sorted(str(p.relative_to(out)) for p in out.rglob("*"))
    assert "release_notes.md" in names
    assert "policy_snapshot/snapshot.dsse.json" in names
    assert not [p for p in world.tmp.iterdir() if p.name.startswith(".rel.")]  # no leftovers


def test_audit_export_refuses_a_link(world: World, victim: Path) -> None:
    link = world.tmp / "events.jsonl"
    link.symlink_to(victim)
    with pytest.raises(InvalidInputError, match="symbolic link"):
        world.promotion.audit_export(link)
    _intact(victim)


def test_the_cli_answers_a_link_with_exit_2_and_one_line(
    tmp_path: Path, victim: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    link = tmp_path / "policy.dsse.json"
    link.symlink_to(victim)
    key = pem(Ed25519PrivateKey.generate(), tmp_path / "key.pem")
    policy = shipped_policy(tmp_path / "policy")
    code = main(
        ["policy", "sign", str(policy), "--key", str(key), "--key-id", "k", "--out", str(link)]
    )
    err = capsys.readouterr().err
    assert code == 2, err
    assert "symbolic link" in err
    assert len(err.strip().splitlines()) == 1
    _intact(victim)


# -- release notes ----------------------------------------------------------------------------
FORGERIES = {
    "impact": "x\n## Approvals\n- eve",
    "backout_plan": "<script>alert(1)</script>\r\n## Approvals",
    "steps": ["a | b |\n| forged_check | pass |", "<img src=x onerror=alert(1)>"],
    "post_change_validation": ["[click](javascript:alert(1))\u2028# heading"],
}


def test_ticket_text_cannot_forge_sections_rows_or_html(world: World) -> None:
    """issue 13: a newline in a ticket's ``impact`` forged an "Approvals" section."""
    _approved(world, ticket=FORGERIES)
    out = world.tmp / "rel"
    _release(world, out)
    notes = (out / "release_notes.md").read_text()
    lines = notes.splitlines()
    assert lines.count("## Approvals") == 1
    assert not any(line.startswith(("- eve", "# heading", "| forged_check")) for line in lines)
    assert [line for line in lines if line.startswith("#")] == [
        f"# Release {MODEL} v1",
        "## Changes",
        "## Risks",
        "## Limitations",
        "## Verdict summary",
        "## Approvals",
    ]
    assert "<script" not in notes
    assert "<img" not in notes
    assert "](" not in notes
    impact = [line for line in lines if line.startswith("- **CHG-v1**")]
    assert impact == [f"- **CHG-v1** (Normal, risk low): {md_text(FORGERIES['impact'])}"]
    assert md_text(FORGERIES["impact"]) == r"x ↵ \#\# Approvals ↵ - eve"
    # the approvals section lists exactly the approvals recorded
    approvals = lines[lines.index("## Approvals") + 2 :]
    manifest = json.loads((out / "release_manifest.json").read_text())
    assert len(approvals) == len(manifest["approvals"])


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("a\nb", "a ↵ b"),
        ("a\r\nb\u2028c\u0085d", "a ↵ b ↵ c ↵ d"),
        ("| x |", r"\| x \|"),
        ("<b>&amp;</b>", "&lt;b&gt;&amp;amp;&lt;/b&gt;"),
        ("*bold* _it_ `code` ~~del~~", r"\*bold\* \_it\_ \`code\` \~\~del\~\~"),
        ("![img](u) [l](u)", r"\!\[img\]\(u\) \[l\]\(u\)"),
        ("\u202eevil\x00\x1b[31m", r"evil\[31m"),
        ("back\\slash", r"back\\slash"),
    ],
)
def test_md_text(text: str, escaped: str) -> None:
    assert md_text(text) == escaped
