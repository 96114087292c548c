"""Rollouts: start, step, status and abort a recorded 5 % → 25 % → 100 % rollout.

A rollout is a record in the trace store (DESIGN.md §9): the model, the baseline and candidate
versions, the plan (the policy's ``rollout.steps`` or a plan file) and, for every step entered,
its start time and planned split. While a model has an open rollout, every
:func:`canarykit.verdict.evaluate` of its store is a *look* at the current step
(:mod:`canarykit.verdict.look`). The command line mirrors these functions:
``canarykit rollout start|step|status|abort``.

Examples
--------
>>> from canarykit.traces import TraceStore
>>> from canarykit.traces.generate import generate_traces
>>> from canarykit.verdict import evaluate
>>> store = TraceStore()
>>> _ = store.ingest(generate_traces("identical", n_requests=20_000, seed=1))
>>> r = start_rollout(store, model="risk-default", candidate="v2.3.0", at="2026-01-01T00:00:00Z")
>>> r.current_step.share, r.status
(0.05, 'active')
>>> v = evaluate(store, until="2026-01-01T00:10:00Z")     # a look at step 1
>>> v.rollout.step, v.rollout.look, v.rollout.planned_split
(1, 1, 0.05)
>>> print(rollout_status(store, model="risk-default").to_text().splitlines()[0])
rollout 1 of risk-default: v2.2.4 → v2.3.0, active, step 1 of 3 (5%)
"""

from __future__ import annotations

import datetime as dt
import html
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from canarykit.errors import InvalidInputError
from canarykit.traces.decision_log import store_policy_snapshot
from canarykit.traces.rollouts import (
    LookRecord,
    RolloutRecord,
    add_step,
    create_rollout,
    current_rollout,
    end_rollout,
    get_rollout,
    list_looks,
    open_models,
)
from canarykit.traces.store import TraceStore
from canarykit.traces.traffic import stored_models
from canarykit.traces.window import parse_utc_timestamp
from canarykit.verdict.evaluate import is_duckdb_file
from canarykit.verdict.policy import Policy, RolloutStep, load_policy, parse_steps

__all__ = [
    "RolloutStatus",
    "abort_rollout",
    "load_plan",
    "rollout_status",
    "start_rollout",
    "step_rollout",
]


@contextmanager
def _opened(source: TraceStore | str | Path, *, writable: bool) -> Iterator[TraceStore]:
    """The store behind ``source``; closed afterwards only if opened here."""
    if isinstance(source, TraceStore):
        yield source
        return
    if not is_duckdb_file(source):
        if not Path(source).exists():
            raise InvalidInputError(f"{source}: no such DuckDB trace store (rollouts live in one)")
        raise InvalidInputError(
            f"{source}: not a DuckDB trace store (rollouts live in one; ingest the traces into "
            "a store first)"
        )
    store = TraceStore(source, read_only=not writable)
    try:
        yield store
    finally:
        store.close()


def _moment(value: str | dt.datetime | None, name: str) -> dt.datetime:
    if value is None:
        return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    return dt.datetime.fromisoformat(parse_utc_timestamp(value, name=name))


def _rate(value: float | None) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise InvalidInputError(
            f"--rate: must be a positive number of requests per second, got {value!r}"
        )
    return float(value)


def load_plan(path: str | Path) -> tuple[RolloutStep, ...]:
    """Read a plan file: YAML or JSON, ``steps: [{share, window_minutes}, ...]`` (or the list).

    Examples
    --------
    >>> import tempfile
    >>> f = Path(tempfile.mkdtemp()) / "plan.yaml"
    >>> _ = f.write_text("steps: [{share: 0.1, window_minutes: 20}, {share: 1, window_minutes: 20}]")
    >>> [s.share for s in load_plan(f)]
    [0.1, 1.0]
    """
    p = Path(path)
    try:
        document = yaml.safe_load(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidInputError(f"{path}: no such plan file") from None
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        raise InvalidInputError(
            f"{path}: not valid YAML/JSON: {' '.join(str(err).split())}"
        ) from None
    except RecursionError:
        raise InvalidInputError(f"{path}: nested too deeply to be a plan") from None
    except IsADirectoryError:
        raise InvalidInputError(f"{path}: a folder, not a plan file") from None
    raw = document.get("steps") if isinstance(document, dict) else document
    errors: list[str] = []
    steps = parse_steps(raw, errors, where=f"{path}: steps")
    if errors:
        raise InvalidInputError("; ".join(errors))
    return steps


def _versions(store: TraceStore, model: str) -> tuple[list[str], list[str]]:
    groups = [g for g in store.info().groups if g.model == model]
    controls = sorted({g.version for g in groups if g.arm == "control"})
    canaries = sorted({g.version for g in groups if g.arm == "canary"})
    return controls, canaries


def start_rollout(
    source: TraceStore | str | Path,
    *,
    model: str,
    baseline: str | None = None,
    candidate: str | None = None,
    policy: Policy | str | Path | None = None,
    plan: str | Path | tuple[RolloutStep, ...] | None = None,
    at: str | dt.datetime | None = None,
    rate: float | None = None,
) -> RolloutRecord:
    """Start a rollout of ``candidate`` against ``baseline``: step 1 begins at ``at`` (now).

    Parameters
    ----------
    source : TraceStore or path
        The DuckDB trace store the looks will read.
    model : str
        Model name.
    baseline, candidate : str, optional
        Inferred from the store when it holds exactly one control / canary version of the model.
    policy : Policy or path, optional
        The policy every look uses (default: the shipped one); its snapshot is stored.
    plan : path or steps, optional
        A plan file (:func:`load_plan`) instead of the policy's ``rollout.steps``.
    at : str or datetime, optional
        When traffic started on step 1 (default: now, UTC).
    rate : float, optional
        Expected requests per second (both arms) for tuning; default: measured in the store
        before each step starts, else the policy's ``rollout.expected_rate``.
    """
    chosen = policy if isinstance(policy, Policy) else load_policy(policy)
    steps = plan if isinstance(plan, tuple) else (load_plan(plan) if plan else chosen.rollout)
    if not steps:
        raise InvalidInputError("plan: a rollout needs at least one step")
    started = _moment(at, "--at")
    declared = _rate(rate)
    with _opened(source, writable=True) as store:
        if not model:
            raise InvalidInputError("--model: required")
        controls, canaries = _versions(store, model)
        if baseline is None:
            if len(controls) != 1:
                raise InvalidInputError(
                    f"model {model}: "
                    + (
                        f"several control versions ({', '.join(controls)}): pass --baseline"
                        if controls
                        else "no control traffic in the store yet: pass --baseline"
                    )
                )
            baseline = controls[0]
        if candidate is None:
            if len(canaries) != 1:
                raise InvalidInputError(
                    f"model {model}: "
                    + (
                        f"several canary versions ({', '.join(canaries)}): pass --candidate"
                        if canaries
                        else "no canary traffic in the store yet: pass --candidate"
                    )
                )
            candidate = canaries[0]
        if baseline == candidate:
            raise InvalidInputError(f"--candidate {candidate}: same version as the baseline")
        rid = create_rollout(
            store,
            model=model,
            baseline=baseline,
            candidate=candidate,
            policy_digest=chosen.digest,
            plan=[s.to_dict() for s in steps],
            started_at=started,
            rate=declared,
            also=lambda con: store_policy_snapshot(con, chosen.digest, chosen.files),
        )
        created = get_rollout(store, rid)
        if created is None:  # pragma: no cover  # written in the same call
            raise InvalidInputError(f"rollout {rid}: vanished from the store")
        return created


def _current(store: TraceStore, model: str | None) -> RolloutRecord:
    if model is None:
        models = open_models(store)
        if len(models) != 1:
            raise InvalidInputError(
                "--model: required"
                + (f" (open rollouts: {', '.join(models)})" if models else " (no open rollout)")
            )
        model = models[0]
    record = current_rollout(store, model)
    if record is None:
        known = stored_models(store)
        raise InvalidInputError(
            f"model {model}: no open rollout"
            + ("" if model in known else f" (models in the store: {', '.join(known) or 'none'})")
            + "; start one with `canarykit rollout start`"
        )
    return record


def step_rollout(
    source: TraceStore | str | Path,
    *,
    model: str | None,
    to: int,
    at: str | dt.datetime | None = None,
    rate: float | None = None,
) -> RolloutRecord:
    """Record that traffic moved to plan step ``to`` (1-based) at ``at`` (default now)."""
    if isinstance(to, bool) or not isinstance(to, int):
        raise InvalidInputError(f"--to: must be a step number, got {to!r}")
    started = _moment(at, "--at")
    declared = _rate(rate)
    with _opened(source, writable=True) as store:
        record = _current(store, model)
        add_step(store, record.rollout_id, step=to, started_at=started, rate=declared)
        return _reloaded(store, record)


def abort_rollout(
    source: TraceStore | str | Path, *, model: str | None, reason: str
) -> RolloutRecord:
    """End the open rollout of ``model`` (a latched STOP ends with it), keeping ``reason``."""
    with _opened(source, writable=True) as store:
        record = _current(store, model)
        end_rollout(store, record.rollout_id, status="aborted", reason=reason)
        return _reloaded(store, record)


def _reloaded(store: TraceStore, record: RolloutRecord) -> RolloutRecord:
    updated = get_rollout(store, record.rollout_id)
    if updated is None:  # pragma: no cover  # written in the same call
        raise InvalidInputError(f"rollout {record.rollout_id}: vanished from the store")
    return updated


@dataclass(frozen=True, slots=True, kw_only=True)
class RolloutStatus:
    """A rollout and the looks of its current step, renderable as text, JSON and HTML."""

    record: RolloutRecord
    looks: tuple[LookRecord, ...]

    @property
    def last_verdict(self) -> dict[str, Any] | None:
        """The latest look's verdict (dict), if any."""
        return json.loads(self.looks[-1].verdict_json) if self.looks else None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary: the record plus the current step's looks."""
        return {
            **self.record.to_dict(),
            "current_step": self.record.current_step.step,
            "looks": [
                {
                    "look": lk.look,
                    "until": lk.until.isoformat() + "Z",
                    "decision": lk.decision,
                    "reasons": json.loads(lk.verdict_json).get("reasons", []),
                }
                for lk in self.looks
            ],
            "forecast": (self.last_verdict or {}).get("forecast", []),
        }

    def to_text(self) -> str:
        """Plain text for a terminal."""
        r = self.record
        cur = r.current_step
        lines = [
            f"rollout {r.rollout_id} of {r.model}: {r.baseline} → {r.candidate}, {r.status}, "
            f"step {cur.step} of {len(r.plan)} ({_step_label(r.plan[cur.step - 1])})",
            f"policy {r.policy_digest}",
        ]
        if r.end_reason:
            lines.append(f"ended {r.ended_at}Z: {r.end_reason}")
        if r.stop_step is not None:
            lines.append(f"STOP latched at step {r.stop_step}, look {r.stop_look}:")
            lines += [f"  - {reason}" for reason in r.stop_reasons]
        entered = {s.step: s for s in r.steps}
        for i, planned in enumerate(r.plan, start=1):
            s = entered.get(i)
            when = f"from {s.started_at.isoformat()}Z" if s else "not started"
            mark = "→" if s is cur else " "
            lines.append(
                f" {mark} step {i}: {_step_label(planned)} for "
                f"{float(planned['window_minutes']):g} min, {when}"
                + (f", tuned on {s.tuning['source']}" if s and s.tuning else "")
            )
        for lk in self.looks:
            reasons = json.loads(lk.verdict_json).get("reasons", [])
            lines.append(
                f"     look {lk.look}: until {lk.until.isoformat()}Z  {lk.decision}"
                + (f"  ({reasons[0]})" if reasons else "")
            )
        for f in (self.last_verdict or {}).get("forecast", []):
            lines.append(f"     forecast: {f['summary']}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()

    def _repr_html_(self) -> str:
        return "<pre>" + html.escape(self.to_text()) + "</pre>"


def rollout_status(
    source: TraceStore | str | Path, *, model: str | None = None, rollout_id: int | None = None
) -> RolloutStatus:
    """The open rollout of ``model`` (or rollout ``rollout_id``, open or not) and its looks."""
    with _opened(source, writable=False) as store:
        if rollout_id is not None:
            record = get_rollout(store, rollout_id)
            if record is None:
                raise InvalidInputError(f"--rollout {rollout_id}: no such rollout")
        else:
            record = _current(store, model)
        looks = tuple(list_looks(store, record.rollout_id, step=record.current_step.step))
    return RolloutStatus(record=record, looks=looks)


def _step_label(planned: dict[str, Any]) -> str:
    """``25%`` or ``route=beta at 90%`` for a stored plan step."""
    errors: list[str] = []
    steps = parse_steps([dict(planned)], errors, where="plan")
    return steps[0].label if steps else f"{float(planned['share']):.0%}"
