"""Configuration under four eyes: the roster, the trust file and the calendar.

Who may act (the roster), which keys are believed (the trust file) and when production may
change (the calendar) decide every gate, so no one person changes them alone:

- **Bootstrap** (once). A registry whose roster in force lists no key — a new registry, or one
  made before signed acts — takes one *bootstrap* act from its creator: the roster (required),
  and optionally the trust file and the calendar, in one signed act. The creator must be on
  that very roster with the security role and sign with their key from it, and (outside a drill
  registry) the roster must name at least two security people with keys, so that every later
  change has a second pair of eyes. The act is recorded as ``config`` events marked
  ``bootstrap: true`` with the creator's signature; compare them with the organisation's own
  record of who runs the registry (and anchor them in an audit checkpoint).
- **Proposal**. Afterwards a change is *proposed* — ``config_proposal`` event, id ``CFG-<n>``,
  the document, its digest and the digest of the document in force (``base_digest``) — by a
  person holding the role that changes it (:data:`CONFIG_ROLES`: security for roster and
  trust, operations for the calendar), signed.
- **Approval**. It takes effect only when a *second* person with that role approves it
  (``config`` event naming the proposal, proposer and approver, signed): never the proposer,
  never a person whose own identity (name, roles or keys) the roster change adds, removes or
  changes, and only while the document in force is still the one it was proposed against.

Examples
--------
>>> CONFIG_ROLES["calendar"]
('operations',)
>>> roster_rule_problems({"people": {"sam": ["security"]}}, drill=True)
[]
>>> roster_rule_problems({"people": {"sam": ["security"]}}, drill=False)[0][:60]
'roster: names 0 security people with keys; at least 2 are ne'
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from canarykit.errors import InvalidInputError
from canarykit.promotion.audit import canonical_json, list_events
from canarykit.promotion.calendar import Calendar
from canarykit.promotion.clock import format_instant
from canarykit.promotion.documents import check_depth, load_document_file
from canarykit.promotion.evidence import TrustStore, digest_bytes
from canarykit.promotion.roster import Roster

__all__ = [
    "CONFIG_KEYS",
    "CONFIG_ROLES",
    "MIN_SECURITY_KEYHOLDERS",
    "ConfigProposal",
    "config_digest",
    "current_config",
    "document_digest",
    "find_proposal",
    "list_proposals",
    "next_proposal_id",
    "roster_rule_problems",
    "validate_config",
]

CONFIG_KEYS = ("roster", "trust", "calendar")
CONFIG_ROLES: Mapping[str, tuple[str, ...]] = {
    "roster": ("security",),
    "trust": ("security",),
    "calendar": ("operations",),
}
"""The role that proposes and approves each configuration document."""
MIN_SECURITY_KEYHOLDERS = 2
"""Security people with keys a roster names (outside drill registries): a second pair of eyes."""


def validate_config(key: str, source: Any) -> dict[str, Any]:
    """A configuration document (a path or the document), validated and normalised.

    Raises
    ------
    InvalidInputError
        ``key`` is not one of :data:`CONFIG_KEYS`, or the document is invalid (every field
        error, naming the file).
    """
    if isinstance(source, (str, Path)):
        data, where = load_document_file(source, what=key), f"{source}: {key}"
    else:
        data, where = check_depth(source, where=key), key
    if key == "roster":
        return Roster.from_dict(data, source=where).to_dict()
    if key == "trust":
        return TrustStore.from_dict(data, source=where).to_dict()
    if key == "calendar":
        return Calendar.from_dict(data, source=where).to_dict()
    raise InvalidInputError(f"config: {key!r} is not one of {', '.join(CONFIG_KEYS)}")


def document_digest(document: Mapping[str, Any]) -> str:
    """``sha256:`` of the canonical JSON of a configuration document (what is stored)."""
    return digest_bytes(canonical_json(dict(document)).encode("utf-8"))


def current_config(conn: sqlite3.Connection, key: str) -> dict[str, Any] | None:
    """The document in force for ``key`` (the last counted ``config`` event's; the table row is
    only its index), or None."""
    from canarykit.promotion.facts import _config

    document = _config(conn, key)
    return None if document is None else dict(document)


def config_digest(conn: sqlite3.Connection, key: str) -> str | None:
    """The digest of the document in force for ``key`` (None: not configured)."""
    document = current_config(conn, key)
    return None if document is None else document_digest(document)


def roster_rule_problems(document: Mapping[str, Any], *, drill: bool) -> list[str]:
    """Why a roster may not be put in force (empty: it may).

    Outside a drill registry a roster names at least :data:`MIN_SECURITY_KEYHOLDERS` security
    people with keys: roster and trust changes need a second security person to approve them.
    """
    if drill:
        return []
    roster = Roster.from_dict(document)
    holders = sorted(
        p for p, roles in roster.people.items() if "security" in roles and p in roster.keys
    )
    if len(holders) >= MIN_SECURITY_KEYHOLDERS:
        return []
    return [
        f"roster: names {len(holders)} security people with keys; at least"
        f" {MIN_SECURITY_KEYHOLDERS} are needed, so that every later roster or trust change is"
        " approved by a second person"
    ]


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfigProposal:
    """A proposed configuration change and what became of it."""

    proposal_id: str
    key: str
    digest: str
    base_digest: str | None
    document: Mapping[str, Any]
    proposed_by: str
    proposed_at_ns: int
    event_seq: int
    state: str = "pending"  # "pending" or "applied"
    approved_by: str | None = None
    applied_at_ns: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (times as ISO 8601 text)."""
        return {
            "id": self.proposal_id,
            "key": self.key,
            "digest": self.digest,
            "base_digest": self.base_digest,
            "document": dict(self.document),
            "proposed_by": self.proposed_by,
            "proposed_at": format_instant(self.proposed_at_ns),
            "event_seq": self.event_seq,
            "state": self.state,
            "approved_by": self.approved_by,
            "applied_at": None
            if self.applied_at_ns is None
            else format_instant(self.applied_at_ns),
        }

    def to_text(self) -> str:
        """One line: id, key, digest, state and who."""
        who = f"proposed by {self.proposed_by}"
        if self.approved_by:
            who += f", approved by {self.approved_by}"
        return f"{self.proposal_id}: {self.key} {self.digest} ({self.state}; {who})"


def list_proposals(conn: sqlite3.Connection) -> list[ConfigProposal]:
    """Every proposal in the audit log, oldest first, with its state."""
    proposals: dict[str, ConfigProposal] = {}
    for event in list_events(conn, kind="config_proposal"):
        p = event.payload
        proposal_id = str(p.get("proposal"))
        proposals[proposal_id] = ConfigProposal(
            proposal_id=proposal_id,
            key=str(p.get("key")),
            digest=str(p.get("digest")),
            base_digest=p.get("base_digest"),
            document=dict(p.get("document") or {}),
            proposed_by=event.actor,
            proposed_at_ns=event.time_ns,
            event_seq=event.seq,
        )
    for event in list_events(conn, kind="config"):
        named = event.payload.get("proposal")
        found = proposals.get(str(named)) if named else None
        if found is not None:
            proposals[found.proposal_id] = ConfigProposal(
                **{
                    **{n: getattr(found, n) for n in ConfigProposal.__dataclass_fields__},
                    "state": "applied",
                    "approved_by": event.actor,
                    "applied_at_ns": event.time_ns,
                }
            )
    return sorted(proposals.values(), key=lambda p: p.event_seq)


def find_proposal(conn: sqlite3.Connection, proposal_id: str) -> ConfigProposal:
    """One proposal by id.

    Raises
    ------
    InvalidInputError
        No proposal has that id.
    """
    for proposal in list_proposals(conn):
        if proposal.proposal_id == proposal_id:
            return proposal
    raise InvalidInputError(
        f"config: {str(proposal_id)[:40]!r} is not a proposal of this registry"
        " (canarykit config proposals lists them)"
    )


def next_proposal_id(conn: sqlite3.Connection) -> str:
    """``CFG-<n>``: one more than the proposals recorded so far."""
    return f"CFG-{len(list_events(conn, kind='config_proposal')) + 1}"
