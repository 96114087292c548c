"""``check-startup`` checks the artifact file, or says loudly that it did not (issue 12).

The finding: ``check-startup`` without ``--artifact`` said 0 after the model file had been
replaced. Now the artifact is required; ``--no-artifact-check`` runs every other check, prints
that the artifact was NOT checked, records a ``startup_degraded`` audit event and exits 18.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from promotion_world import MODEL, World

from canarykit.cli.common import STARTUP_EXIT_CODES
from canarykit.cli.main import EXIT_STATUS, main
from canarykit.errors import InvalidInputError
from canarykit.promotion.gates import evaluate_gate
from canarykit.promotion.startup import EXIT_CODES, RUNBOOK

README = Path(__file__).resolve().parents[2] / "README.md"


def _production(world: World) -> Path:
    """v1 Approved behind the production alias; returns its artifact file."""
    world.approved("v1")
    chg = world.chg("CHG-STD", ["v1"], type="Standard")
    world.promotion.set_alias(MODEL, "v1", expected=None, actor="olga", chg_id=chg)
    return world.artifact("v1")


def _cli(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str, str]:
    del monkeypatch  # the registry takes the system clock (its events lie in the past)
    argv = [
        "check-startup",
        MODEL,
        "--policy-digest",
        world.policy_digest,
        "--registry",
        str(world.tmp / "registry.sqlite"),
        "--actor",
        "svc",
        *args,
    ]
    try:
        code = main(argv)
    except SystemExit as exit_:  # argparse usage errors
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_a_replaced_artifact_file_never_starts(world: World) -> None:
    artifact = _production(world)
    artifact.write_bytes(b"weights somebody swapped in")
    with pytest.raises(InvalidInputError, match="give --artifact FILE, or --no-artifact-check"):
        world.promotion.check_startup(MODEL, policy_digest=world.policy_digest)
    check = world.promotion.check_startup(
        MODEL, policy_digest=world.policy_digest, artifact=artifact
    )
    assert (check.ok, check.exit_code) == (False, 13)
    assert check.problems[0].startswith("artifact: digest sha256:")
    assert world.promotion.events()[-1].kind == "gate_denied"


def test_check_startup_without_artifact_is_refused_by_the_cli(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _production(world)
    before = len(world.promotion.events())
    code, out, err = _cli(world, monkeypatch, capsys)
    assert code == 2
    assert "one of the arguments --artifact --no-artifact-check is required" in err
    assert out == ""
    assert len(world.promotion.events()) == before


def test_artifact_and_no_artifact_check_together_are_refused(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    artifact = _production(world)
    code, _, err = _cli(
        world, monkeypatch, capsys, "--artifact", str(artifact), "--no-artifact-check"
    )
    assert code == 2
    assert "not allowed with argument" in err
    with pytest.raises(InvalidInputError, match="not both"):
        world.promotion.check_startup(
            MODEL, policy_digest=world.policy_digest, artifact=artifact, no_artifact_check=True
        )


def test_degraded_check_exits_18_says_so_and_is_audited(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _production(world)
    code, out, _ = _cli(world, monkeypatch, capsys, "--no-artifact-check")
    assert code == 18
    first, hint = out.splitlines()
    assert first == (
        "DEGRADED risk-default v1 (production): degraded: the artifact file was NOT checked"
        " (--no-artifact-check); the other checks ran"
    )
    assert hint == f"runbook: {RUNBOOK['degraded']}"
    event = world.promotion.events()[-1]
    assert (event.kind, event.actor, event.version) == ("startup_degraded", "svc", "v1")
    assert event.payload["exit_code"] == 18
    assert event.payload["artifact_checked"] is False
    assert world.promotion.audit_verify().ok

    code, out, _ = _cli(world, monkeypatch, capsys, "--no-artifact-check", "--format", "json")
    doc = json.loads(out)
    assert (code, doc["ok"], doc["degraded"], doc["artifact_checked"]) == (18, False, True, False)


def test_degraded_check_still_reports_every_other_failure_first(world: World) -> None:
    _production(world)
    world.promotion.revoke(MODEL, "v1", actor="sam", reason="leak")
    check = world.promotion.check_startup(
        MODEL, version="v1", alias=None, policy_digest=world.policy_digest, no_artifact_check=True
    )
    assert check.exit_code == 11
    assert not check.degraded
    assert check.problems[0].startswith("revoked:")
    assert any(p.startswith("degraded: the artifact file was NOT checked") for p in check.problems)
    assert world.promotion.events()[-1].kind == "gate_denied"


def test_the_gate_itself_never_allows_an_unchecked_artifact(world: World) -> None:
    """Facts without the explicit skip (a caller that forgot) deny with ``artifact``: 13."""
    artifact = _production(world)
    check = world.promotion.check_startup(
        MODEL, policy_digest=world.policy_digest, artifact=artifact
    )
    assert check.ok
    from canarykit.promotion import facts as F
    from canarykit.promotion.versions import get_version

    record = get_version(world.promotion.store.conn, MODEL, "v1")
    facts = {
        "resolved": True,
        "expected_policy_digest": world.policy_digest,
        "version": F.version_facts(record),
        "signature": {"trust_configured": True, "present": True, "verified": True},
        "audit": {"ok": True, "stage_recorded": True, "alias_recorded": True},
        "registry": {"drill": False},  # without it the gate takes the registry for a drill
    }
    for artifact_facts, reason in (
        ({"checked": False, "digest": None}, "artifact: the artifact file was not given"),
        ({"checked": False, "digest": None, "skip_requested": "yes"}, "artifact: the artifact"),
        ({"checked": False, "digest": None, "skip_requested": True}, "degraded: the artifact"),
    ):
        decision = evaluate_gate("startup", {**facts, "artifact": artifact_facts})
        assert not decision.allow
        assert [r[: len(reason)] for r in decision.reasons] == [reason]


def test_exit_code_18_is_documented_everywhere(capsys: pytest.CaptureFixture[str]) -> None:
    assert EXIT_CODES["degraded"] == STARTUP_EXIT_CODES["degraded"] == 18
    assert list(EXIT_CODES)[-1] == "degraded"  # the lowest priority: any real failure wins
    assert "artifact was NOT checked" in dict(EXIT_STATUS)["18"]
    with pytest.raises(SystemExit):
        main(["check-startup", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "18 degraded" in help_text
    assert "--no-artifact-check" in help_text
    readme = README.read_text(encoding="utf-8")
    assert "| 18 | degraded: the artifact file was NOT checked (`--no-artifact-check`)" in readme
    assert "| 18 | `check-startup --no-artifact-check`" in readme
