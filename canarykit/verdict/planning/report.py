"""A rollout plan as a result: per step and check, time to PROCEED, detectable regression, traffic.

One :class:`CheckPlan` per check and step, one :class:`StepPlan` per step, and the
:class:`RolloutPlanReport` that holds them (with the baseline it assumed), each with
``to_dict``/``from_dict`` (schema ``canarykit.plan/1``); the report's text and HTML are drawn by
:mod:`canarykit.verdict.planning.render`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from canarykit.errors import InvalidInputError
from canarykit.verdict.planning.baseline import BaselineProfile
from canarykit.verdict.planning.render import plan_html, plan_text

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["SCHEMA", "CheckPlan", "RolloutPlanReport", "StepPlan"]

SCHEMA = "canarykit.plan/1"


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckPlan:
    """What one check can do at one step (see :mod:`canarykit.verdict.planning`).

    ``detectable`` is in the check's units (``unit``): ms for a latency quantile, a ratio for
    the p99 and error-rate ratios, a rate for the error-rate SLO, ΔAUC, the growth of a
    fairness gap, and for ``sample_ratio`` the candidate's share of traffic (below the planned
    one) that the sample-ratio gate catches. ``None`` means not within the step / not within a
    sane range (``note`` says why).
    """

    check: str
    kind: str
    required: bool
    bound: str
    threshold: float | None
    unit: str
    minutes_to_proceed: float | None
    detectable: float | None
    minimum_rate: float | None
    alpha_pass: float
    alpha_fail: float
    quantile: float | None = None
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return {
            "check": self.check,
            "kind": self.kind,
            "quantile": self.quantile,
            "required": self.required,
            "bound": self.bound,
            "threshold": self.threshold,
            "unit": self.unit,
            "minutes_to_proceed": self.minutes_to_proceed,
            "detectable": self.detectable,
            "minimum_rate": self.minimum_rate,
            "alpha_pass": self.alpha_pass,
            "alpha_fail": self.alpha_fail,
            "note": self.note,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CheckPlan:
        """Inverse of :meth:`to_dict`."""
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


@dataclass(frozen=True, slots=True, kw_only=True)
class StepPlan:
    """The plan of one rollout step: its expected traffic, looks and one row per check.

    ``minutes_to_proceed`` is the first look at which every required check passes (a pass
    is kept for the rest of the step), ``None`` when not within the window.
    """

    step: int
    share: float
    window_minutes: float
    control: str
    expected_control: float
    expected_candidate: float
    looks: tuple[float, ...]
    minutes_to_proceed: float | None
    checks: tuple[CheckPlan, ...]
    tuning: dict[str, Any]

    def check(self, name: str) -> CheckPlan:
        """The row of check ``name`` (``KeyError`` if it does not run at this step)."""
        for c in self.checks:
            if c.check == name:
                return c
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return {
            "step": self.step,
            "share": self.share,
            "window_minutes": self.window_minutes,
            "control": self.control,
            "expected_control": self.expected_control,
            "expected_candidate": self.expected_candidate,
            "looks": list(self.looks),
            "minutes_to_proceed": self.minutes_to_proceed,
            "checks": [c.to_dict() for c in self.checks],
            "tuning": self.tuning,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StepPlan:
        """Inverse of :meth:`to_dict`."""
        return cls(
            step=int(data["step"]),
            share=float(data["share"]),
            window_minutes=float(data["window_minutes"]),
            control=str(data["control"]),
            expected_control=float(data["expected_control"]),
            expected_candidate=float(data["expected_candidate"]),
            looks=tuple(float(x) for x in data["looks"]),
            minutes_to_proceed=data.get("minutes_to_proceed"),
            checks=tuple(CheckPlan.from_dict(c) for c in data["checks"]),
            tuning=dict(data["tuning"]),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class RolloutPlanReport:
    """A rollout plan: per step and check, time to PROCEED, detectable regression, min. traffic.

    Renders as text (:meth:`to_text`), escaped HTML in Jupyter and a pandas DataFrame
    (:meth:`to_frame`); :meth:`to_dict` is the JSON form (schema ``canarykit.plan/1``) and
    :meth:`from_dict` reads it back. :meth:`step` gives a :class:`StepPlan`, whose
    :meth:`StepPlan.check` gives a :class:`CheckPlan`.

    Examples
    --------
    >>> import json
    >>> from canarykit.verdict.planning import plan_rollout
    >>> from canarykit.verdict.policy import parse_policy
    >>> policy = parse_policy({"schema": "canarykit.policy/1",
    ...     "rollout": {"steps": [{"share": 0.25, "window_minutes": 20}]},
    ...     "checks": {"error_rate": {"kind": "error_rate", "max": 0.005}}})
    >>> report = plan_rollout(policy, rate=50.0, look_every=10)
    >>> report.step(1).looks, report.step(1).check("error_rate").unit
    ((10.0, 20.0), 'rate')
    >>> RolloutPlanReport.from_dict(json.loads(json.dumps(report.to_dict()))) == report
    True
    >>> report.to_frame()[["step", "check", "minutes_to_proceed"]].to_dict("records")
    [{'step': 1, 'check': 'error_rate', 'minutes_to_proceed': 10.0}]
    >>> print(report.to_text().splitlines()[0])
    Canary rollout plan at 50 requests/s (both arms), a look every 10 min, policy sha256:...
    """

    rate: float
    look_every_minutes: float
    alpha: float
    power: float
    policy_digest: str
    profile: BaselineProfile
    steps: tuple[StepPlan, ...]
    error_control: str
    notes: tuple[str, ...] = ()

    def step(self, number: int) -> StepPlan:
        """Step ``number`` (1-based)."""
        return self.steps[number - 1]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (numbers unrounded)."""
        return {
            "schema": SCHEMA,
            "mode": "canary",
            "rate": self.rate,
            "look_every_minutes": self.look_every_minutes,
            "alpha": self.alpha,
            "power": self.power,
            "policy_digest": self.policy_digest,
            "profile": self.profile.to_dict(),
            "steps": [s.to_dict() for s in self.steps],
            "error_control": self.error_control,
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RolloutPlanReport:
        """Inverse of :meth:`to_dict`."""
        if data.get("schema") != SCHEMA:
            raise InvalidInputError(f"schema: must be {SCHEMA!r}, got {data.get('schema')!r}")
        return cls(
            rate=float(data["rate"]),
            look_every_minutes=float(data["look_every_minutes"]),
            alpha=float(data["alpha"]),
            power=float(data["power"]),
            policy_digest=str(data["policy_digest"]),
            profile=BaselineProfile.from_dict(data["profile"]),
            steps=tuple(StepPlan.from_dict(s) for s in data["steps"]),
            error_control=str(data["error_control"]),
            notes=tuple(str(n) for n in data.get("notes", ())),
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per (step, check)."""
        import pandas as pd

        rows = [
            {"step": s.step, "share": s.share, "window_minutes": s.window_minutes, **c.to_dict()}
            for s in self.steps
            for c in s.checks
        ]
        return pd.DataFrame(rows)

    def to_text(self) -> str:
        """Aligned plain text: a table per step, then the assumptions and error control."""
        return plan_text(self)

    def __str__(self) -> str:
        return self.to_text()

    def _repr_html_(self) -> str:
        return plan_html(self)
