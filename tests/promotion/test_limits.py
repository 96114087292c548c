"""Bounded work (issue 13, "Safe writes and bounded work").

- Input size limits with clear errors: an SBOM lists at most 20,000 vulnerabilities and 200,000
  components; every document file has a size limit (read through a bounded read, so neither a
  huge file nor an endless one is read whole); nesting depth is bounded.
- The Staging gate's work does not grow with the SBOM: Python groups the vulnerabilities in one
  linear pass (:func:`canarykit.promotion.sbom.gate_summary`) and Rego decides per group; the
  decision is the one the per-vulnerability rules gave (checked against a reference here).
- A writer waits for the registry's write lock instead of failing with "registry is locked".
"""

from __future__ import annotations

import json
import random
import re
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from promotion_world import MODEL, World, sbom

from canarykit.errors import InvalidInputError
from canarykit.promotion import documents
from canarykit.promotion.gates import evaluate_gate
from canarykit.promotion.release_verify import verify_release
from canarykit.promotion.sbom import (
    CLEARING_STATES,
    MAX_COMPONENTS,
    MAX_VULNERABILITIES,
    evaluate_sbom,
    gate_summary,
)


def _staged(world: World, **kw: Any) -> Any:
    return world.to_staging("v1", **kw)


# -- sizes ------------------------------------------------------------------------------------
def test_too_many_vulnerabilities_are_refused_before_any_work(world: World) -> None:
    world.submit("v1")
    bom = sbom(*[(f"CVE-2026-{i:05d}", "low", None) for i in range(MAX_VULNERABILITIES + 1)])
    events = len(world.promotion.events())
    with pytest.raises(InvalidInputError, match=r"lists 20001 vulnerabilities; at most 20000"):
        _staged(world, sbom=bom)
    # refused before the registry's lock was taken: the only new event is the approval
    assert [e.kind for e in world.promotion.events()[events:]] == ["approval"]


def test_too_many_components_are_refused() -> None:
    bom = {"bomFormat": "CycloneDX", "components": [{"name": "x"}] * (MAX_COMPONENTS + 1)}
    with pytest.raises(InvalidInputError, match=r"at most 200000 are accepted"):
        evaluate_sbom(bom)


def test_an_sbom_file_over_its_size_limit_is_refused(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = world.tmp / "sbom.cdx.json"
    path.write_text(json.dumps(sbom(("CVE-2026-1000", "low", None))))
    monkeypatch.setattr(documents, "MAX_SBOM_BYTES", 100)
    world.submit("v1")
    with pytest.raises(
        InvalidInputError, match=r"sbom\.cdx\.json: CycloneDX SBOM is larger than 100"
    ):
        _staged(world, sbom=path)


def test_a_ticket_file_over_its_size_limit_is_refused(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = world.tmp / "ticket.json"
    path.write_text(json.dumps({"id": "CHG-1", "impact": "x" * 1000}))
    monkeypatch.setattr(documents, "MAX_BYTES", 512)
    with pytest.raises(InvalidInputError, match=r"ticket\.json: change ticket is larger than 512"):
        world.promotion.create_change(path, actor="olga")


def test_release_verify_refuses_an_oversized_release_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "release_manifest.json").write_text(json.dumps({"pad": "x" * 1000}))
    monkeypatch.setattr(documents, "MAX_BYTES", 512)
    with pytest.raises(InvalidInputError, match=r"release_manifest\.json: release file is larger"):
        verify_release(tmp_path, trust=None)


def test_an_endless_file_is_not_read_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(documents, "MAX_SBOM_BYTES", 1 << 20)
    start = time.perf_counter()
    with pytest.raises(InvalidInputError, match="/dev/zero: CycloneDX SBOM is larger than"):
        documents.load_document_file("/dev/zero", what="CycloneDX SBOM")
    assert time.perf_counter() - start < 30  # generous: it reads 1 MiB, not forever


def test_a_deeply_nested_sbom_is_refused(world: World) -> None:
    path = world.tmp / "deep.cdx.json"
    path.write_text('{"bomFormat": "CycloneDX", "x": ' + "[" * 150 + "]" * 150 + "}")
    world.submit("v1")
    with pytest.raises(InvalidInputError, match="nested more than 100 levels"):
        _staged(world, sbom=path)


# -- the gate's work is bounded ---------------------------------------------------------------
def test_the_gate_input_does_not_grow_with_the_sbom() -> None:
    states = [None, "not_affected", "exploitable", "in_triage", "bogus", "resolved"]
    bom = sbom(
        *[
            (f"CVE-2026-{i:05d}", ("low", "medium", "high", "critical")[i % 4], states[i % 6])
            for i in range(MAX_VULNERABILITIES)
        ]
    )
    summary = gate_summary(evaluate_sbom(bom).to_dict(), vex_approvals=[], waivers=[])
    assert summary["vulnerability_count"] == MAX_VULNERABILITIES
    assert len(summary["groups"]) <= 4 * len(states)
    assert sum(g["count"] for g in summary["groups"]) == MAX_VULNERABILITIES
    assert len(json.dumps(summary)) < 20_000  # not 20,000 entries
    assert {g["analysis_state"] for g in summary["groups"]} >= {"unrecognised"}


def _reference(
    vulns: list[tuple[str, int, str | None, str]],
    *,
    waived: set[str],
    approvals: dict[tuple[str, str], set[str]],
    submitter: str,
) -> set[str]:
    """The per-vulnerability rules of issue 12, written out: the ids the gate must name."""
    named = set()
    for vid, rank, state, digest in vulns:
        cleared = rank < 4 or state in CLEARING_STATES or vid in waived
        if not cleared:
            named.add(vid)
        approved = bool(approvals.get((vid, digest), set()) - {submitter})
        if rank >= 4 and state in CLEARING_STATES and not (approved or vid in waived):
            named.add(vid)
    return named


@pytest.mark.parametrize("seed", range(12))
def test_grouped_rules_decide_as_the_per_vulnerability_rules(seed: int) -> None:
    rng = random.Random(seed)
    severities = ["low", "medium", "high", "critical", "unknown"]
    states = [None, "not_affected", "resolved", "false_positive", "exploitable", "in_triage"]
    ids = [f"CVE-2026-{rng.randrange(12):04d}" for _ in range(rng.randrange(0, 15))]
    bom = sbom(*[(vid, rng.choice(severities), rng.choice(states)) for vid in ids])
    check = evaluate_sbom(bom).to_dict()
    now = 1_000
    waivers = [
        {
            "check": rng.choice(ids or ["none"]),
            "expires_ns": rng.choice([now - 1, now + 1]),
            "version": rng.choice([None, "v1", "v2"]),
            "created_by": rng.choice(["ann", "sam"]),
        }
        for _ in range(rng.randrange(3))
    ]
    vex = [
        {
            "id": v["id"],
            "statement_digest": v["statement_digest"],
            "actor": rng.choice(["ann", "sam"]),
        }
        for v in check["vulnerabilities"]
        if rng.random() < 0.3
    ]
    waived = {
        w["check"]
        for w in waivers
        if w["expires_ns"] > now and w["version"] in (None, "v1") and w["created_by"] != "ann"
    }
    approvals: dict[tuple[str, str], set[str]] = {}
    for a in vex:
        approvals.setdefault((a["id"], a["statement_digest"]), set()).add(a["actor"])
    expected = _reference(
        [
            (v["id"], v["rank"], v["analysis_state"], v["statement_digest"])
            for v in check["vulnerabilities"]
        ],
        waived=waived,
        approvals=approvals,
        submitter="ann",
    )
    facts = {
        "now_ns": now,
        "version": {"model": MODEL, "version": "v1", "submitter": "ann"},
        "sbom": gate_summary(check, vex_approvals=vex, waivers=waivers),
        "waivers": waivers,
        "vex_approvals": vex,
    }
    decision = evaluate_gate("staging", facts)
    named = {
        m.group(1)
        for r in decision.reasons
        if (m := re.match(r"sbom: (CVE-\S+) is ", r)) is not None
    }
    assert named == expected


# -- the registry's write lock ----------------------------------------------------------------
def test_a_writer_waits_for_the_lock_instead_of_failing(world: World) -> None:
    """Another connection holds the write lock for 2 s; an approval waits for it and lands."""
    world.submit("v1")
    holder = sqlite3.connect(
        world.tmp / "registry.sqlite", isolation_level=None, check_same_thread=False
    )
    holder.execute("BEGIN IMMEDIATE")
    released = threading.Event()

    def release() -> None:
        time.sleep(2)
        holder.execute("COMMIT")
        released.set()

    thread = threading.Thread(target=release)
    thread.start()
    try:
        world.promotion.approve(MODEL, "v1", role="security", actor="sam", stage="Staging")
    finally:
        thread.join()
        holder.close()
    assert released.is_set()
    assert world.promotion.events()[-1].kind == "approval"
