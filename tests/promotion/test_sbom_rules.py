"""SBOM / VEX rules of the Staging gate (issue 12).

Severity is the highest of all ratings (a CVSS score counts by its severity band: ``[low, 9.8]``
is critical); an SBOM with no components, or with no vulnerability analysis, is refused with a
message saying how to produce one; the submitter's own VEX statement (``not_affected``,
``resolved``, ``false_positive``) clears a high or critical vulnerability only with a security
approval of that very statement (``approve --vex``) or an unexpired waiver. Every attempt is
refused with its rule's message and leaves a ``gate_denied`` event.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from promotion_world import MODEL, PEOPLE_KEYS, World, pem, sbom

from canarykit.cli.main import main
from canarykit.errors import GateDeniedError, InvalidInputError
from canarykit.promotion.sbom import evaluate_sbom, score_severity

CRITICAL_NOT_AFFECTED = ("CVE-2026-4242", "critical", "not_affected")


# -- severity -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("score", "severity"),
    # FIRST, CVSS v3.1 specification §5, "Qualitative Severity Rating Scale"
    [
        *[(0.0, "none"), (0.1, "low"), (3.9, "low"), (4.0, "medium"), (6.9, "medium")],
        *[(7.0, "high"), (8.9, "high"), (9.0, "critical"), (9.8, "critical"), (10.0, "critical")],
    ],
)
def test_cvss_scores_map_to_severities(score: float, severity: str) -> None:
    assert score_severity(score) == severity


@pytest.mark.parametrize(
    ("ratings", "severity"),
    [
        ([{"severity": "low", "score": 9.8}], "critical"),  # issue 12: [low, 9.8] ranked low
        ([{"severity": "low"}, {"score": 9.8, "method": "CVSSv31"}], "critical"),
        ([{"severity": "medium"}, {"severity": "HIGH"}], "high"),
        ([{"severity": "unknown", "score": 5.0}], "medium"),
        ([{"severity": "none"}, {"severity": "info"}], "info"),
        ([{"severity": "unknown"}], "unknown"),
        ([], "unknown"),
    ],
)
def test_severity_is_the_highest_of_all_ratings(ratings: list[Any], severity: str) -> None:
    bom = {"bomFormat": "CycloneDX", "vulnerabilities": [{"id": "CVE-1", "ratings": ratings}]}
    [vuln] = evaluate_sbom(bom).vulnerabilities
    assert vuln.severity == severity
    if severity == "unknown":
        assert vuln.rank == 5  # unassessed counts as critical


@pytest.mark.parametrize("score", [11, -1, "9.8", True, float("nan")])
def test_a_score_that_is_not_cvss_makes_the_sbom_invalid(score: Any) -> None:
    bom = {
        "bomFormat": "CycloneDX",
        "vulnerabilities": [{"id": "X", "ratings": [{"score": score}]}],
    }
    check = evaluate_sbom(bom)
    assert not check.valid
    assert check.problems[0].startswith("vulnerabilities[0].ratings[0].score:")


def test_what_counts_as_a_vulnerability_analysis() -> None:
    base = {"bomFormat": "CycloneDX", "components": [{"type": "library", "name": "x"}]}
    assert not evaluate_sbom(base).analysed
    assert evaluate_sbom({**base, "vulnerabilities": []}).analysed  # scanned, nothing found
    legacy = {**base, "metadata": {"tools": [{"vendor": "aquasecurity", "name": "trivy"}]}}
    assert evaluate_sbom(legacy).scanners == ("trivy",)
    modern = {
        **base,
        "metadata": {"tools": {"components": [{"type": "application", "name": "grype"}]}},
    }
    assert evaluate_sbom(modern).analysed
    generator = {**base, "metadata": {"tools": {"components": [{"name": "cyclonedx-py"}]}}}
    assert not evaluate_sbom(generator).analysed  # an SBOM generator is not a scanner


# -- the Staging gate ---------------------------------------------------------------------------
def submitter_marks_critical_not_affected(w: World) -> None:
    w.submit("v1")
    w.to_staging("v1", sbom=sbom(CRITICAL_NOT_AFFECTED))


def submitter_marks_high_resolved(w: World) -> None:
    w.submit("v1")
    w.to_staging("v1", sbom=sbom(("CVE-2026-5151", "high", "resolved")))


def low_severity_name_with_a_critical_score(w: World) -> None:
    w.submit("v1")
    bom = sbom()
    bom["vulnerabilities"] = [
        {"id": "CVE-2026-9800", "ratings": [{"severity": "low", "score": 9.8}]}
    ]
    w.to_staging("v1", sbom=bom)


def low_name_critical_score_marked_not_affected(w: World) -> None:
    w.submit("v1")
    bom = sbom()
    bom["vulnerabilities"] = [
        {
            "id": "CVE-2026-9801",
            "ratings": [{"severity": "low", "score": 9.8}],
            "analysis": {"state": "not_affected"},
        }
    ]
    w.to_staging("v1", sbom=bom)


def empty_sbom(w: World) -> None:
    w.submit("v1")
    w.to_staging("v1", sbom={"bomFormat": "CycloneDX", "specVersion": "1.5", "vulnerabilities": []})


def sbom_without_analysis(w: World) -> None:
    w.submit("v1")
    bom = sbom()
    del bom["vulnerabilities"]
    w.to_staging("v1", sbom=bom)


def vex_approved_by_the_submitter(w: World) -> None:
    w.submit("v1", actor="max")  # max holds the security role too
    w.promotion.approve_vex(
        MODEL, "v1", vulnerability="CVE-2026-4242", sbom=sbom(CRITICAL_NOT_AFFECTED), actor="max"
    )


def vex_approved_by_a_product_person(w: World) -> None:
    w.submit("v1")
    w.promotion.approve_vex(
        MODEL, "v1", vulnerability="CVE-2026-4242", sbom=sbom(CRITICAL_NOT_AFFECTED), actor="pat"
    )


def vex_approval_of_another_statement(w: World) -> None:
    w.submit("v1")
    reviewed = sbom(CRITICAL_NOT_AFFECTED)
    reviewed["vulnerabilities"][0]["analysis"]["justification"] = "code_not_reachable"
    w.promotion.approve_vex(MODEL, "v1", vulnerability="CVE-2026-4242", sbom=reviewed, actor="sam")
    w.to_staging("v1", sbom=sbom(CRITICAL_NOT_AFFECTED))  # the statement changed since


def expired_waiver_for_the_vex_statement(w: World) -> None:
    w.submit("v1")
    w.promotion.waive(
        MODEL,
        version="v1",
        waiver_id="SCDR-41",
        check="CVE-2026-4242",
        reason="not reachable from the scoring path",
        owner="sec-team",
        expires="2026-11-25T11:00:00Z",
        actor="sue",
    )
    w.clock.set(w.clock.now_ns() + 2 * 3600 * 10**9)
    w.to_staging("v1", sbom=sbom(CRITICAL_NOT_AFFECTED))


ATTEMPTS: list[tuple[str, Callable[[World], None], str]] = [
    (
        "the submitter's SBOM marks a critical CVE not_affected",
        submitter_marks_critical_not_affected,
        "sbom: CVE-2026-4242 is critical and only the SBOM says not_affected",
    ),
    (
        "the submitter's SBOM marks a high CVE resolved",
        submitter_marks_high_resolved,
        "sbom: CVE-2026-5151 is high and only the SBOM says resolved",
    ),
    (
        "a rating [low, 9.8]",
        low_severity_name_with_a_critical_score,
        "sbom: CVE-2026-9800 is critical (blocking at high and above)",
    ),
    (
        "a rating [low, 9.8] marked not_affected",
        low_name_critical_score_marked_not_affected,
        "sbom: CVE-2026-9801 is critical and only the SBOM says not_affected",
    ),
    ("an empty SBOM", empty_sbom, "sbom: it lists no components, so it describes nothing"),
    (
        "an SBOM without a vulnerability analysis",
        sbom_without_analysis,
        "sbom: no vulnerability analysis (no vulnerabilities section, no scanner in"
        " metadata.tools); scan it with CycloneDX output, e.g. grype",
    ),
    (
        "the submitter approves the VEX statement",
        vex_approved_by_the_submitter,
        "four-eyes: max submitted risk-default v1 and cannot approve its VEX statements",
    ),
    (
        "a product person approves the VEX statement",
        vex_approved_by_a_product_person,
        "roster: pat holds none of the roles security",
    ),
    (
        "a VEX approval of another statement",
        vex_approval_of_another_statement,
        "sbom: CVE-2026-4242 is critical and only the SBOM says not_affected",
    ),
    (
        "an expired waiver for the VEX statement",
        expired_waiver_for_the_vex_statement,
        "sbom: CVE-2026-4242 is critical and only the SBOM says not_affected",
    ),
]


@pytest.mark.parametrize(
    ("attempt", "expected"), [pytest.param(f, e, id=i) for i, f, e in ATTEMPTS]
)
def test_attempt_is_denied_and_audited(
    world: World, attempt: Callable[[World], None], expected: str
) -> None:
    with pytest.raises(GateDeniedError) as caught:
        attempt(world)
    assert expected in str(caught.value)
    last = world.promotion.events()[-1]
    assert last.kind == "gate_denied"
    assert any(expected in reason for reason in last.payload["reasons"])


def test_a_security_approval_of_the_statement_clears_it(world: World) -> None:
    world.submit("v1")
    bom = sbom(CRITICAL_NOT_AFFECTED, ("CVE-2026-1000", "low", None))
    [approval] = world.promotion.approve_vex(
        MODEL, "v1", vulnerability="CVE-2026-4242", sbom=bom, actor="sam", note="not reachable"
    )
    assert (approval.state, approval.actor) == ("not_affected", "sam")
    event = world.promotion.events()[-1]
    assert (event.kind, event.payload["vulnerability"]) == ("vex_approval", "CVE-2026-4242")
    assert event.payload["statement_digest"] == approval.statement_digest
    assert world.to_staging("v1", sbom=bom).to_stage == "Staging"


def test_an_unexpired_waiver_naming_the_cve_clears_the_statement(world: World) -> None:
    world.submit("v1")
    world.promotion.waive(
        MODEL,
        version="v1",
        waiver_id="SCDR-42",
        check="CVE-2026-4242",
        reason="not reachable from the scoring path",
        owner="sec-team",
        expires="2026-12-20T00:00:00Z",
        actor="sue",
    )
    assert world.to_staging("v1", sbom=sbom(CRITICAL_NOT_AFFECTED)).to_stage == "Staging"


@pytest.mark.parametrize(
    "bom",
    [
        sbom(("CVE-2026-3000", "medium", "not_affected")),  # below the blocking rank
        {**sbom(), "vulnerabilities": []},  # scanned: nothing found
        {
            "bomFormat": "CycloneDX",
            "specVersion": "1.5",
            "metadata": {"tools": {"components": [{"type": "application", "name": "grype"}]}},
            "components": [{"type": "library", "name": "numpy", "version": "2.0.0"}],
        },
    ],
    ids=["medium not_affected", "empty vulnerabilities", "scanner without findings"],
)
def test_sboms_that_pass(world: World, bom: dict[str, Any]) -> None:
    world.submit("v1")
    assert world.to_staging("v1", sbom=bom).to_stage == "Staging"


def test_a_vex_approval_needs_a_vex_statement_to_approve(world: World) -> None:
    world.submit("v1")
    with pytest.raises(InvalidInputError, match="has no vulnerability 'CVE-2026-0404'"):
        world.promotion.approve_vex(
            MODEL, "v1", vulnerability="CVE-2026-0404", sbom=sbom(), actor="sam"
        )
    with pytest.raises(InvalidInputError, match="no VEX statement"):
        world.promotion.approve_vex(
            MODEL,
            "v1",
            vulnerability="CVE-2026-4242",
            sbom=sbom(("CVE-2026-4242", "critical", None)),
            actor="sam",
        )


def test_approve_vex_command(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    world.submit("v1")
    path = world.tmp / "sbom.cdx.json"
    path.write_text(json.dumps(sbom(CRITICAL_NOT_AFFECTED)))
    del monkeypatch  # the registry takes the system clock (its events lie in the past)
    common = ["--registry", str(world.tmp / "registry.sqlite")]
    sam = ["--actor", "sam", "--key", str(pem(PEOPLE_KEYS["sam"], world.tmp / "sam.pem"))]
    pat = ["--actor", "pat", "--key", str(pem(PEOPLE_KEYS["pat"], world.tmp / "pat.pem"))]
    vex = ["approve", MODEL, "v1", "--role", "security", "--vex", "CVE-2026-4242"]
    assert main([*vex, "--sbom", str(path), *sam, *common]) == 0
    assert "sam approved the VEX statement CVE-2026-4242 not_affected" in capsys.readouterr().out
    assert main([*vex, *sam, *common]) == 2  # no --sbom
    assert "--vex: approving a VEX statement takes" in capsys.readouterr().err
    assert main([*vex, "--sbom", str(path), *pat, *common]) == 4
    assert "roster: pat holds none of the roles security" in capsys.readouterr().err
