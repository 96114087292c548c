"""The Verdict: decision, reasons, checks and the digests that make it reproducible.

``Verdict.to_dict()`` is the public verdict contract (DESIGN.md §4, schema
``canarykit.verdict/1``); ``from_dict`` reads it back. A verdict records the versions of the
engines that computed it (``engines``: DuckDB, whose ``hash()`` makes the data digest, and
regopy, which runs the decision rules); verdicts written before this field read back with an
empty ``engines``. ``engine`` names the engine that computed the summaries —
``{"name": "duckdb" | "spark", "version": …}`` — whose row hash makes the data digest (so the
digest is engine-specific) and which replay uses again; verdicts written before it read back
as ``{"name": "duckdb"}``. A verdict renders as an aligned text table
(``to_text``), escaped HTML in Jupyter (``_repr_html_``) and a pandas DataFrame of its checks
(``to_frame``).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from canarykit.verdict.checks import CheckOutcome
from canarykit.verdict.segment_rows import SegmentVerdict

if TYPE_CHECKING:
    import pandas as pd

SCHEMA = "canarykit.verdict/1"
# Fields that describe when/where a verdict was made rather than what it computed; replay
# ignores them (and warns when the engines differ).
NON_COMPUTED_FIELDS = ("created_at", "canarykit_version", "engines", "engine")
#: Distributions whose versions every verdict records.
ENGINES = ("duckdb", "regopy")

__all__ = [
    "ENGINES",
    "NON_COMPUTED_FIELDS",
    "SCHEMA",
    "Rollout",
    "Verdict",
    "created_now",
    "default_engine",
    "engine_versions",
]


@functools.cache
def _installed_engines() -> tuple[tuple[str, str], ...]:
    from importlib.metadata import PackageNotFoundError, version

    found = []
    for name in ENGINES:
        try:
            found.append((name, version(name)))
        except PackageNotFoundError:
            found.append((name, "not installed"))
    return tuple(found)


def engine_versions() -> dict[str, str]:
    """Versions of the engines a verdict depends on, as installed (``{"duckdb": "1.1.3", …}``).

    Read from the installed distributions' metadata, so no engine is imported.

    Examples
    --------
    >>> sorted(engine_versions())
    ['duckdb', 'regopy']
    """
    return dict(_installed_engines())


def created_now() -> str:
    """The ``created_at`` of a verdict made now: UTC, whole seconds, ``Z``.

    Examples
    --------
    >>> created_now().endswith("Z"), len(created_now())
    (True, 20)
    """
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def default_engine() -> dict[str, str]:
    """The summaries engine of a verdict made in-process by DuckDB (the default)."""
    return {"name": "duckdb", "version": engine_versions()["duckdb"]}


def _read_engine(value: Any) -> dict[str, str]:
    if value is None:
        return {"name": "duckdb"}  # verdicts from before the field: DuckDB was the only engine
    if (
        not isinstance(value, dict)
        or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())
        or not value.get("name")
    ):
        raise ValueError('engine: must be {"name": "duckdb" | "spark" | …, "version": "…"}')
    return dict(value)


def _read_engines(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ValueError("engines: must be an object of engine name → version string")
    return dict(value)


@dataclass(frozen=True, slots=True, kw_only=True)
class Rollout:
    """Where the canary stands in the rollout plan, and what the plan says next.

    Without a recorded rollout the step is inferred from the observed split (or ``--split``).
    A *look* at a recorded rollout (``rollout_id`` set) also carries what replay needs: the
    plan, the step's start, its tuning and the ``until`` of every look of the step so far.
    """

    observed_split: float | None
    planned_split: float
    step: int | None
    steps: int
    next_action: str
    next_split: float | None
    rollout_id: int | None = None
    look: int | None = None
    step_started_at: str | None = None
    window_minutes: float | None = None
    minutes_in_step: float | None = None
    minutes_left: float | None = None
    control: str | None = None
    not_applicable: tuple[str, ...] = ()
    plan: tuple[dict[str, Any], ...] = ()
    look_untils: tuple[str, ...] = ()
    look_ingests: tuple[int, ...] = ()
    tuning: dict[str, Any] | None = None
    proceeded_look: int | None = None
    stopped: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (look fields only for a look at a recorded rollout)."""
        out: dict[str, Any] = {
            "observed_split": self.observed_split,
            "planned_split": self.planned_split,
            "step": self.step,
            "steps": self.steps,
            "next_action": self.next_action,
            "next_split": self.next_split,
        }
        if self.rollout_id is not None:
            out.update(
                rollout_id=self.rollout_id,
                look=self.look,
                step_started_at=self.step_started_at,
                window_minutes=self.window_minutes,
                minutes_in_step=self.minutes_in_step,
                minutes_left=self.minutes_left,
                control=self.control,
                not_applicable=list(self.not_applicable),
                plan=[dict(p) for p in self.plan],
                look_untils=list(self.look_untils),
                **({"look_ingests": list(self.look_ingests)} if self.look_ingests else {}),
                tuning=self.tuning,
                proceeded_look=self.proceeded_look,
                stopped=self.stopped,
            )
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, where: str = "rollout") -> Rollout:
        """Inverse of :meth:`to_dict` (every field type-checked)."""
        from canarykit.verdict.contract import Fields

        f = Fields(data, where)
        plan = f.items("plan", [])
        for i, step in enumerate(plan):
            Fields(step, f.child("plan", i))
        stopped = f.mapping("stopped", None, nullable=True)
        return cls(
            observed_split=f.optional_number("observed_split"),
            planned_split=f.number("planned_split"),
            step=f.integer("step", None, nullable=True),
            steps=f.integer("steps"),
            next_action=f.text("next_action"),
            next_split=f.optional_number("next_split"),
            rollout_id=f.integer("rollout_id", None, nullable=True),
            look=f.integer("look", None, nullable=True),
            step_started_at=f.text("step_started_at", None, nullable=True),
            window_minutes=f.optional_number("window_minutes"),
            minutes_in_step=f.optional_number("minutes_in_step"),
            minutes_left=f.optional_number("minutes_left"),
            control=f.text("control", None, nullable=True),
            not_applicable=f.texts("not_applicable", []),
            plan=tuple(plan),
            look_untils=f.texts("look_untils", []),
            look_ingests=tuple(f.integers("look_ingests", [])),
            tuning=f.mapping("tuning", None, nullable=True),
            proceeded_look=f.integer("proceeded_look", None, nullable=True),
            stopped=stopped,
        )


def _segments_from(data: Any) -> SegmentVerdict | None:
    """The ``segments`` key of a verdict dictionary (``None`` when absent)."""
    if data is None:
        return None
    from canarykit.errors import InvalidInputError

    try:
        return SegmentVerdict.from_dict(data)
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise InvalidInputError(f"segments: malformed ({type(err).__name__}: {err})") from None


@dataclass(frozen=True, slots=True, kw_only=True)
class Verdict:
    """A canary verdict (see the module docstring)."""

    decision: str
    reasons: tuple[str, ...]
    model: str
    baseline: str
    candidate: str
    mode: str
    window: dict[str, str | None]
    checks: tuple[CheckOutcome, ...]
    policy_digest: str
    data_digest: str
    canarykit_version: str
    created_at: str
    rollout: Rollout | None = None
    selection: dict[str, Any] = field(default_factory=dict)
    forecast: tuple[dict[str, Any], ...] = ()
    engines: dict[str, str] = field(default_factory=engine_versions)
    engine: dict[str, str] = field(default_factory=default_engine)
    segments: SegmentVerdict | None = None

    def to_dict(self) -> dict[str, Any]:
        """The verdict contract as a JSON-ready dictionary."""
        return {
            "schema": SCHEMA,
            "decision": self.decision,
            "reasons": list(self.reasons),
            "model": self.model,
            "baseline": self.baseline,
            "candidate": self.candidate,
            "mode": self.mode,
            "window": dict(self.window),
            "checks": [c.to_dict() for c in self.checks],
            "policy_digest": self.policy_digest,
            "data_digest": self.data_digest,
            "canarykit_version": self.canarykit_version,
            "engines": dict(self.engines),
            "engine": dict(self.engine),
            "created_at": self.created_at,
            "rollout": self.rollout.to_dict() if self.rollout else None,
            "selection": dict(self.selection),
            "forecast": [dict(f) for f in self.forecast],
            # only verdicts asked for segments carry the key: the others keep their exact form
            **({"segments": self.segments.to_dict()} if self.segments is not None else {}),
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        """JSON text of :meth:`to_dict` (strict JSON: no NaN)."""
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False, ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Verdict:
        """Read a verdict dictionary (as written by :meth:`to_dict`).

        Every field is type-checked; a malformed one raises
        :class:`~canarykit.errors.InvalidInputError` naming its path (``checks[2].status``).
        """
        from canarykit.errors import InvalidInputError
        from canarykit.verdict.contract import Fields

        f = Fields(data)
        if data.get("schema") != SCHEMA:
            raise InvalidInputError(
                f"schema: expected {SCHEMA!r}, got {str(data.get('schema'))[:40]!r}"
            )
        window = f.mapping("window")
        for key in ("start", "end"):
            Fields(window, "window").text(key, None, nullable=True)
        rollout = f.mapping("rollout", None, nullable=True)
        selection = f.mapping("selection", {})
        chosen = Fields(selection, "selection")
        for key in ("model", "baseline", "candidate", "since", "until"):
            chosen.text(key, None, nullable=True)
        chosen.optional_number("split")
        for key in ("rollout_id", "step", "look"):
            chosen.integer(key, None, nullable=True)
        window_of_control = (
            chosen.items("control_window", None)
            if selection.get("control_window") is not None
            else None
        )
        if window_of_control is not None and (
            len(window_of_control) != 2 or not all(isinstance(t, str) for t in window_of_control)
        ):
            raise chosen.fail("control_window", "must be [start, end] strings", window_of_control)
        forecast = f.items("forecast", [])
        for i, entry in enumerate(forecast):
            Fields(entry, f.child("forecast", i))
        try:
            engines = _read_engines(data.get("engines"))
            engine = _read_engine(data.get("engine"))
        except ValueError as err:
            raise InvalidInputError(f"verdict: {err}") from None
        return cls(
            decision=f.choice("decision", ("PROCEED", "STOP", "CONTINUE")),
            reasons=f.texts("reasons"),
            model=f.text("model"),
            baseline=f.text("baseline"),
            candidate=f.text("candidate"),
            mode=f.choice("mode", ("canary", "shadow")),
            window=window,
            checks=tuple(
                CheckOutcome.from_dict(c, where=f.child("checks", i))
                for i, c in enumerate(f.items("checks"))
            ),
            policy_digest=f.text("policy_digest"),
            data_digest=f.text("data_digest"),
            canarykit_version=f.text("canarykit_version"),
            created_at=f.text("created_at"),
            rollout=Rollout.from_dict(rollout) if rollout else None,
            selection=selection,
            forecast=tuple(forecast),
            engines=engines,
            engine=engine,
            segments=_segments_from(data.get("segments")),
        )

    def check(self, name: str) -> CheckOutcome:
        """The check called ``name`` (``KeyError`` if the verdict has none)."""
        for c in self.checks:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def exit_code(self) -> int:
        """CLI exit status: 0 PROCEED, 1 STOP, 3 CONTINUE."""
        return {"PROCEED": 0, "STOP": 1, "CONTINUE": 3}[self.decision]

    def to_frame(self) -> pd.DataFrame:
        """The checks as a pandas DataFrame (one row per check)."""
        import pandas as pd

        return pd.DataFrame([c.to_dict() for c in self.checks]).drop(columns=["details"])

    def to_text(self) -> str:
        """Aligned plain-text rendering for a terminal."""
        from canarykit.verdict.formatting import verdict_text

        return verdict_text(self)

    def to_markdown(self) -> str:
        """GitHub-flavoured Markdown (e.g. for a CI job summary)."""
        from canarykit.verdict.formatting import verdict_markdown

        return verdict_markdown(self)

    def __str__(self) -> str:
        return self.to_text()

    def _repr_html_(self) -> str:
        from canarykit.verdict.formatting import verdict_html

        return verdict_html(self)

    def plot(self, source: Any = None, **kwargs: Any) -> Any:
        """Overview figure (:func:`canarykit.report.overview.plot_overview`; needs matplotlib)."""
        from canarykit.report.overview import plot_overview

        return plot_overview(self, source, **kwargs)
