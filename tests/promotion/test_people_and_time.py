"""People and time (issue 13): signed acts, names compared as people, configuration under four
eyes, approvals that stop counting, drill registries and the time rule.

Each attack is denied with its message and a ``gate_denied`` event (or refused as invalid input
before anything is written)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from promotion_world import (
    CALENDAR,
    MODEL,
    PEOPLE_KEYS,
    ROSTER,
    World,
    make_world,
    pem,
    sbom,
    world_registry,
)

from canarykit.errors import GateDeniedError, InvalidInputError
from canarykit.promotion import acts
from canarykit.promotion.audit import append_event
from canarykit.promotion.clock import FixedClock, parse_instant
from canarykit.promotion.evidence import public_key_text
from canarykit.promotion.gates import evaluate_gate
from canarykit.promotion.roster import Roster, person_key
from canarykit.promotion.startup import EXIT_CODES, classify

DIGEST = "sha256:" + "1" * 64


def _denied(w: World, expected: str) -> str:
    """The last event is the gate_denied event of a denial naming ``expected``."""
    last = w.promotion.events()[-1]
    assert last.kind == "gate_denied"
    reasons = " | ".join(last.payload["reasons"])
    assert expected in reasons
    return reasons


def _roster_with(**people: Any) -> dict[str, Any]:
    """The world's roster with people added, changed (a dict) or removed (None)."""
    roster = copy.deepcopy(ROSTER)
    for name, entry in people.items():
        if entry is None:
            roster["people"].pop(name)
        else:
            roster["people"][name] = entry
    return roster


# -- names: one person, however written ------------------------------------------------------


@pytest.mark.parametrize("alias", ["ANN", "Ann", "\uff41\uff4e\uff4e", "\uff21\uff2e\uff2e"])
def test_a_name_written_otherwise_is_the_same_person(alias: str) -> None:
    assert person_key(alias) == "ann"
    assert Roster.from_dict(ROSTER).member(alias)


def test_a_roster_listing_one_person_twice_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="are the same person"):
        Roster.from_dict({"people": {"Ann": ["product"], "\uff41\uff4e\uff4e": ["security"]}})


def test_one_key_for_two_people_is_refused() -> None:
    shared = public_key_text(PEOPLE_KEYS["sam"])
    with pytest.raises(InvalidInputError, match="one key, one person"):
        Roster.from_dict(
            {
                "people": {
                    "sam": {"roles": ["security"], "keys": [shared]},
                    "sue": {"roles": ["security"], "keys": [shared]},
                }
            }
        )


@pytest.mark.parametrize("name", ["ann\u202e", "ann\x00", "an n", "ann\n"])
def test_control_characters_in_names_are_refused(world: World, name: str) -> None:
    with pytest.raises(InvalidInputError, match="must be an identity"):
        world.promotion.submit(MODEL, "v1", artifact_digest=DIGEST, actor=name)


@pytest.mark.parametrize("approver", ["SAM", "Sam", "\uff53\uff41\uff4d"])
def test_submitter_approving_under_another_spelling_is_denied(world: World, approver: str) -> None:
    """`submit` as one spelling, approve as another: four-eyes compares people."""
    world.promotion.submit(
        MODEL, "v1", artifact=world.artifact("v1"), actor="sam", key=PEOPLE_KEYS["sam"]
    )
    with pytest.raises(GateDeniedError, match="four-eyes: sam submitted"):
        world.promotion.approve(
            MODEL, "v1", role="security", actor=approver, stage="Staging", key=PEOPLE_KEYS["sam"]
        )
    _denied(world, "four-eyes: sam submitted")


def test_an_email_form_of_a_name_is_another_person_not_on_the_roster(world: World) -> None:
    world.submit("v1")
    with pytest.raises(GateDeniedError, match="is not on the roster"):
        world.promotion.approve(
            MODEL,
            "v1",
            role="security",
            actor="ann@corp.example",
            stage="Staging",
            key=PEOPLE_KEYS["ann"],
        )
    _denied(world, "ann@corp.example is not on the roster")


def test_submit_requires_a_roster_member(world: World) -> None:
    mallory = Ed25519PrivateKey.generate()
    with pytest.raises(GateDeniedError, match="mallory is not on the roster"):
        world.promotion.submit(MODEL, "v1", artifact_digest=DIGEST, actor="mallory", key=mallory)
    _denied(world, "mallory is not on the roster")
    assert world.promotion.events(kind="submission") == []


# -- signatures -------------------------------------------------------------------------------


def test_an_unsigned_act_is_refused_outside_a_drill(world: World) -> None:
    world.submit("v1")
    with pytest.raises(GateDeniedError, match="is not signed; sign it with sam's key"):
        world.promotion.approve(
            MODEL, "v1", role="security", actor="sam", stage="Staging", key=None
        )
    _denied(world, "is not signed")
    assert world.promotion.status(MODEL).approvals == ()


def test_an_act_signed_with_another_persons_key_is_refused(world: World) -> None:
    world.submit("v1")
    with pytest.raises(GateDeniedError, match="signed with pat's key, not sam's"):
        world.promotion.approve(
            MODEL, "v1", role="security", actor="sam", stage="Staging", key=PEOPLE_KEYS["pat"]
        )
    _denied(world, "signed with pat's key, not sam's")


def test_an_act_signed_with_an_unknown_key_is_refused(world: World) -> None:
    world.submit("v1")
    with pytest.raises(GateDeniedError, match="which the roster does not list for sam"):
        world.promotion.approve(
            MODEL,
            "v1",
            role="security",
            actor="sam",
            stage="Staging",
            key=Ed25519PrivateKey.generate(),
        )
    _denied(world, "the roster does not list for sam")


def test_a_key_file_signs_like_the_key(world: World, tmp_path: Path) -> None:
    world.submit("v1")
    approval = world.promotion.approve(
        MODEL,
        "v1",
        role="security",
        actor="sam",
        stage="Staging",
        key=pem(PEOPLE_KEYS["sam"], tmp_path / "sam.pem"),
    )
    assert approval.actor == "sam"
    act = world.promotion.events(kind="approval")[-1].payload["act"]
    assert act["signed"] is True
    assert act["statement"]["actor"] == "sam"


def test_a_signature_replayed_for_another_act_is_refused(world: World) -> None:
    """A signature covers one act, in one registry, at one time: replaying sam's approval of
    v1 for v2 is denied."""
    world.submit("v1")
    world.submit("v2")
    world.promotion.approve(MODEL, "v1", role="security", actor="sam", stage="Staging")
    envelope = world.promotion.events(kind="approval")[-1].payload["act"]
    statement = envelope["statement"]
    signed = acts.sign_act(statement, PEOPLE_KEYS["sam"])  # what sam signed for v1
    with pytest.raises(GateDeniedError, match="the signed act is not this act"):
        world.promotion.approve(
            MODEL, "v2", role="security", actor="sam", stage="Staging", key=signed
        )
    _denied(world, "version: signed 'v1', this act 'v2'")


def test_the_recorded_signature_verifies_offline(world: World) -> None:
    world.submit("v1")
    world.promotion.approve(MODEL, "v1", role="security", actor="sam", stage="Staging")
    record = world.promotion.events(kind="approval")[-1].payload["act"]
    statement = record["statement"]
    envelope = acts.sign_act(statement, PEOPLE_KEYS["sam"])
    assert envelope["signatures"][0]["sig"] == record["sig"]  # Ed25519 is deterministic
    assert acts.check_act(statement, envelope, Roster.from_dict(ROSTER), drill=False).ok


# -- configuration under four eyes --------------------------------------------------------------


def test_bootstrap_happens_once(world: World) -> None:
    with pytest.raises(GateDeniedError, match="bootstrap happens once"):
        world.promotion.bootstrap(actor="sam", roster=ROSTER)
    _denied(world, "bootstrap happens once")


def test_a_second_identity_needs_another_security_persons_approval(world: World) -> None:
    """One security member adds a second identity for themselves: it takes effect only when a
    second security person approves, and the proposer cannot be that person."""
    alter = Ed25519PrivateKey.generate()
    second = _roster_with(sam2={"roles": ["security"], "keys": [public_key_text(alter)]})
    proposal = world.promotion.propose_config("roster", second, actor="sam")
    assert proposal.state == "pending"
    assert "sam2" not in (world.promotion.config_document("roster") or {})["people"]
    with pytest.raises(GateDeniedError, match="four-eyes: sam proposed CFG-1"):
        world.promotion.approve_config(proposal.proposal_id, actor="sam")
    _denied(world, "four-eyes: sam proposed")
    with pytest.raises(GateDeniedError, match="sam2 is not on the roster"):
        world.promotion.approve_config(proposal.proposal_id, actor="sam2", key=alter)
    applied = world.promotion.approve_config(proposal.proposal_id, actor="sue")
    assert applied.state == "applied"
    assert applied.approved_by == "sue"
    assert "sam2" in (world.promotion.config_document("roster") or {})["people"]


def test_nobody_approves_a_change_of_their_own_identity(world: World) -> None:
    """sam proposes giving sue the product role as well; sue may not approve it."""
    changed = _roster_with(
        sue={"roles": ["product", "security"], "keys": [public_key_text(PEOPLE_KEYS["sue"])]}
    )
    proposal = world.promotion.propose_config("roster", changed, actor="sam")
    with pytest.raises(GateDeniedError, match="changes sue's own identity"):
        world.promotion.approve_config(proposal.proposal_id, actor="sue")
    _denied(world, "changes sue's own identity (sue roles changed)")
    assert world.promotion.approve_config(proposal.proposal_id, actor="max").state == "applied"


def test_a_roster_change_needs_the_security_role(world: World) -> None:
    with pytest.raises(GateDeniedError, match="roster: olga holds none of the roles security"):
        world.promotion.propose_config("roster", _roster_with(olga=None), actor="olga")


def test_one_operations_member_cannot_lift_a_freeze_alone(world: World) -> None:
    """olga proposes a calendar without freezes; alone she cannot put it in force, and the
    freeze still holds; otto's approval puts it in force."""
    thawed = {**CALENDAR, "freezes": []}
    proposal = world.promotion.propose_config("calendar", thawed, actor="olga")
    with pytest.raises(GateDeniedError, match="four-eyes: olga proposed"):
        world.promotion.approve_config(proposal.proposal_id, actor="olga")
    with pytest.raises(GateDeniedError, match="holds none of the roles operations"):
        world.promotion.approve_config(proposal.proposal_id, actor="sam")
    assert world.promotion.config_document("calendar")["freezes"]
    assert world.promotion.approve_config(proposal.proposal_id, actor="otto").state == "applied"
    assert world.promotion.config_document("calendar")["freezes"] == []


def test_a_proposal_made_against_an_older_document_is_refused(world: World) -> None:
    first = world.promotion.propose_config("calendar", {**CALENDAR, "freezes": []}, actor="olga")
    second = world.promotion.propose_config(
        "calendar", {**CALENDAR, "max_ticket_window_days": 3}, actor="otto"
    )
    world.promotion.approve_config(first.proposal_id, actor="otto")
    with pytest.raises(GateDeniedError, match="propose the change again"):
        world.promotion.approve_config(second.proposal_id, actor="olga")


def test_a_roster_outside_a_drill_names_two_security_keyholders(world: World) -> None:
    lonely = {"people": {"sam": ROSTER["people"]["sam"], "ann": ROSTER["people"]["ann"]}}
    with pytest.raises(GateDeniedError, match="at least 2 are needed"):
        world.promotion.propose_config("roster", lonely, actor="sam")


# -- approvals that stop counting ---------------------------------------------------------------


def test_approval_of_a_person_removed_from_the_roster_stops_counting(world: World) -> None:
    world.submit("v1")
    world.promotion.approve(MODEL, "v1", role="security", actor="sam", stage="Staging")
    proposal = world.promotion.propose_config("roster", _roster_with(sam=None), actor="sue")
    world.promotion.approve_config(proposal.proposal_id, actor="max")
    with pytest.raises(GateDeniedError, match="approvals that no longer count"):
        world.promotion.promote(
            MODEL,
            "v1",
            to="Staging",
            actor="olga",
            signatures=world.signatures("v1"),
            attestation=world.envelope("v1"),
            sbom=sbom(),
            policy=world.policy_dir,
        )
    reasons = _denied(world, "sam is no longer on the roster")
    assert "no PASS from a security approver" in reasons


def test_approval_signed_with_a_key_since_removed_stops_counting(world: World) -> None:
    world.submit("v1")
    world.promotion.approve(MODEL, "v1", role="security", actor="sam", stage="Staging")
    new_key = Ed25519PrivateKey.generate()
    rekeyed = _roster_with(sam={"roles": ["security"], "keys": [public_key_text(new_key)]})
    proposal = world.promotion.propose_config("roster", rekeyed, actor="sue")
    world.promotion.approve_config(proposal.proposal_id, actor="max")
    with pytest.raises(GateDeniedError, match="the key that signed it is no longer sam's"):
        world.promotion.promote(
            MODEL,
            "v1",
            to="Staging",
            actor="olga",
            signatures=world.signatures("v1"),
            attestation=world.envelope("v1"),
            sbom=sbom(),
            policy=world.policy_dir,
        )
    # sam approves again with the new key: the approval stands
    world.promotion.keyring["sam"] = new_key
    world.promotion.approve(MODEL, "v1", role="security", actor="sam", stage="Staging")
    world.to_staging("v1")
    assert world.promotion.version(MODEL, "v1").stage == "Staging"


def test_change_approval_of_a_removed_person_stops_counting(world: World) -> None:
    world.submit("v1")
    world.to_staging("v1")
    world.approvals("v1")
    chg = world.chg("CHG-1", ["v1"])  # otto (operations) and sam (security) approve it
    proposal = world.promotion.propose_config("roster", _roster_with(otto=None), actor="sue")
    world.promotion.approve_config(proposal.proposal_id, actor="max")
    with pytest.raises(GateDeniedError, match="a Normal change needs CAB approvals from 2"):
        world.to_approved("v1", chg)


# -- the time rule ------------------------------------------------------------------------------


def test_a_clock_ahead_of_the_system_clock_is_refused_outside_a_drill(world: World) -> None:
    world.promotion.clock = FixedClock(parse_instant("2100-01-01T00:00:00Z"))
    with pytest.raises(GateDeniedError, match="clock: now is 2100-01-01"):
        world.submit("v1")
    last = world.promotion.events()[-1]
    assert last.kind == "gate_denied"
    assert last.time_ns == world.clock.now_ns()  # dated at the system clock, not in 2100
    assert world.promotion.events(kind="submission") == []


def test_a_few_minutes_of_skew_are_tolerated(world: World) -> None:
    world.promotion.clock = FixedClock(world.clock.now_ns() + 4 * 60 * 10**9)
    world.submit("v1")
    assert world.promotion.version(MODEL, "v1").stage == "Candidate"


def test_a_future_event_in_the_log_cannot_lock_the_registry_until_2100(world: World) -> None:
    """An event dated 2100 (written by an older canarykit that took --clock anywhere, or by
    hand) does not hold later actions back: the gates ignore events beyond the skew."""
    with world.promotion.store.transaction() as conn:
        append_event(
            conn,
            kind="evidence",
            actor="olga",
            time_ns=parse_instant("2100-01-01T00:00:00Z"),
            payload={"note": "written with --clock 2100"},
        )
    world.approved("v1")
    assert world.promotion.version(MODEL, "v1").stage == "Approved"


# -- drill registries ---------------------------------------------------------------------------

LIST_ROSTER = {
    "people": {
        "sam": ["security"],
        "sue": ["security"],
        "ann": ["product"],
        "olga": ["operations"],
    }
}


def test_a_drill_registry_takes_a_fixed_clock_and_unsigned_acts_of_list_form_people(
    tmp_path: Path,
) -> None:
    from canarykit.promotion.api import Promotion

    clock = FixedClock(parse_instant("2100-06-01T10:00:00Z"))
    with Promotion(tmp_path / "drill.sqlite", clock=clock, drill=True) as p:
        assert p.drill
        p.bootstrap(actor="sam", roster=LIST_ROSTER)  # one security person is enough here
        p.submit(MODEL, "v1", artifact_digest=DIGEST, actor="ann")
        p.approve(MODEL, "v1", role="security", actor="sam", stage="Staging")
        events = p.events()
        assert events[0].kind == "registry_init"
        assert events[0].payload["drill"] is True
        assert all(e.payload.get("drill") is True for e in events)
        assert p.events(kind="approval")[-1].payload["act"]["signed"] is False
        assert p.audit_verify().ok
        with pytest.raises(InvalidInputError, match="a registry is marked drill"):
            p.init_registry(actor="sam", drill=False)


def test_a_drill_registry_still_wants_signatures_of_people_with_keys(tmp_path: Path) -> None:
    with make_world(tmp_path, drill=True) as w:
        w.submit("v1")
        with pytest.raises(GateDeniedError, match="is not signed"):
            w.promotion.approve(
                MODEL, "v1", role="security", actor="sam", stage="Staging", key=None
            )


def test_outside_a_drill_list_form_people_cannot_act(tmp_path: Path) -> None:
    with world_registry(tmp_path / "r.sqlite") as p:
        mixed = _roster_with(ann=["product"])
        p.bootstrap(actor="sam", roster=mixed)
        with pytest.raises(GateDeniedError, match="only a drill registry accepts unsigned"):
            p.submit(MODEL, "v1", artifact_digest=DIGEST, actor="ann", key=None)


def test_check_startup_refuses_a_drill_registry(tmp_path: Path) -> None:
    with make_world(tmp_path, drill=True) as w:
        w.approved("v1")
        w.promotion.set_alias(MODEL, "v1", expected=None, actor="olga", chg_id="CHG-v1")
        check = w.promotion.check_startup(
            MODEL, policy_digest=w.policy_digest, artifact=w.artifact("v1")
        )
        assert not check.ok
        assert check.exit_code == EXIT_CODES["drill"] == 19
        assert [p.split(":")[0] for p in check.problems] == ["drill"]


def test_the_startup_gate_takes_missing_registry_facts_for_a_drill() -> None:
    decision = evaluate_gate("startup", {"registry": {"drill": True}})
    assert any(r.startswith("drill:") for r in decision.reasons)
    assert classify(("drill: x",)) == (19, "drill")


def test_a_clock_behind_the_system_clock_is_refused_outside_a_drill(world: World) -> None:
    """Backdating (to act before a freeze began) is refused like a clock ahead."""
    world.promotion.clock = FixedClock(world.clock.now_ns() - 3 * 86_400 * 10**9)
    with pytest.raises(GateDeniedError, match="3 days behind the system clock"):
        world.submit("v1")
    assert world.promotion.events()[-1].time_ns == world.clock.now_ns()


def test_in_a_drill_the_fixed_clock_may_not_move_backwards(tmp_path: Path) -> None:
    with make_world(tmp_path, drill=True) as w:
        w.submit("v1")
        w.clock.set(parse_instant("2026-11-20T10:00:00Z"))
        with pytest.raises(GateDeniedError, match="the clock may not move backwards"):
            w.to_staging("v1")


def test_a_waiver_of_a_person_removed_from_the_roster_stops_counting(world: World) -> None:
    world.submit("v1")
    world.promotion.waive(
        MODEL,
        version="v1",
        waiver_id="SCDR-9",
        check="CVE-2026-9999",
        reason="not reachable",
        owner="sec",
        expires="2026-12-20T00:00:00Z",
        actor="sue",
    )
    critical = sbom(("CVE-2026-9999", "critical", None))
    world.to_staging("v1", sbom=critical)  # the waiver lifts the critical vulnerability
    world.submit("v2")
    world.promotion.waive(
        MODEL,
        version="v2",
        waiver_id="SCDR-10",
        check="CVE-2026-9999",
        reason="not reachable",
        owner="sec",
        expires="2026-12-20T00:00:00Z",
        actor="sue",
    )
    proposal = world.promotion.propose_config("roster", _roster_with(sue=None), actor="sam")
    world.promotion.approve_config(proposal.proposal_id, actor="max")
    with pytest.raises(GateDeniedError, match="sbom: CVE-2026-9999 is critical"):
        world.to_staging("v2", sbom=critical)
