"""Change tickets (CHG-ID) and their CAB / executive approvals.

A ticket is written as YAML or JSON::

    id: CHG-1042
    type: Normal                # Standard | Normal | Emergency
    scope: {model: risk-default, versions: [v2.3.0]}
    risk: medium                # low | medium | high
    impact: "5% of scoring traffic during the canary, then all"
    window: {start: "2026-11-30T09:00:00Z", end: "2026-11-30T12:00:00Z"}
    steps: ["promote v2.3.0 to Approved", "move production alias"]
    backout_plan: "canarykit rollback risk-default --alias production"
    post_change_validation: ["canarykit check-startup risk-default ..."]
    owners: [ops-olga]

What a ticket may authorise is decided by the Rego change gate (ITIL change control):

- Standard only moves the alias to an already Approved version (or rolls it back); Normal
  needs its CAB approvals; Emergency always needs an executive approval (or an emergency CAB),
  and outside a calendar window or in a freeze an executive one.
- CAB members and the executive are independent: an approval by the ticket's requester or by
  the submitter of the version it changes does not count (names compared as
  :func:`~canarykit.promotion.roster.person_key`).
- Every change happens inside its own ticket window, for a model and version in its scope; a
  window is at most the calendar's ``max_ticket_window_days`` long (default 7), refused at
  registration otherwise.
- A ticket is used once per transition it covers (:func:`ticket_uses`: promoting a version to
  Approved, moving an alias to a version, rolling an alias back); the audit events of those
  actions record each use, and a second use is denied.
- A *backout* — a rollback under the very ticket whose alias move it undoes, i.e. running the
  ticket's backout plan (:func:`is_backout`) — is pre-approved: it may run during a freeze and
  outside the calendar's windows, inside the ticket's window and with the ticket's approvals.

Examples
--------
>>> t = ChangeTicket.from_dict({"id": "CHG-1", "type": "Standard",
...     "scope": {"model": "m", "versions": ["v1"]}, "risk": "low", "impact": "none",
...     "window": {"start": "2026-01-01T00:00:00Z", "end": "2026-01-02T00:00:00Z"},
...     "steps": ["move alias"], "backout_plan": "rollback",
...     "post_change_validation": ["check-startup"], "owners": ["olga"]})
>>> t.chg_id, t.type
('CHG-1', 'Standard')
>>> ChangeTicket.from_dict(t.to_dict()) == t
True
>>> ChangeTicket.from_dict({"id": "X", "type": "Big"})
Traceback (most recent call last):
...
canarykit.errors.InvalidInputError: change ticket: id: 'X' must look like CHG-1234; type: ...
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from canarykit.errors import InvalidInputError
from canarykit.promotion.approvals import ROLES
from canarykit.promotion.audit import canonical_json
from canarykit.promotion.clock import format_instant, parse_instant

__all__ = [
    "CHANGE_TYPES",
    "RISKS",
    "ChangeApproval",
    "ChangeTicket",
    "control_facts",
    "get_ticket",
    "is_backout",
    "list_change_approvals",
    "record_change_approval",
    "record_ticket",
    "ticket_use",
    "ticket_uses",
    "window_problem",
]

CHANGE_TYPES = ("Standard", "Normal", "Emergency")
RISKS = ("low", "medium", "high")
_CHG_ID = re.compile(r"^CHG-[A-Za-z0-9][A-Za-z0-9-]{0,39}$")


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangeTicket:
    """A change ticket (see the module docstring for the file form)."""

    chg_id: str
    type: str
    model: str
    versions: tuple[str, ...]
    risk: str
    impact: str
    window_start_ns: int
    window_end_ns: int
    steps: tuple[str, ...]
    backout_plan: str
    post_change_validation: tuple[str, ...]
    owners: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """The ticket document (times as ISO 8601 text)."""
        return {
            "id": self.chg_id,
            "type": self.type,
            "scope": {"model": self.model, "versions": list(self.versions)},
            "risk": self.risk,
            "impact": self.impact,
            "window": {
                "start": format_instant(self.window_start_ns),
                "end": format_instant(self.window_end_ns),
            },
            "steps": list(self.steps),
            "backout_plan": self.backout_plan,
            "post_change_validation": list(self.post_change_validation),
            "owners": list(self.owners),
        }

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "change ticket") -> ChangeTicket:
        """Validate a ticket document; every field error is collected and raised together."""
        if not isinstance(data, Mapping):
            raise InvalidInputError(f"{source}: must be a mapping of ticket fields")
        errors: list[str] = []
        chg_id = data.get("id", data.get("chg_id"))
        if not isinstance(chg_id, str) or not _CHG_ID.fullmatch(chg_id):
            errors.append(f"id: {chg_id!r} must look like CHG-1234")
        kind = data.get("type")
        if kind not in CHANGE_TYPES:
            errors.append(f"type: {kind!r} is not one of {', '.join(CHANGE_TYPES)}")
        scope = data.get("scope")
        model: str = ""
        versions: tuple[str, ...] = ()
        if scope is None:
            errors.append("scope: required")
        elif not isinstance(scope, Mapping):
            errors.append("scope: must be a mapping with model and versions")
        else:
            raw_model = scope.get("model")
            model = raw_model if isinstance(raw_model, str) else ""
            if not model:
                errors.append("scope.model: required string")
            versions = _texts(scope.get("versions"), "scope.versions", errors)
        risk = data.get("risk")
        if risk is None:
            errors.append("risk: required")
        elif risk not in RISKS:
            errors.append(f"risk: {risk!r} is not one of {', '.join(RISKS)}")
        impact = _text(data.get("impact"), "impact", errors)
        start: int | None = None
        end: int | None = None
        window = data.get("window")
        if window is None:
            errors.append("window: required")
        elif not isinstance(window, Mapping):
            errors.append("window: must be a mapping with start and end")
        else:
            start = _instant(window.get("start"), "window.start", errors)
            end = _instant(window.get("end"), "window.end", errors)
            if start is not None and end is not None and end <= start:
                errors.append(
                    "window.end: must be after window.start (a window from a time to the same"
                    " time is empty)"
                )
        steps = _texts(data.get("steps"), "steps", errors)
        backout = _text(data.get("backout_plan"), "backout_plan", errors)
        validation_raw = data.get("post_change_validation")
        if isinstance(validation_raw, str):
            validation_raw = [validation_raw]
        validation = _texts(validation_raw, "post_change_validation", errors)
        owners = _texts(data.get("owners"), "owners", errors)
        if errors:
            raise InvalidInputError(f"{source}: " + "; ".join(errors))
        return cls(
            chg_id=str(chg_id),
            type=str(kind),
            model=model,
            versions=versions,
            risk=str(risk),
            impact=impact,
            window_start_ns=int(start or 0),
            window_end_ns=int(end or 0),
            steps=steps,
            backout_plan=backout,
            post_change_validation=validation,
            owners=owners,
        )


def _text(value: Any, name: str, errors: list[str]) -> str:
    if value is None:
        errors.append(f"{name}: required")
        return ""
    if not isinstance(value, str) or not value.strip():
        errors.append(f"{name}: must be non-empty text")
        return ""
    return value


def _texts(value: Any, name: str, errors: list[str]) -> tuple[str, ...]:
    if value is None:
        errors.append(f"{name}: required")
        return ()
    if not isinstance(value, list) or not value:
        errors.append(f"{name}: must be a non-empty list")
        return ()
    bad = [i for i, item in enumerate(value) if not isinstance(item, str) or not item.strip()]
    for index in bad:
        errors.append(f"{name}[{index}]: must be non-empty text")
    return tuple(str(item) for item in value)


def _instant(value: Any, name: str, errors: list[str]) -> int | None:
    if value is None:
        errors.append(f"{name}: required")
        return None
    try:
        return parse_instant(value, field=name)
    except InvalidInputError as err:
        errors.append(str(err))
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangeApproval:
    """A CAB member's (or executive's) approval of a change ticket.

    Examples
    --------
    >>> a = ChangeApproval(chg_id="CHG-1", actor="eve", role="executive", time_ns=0)
    >>> ChangeApproval.from_dict(a.to_dict()) == a
    True
    """

    chg_id: str
    actor: str
    role: str
    time_ns: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "chg_id": self.chg_id,
            "actor": self.actor,
            "role": self.role,
            "time": format_instant(self.time_ns),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ChangeApproval:
        """Inverse of :meth:`to_dict`."""
        return cls(
            chg_id=str(data["chg_id"]),
            actor=str(data["actor"]),
            role=str(data["role"]),
            time_ns=parse_instant(data["time"], field="time"),
        )


def record_ticket(
    conn: sqlite3.Connection, ticket: ChangeTicket, *, created_by: str, now_ns: int
) -> None:
    """Insert a ticket (inside a write transaction); tickets are never overwritten."""
    try:
        conn.execute(
            "INSERT INTO changes (chg_id, type, body_json, created_by, created_at_ns)"
            " VALUES (?, ?, ?, ?, ?)",
            (ticket.chg_id, ticket.type, canonical_json(ticket.to_dict()), created_by, now_ns),
        )
    except sqlite3.IntegrityError:
        raise InvalidInputError(f"id: change {ticket.chg_id} already exists") from None


def get_ticket(conn: sqlite3.Connection, chg_id: str) -> tuple[ChangeTicket, str] | None:
    """The ticket and who created it, or None."""
    row = conn.execute(
        "SELECT body_json, created_by FROM changes WHERE chg_id = ?", (chg_id,)
    ).fetchone()
    if row is None:
        return None
    return ChangeTicket.from_dict(json.loads(row[0])), str(row[1])


def record_change_approval(conn: sqlite3.Connection, approval: ChangeApproval) -> None:
    """Insert a change approval (inside a write transaction).

    Raises
    ------
    InvalidInputError
        If the role is unknown.
    """
    if approval.role not in ROLES:
        raise InvalidInputError(f"role: {approval.role!r} is not one of {', '.join(ROLES)}")
    conn.execute(
        "INSERT OR IGNORE INTO change_approvals (chg_id, actor, role, time_ns) VALUES (?, ?, ?, ?)",
        (approval.chg_id, approval.actor, approval.role, approval.time_ns),
    )


def list_change_approvals(conn: sqlite3.Connection, chg_id: str) -> list[ChangeApproval]:
    """Approvals of one ticket, oldest first."""
    rows = conn.execute(
        "SELECT * FROM change_approvals WHERE chg_id = ? ORDER BY time_ns, actor, role", (chg_id,)
    ).fetchall()
    return [
        ChangeApproval(chg_id=r["chg_id"], actor=r["actor"], role=r["role"], time_ns=r["time_ns"])
        for r in rows
    ]


_USE_KINDS = ("promotion", "alias_update", "rollback")


def ticket_use(purpose: str, *, model: str, version: str | None, alias: str | None) -> str:
    """What one use of a ticket is called: the transition it covers.

    A ticket covers each transition once: promoting a version to Approved, moving an alias to
    a version, rolling an alias back (once, whatever it rolls back to).

    Examples
    --------
    >>> ticket_use("new_version", model="m", version="v2", alias=None)
    'promote m v2 to Approved'
    >>> ticket_use("alias_existing", model="m", version="v2", alias="production")
    'move m production to v2'
    >>> ticket_use("rollback", model="m", version="v1", alias="production")
    'roll back m production'
    """
    if purpose == "new_version":
        return f"promote {model} {version} to Approved"
    if purpose == "rollback":
        return f"roll back {model} {alias}"
    return f"move {model} {alias} to {version}"


def ticket_uses(conn: sqlite3.Connection, chg_id: str | None) -> list[str]:
    """The transitions ``chg_id`` was used for, from the audit events that record them
    (promotions to Approved, alias moves and rollbacks naming the ticket), oldest first."""
    if chg_id is None:
        return []
    rows = conn.execute(
        "SELECT kind, model, version, payload_json FROM events WHERE chg_id = ? AND kind IN"
        f" ({', '.join('?' for _ in _USE_KINDS)}) ORDER BY seq",
        (chg_id, *_USE_KINDS),
    ).fetchall()
    uses = []
    for kind, model, version, payload_json in rows:
        try:
            payload = json.loads(payload_json)
        except ValueError:
            payload = {}
        payload = payload if isinstance(payload, Mapping) else {}
        if payload.get("cause") == "revocation":  # a revocation's own alias move: no use
            continue
        if kind == "promotion":
            if payload.get("to") != "Approved":
                continue
            uses.append(ticket_use("new_version", model=model, version=version, alias=None))
        else:
            purpose = "rollback" if kind == "rollback" else "alias_existing"
            alias = str(payload.get("alias"))
            uses.append(ticket_use(purpose, model=model, version=payload.get("to"), alias=alias))
    return uses


def is_backout(
    conn: sqlite3.Connection, *, model: str, alias: str, chg_id: str | None, target: str | None
) -> bool:
    """Whether rolling ``alias`` back to ``target`` under ``chg_id`` runs that ticket's backout
    plan: the alias's current position is the move made under ``chg_id``, and ``target`` is the
    version that move left."""
    if chg_id is None or target is None:
        return False
    row = conn.execute(
        "SELECT from_version, kind, chg_id FROM alias_history WHERE model = ? AND alias = ?"
        " ORDER BY id DESC LIMIT 1",
        (model, alias),
    ).fetchone()
    return row is not None and row[1] == "alias_update" and row[2] == chg_id and row[0] == target


def window_problem(ticket: ChangeTicket, max_window_ns: int) -> str | None:
    """Why ``ticket``'s window is too long (None: it is not).

    Examples
    --------
    >>> t = ChangeTicket.from_dict({"id": "CHG-1", "type": "Normal",
    ...     "scope": {"model": "m", "versions": ["v1"]}, "risk": "low", "impact": "none",
    ...     "window": {"start": "2026-01-01T00:00:00Z", "end": "2026-02-01T00:00:00Z"},
    ...     "steps": ["x"], "backout_plan": "rollback", "post_change_validation": ["x"],
    ...     "owners": ["olga"]})
    >>> print(window_problem(t, 7 * 86_400 * 10**9))
    change CHG-1: the window is 31 days long; at most 7 days (the calendar's ...
    >>> window_problem(t, 31 * 86_400 * 10**9) is None
    True
    """
    length = ticket.window_end_ns - ticket.window_start_ns
    if length <= max_window_ns:
        return None
    day = 86_400 * 10**9
    shown = f"{length // day} days" if length % day == 0 else f"{length / day:.1f} days"
    return (
        f"change {ticket.chg_id}: the window is {shown} long; at most {max_window_ns // day}"
        " days (the calendar's max_ticket_window_days): a ticket authorises one bounded change,"
        " split a longer one"
    )


def control_facts(
    conn: sqlite3.Connection,
    chg_id: str | None,
    *,
    purpose: str,
    model: str,
    version: str | None,
    alias: str | None,
    max_window_ns: int,
    backout: bool = False,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """What the change gate reads about a ticket's use: ``(change, target)`` additions.

    ``change`` gains ``uses`` (the transitions the ticket was used for) and ``max_window_ns``;
    ``target`` gains ``use`` (the transition this action is) and ``backout``.
    """
    use = ticket_use(purpose, model=model, version=version, alias=alias)
    return (
        {"uses": ticket_uses(conn, chg_id), "max_window_ns": max_window_ns},
        {"use": use, "backout": backout},
    )
