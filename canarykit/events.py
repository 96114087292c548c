"""One stream of what happened: registry audit events and rollout looks, and webhook delivery.

Sources: the promotion registry's hash-chained audit log (promotion, approval, alias_update,
rollback, revocation, gate_denied, change — the "before" announcement of a change with its
window and impact — change_approval, waiver, release, …) and the looks recorded in a trace
store. Every event has a stable ``id`` (``audit-<seq>`` or ``look-<rollout>.<step>.<look>``),
its ``kind``, ``time``, model/version, the CHG-ID where there is one, and ``data``.

**Cursor.** Events of each source come in their own order (audit ``seq``; looks in the order
they were recorded). A cursor ``a<seq>.l<n>`` marks how far each source was read: ``a12.l30``
is "after audit event 12 and after the 30th look". ``--since`` takes a cursor (or a bare number
for the audit sequence).

**Delivery.** :func:`deliver` POSTs events in order to a webhook, each once it is accepted
(2xx): a failure (connection error, timeout, 5xx, 408, 429) is retried with exponential backoff,
and the cursor in the state file advances only after success, so delivery is at-least-once. The
``Idempotency-Key`` header (the event id) lets the receiver drop a repeat (e.g. the process died
after the receiver accepted an event but before the state was saved). Another 4xx stops delivery
with an error: the receiver refuses the event, and skipping it would lose it.

Examples
--------
>>> Cursor.parse("a12.l30"), str(Cursor(audit=3, looks=0))
(Cursor(audit=12, looks=30), 'a3.l0')
>>> e = Event(id="look-1.1.2", kind="look", time="2026-03-02T09:10:00Z", model="m",
...           version="v2", chg_id=None, actor=None, data={"decision": "CONTINUE"})
>>> ce = e.cloudevent("canarykit://store.duckdb")
>>> ce["type"], ce["subject"], ce["specversion"]
('dev.canarykit.look', 'm@v2', '1.0')
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from canarykit.errors import InvalidInputError, StorageError
from canarykit.safe_io import write_file

__all__ = [
    "Cursor",
    "DeliveryReport",
    "Event",
    "EventLog",
    "deliver",
    "event_log",
    "follow",
    "read_events",
    "resume_cursor",
]

_CURSOR = re.compile(r"^a(\d{1,12})\.l(\d{1,12})$")
RETRYABLE = {408, 429}


@dataclass(frozen=True, slots=True)
class Cursor:
    """How far each source has been read (``a<audit seq>.l<looks>``)."""

    audit: int = 0
    looks: int = 0

    @classmethod
    def parse(cls, text: str | None) -> Cursor:
        """``a12.l30``, a bare audit sequence number, or ``None`` (from the start)."""
        if text is None or text == "":
            return cls()
        text = str(text).strip()
        if text.isdigit():
            return cls(audit=int(text))
        match = _CURSOR.match(text)
        if not match:
            raise InvalidInputError(
                f"--since: {text[:40]!r} is not a cursor (a<audit seq>.l<looks>, e.g. a12.l30, "
                "or an audit sequence number)"
            )
        return cls(audit=int(match.group(1)), looks=int(match.group(2)))

    def __str__(self) -> str:
        return f"a{self.audit}.l{self.looks}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """One event of the stream (see the module docstring)."""

    id: str
    kind: str
    time: str
    model: str | None
    version: str | None
    chg_id: str | None
    actor: str | None
    data: dict[str, Any] = field(default_factory=dict)
    cursor: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (the ``jsonl`` format)."""
        return asdict(self)

    def cloudevent(self, source: str) -> dict[str, Any]:
        """CloudEvents 1.0 structured JSON (extension attribute ``chgid`` when there is one)."""
        out: dict[str, Any] = {
            "specversion": "1.0",
            "id": self.id,
            "source": source,
            "type": f"dev.canarykit.{self.kind}",
            "time": self.time,
            "datacontenttype": "application/json",
            "data": {**self.data, "actor": self.actor, "cursor": self.cursor},
        }
        if self.model:
            out["subject"] = f"{self.model}@{self.version}" if self.version else self.model
        if self.chg_id:
            out["chgid"] = self.chg_id
        return out


def _iso_ns(time_ns: int) -> str:
    moment = dt.datetime.fromtimestamp(time_ns / 1e9, dt.UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="milliseconds") + "Z"


def _audit_events(registry: str | Path, after: int) -> list[tuple[int, Event]]:
    from canarykit.promotion import Promotion

    if not Path(registry).is_file():
        raise InvalidInputError(f"--registry {registry}: no such registry")
    with Promotion(registry) as promotion:
        rows = [e for e in promotion.events() if e.seq > after]
    out = []
    for e in rows:
        kind = "change_created" if e.kind == "change" else e.kind
        out.append(
            (
                e.seq,
                Event(
                    id=f"audit-{e.seq}",
                    kind=kind,
                    time=_iso_ns(e.time_ns),
                    model=e.model,
                    version=e.version,
                    chg_id=e.chg_id,
                    actor=e.actor,
                    data=dict(e.payload),
                ),
            )
        )
    return out


def _look_events(db: str | Path, after: int) -> list[tuple[int, Event]]:
    from canarykit.traces.rollouts import list_looks, list_rollouts
    from canarykit.traces.store import TraceStore

    if not Path(db).is_file():
        raise InvalidInputError(f"--db {db}: no such trace store")
    with TraceStore(db, read_only=True, lock_timeout=30) as store:
        rollouts = {r.rollout_id: r for r in list_rollouts(store)}
        looks = [lk for rid in sorted(rollouts) for lk in list_looks(store, rid)]
    looks.sort(key=lambda lk: (lk.created_at, lk.rollout_id, lk.step, lk.look))
    out = []
    for n, lk in enumerate(looks, start=1):
        if n <= after:
            continue
        record = rollouts[lk.rollout_id]
        verdict = json.loads(lk.verdict_json)
        out.append(
            (
                n,
                Event(
                    id=f"look-{lk.rollout_id}.{lk.step}.{lk.look}",
                    kind="look",
                    time=lk.created_at.isoformat(timespec="milliseconds") + "Z",
                    model=record.model,
                    version=record.candidate,
                    chg_id=None,
                    actor=None,
                    data={
                        "rollout_id": lk.rollout_id,
                        "step": lk.step,
                        "look": lk.look,
                        "until": lk.until.isoformat() + "Z",
                        "decision": lk.decision,
                        "reasons": verdict.get("reasons", []),
                        "baseline": record.baseline,
                    },
                ),
            )
        )
    return out


def read_events(
    *, db: str | Path | None = None, registry: str | Path | None = None, since: Cursor | None = None
) -> list[Event]:
    """Events after ``since`` from the registry and/or the store, merged in time order.

    Each event carries the cursor *after* it, so a consumer resumes with ``--since`` that value.
    """
    if db is None and registry is None:
        raise InvalidInputError("events: give --db (rollout looks) and/or --registry (audit log)")
    start = since or Cursor()
    tagged = [
        ("audit", n, e) for n, e in (_audit_events(registry, start.audit) if registry else [])
    ]
    tagged += [("looks", n, e) for n, e in (_look_events(db, start.looks) if db else [])]
    tagged.sort(key=lambda t: (t[2].time, t[0], t[1]))
    audit, looks = start.audit, start.looks
    out = []
    for source, n, event in tagged:
        if source == "audit":
            audit = n
        else:
            looks = n
        out.append(_with_cursor(event, Cursor(audit=audit, looks=looks)))
    return out


def _with_cursor(event: Event, cursor: Cursor) -> Event:
    return Event(**{**event.to_dict(), "cursor": str(cursor)})


def follow(
    *,
    db: str | Path | None,
    registry: str | Path | None,
    since: Cursor,
    poll_seconds: float = 2.0,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[Event]:
    """New events as they are appended (polling), forever."""
    cursor = since
    while True:
        for event in read_events(db=db, registry=registry, since=cursor):
            cursor = Cursor.parse(event.cursor)
            yield event
        sleep(poll_seconds)


@dataclass(frozen=True, slots=True)
class EventLog:
    """A list of events renderable in a notebook (``to_frame``, HTML)."""

    events: tuple[Event, ...]

    def __len__(self) -> int:
        return len(self.events)

    def __iter__(self) -> Iterator[Event]:
        return iter(self.events)

    def to_frame(self) -> Any:
        """One row per event as a pandas DataFrame (``data`` as a column of dicts)."""
        import pandas as pd

        return pd.DataFrame([e.to_dict() for e in self.events])

    def _repr_html_(self) -> str:
        from canarykit.report.display import events_html

        return events_html(self.events)


def event_log(
    *, db: str | Path | None = None, registry: str | Path | None = None, since: Cursor | None = None
) -> EventLog:
    """:func:`read_events` as an :class:`EventLog` (for notebooks)."""
    return EventLog(tuple(read_events(db=db, registry=registry, since=since)))


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryReport:
    """What :func:`deliver` did."""

    delivered: int
    attempts: int
    cursor: str


def _load_state(path: Path | None) -> Cursor | None:
    if path is None or not path.exists():
        return None
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
        return Cursor.parse(str(state["cursor"]))
    except (ValueError, KeyError, TypeError):
        raise InvalidInputError(f"--state {path}: not a canarykit events state file") from None


def _save_state(path: Path, cursor: str) -> None:
    state = {"cursor": cursor, "saved_at": dt.datetime.now(dt.UTC).isoformat()}
    write_file(path, json.dumps(state), what="--state")  # atomic, never through a link


def _post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as err:
        with err:
            return int(err.code)


def deliver(
    events: list[Event],
    url: str,
    *,
    source: str,
    fmt: str = "cloudevents",
    state: str | Path | None = None,
    retries: int = 8,
    backoff: float = 0.5,
    timeout: float = 10.0,
    sleep: Callable[[float], None] = time.sleep,
) -> DeliveryReport:
    """POST each event to ``url`` in order, at least once (module docstring).

    Raises
    ------
    StorageError
        An event could not be delivered after ``retries`` attempts, or the receiver refused it
        (a 4xx other than 408/429); the state file keeps the cursor before it.
    """
    if not url.startswith(("http://", "https://")):
        raise InvalidInputError(f"--webhook: {url[:60]!r} must be an http(s) URL")
    state_path = Path(state) if state is not None else None
    delivered = attempts = 0
    cursor = ""
    for event in events:
        if fmt == "cloudevents":
            body = json.dumps(event.cloudevent(source)).encode("utf-8")
            kind = "application/cloudevents+json"
        else:
            body = json.dumps(event.to_dict()).encode("utf-8")
            kind = "application/json"
        headers = {"Content-Type": kind, "Idempotency-Key": event.id, "User-Agent": "canarykit"}
        delay = backoff
        for attempt in range(1, retries + 1):
            attempts += 1
            try:
                status = _post(url, body, headers, timeout)
            except (urllib.error.URLError, TimeoutError, OSError) as err:
                status, problem = 0, f"{type(err).__name__}: {err}"
            else:
                problem = f"HTTP {status}"
            if 200 <= status < 300:
                break
            if 400 <= status < 500 and status not in RETRYABLE:
                raise StorageError(
                    f"--webhook: the receiver refused event {event.id} ({problem}); delivery "
                    f"stopped at cursor {cursor or 'start'} so nothing is skipped"
                )
            if attempt == retries:
                raise StorageError(
                    f"--webhook: event {event.id} not delivered after {retries} attempts "
                    f"(last: {problem[:80]}); resume from cursor {cursor or 'start'}"
                )
            sleep(delay)
            delay = min(delay * 2.0, 30.0)
        delivered += 1
        cursor = event.cursor
        if state_path is not None:
            _save_state(state_path, cursor)
    return DeliveryReport(delivered=delivered, attempts=attempts, cursor=cursor)


def resume_cursor(since: str | None, state: str | Path | None) -> Cursor:
    """``--since`` when given, else the state file's cursor, else the start."""
    if since is not None:
        return Cursor.parse(since)
    saved = _load_state(Path(state)) if state is not None else None
    return saved or Cursor()
