"""The registry as its verified audit log tells it, and the table rows that disagree.

The tables (versions, approvals, waivers, change tickets and their approvals, aliases, the
configuration documents, evidence) are a fast index of what the audit log records, nothing
more (DESIGN.md §10: "the registry says so" only when the fact is backed by an event of the
verified hash chain). Whoever can open the SQLite file can insert, edit or delete rows without
any event; :func:`build_state` reads the events once (linear in their number) and
:func:`row_problems` names every row no event backs and every event whose row is gone::

    approvals row 7 (sam approves risk-default v1 for Approved as security) has no audit event

The gates read the event side (:mod:`~canarykit.promotion.facts`); ``canarykit audit verify``
reports the rows (:mod:`~canarykit.promotion.log_verification`).

Examples
--------
>>> from canarykit.promotion.registry import RegistryStore
>>> store = RegistryStore(":memory:")
>>> _ = store.conn.execute("INSERT INTO approvals (model, version, stage, role, actor, time_ns)"
...                        " VALUES ('m', 'v1', 'Approved', 'security', 'sam', 0)")
>>> row_problems(store.conn, build_state([]))
['approvals row 1 (sam approves m v1 for Approved as security) has no audit event']
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from canarykit.errors import CanaryError
from canarykit.promotion.audit import AuditEvent, canonical_json, list_events
from canarykit.promotion.clock import format_instant

__all__ = [
    "VerifiedState",
    "approval_key",
    "build_state",
    "load_state",
    "recorded_keys",
    "recorded_stage",
    "recorded_version",
    "row_key",
    "row_problems",
    "ticket_of",
    "verify_log",
    "waiver_key",
]

_STAGE_KINDS = ("submission", "promotion", "revocation")
_ALIAS_KINDS = ("alias_update", "rollback")
Key = tuple[Any, ...]


@dataclass(slots=True, kw_only=True)
class VerifiedState:
    """What the audit log records, indexed by what the tables hold (one pass over events).

    ``rows[table]`` counts the row keys the events back (and ``seqs[table]`` names the event of
    each); ``stages``, ``aliases`` and ``config`` hold the latest state the log records.
    """

    first_hash: str | None = None
    events: int = 0
    stages: dict[tuple[str, str], str] = field(default_factory=dict)
    fields: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    revoked: set[tuple[str, str]] = field(default_factory=set)
    aliases: dict[tuple[str, str], str | None] = field(default_factory=dict)
    config: dict[str, dict[str, Any]] = field(default_factory=dict)
    tickets: dict[str, dict[str, Any]] = field(default_factory=dict)
    rows: dict[str, Counter[Key]] = field(default_factory=dict)
    seqs: dict[str, dict[Key, int]] = field(default_factory=dict)

    def stage(self, model: str, version: str) -> str | None:
        """The stage the log records for a version (None: no submission event)."""
        return self.stages.get((model, version))

    def backs(self, table: str, key: Key) -> bool:
        """Whether an event backs a row of ``table`` with ``key``."""
        return self.rows.get(table, Counter())[key] > 0

    def _add(self, table: str, key: Key, seq: int) -> None:
        self.rows.setdefault(table, Counter())[key] += 1
        self.seqs.setdefault(table, {})[key] = seq


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _instant_ns(value: Any) -> int | None:
    from canarykit.promotion.clock import parse_instant

    try:
        return parse_instant(str(value), field="time")
    except CanaryError:
        return None


def approval_key(model: Any, version: Any, stage: Any, role: Any, actor: Any, digest: Any) -> Key:
    """How an approval row and its event are matched."""
    from canarykit.promotion.roster import person_key

    return (
        _text(model),
        _text(version),
        _text(stage),
        _text(role),
        person_key(_text(actor)),
        _text(digest),
    )


_NOT_RECORD = ("act", "clock", "drill")
"""Payload fields an event adds to the record it carries (the signed act, the event context)."""


def ticket_of(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The change ticket a ``change`` event records (its payload less act and context)."""
    return {k: v for k, v in payload.items() if k not in _NOT_RECORD}


def build_state(events: Iterable[AuditEvent]) -> VerifiedState:
    """Index what ``events`` (in sequence order) record; linear in their number."""
    state = VerifiedState()
    for e in events:
        state.events += 1
        if state.first_hash is None:
            state.first_hash = e.hash
        p, mv = e.payload, (_text(e.model), _text(e.version))
        if e.kind == "submission":
            state.stages[mv] = "Candidate"
            state.fields[mv] = {
                "artifact_digest": p.get("artifact_digest"),
                "submitter": e.actor,
            }
            state._add("versions", mv, e.seq)
        elif e.kind == "promotion":
            state.stages[mv] = _text(p.get("to"))
            recorded = state.fields.setdefault(mv, {})
            if p.get("to") == "Staging":
                recorded["policy_digest"] = p.get("policy_digest")
                state._add("bound_policies", (*mv, _text(p.get("policy_digest"))), e.seq)
            elif p.get("to") == "Approved":
                recorded["revalidate_by_ns"] = p.get("revalidate_by_ns")
                if p.get("verdict_digest"):
                    state._add("signed_verdicts", (*mv, _text(p.get("verdict_digest"))), e.seq)
        elif e.kind == "revocation":
            state.stages[mv] = "Revoked"
            state.revoked.add(mv)
        elif e.kind == "approval":
            key = approval_key(
                e.model, e.version, p.get("stage"), p.get("role"), e.actor, p.get("verdict_digest")
            )
            state._add("approvals", key, e.seq)
        elif e.kind == "waiver":
            state._add("waivers", waiver_key(p), e.seq)
        elif e.kind == "change" and e.chg_id:
            state.tickets[e.chg_id] = ticket_of(p)
            state._add("changes", (e.chg_id, e.actor), e.seq)
        elif e.kind == "change_approval":
            state._add("change_approvals", (_text(e.chg_id), e.actor, _text(p.get("role"))), e.seq)
        elif e.kind in _ALIAS_KINDS and "alias" in p:
            state.aliases[(_text(e.model), _text(p.get("alias")))] = p.get("to")
            key = (_text(e.model), _text(p.get("alias")), _text(p.get("to")), e.actor, e.time_ns)
            state._add("alias_history", key, e.seq)
        elif e.kind == "config" and isinstance(p.get("document"), Mapping):
            state.config[_text(p.get("key"))] = dict(p["document"])
        elif e.kind == "evidence":
            key = (*mv, _text(p.get("kind")), _text(p.get("name")), _text(p.get("digest")))
            state._add("evidence_documents", key, e.seq)
        elif e.kind == "vex_approval":
            key = (*mv, _text(p.get("vulnerability")), _text(p.get("statement_digest")), e.actor)
            state._add("vex_approvals", key, e.seq)
    return state


def waiver_key(p: Mapping[str, Any]) -> Key:
    """How a waiver row and its event are matched (a waiver's ``to_dict`` form)."""
    return (
        _text(p.get("waiver_id")),
        _text(p.get("model")),
        _text(p.get("version")),
        _text(p.get("check")),
        _instant_ns(p.get("expires")),
        _text(p.get("created_by")),
    )


_KIND_OF_TABLE = {
    "approvals": "approval",
    "waivers": "waiver",
    "evidence_documents": "evidence",
    "vex_approvals": "vex_approval",
}


def recorded_keys(conn: sqlite3.Connection, table: str, model: str) -> set[Key]:
    """The keys of the ``table`` rows of ``model`` that events back (for the gates: one query
    over that model's events of the one kind).

    Examples
    --------
    >>> from canarykit.promotion.registry import RegistryStore
    >>> recorded_keys(RegistryStore(":memory:").conn, "approvals", "m")
    set()
    """
    events = list_events(conn, model=model, kind=_KIND_OF_TABLE[table])
    return set(build_state(events).rows.get(table, Counter()))


def row_key(table: str, row: Mapping[str, Any]) -> Key:
    """The key a ``table`` row (a mapping of its columns) is matched with its event by."""
    return next(t for t in _TABLES if t.name == table).key(row)  # type: ignore[arg-type]


def load_state(conn: sqlite3.Connection) -> VerifiedState:
    """:func:`build_state` of the registry's whole log."""
    return build_state(list_events(conn))


def recorded_version(conn: sqlite3.Connection, model: str, version: str) -> dict[str, Any] | None:
    """What the audit log records about one version (None: no submission event).

    ``stage``, ``artifact_digest`` and ``submitter`` (its submission), ``policy_digest`` (bound
    by its promotion to Staging) and ``revalidate_by_ns`` (set by its promotion to Approved).
    One query over that version's events (for the gates; :func:`build_state` for all).
    """
    rows = conn.execute(
        "SELECT kind, actor, payload_json FROM events WHERE model = ? AND version = ?"
        " AND kind IN ('submission', 'promotion', 'revocation') ORDER BY seq",
        (model, version),
    ).fetchall()
    found: dict[str, Any] | None = None
    for kind, actor, payload_json in rows:
        payload = json.loads(payload_json)
        if kind == "submission":
            found = {
                "stage": "Candidate",
                "artifact_digest": payload.get("artifact_digest"),
                "submitter": actor,
                "policy_digest": None,
                "revalidate_by_ns": None,
            }
        elif found is None:
            continue
        elif kind == "revocation":
            found["stage"] = "Revoked"  # nothing leaves Revoked
        elif found["stage"] != "Revoked":
            found["stage"] = _text(payload.get("to"))
            if payload.get("to") == "Staging":
                found["policy_digest"] = payload.get("policy_digest")
            elif payload.get("to") == "Approved":
                found["revalidate_by_ns"] = payload.get("revalidate_by_ns")
    return found


def recorded_stage(conn: sqlite3.Connection, model: str, version: str) -> str | None:
    """The stage the audit log records for one version (None: it records no submission)."""
    found = recorded_version(conn, model, version)
    return None if found is None else str(found["stage"])


# -- rows against events -----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Table:
    name: str
    sql: str
    key: Callable[[sqlite3.Row], Key]
    describe: Callable[[sqlite3.Row], str]


_TABLES = (
    _Table(
        "approvals",
        "SELECT rowid AS n, * FROM approvals ORDER BY rowid",
        lambda r: approval_key(
            r["model"], r["version"], r["stage"], r["role"], r["actor"], r["verdict_digest"]
        ),
        lambda r: (
            f"{r['actor']} approves {r['model']} {r['version']} for {r['stage']} as {r['role']}"
        ),
    ),
    _Table(
        "waivers",
        "SELECT rowid AS n, * FROM waivers ORDER BY rowid",
        lambda r: waiver_key(
            {
                "waiver_id": r["waiver_id"],
                "model": r["model"],
                "version": r["version"],
                "check": r["check_name"],
                "expires": format_instant(r["expires_ns"]),
                "created_by": r["created_by"],
            }
        ),
        lambda r: (
            f"{r['waiver_id']}: {r['created_by']} waives {r['check_name']} for"
            f" {r['model']} {r['version'] or '(all versions)'}"
        ),
    ),
    _Table(
        "changes",
        "SELECT rowid AS n, * FROM changes ORDER BY rowid",
        lambda r: (r["chg_id"], r["created_by"]),
        lambda r: f"{r['chg_id']} requested by {r['created_by']}",
    ),
    _Table(
        "change_approvals",
        "SELECT rowid AS n, * FROM change_approvals ORDER BY rowid",
        lambda r: (r["chg_id"], r["actor"], r["role"]),
        lambda r: f"{r['actor']} approves {r['chg_id']} as {r['role']}",
    ),
    _Table(
        "alias_history",
        "SELECT rowid AS n, * FROM alias_history ORDER BY rowid",
        lambda r: (r["model"], r["alias"], _text(r["to_version"]), r["actor"], r["time_ns"]),
        lambda r: f"{r['actor']} moves {r['model']} {r['alias']} to {r['to_version']}",
    ),
    _Table(
        "evidence_documents",
        "SELECT rowid AS n, * FROM evidence_documents ORDER BY rowid",
        lambda r: (r["model"], r["version"], r["kind"], r["name"], r["digest"]),
        lambda r: f"{r['kind']} {r['name']} of {r['model']} {r['version']}",
    ),
    _Table(
        "vex_approvals",
        "SELECT rowid AS n, * FROM vex_approvals ORDER BY rowid",
        lambda r: (r["model"], r["version"], r["vulnerability"], r["statement_digest"], r["actor"]),
        lambda r: (
            f"{r['actor']} approves {r['state']} for {r['vulnerability']} of"
            f" {r['model']} {r['version']}"
        ),
    ),
    _Table(
        "bound_policies",
        "SELECT rowid AS n, * FROM bound_policies ORDER BY rowid",
        lambda r: (r["model"], r["version"], r["digest"]),
        lambda r: f"policy {r['digest'][:19]}… bound to {r['model']} {r['version']}",
    ),
    _Table(
        "signed_verdicts",
        "SELECT rowid AS n, * FROM signed_verdicts ORDER BY rowid",
        lambda r: (r["model"], r["version"], r["verdict_digest"]),
        lambda r: f"verdict {r['verdict_digest'][:19]}… of {r['model']} {r['version']}",
    ),
)


def _rows(conn: sqlite3.Connection, sql: str) -> list[sqlite3.Row]:
    try:
        rows: list[sqlite3.Row] = conn.execute(sql).fetchall()
    except sqlite3.OperationalError:  # a table this registry never created (added later)
        return []
    return rows


def row_problems(conn: sqlite3.Connection, state: VerifiedState) -> list[str]:
    """Every table row no event backs, and every recorded fact whose row is gone or differs."""
    problems: list[str] = []
    for table in _TABLES:
        backed = state.rows.get(table.name, Counter())
        held = set()
        for row in _rows(conn, table.sql):
            key = table.key(row)
            held.add(key)
            if not backed[key]:
                problems.append(
                    f"{table.name} row {row['n']} ({table.describe(row)}) has no audit event"
                )
        problems += [
            f"{table.name}: audit event {state.seqs[table.name][key]} records a row that the"
            " table no longer holds (deleted)"
            for key in backed
            if key not in held
        ]
    problems += _version_problems(conn, state)
    problems += _alias_problems(conn, state)
    problems += _config_problems(conn, state)
    problems += _ticket_problems(conn, state)
    return problems


def _version_problems(conn: sqlite3.Connection, state: VerifiedState) -> list[str]:
    problems, seen = [], set()
    for row in _rows(conn, "SELECT rowid AS n, * FROM versions ORDER BY rowid"):
        mv = (row["model"], row["version"])
        seen.add(mv)
        recorded = state.stage(*mv)
        where = f"versions row {row['n']} ({row['model']} {row['version']})"
        if recorded is None:
            problems.append(f"{where} has no audit event (no submission)")
        elif recorded != row["stage"]:
            problems.append(
                f"{where}: the table says {row['stage']}, the audit log says {recorded}"
                + (" (the revocation stands: the event wins)" if mv in state.revoked else "")
            )
        for name, value in state.fields.get(mv, {}).items():
            if row[name] != value:
                problems.append(
                    f"{where}: the table says {name} {row[name]}, the audit log says {value}"
                )
    problems += [
        f"versions: the audit log records {m} {v} ({stage}) but the table has no row (deleted)"
        for (m, v), stage in state.stages.items()
        if (m, v) not in seen
    ]
    return problems


def _alias_problems(conn: sqlite3.Connection, state: VerifiedState) -> list[str]:
    problems, seen = [], set()
    for row in _rows(conn, "SELECT rowid AS n, * FROM aliases ORDER BY rowid"):
        key = (row["model"], row["alias"])
        seen.add(key)
        where = f"aliases row {row['n']} ({row['model']} {row['alias']} → {row['version']})"
        if key not in state.aliases:
            problems.append(f"{where} has no audit event")
        elif state.aliases[key] != row["version"]:
            problems.append(f"{where}: the audit log says {state.aliases[key]}")
    problems += [
        f"aliases: the audit log records {m} {a} → {to} but the table has no row (deleted)"
        for (m, a), to in state.aliases.items()
        if (m, a) not in seen
    ]
    return problems


def _config_problems(conn: sqlite3.Connection, state: VerifiedState) -> list[str]:
    problems, seen = [], set()
    for row in _rows(conn, "SELECT rowid AS n, key, value FROM config ORDER BY rowid"):
        seen.add(row["key"])
        where = f"config row {row['n']} ({row['key']})"
        recorded = state.config.get(row["key"])
        try:
            value = json.loads(row["value"])
        except json.JSONDecodeError:
            value = None
        if recorded is None:
            problems.append(f"{where} has no audit event; the gates ignore it")
        elif canonical_json(value) != canonical_json(recorded):
            problems.append(
                f"{where} differs from the document its last config event put in force; the"
                " gates read the event's"
            )
    problems += [
        f"config: the audit log puts a {key} in force but the table has no row (deleted)"
        for key in state.config
        if key not in seen
    ]
    return problems


def _ticket_problems(conn: sqlite3.Connection, state: VerifiedState) -> list[str]:
    problems = []
    for row in _rows(conn, "SELECT rowid AS n, chg_id, body_json FROM changes ORDER BY rowid"):
        recorded = state.tickets.get(row["chg_id"])
        try:
            body = json.loads(row["body_json"])
        except json.JSONDecodeError:
            body = None
        if recorded is not None and canonical_json(body) != canonical_json(recorded):
            problems.append(
                f"changes row {row['n']} ({row['chg_id']}) differs from the ticket its audit"
                " event records; the gates read the event's"
            )
    return problems


def verify_log(conn: sqlite3.Connection, **options: Any) -> Any:
    """:func:`canarykit.promotion.log_verification.verify_log` (everything ``audit verify``
    checks), also reachable from here."""
    from canarykit.promotion.log_verification import verify_log as run

    return run(conn, **options)
