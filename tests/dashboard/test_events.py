"""``canarykit events``: audit events and looks as one stream; webhook delivery at least once."""

from __future__ import annotations

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from canarykit.cli.main import main
from canarykit.events import Cursor, deliver, read_events
from canarykit.promotion import FixedClock, Promotion, parse_instant
from canarykit.rollout import start_rollout
from canarykit.simulate.rollout import MODEL, SCENARIOS, START, rollout_traffic
from canarykit.traces.store import ingest_new_or_existing
from canarykit.verdict import evaluate
from canarykit.verdict.policy import load_policy


@pytest.fixture
def sources(tmp_path):
    db = tmp_path / "store.duckdb"
    ingest_new_or_existing(
        db, rollout_traffic(SCENARIOS["aa"], load_policy().rollout[:1], rate=20.0, seed=2)
    )
    start_rollout(db, model=MODEL, at=START)
    for minute in (5, 10, 15):
        evaluate(db, until=(START + dt.timedelta(minutes=minute)).isoformat())
    registry = tmp_path / "registry.sqlite"
    clock = FixedClock(parse_instant("2026-11-25T10:00:00Z"))
    with Promotion(registry, clock=clock, drill=True) as p:  # a fixed clock: a drill registry
        p.configure(roster={"people": {"ann": ["product"], "sam": ["security"]}}, actor="sam")
        p.submit(MODEL, "v2.3.0", artifact_digest="sha256:" + "1" * 64, actor="ann")
        p.submit(MODEL, "v2.4.0", artifact_digest="sha256:" + "2" * 64, actor="ann")
    return db, registry


class Receiver:
    """A webhook receiver on localhost that fails on purpose, then dedups by idempotency key."""

    def __init__(self, failures: dict[str, int]) -> None:
        self.failures = dict(failures)  # event id -> how many times to answer 503 first
        self.accepted: dict[str, dict] = {}
        self.attempts: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                key = self.headers["Idempotency-Key"]
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                receiver.attempts.append(key)
                if receiver.failures.get(key, 0) > 0:
                    receiver.failures[key] -= 1
                    self.send_response(503)
                    self.end_headers()
                    return
                receiver.accepted.setdefault(key, body)  # a repeat is acknowledged, not stored
                self.send_response(202)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_one_stream_in_time_order_with_cursors(sources):
    db, registry = sources
    events = read_events(db=db, registry=registry)
    kinds = [e.kind for e in events]
    assert kinds.count("look") == 3
    assert kinds.count("submission") == 2
    assert [e.id for e in events if e.kind == "look"] == ["look-1.1.1", "look-1.1.2", "look-1.1.3"]
    assert Cursor.parse(events[-1].cursor) == Cursor(audit=len(events) - 3, looks=3)
    after = read_events(db=db, registry=registry, since=Cursor.parse(events[2].cursor))
    assert [e.id for e in after] == [e.id for e in events[3:]]
    evaluate(db, until=(START + dt.timedelta(minutes=20)).isoformat())
    newer = read_events(db=db, registry=registry, since=Cursor.parse(events[-1].cursor))
    assert [e.id for e in newer] == ["look-1.1.4"]


def test_webhook_delivery_is_at_least_once_and_each_event_lands_once(sources, tmp_path):
    db, registry = sources
    events = read_events(db=db, registry=registry)
    receiver = Receiver({events[1].id: 2, events[3].id: 1})
    state = tmp_path / "state.json"
    try:
        report = deliver(
            events, receiver.url, source="canarykit://test", state=state, sleep=lambda s: None
        )
        assert report.delivered == len(events)
        assert report.attempts == len(events) + 3
        # the process "died" after the receiver accepted the last two events but before the
        # state was saved: a resume re-sends them, and the idempotency key drops the repeats
        state.write_text(json.dumps({"cursor": events[-3].cursor}))
        assert (
            main(
                [
                    "events",
                    "--db",
                    str(db),
                    "--registry",
                    str(registry),
                    "--webhook",
                    receiver.url,
                    "--state",
                    str(state),
                    "--format",
                    "cloudevents",
                ]
            )
            == 0
        )
    finally:
        receiver.close()
    assert list(receiver.accepted) == [e.id for e in events]  # each exactly once, in order
    assert receiver.attempts.count(events[-1].id) == 2
    assert json.loads(state.read_text())["cursor"] == events[-1].cursor
    look = receiver.accepted[events[0].id]
    assert look["specversion"] == "1.0"
    assert look["type"].startswith("dev.canarykit.")


def test_a_refusing_receiver_stops_delivery_without_skipping(sources, tmp_path):
    from canarykit.errors import StorageError

    db, registry = sources
    events = read_events(db=db, registry=registry)

    receiver = Receiver({})
    receiver.failures = {events[2].id: 99}
    state = tmp_path / "state.json"
    try:
        with pytest.raises(StorageError, match="not delivered after 3 attempts"):
            deliver(events, receiver.url, source="s", state=state, retries=3, sleep=lambda s: None)
    finally:
        receiver.close()
    assert list(receiver.accepted) == [e.id for e in events[:2]]
    assert json.loads(state.read_text())["cursor"] == events[1].cursor


def test_cli_events_prints_jsonl_and_checks_arguments(sources, capsys):
    db, registry = sources
    assert main(["events", "--db", str(db), "--registry", str(registry)]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {line["kind"] for line in lines} >= {"look", "submission"}
    assert main(["events", "--db", str(db), "--since", "nonsense"]) == 2
    assert "is not a cursor" in capsys.readouterr().err
    assert main(["events"]) == 2
