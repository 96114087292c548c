"""``canarykit audit verify``: the chain, the log's start, its signed acts, its rows, checkpoints.

:func:`verify_log` reads the log once and reports, one line each,

- the hash chain (:func:`~canarykit.promotion.audit.verify_chain`);
- the log's start (:func:`start_problems`): a registry with table rows but no events (every
  event deleted), a ``registry_init`` event that is not the first one, and signed acts that
  name another first event than the log has (its start was deleted or rewritten);
- every act-kind event that does not count
  (:func:`~canarykit.promotion.verified_state.act_problem`): no signed act (an event appended
  through the storage layer), an act that does not verify under the roster in force when it
  was made (the roster of the last *counted* ``config`` event), an act copied from another
  event (its statement's action, actor, registry, time or fields differ from the event's), a
  signer without the role, a ``config`` event outside the four-eyes rule, a second submission
  of a version or creation of a ticket — the gates skip each of them; in a drill registry,
  which accepts unsigned acts, the signed acts it holds are re-checked (:func:`act_problems`);
- every table row no event backs, and every recorded fact whose row is gone or differs
  (:func:`~canarykit.promotion.unrecorded_rows.row_problems`);
- future-dated events (:func:`~canarykit.promotion.drill.time_problems`);
- the checkpoints (:mod:`~canarykit.promotion.checkpoints`): those recorded in the log and
  those given from outside.

What no check inside one file can catch: an event that carries no act (a ``promotion`` or an
alias move, decided by a gate rather than signed by a person) forged with a recomputed hash
(and every later hash, and ``audit_head``, recomputed), and a log truncated after its
last checkpoint together with every row the removed events backed. A signed checkpoint kept
outside the registry catches the first at or before it; nothing but the next checkpoint
catches the second.

Examples
--------
>>> from canarykit.promotion.registry import RegistryStore
>>> verify_log(RegistryStore(":memory:").conn).to_text().splitlines()[0][:28]
'audit log intact: 0 events, '
"""

from __future__ import annotations

import base64
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from canarykit.errors import CanaryError
from canarykit.promotion.audit import (
    GENESIS_HASH,
    AuditEvent,
    AuditVerification,
    canonical_json,
    list_events,
    verify_chain,
)
from canarykit.promotion.checkpoints import (
    CheckpointCheck,
    recorded_checkpoints,
    verify_checkpoints,
)
from canarykit.promotion.evidence import TrustStore
from canarykit.promotion.unrecorded_rows import row_problems
from canarykit.promotion.verified_state import ACT_KINDS, build_state

__all__ = ["LogVerification", "act_problems", "start_problems", "verify_log"]

_ACT_ACTIONS = ACT_KINDS
"""The act each kind of event may carry (``payload.act.statement.action``)."""


def _count(conn: sqlite3.Connection, table: str) -> int:
    try:
        return int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
    except sqlite3.OperationalError:
        return 0


_TABLES_WITH_FACTS = (
    "versions",
    "approvals",
    "waivers",
    "changes",
    "change_approvals",
    "aliases",
    "config",
)


def start_problems(conn: sqlite3.Connection, events: Sequence[AuditEvent]) -> list[str]:
    """What is wrong with where the log starts (see the module docstring)."""
    from canarykit.promotion.drill import INIT_KIND

    if not events:
        held = {t: n for t in _TABLES_WITH_FACTS if (n := _count(conn, t))}
        if not held:
            return []
        listed = ", ".join(f"{n} {t}" for t, n in held.items())
        return [
            f"the audit log is empty but the registry holds {listed} rows: its events were"
            " deleted (or the rows were written around it)"
        ]
    problems = [
        f"seq {e.seq}: a {INIT_KIND} event that is not the log's first (the events before it"
        " were inserted, or the log was rebuilt)"
        for e in events[1:]
        if e.kind == INIT_KIND
    ]
    first = events[0]
    first_group = {e.seq for e in events if e.time_ns == first.time_ns and e.actor == first.actor}
    for e in events:
        act = e.payload.get("act")
        statement = act.get("statement") if isinstance(act, Mapping) else None
        if not isinstance(statement, Mapping) or "registry" not in statement:
            continue
        named = statement["registry"]
        if named == first.hash or (named == GENESIS_HASH and e.seq in first_group):
            continue
        problems.append(
            f"seq {e.seq}: its signed act names the registry {str(named)[:19]}…, but the log"
            f" starts with {first.hash[:19]}… (the log's first events were deleted, inserted or"
            " rewritten)"
        )
        break  # one line says it; every later act would repeat it
    return problems


def act_problems(events: Sequence[AuditEvent], *, drill: bool) -> list[str]:
    """Every signed act in the log that does not verify under the roster of its time (what
    ``audit verify`` reports for a drill registry; elsewhere it reports every event that does
    not count, :attr:`~canarykit.promotion.verified_state.VerifiedState.problems`)."""
    from canarykit.promotion import acts
    from canarykit.promotion.roster import Roster

    problems: list[str] = []
    roster: Roster | None = None
    for e in events:
        p = e.payload
        is_roster = e.kind == "config" and p.get("key") == "roster"
        document = p.get("document")
        if is_roster and p.get("bootstrap") is True and isinstance(document, Mapping):
            roster = _roster(document)  # a bootstrap act is signed under the roster it sets
        act = p.get("act")
        if isinstance(act, Mapping) and act.get("signed") is True:
            problem = _act_problem(e, act, roster, drill=drill, check=acts.check_act)
            if problem is not None:
                problems.append(problem)
        if is_roster and isinstance(document, Mapping):
            roster = _roster(document) or roster
    return problems


def _roster(document: Mapping[str, Any]) -> Any:
    from canarykit.promotion.roster import Roster

    try:
        return Roster.from_dict(document)
    except CanaryError:
        return None


def _act_problem(
    e: AuditEvent, act: Mapping[str, Any], roster: Any, *, drill: bool, check: Callable[..., Any]
) -> str | None:
    from canarykit.promotion.roster import person_key

    statement = act.get("statement")
    where = f"seq {e.seq} ({e.kind} by {e.actor})"
    if not isinstance(statement, Mapping):
        return f"{where}: its signed act holds no statement"
    expected = _ACT_ACTIONS.get(e.kind, ())
    if statement.get("action") not in expected or statement.get("actor") != person_key(e.actor):
        return (
            f"{where}: carries the act {statement.get('action')} by {statement.get('actor')},"
            " not this event's (a signature copied from another act)"
        )
    for name in ("model", "version", "chg_id"):
        value = getattr(e, name)
        if name in statement and value is not None and statement.get(name) != value:
            return f"{where}: its signed act is about {name} {statement.get(name)}, not {value}"
    payload = canonical_json(dict(statement)).encode("utf-8")
    envelope = {
        "payloadType": "application/vnd.canarykit.act.v1+json",
        "payload": base64.b64encode(payload).decode("ascii"),
        "signatures": [{"keyid": act.get("keyid"), "sig": act.get("sig")}],
    }
    result = check(statement, envelope, roster, drill=drill)
    if result.ok:
        return None
    return f"{where}: its signed act does not verify: {'; '.join(result.problems[:2])}"


# -- everything audit verify says ---------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class LogVerification:
    """``canarykit audit verify``: the chain, the log's start, its acts, its rows, checkpoints."""

    chain: AuditVerification
    start: tuple[str, ...] = ()
    acts: tuple[str, ...] = ()
    rows: tuple[str, ...] = ()
    time: tuple[str, ...] = ()
    checkpoints: tuple[CheckpointCheck, ...] = ()

    @property
    def problems(self) -> tuple[str, ...]:
        """Every problem, one line each."""
        anchored = tuple(p for c in self.checkpoints for p in c.problems)
        return (*self.chain.problems, *self.start, *anchored, *self.acts, *self.rows, *self.time)

    @property
    def ok(self) -> bool:
        """Whether nothing at all was found."""
        return not self.problems

    @property
    def events(self) -> int:
        """How many events the log holds."""
        return self.chain.events

    @property
    def head_hash(self) -> str:
        """The last event's hash."""
        return self.chain.head_hash

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            **self.chain.to_dict(),
            "ok": self.ok,
            "problems": list(self.problems),
            "chain_problems": list(self.chain.problems),
            "start_problems": list(self.start),
            "act_problems": list(self.acts),
            "row_problems": list(self.rows),
            "time_problems": list(self.time),
            "checkpoints": [c.to_dict() for c in self.checkpoints],
        }

    def to_text(self) -> str:
        """``audit log intact: …`` or ``AUDIT LOG TAMPERED:`` and one line per problem."""
        anchored = [c for c in self.checkpoints if c.ok]
        notes = [n for c in self.checkpoints for n in c.notes]
        if self.ok:
            lines = [f"audit log intact: {self.events} events, head {self.head_hash}"]
            lines += [
                f"  anchored: {c.source}, covering events 1–{c.seq}, signed by "
                f"{', '.join(c.key_ids) or '?'}"
                for c in anchored
            ]
            if not self.checkpoints:
                lines.append(
                    "  not anchored: no signed checkpoint (canarykit audit checkpoint); a forged"
                    " event with recomputed hashes would pass the chain"
                )
        else:
            lines = ["AUDIT LOG TAMPERED:", *[f"  - {p}" for p in self.problems]]
        return "\n".join([*lines, *[f"  note: {n}" for n in notes]])


def verify_log(
    conn: sqlite3.Connection,
    *,
    checkpoints: Sequence[Any] = (),
    sources: Sequence[str] | None = None,
    trust: TrustStore | None = None,
    wall_ns: int | None = None,
) -> LogVerification:
    """Everything ``canarykit audit verify`` checks (one read of the log).

    Parameters
    ----------
    conn : sqlite3.Connection
        The registry.
    checkpoints : sequence
        Checkpoint envelopes given from outside (``--checkpoint FILE``); each must verify.
    sources : sequence of str, optional
        Their names in problems (the file names).
    trust : TrustStore, optional
        The keys trusted for checkpoints (default: the registry's own trust file, which whoever
        rewrites the registry can rewrite too — give one held elsewhere).
    wall_ns : int, optional
        The wall clock for future-dated events (default: the system clock).
    """
    from canarykit.promotion import facts as F
    from canarykit.promotion.clock import SystemClock
    from canarykit.promotion.drill import is_drill, time_problems

    events = list_events(conn)
    chain = verify_chain(conn)
    state = build_state(events)
    trust = trust if trust is not None else F.load_trust(conn)
    drill = is_drill(conn)
    recorded = recorded_checkpoints(events)
    checks = verify_checkpoints(
        events,
        [c.envelope for c in recorded],
        trust,
        sources=[f"recorded checkpoint (event {c.recorded_seq})" for c in recorded],
        require_signature=False,
    )
    checks += verify_checkpoints(
        events,
        list(checkpoints),
        trust,
        sources=list(sources) if sources is not None else None,
    )
    wall = SystemClock().now_ns() if wall_ns is None else wall_ns
    return LogVerification(
        chain=chain,
        start=tuple(start_problems(conn, events)),
        acts=tuple(act_problems(events, drill=drill) if drill else state.problems),
        rows=tuple(row_problems(conn, state)),
        time=tuple(time_problems(conn, wall_ns=wall)),
        checkpoints=tuple(checks),
    )
