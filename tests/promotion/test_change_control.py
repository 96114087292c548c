"""Change control that holds (issue 13, ITIL): Emergency changes need an executive, CAB members
are independent of the requester and the submitter, a ticket is used once per transition, its
window is bounded, a pre-approved backout runs in a freeze, and a rollback moves once."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from promotion_world import CALENDAR, MODEL, ROSTER, World, world_registry

from canarykit.errors import GateDeniedError, InvalidInputError
from canarykit.promotion.calendar import Calendar
from canarykit.promotion.changes import ticket_uses
from canarykit.promotion.clock import FixedClock, parse_instant


def _ready(w: World, version: str = "v1", submitter: str = "ann") -> None:
    """``version`` submitted, in Staging and approved by security and product."""
    w.submit(version, actor=submitter)
    w.to_staging(version)
    w.approvals(version)


def _last_denial(w: World) -> str:
    last = w.promotion.events()[-1]
    assert last.kind == "gate_denied"
    return " | ".join(last.payload["reasons"])


def _in_production(w: World, *versions: str) -> None:
    """Each version Approved (under its own ticket CHG-<v>) and then moved into production."""
    for version in versions:
        w.approved(version)
        state = w.promotion.show_alias(MODEL)
        w.promotion.set_alias(
            MODEL,
            version,
            expected=None if state is None else state.version,
            actor="olga",
            chg_id=f"CHG-{version}",
        )


# -- Emergency ----------------------------------------------------------------------------------


def test_an_emergency_change_without_an_executive_is_denied(world: World) -> None:
    _ready(world)
    chg = world.chg("CHG-E1", ["v1"], type="Emergency")
    with pytest.raises(GateDeniedError, match="an Emergency change always needs an executive"):
        world.to_approved("v1", chg)
    assert "always needs an executive approval" in _last_denial(world)
    world.promotion.approve_change(chg, actor="eve", role="executive")
    world.to_approved("v1", chg, documents=False)
    assert world.promotion.version(MODEL, "v1").stage == "Approved"


def test_an_emergency_cab_approves_an_emergency_change_in_a_window(world: World) -> None:
    _ready(world)
    chg = world.chg("CHG-E2", ["v1"], type="Emergency")
    world.promotion.approve_change(chg, actor="otto", role="operations")
    world.promotion.approve_change(chg, actor="sam", role="security")
    world.to_approved("v1", chg)
    assert world.promotion.version(MODEL, "v1").stage == "Approved"


def test_an_emergency_change_in_a_freeze_needs_the_executive(world: World) -> None:
    _ready(world)
    chg = world.chg("CHG-E3", ["v1"], type="Emergency", end="2026-11-30T08:00:00Z")
    world.promotion.approve_change(chg, actor="otto", role="operations")
    world.promotion.approve_change(chg, actor="sam", role="security")
    world.clock.set(parse_instant("2026-11-28T10:00:00Z"))  # month-end close
    with pytest.raises(GateDeniedError, match="during a freeze needs an executive approver"):
        world.to_approved("v1", chg)
    world.promotion.approve_change(chg, actor="eve", role="executive")
    world.to_approved("v1", chg, documents=False)


# -- independence of the CAB --------------------------------------------------------------------


def test_the_requester_cannot_approve_their_change(world: World) -> None:
    chg = world.chg("CHG-1", ["v1"], approve=False)
    with pytest.raises(GateDeniedError, match="four-eyes: olga requested CHG-1"):
        world.promotion.approve_change(chg, actor="olga", role="operations")
    assert "olga requested" in _last_denial(world)


def test_the_submitter_cannot_sit_on_the_cab(world: World) -> None:
    world.submit("v1", actor="max")
    chg = world.chg("CHG-1", ["v1"], approve=False)
    with pytest.raises(GateDeniedError, match="max submitted risk-default v1"):
        world.promotion.approve_change(chg, actor="max", role="security")
    assert "independent of the requester and the submitter" in _last_denial(world)


def test_the_submitter_cannot_be_the_executive_of_her_emergency_change(world: World) -> None:
    world.submit("v1", actor="eve")
    chg = world.chg("CHG-1", ["v1"], type="Emergency")
    with pytest.raises(GateDeniedError, match="eve submitted risk-default v1"):
        world.promotion.approve_change(chg, actor="eve", role="executive")


def test_a_cab_approval_given_before_submitting_does_not_count(world: World) -> None:
    """max approves the ticket, then submits the version it covers: at the gate max's approval
    does not count, so the Normal change lacks its second CAB member."""
    chg = world.chg("CHG-1", ["v1"], approve=False)
    world.promotion.approve_change(chg, actor="otto", role="operations")
    world.promotion.approve_change(chg, actor="max", role="security")
    _ready(world, submitter="max")
    with pytest.raises(GateDeniedError, match="other than its requester and the version's"):
        world.to_approved("v1", chg)
    assert "do not count (CAB members and executives are independent of both): max" in (
        _last_denial(world)
    )


# -- one use per transition ---------------------------------------------------------------------


def _standard(w: World, chg_id: str, versions: list[str], **window: str) -> str:
    return w.chg(chg_id, versions, type="Standard", **window)


def test_a_ticket_moves_an_alias_to_a_version_once(world: World) -> None:
    world.approved("v1")
    world.approved("v2")
    chg = _standard(world, "CHG-S", ["v1", "v2"])
    world.promotion.set_alias(MODEL, "v1", expected=None, actor="olga", chg_id=chg)
    world.promotion.set_alias(MODEL, "v2", expected="v1", actor="olga", chg_id=chg)
    with pytest.raises(GateDeniedError, match="was used already to move risk-default production"):
        world.promotion.set_alias(MODEL, "v1", expected="v2", actor="olga", chg_id=chg)
    assert "a ticket covers each transition once" in _last_denial(world)
    assert world.promotion.show_alias(MODEL).version == "v2"


def test_a_ticket_rolls_an_alias_back_once(world: World) -> None:
    world.approved("v1")
    world.approved("v2")
    a = _standard(world, "CHG-A", ["v1", "v2"])
    world.promotion.set_alias(MODEL, "v1", expected=None, actor="olga", chg_id=a)
    world.promotion.set_alias(MODEL, "v2", expected="v1", actor="olga", chg_id=a)
    world.promotion.rollback(MODEL, actor="olga", chg_id=a)
    b = _standard(world, "CHG-B", ["v2"])
    world.promotion.set_alias(MODEL, "v2", expected="v1", actor="olga", chg_id=b)
    with pytest.raises(GateDeniedError, match="was used already to roll back"):
        world.promotion.rollback(MODEL, actor="olga", chg_id=a)
    assert world.promotion.show_alias(MODEL).version == "v2"


def test_a_ticket_promotes_a_version_once(world: World) -> None:
    """The use is recorded by the promotion's audit event, so it is seen even if the version's
    stage were reset by hand."""
    world.approved("v1")
    with world.promotion.store.transaction() as conn:  # an attacker resets the stage
        conn.execute("UPDATE versions SET stage = 'Staging' WHERE version = 'v1'")
    with pytest.raises(GateDeniedError):
        world.to_approved("v1", "CHG-v1", documents=False)
    assert "was used already to promote risk-default v1 to Approved" in _last_denial(world)


# -- bounded windows ----------------------------------------------------------------------------


def test_a_ticket_window_longer_than_seven_days_is_refused(world: World) -> None:
    with pytest.raises(GateDeniedError, match="the window is 8 days long; at most 7 days"):
        world.chg("CHG-LONG", ["v1"], end="2026-12-03T08:00:00Z", approve=False)
    assert world.promotion.events(kind="change") == []


def test_the_calendar_sets_the_longest_window(world: World) -> None:
    longer = {**CALENDAR, "max_ticket_window_days": 10}
    proposal = world.promotion.propose_config("calendar", longer, actor="olga")
    world.promotion.approve_config(proposal.proposal_id, actor="otto")
    world.chg("CHG-LONG", ["v1"], end="2026-12-03T08:00:00Z", approve=False)
    with pytest.raises(GateDeniedError, match="at most 10 days"):
        world.chg("CHG-LONGER", ["v1"], end="2026-12-06T08:00:00Z", approve=False)


@pytest.mark.parametrize("days", [0, 32, "7", True, 1.5])
def test_the_longest_window_is_a_whole_number_of_days(days: Any) -> None:
    with pytest.raises(InvalidInputError, match="max_ticket_window_days"):
        Calendar.from_dict({**CALENDAR, "max_ticket_window_days": days})


# -- backout in a freeze ------------------------------------------------------------------------


def _change_before_the_freeze(w: World) -> str:
    """v1 in production, then v2 under CHG-B (Normal, window into the month-end freeze); the
    clock then stands in the freeze (Saturday 28 November)."""
    _in_production(w, "v1")
    w.approved("v2")
    chg = w.chg("CHG-B", ["v1", "v2"], end="2026-11-30T08:00:00Z")
    w.promotion.set_alias(MODEL, "v2", expected="v1", actor="olga", chg_id=chg)
    w.clock.set(parse_instant("2026-11-28T10:00:00Z"))
    return chg


def test_a_backout_may_run_in_a_freeze(world: World) -> None:
    chg = _change_before_the_freeze(world)
    state = world.promotion.rollback(MODEL, actor="olga", chg_id=chg)
    assert state.version == "v1"
    assert world.promotion.events()[-1].kind == "rollback"


def test_an_ordinary_change_in_a_freeze_is_denied(world: World) -> None:
    _change_before_the_freeze(world)
    other = world.chg("CHG-C", ["v1"], start="2026-11-28T08:00:00Z", end="2026-11-29T08:00:00Z")
    with pytest.raises(GateDeniedError, match=r"the calendar is frozen \(month-end close\)"):
        world.promotion.set_alias(MODEL, "v1", expected="v2", actor="olga", chg_id=other)
    # a rollback under a ticket that did not make the change is no backout
    with pytest.raises(GateDeniedError, match=r"the calendar is frozen \(month-end close\)"):
        world.promotion.rollback(MODEL, actor="olga", chg_id=other)
    assert world.promotion.show_alias(MODEL).version == "v2"


def test_a_backout_still_needs_its_tickets_approvals(world: World) -> None:
    _in_production(world, "v1")
    world.approved("v2")
    chg = world.chg("CHG-N", ["v2"], end="2026-11-30T08:00:00Z", approve=False)
    world.promotion.approve_change(chg, actor="otto", role="operations")
    world.promotion.approve_change(chg, actor="sam", role="security")
    world.promotion.set_alias(MODEL, "v2", expected="v1", actor="olga", chg_id=chg)
    keyless = {"people": {**ROSTER["people"], "otto": ["operations"]}}  # otto's key removed
    proposal = world.promotion.propose_config("roster", keyless, actor="sue")
    world.promotion.approve_config(proposal.proposal_id, actor="max")
    world.clock.set(parse_instant("2026-11-28T10:00:00Z"))
    with pytest.raises(GateDeniedError, match="a Normal change needs CAB approvals"):
        world.promotion.rollback(MODEL, actor="olga", chg_id=chg)


# -- rollback moves once ------------------------------------------------------------------------


def test_a_rollback_expecting_a_version_no_longer_current_is_denied(world: World) -> None:
    chg = _change_before_the_freeze(world)
    world.promotion.rollback(MODEL, actor="olga", chg_id=chg)
    with pytest.raises(GateDeniedError, match="compare-and-set: production is v1, not the"):
        world.promotion.rollback(MODEL, actor="olga", chg_id=chg, expected="v2")
    assert "rolled back already?" in _last_denial(world)


def test_two_identical_rollbacks_at_once_move_once(world: World, tmp_path: Path) -> None:
    chg = _change_before_the_freeze(world)
    moves_before = len(world.promotion.alias_history(MODEL))
    now = world.clock.now_ns()
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def rollback() -> None:
        with world_registry(tmp_path / "registry.sqlite", clock=FixedClock(now)) as p:
            start.wait(timeout=30)
            try:
                p.rollback(MODEL, actor="olga", chg_id=chg)
                outcomes.append("moved")
            except GateDeniedError as err:
                outcomes.append(str(err))

    threads = [threading.Thread(target=rollback) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert outcomes.count("moved") == 1
    denied = next(o for o in outcomes if o != "moved")
    assert "rollback risk-default production denied" in denied
    assert len(world.promotion.alias_history(MODEL)) == moves_before + 1
    assert world.promotion.show_alias(MODEL).version == "v1"
    assert world.promotion.audit_verify().ok


def test_a_revocations_own_alias_move_is_no_use_of_its_ticket(world: World) -> None:
    chg = _change_before_the_freeze(world)
    world.promotion.revoke(MODEL, "v2", actor="sam", reason="leak", chg_id=chg)
    assert world.promotion.show_alias(MODEL).version == "v1"
    assert ticket_uses(world.promotion.store.conn, chg) == ["move risk-default production to v2"]
