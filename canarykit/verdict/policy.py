"""The canary policy: YAML thresholds plus Rego decision rules, validated with path-qualified errors.

A policy is a folder (or a single YAML file) holding exactly one YAML file with the thresholds
(schema ``canarykit.policy/1``, see ``policies/canary.yaml``) and any number of ``*.rego``
files. With a single YAML file the shipped Rego rules are used. All files together form the
policy snapshot whose digest (:mod:`canarykit.verdict.snapshot`) is stamped into every verdict.

Examples
--------
>>> policy = load_policy()
>>> policy.alpha, policy.checks["latency_p95"].threshold
(0.05, 120.0)
>>> parse_policy({"schema": "canarykit.policy/1", "checks": {"x": {"kind": "error_rate"}}})
Traceback (most recent call last):
...
canarykit.errors.PolicyError: policy: checks.x.max: required for kind error_rate
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml

from canarykit.errors import PolicyError
from canarykit.verdict.segment_plan import parse_step_segment, segment_label, segment_to_dict
from canarykit.verdict.segment_policy import SegmentPolicy, parse_segment_policy
from canarykit.verdict.snapshot import load_snapshot_files, snapshot_digest

SCHEMA = "canarykit.policy/1"
MODES = ("canary", "shadow")
# kind -> (bound of the threshold, needs a quantile, default modes)
KINDS: dict[str, tuple[Literal["max", "min"] | None, bool]] = {
    "latency_quantile": ("max", True),
    "latency_quantile_ratio": ("max", True),
    "error_rate": ("max", False),
    "error_rate_ratio": ("max", False),
    "auc_delta": ("min", False),
    "fairness_gap_delta": ("max", False),
    "shadow_agreement": ("min", False),
    "sample_ratio": (None, False),
}
# kinds with a fixed-horizon companion, usable when a check is evaluated once
ONCE_KINDS = ("latency_quantile", "auc_delta", "fairness_gap_delta", "shadow_agreement")
FAIRNESS_METRICS = ("selection_rate", "tpr", "fpr", "equalized_odds")

__all__ = [
    "CheckSpec",
    "Policy",
    "RolloutStep",
    "default_policy_path",
    "load_policy",
    "parse_policy",
    "parse_steps",
    "policy_from_files",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckSpec:
    """One check of the policy (see ``policies/canary.yaml`` for the fields)."""

    name: str
    kind: str
    threshold: float
    bound: Literal["max", "min"]
    required: bool = True
    modes: tuple[str, ...] = MODES
    evaluation: Literal["sequential", "once"] = "sequential"
    quantile: float | None = None
    metric: str | None = None
    features: tuple[str, ...] = ()
    min_count: int = 30
    t_opt: float = 10_000.0

    def applies_to(self, mode: str) -> bool:
        """Whether the check runs in ``mode`` (canary or shadow)."""
        return mode in self.modes


@dataclass(frozen=True, slots=True, kw_only=True)
class RolloutStep:
    """One step of the rollout plan: the canary's share of traffic, held for a window.

    ``control_window_minutes`` (only for a 100 % step, which has no concurrent control): the
    control traffic of that many minutes before the step starts serves as a recorded control
    for the relative latency and error-rate checks; ``None`` means absolute checks only.
    """

    share: float
    window_minutes: float
    control_window_minutes: float | None = None
    segment: tuple[tuple[str, tuple[str, ...]], ...] = ()  # canarykit.verdict.segment_plan

    @property
    def label(self) -> str:
        """``25%`` or ``route=beta at 90%``."""
        share = f"{self.share:.0%}"
        return f"{segment_label(self.segment)} at {share}" if self.segment else share

    @property
    def has_control(self) -> bool:
        """Whether control traffic runs beside the candidate during the step."""
        return self.share < 1.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (the form stored in a rollout record)."""
        out: dict[str, Any] = {"share": self.share, "window_minutes": self.window_minutes}
        if self.control_window_minutes is not None:
            out["control_window_minutes"] = self.control_window_minutes
        if self.segment:
            out["segment"] = segment_to_dict(self.segment)
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class Policy:
    """A validated canary policy and its snapshot (files and digest)."""

    alpha: float
    decision_threshold: float
    sensitive_features: tuple[str, ...]
    min_samples_control: int
    min_samples_candidate: int
    rollout: tuple[RolloutStep, ...]
    checks: dict[str, CheckSpec]
    expected_rate: float | None = None
    look_every_minutes: float = 5.0
    segments: SegmentPolicy = field(default_factory=SegmentPolicy)
    rego_modules: tuple[tuple[str, str], ...] = ()
    files: dict[str, bytes] = field(default_factory=dict, repr=False)

    @property
    def digest(self) -> str:
        """sha256 digest of the policy snapshot (canonical form in :mod:`.snapshot`)."""
        return snapshot_digest(self.files)

    @property
    def confidence_level(self) -> float:
        """1 − α, the level of every gating interval."""
        return 1.0 - self.alpha


def default_policy_path() -> Path:
    """The shipped default policy folder (``policies/`` in the source tree)."""
    return Path(str(resources.files("canarykit") / "policies"))


def load_policy(path: str | Path | None = None) -> Policy:
    """Load and validate a policy folder or YAML file (default: the shipped policy).

    Raises
    ------
    PolicyError
        Unreadable files, YAML syntax errors, or schema violations (all listed, path-qualified).
    """
    root = Path(path) if path is not None else default_policy_path()
    files = load_snapshot_files(root)
    if not any(n.endswith(".rego") for n in files):
        # a lone YAML file: decide with the shipped rules, which join the snapshot
        shipped = load_snapshot_files(default_policy_path())
        files = {**files, **{n: b for n, b in shipped.items() if n.endswith(".rego")}}
    return policy_from_files(files, source=str(root))


def policy_from_files(files: Mapping[str, bytes], *, source: str = "policy") -> Policy:
    """Build a policy from snapshot files (one YAML file and its Rego modules).

    Used to rebuild the exact policy of a past verdict from a stored snapshot.
    """
    yamls = [n for n in files if n.endswith((".yaml", ".yml"))]
    if len(yamls) != 1:
        raise PolicyError(
            f"{source}: a policy needs exactly one YAML file, found {len(yamls)}"
            + (f" ({', '.join(sorted(yamls))})" if yamls else "")
        )
    try:
        document = yaml.safe_load(files[yamls[0]].decode("utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        raise PolicyError(
            f"{source}/{yamls[0]}: not valid YAML: {' '.join(str(err).split())}"
        ) from None
    except RecursionError:
        raise PolicyError(f"{source}/{yamls[0]}: nested too deeply to be a policy") from None
    policy = parse_policy(
        document, source=f"{source}/{yamls[0]}" if not source.endswith(yamls[0]) else source
    )
    modules = []
    for name in sorted(n for n in files if n.endswith(".rego")):
        try:
            modules.append((name, files[name].decode("utf-8")))
        except UnicodeDecodeError:
            raise PolicyError(f"{source}: {name}: not UTF-8 text") from None
    from canarykit.verdict.rego import check_rego_modules  # the engine loads on first use

    check_rego_modules(modules)
    return Policy(**{**_fields(policy), "rego_modules": tuple(modules), "files": dict(files)})


def _fields(policy: Policy) -> dict[str, Any]:
    return {f: getattr(policy, f) for f in policy.__dataclass_fields__}


def parse_policy(document: Any, *, source: str = "policy") -> Policy:
    """Validate a parsed YAML document; every error is collected and reported together."""
    errors: list[str] = []
    if not isinstance(document, Mapping):
        raise PolicyError(f"{source}: must be a mapping with schema: {SCHEMA}")
    doc = dict(document)
    if doc.get("schema") != SCHEMA:
        errors.append(f"schema: must be {SCHEMA!r}, got {doc.get('schema')!r}")
    known = {
        "schema",
        "alpha",
        "decision_threshold",
        "sensitive_features",
        "min_samples",
        "rollout",
        "checks",
        "segments",
    }
    errors += [f"{k}: unknown field" for k in sorted(set(doc) - known, key=str)]
    alpha = _number(doc, "alpha", errors, default=0.05, low=0.0, high=0.5, open_low=True)
    threshold = _number(doc, "decision_threshold", errors, default=0.5, low=0.0, high=1.0)
    features = _names(doc.get("sensitive_features", ["group"]), "sensitive_features", errors)
    min_samples = doc.get("min_samples", {}) or {}
    if not isinstance(min_samples, Mapping):
        errors.append("min_samples: must be a mapping with control and candidate")
        min_samples = {}
    n_control = _integer(min_samples, "control", errors, prefix="min_samples.", default=200)
    n_candidate = _integer(min_samples, "candidate", errors, prefix="min_samples.", default=200)
    steps = _rollout(doc.get("rollout"), errors)
    raw_value = doc.get("rollout")
    raw_rollout: Mapping[str, Any] = raw_value if isinstance(raw_value, Mapping) else {}
    expected_rate = None
    if raw_rollout.get("expected_rate") is not None:
        expected_rate = _number(
            raw_rollout, "expected_rate", errors, low=0.0, open_low=True, prefix="rollout."
        )
    look_every = _number(
        raw_rollout,
        "look_every_minutes",
        errors,
        default=5.0,
        low=0.0,
        open_low=True,
        prefix="rollout.",
    )
    checks = _checks(doc.get("checks"), errors, features)
    segments = parse_segment_policy(
        doc.get("segments"), errors, alpha=alpha, min_samples=(n_control, n_candidate)
    )
    unknown = [c for c in segments.checks or () if c not in checks]
    errors += [f"segments.checks: {c!r} is not a check of the policy" for c in unknown]
    if errors:
        raise PolicyError(f"{source}: " + "; ".join(errors))
    return Policy(
        alpha=alpha,
        decision_threshold=threshold,
        sensitive_features=features,
        min_samples_control=n_control,
        min_samples_candidate=n_candidate,
        rollout=steps,
        checks=checks,
        expected_rate=expected_rate,
        look_every_minutes=look_every,
        segments=segments,
    )


def _number(
    doc: Mapping[str, Any],
    key: str,
    errors: list[str],
    *,
    default: float | None = None,
    low: float = -math.inf,
    high: float = math.inf,
    open_low: bool = False,
    prefix: str = "",
) -> float:
    value = doc.get(key, default)
    where = f"{prefix}{key}"
    if value is None:
        errors.append(f"{where}: required")
        return math.nan
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        errors.append(f"{where}: must be a number, got {value!r}")
        return math.nan
    if value < low or value > high or (open_low and value == low):
        bracket = "(" if open_low else "["
        errors.append(f"{where}: must be in {bracket}{low:g}, {high:g}], got {value!r}")
    return float(value)


def _integer(
    doc: Mapping[str, Any],
    key: str,
    errors: list[str],
    *,
    prefix: str = "",
    default: int | None = None,
) -> int:
    value = doc.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        errors.append(f"{prefix}{key}: must be a non-negative integer, got {value!r}")
        return 0
    return value


def _names(value: Any, where: str, errors: list[str]) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        errors.append(f"{where}: must be a list of column names, got {value!r}")
        return ()
    return tuple(value)


_ROLLOUT_FIELDS = {"steps", "expected_rate", "look_every_minutes"}
_STEP_FIELDS = {"share", "window_minutes", "control_window_minutes", "segment"}


def _rollout(value: Any, errors: list[str]) -> tuple[RolloutStep, ...]:
    if value is None:
        return (RolloutStep(share=1.0, window_minutes=30.0),)
    if isinstance(value, Mapping):
        errors += [
            f"rollout.{k}: unknown field" for k in sorted(set(value) - _ROLLOUT_FIELDS, key=str)
        ]
    return parse_steps(value.get("steps") if isinstance(value, Mapping) else None, errors)


def parse_steps(
    raw: Any, errors: list[str], *, where: str = "rollout.steps"
) -> tuple[RolloutStep, ...]:
    """Validate a list of ``{share, window_minutes[, control_window_minutes]}`` (a rollout plan).

    Errors are appended to ``errors`` (path-qualified); shares must not decrease.

    Examples
    --------
    >>> errors = []
    >>> [s.share for s in parse_steps([{"share": 0.05, "window_minutes": 30},
    ...                                {"share": 1.0, "window_minutes": 30}], errors)], errors
    ([0.05, 1.0], [])
    """
    if not isinstance(raw, list) or not raw:
        errors.append(f"{where}: must be a non-empty list of {{share, window_minutes}}")
        return ()
    steps = []
    for i, step in enumerate(raw):
        prefix = f"{where}[{i}]."
        if not isinstance(step, Mapping):
            errors.append(f"{where}[{i}]: must be a mapping with share and window_minutes")
            continue
        errors += [f"{prefix}{k}: unknown field" for k in sorted(set(step) - _STEP_FIELDS, key=str)]
        share = _number(step, "share", errors, low=0.0, high=1.0, open_low=True, prefix=prefix)
        window = _number(step, "window_minutes", errors, low=0.0, open_low=True, prefix=prefix)
        control_window = None
        if step.get("control_window_minutes") is not None:
            control_window = _number(
                step, "control_window_minutes", errors, low=0.0, open_low=True, prefix=prefix
            )
            if share < 1.0:
                errors.append(
                    f"{prefix}control_window_minutes: only for a 100 % step (share 1.0), "
                    "which has no concurrent control"
                )
        segment = parse_step_segment(step.get("segment"), errors, prefix=prefix)
        steps.append(
            RolloutStep(
                share=share,
                window_minutes=window,
                control_window_minutes=control_window,
                segment=segment,
            )
        )
    shares = [s.share for s in steps if not s.segment]  # segment steps come and go
    if shares != sorted(shares):
        errors.append(f"{where}: shares must not decrease from one step to the next")
    return tuple(steps)


_CHECK_FIELDS = {
    "kind",
    "max",
    "min",
    "required",
    "modes",
    "evaluation",
    "quantile",
    "metric",
    "features",
    "min_count",
    "t_opt",
}


def _checks(value: Any, errors: list[str], features: tuple[str, ...]) -> dict[str, CheckSpec]:
    if not isinstance(value, Mapping) or not value:
        errors.append("checks: must be a non-empty mapping of check name to settings")
        return {}
    checks = {}
    for name, raw in value.items():
        where = f"checks.{name}."
        if not isinstance(raw, Mapping):
            errors.append(f"checks.{name}: must be a mapping")
            continue
        errors += [f"{where}{k}: unknown field" for k in sorted(set(raw) - _CHECK_FIELDS, key=str)]
        kind = raw.get("kind")
        if kind not in KINDS:
            errors.append(f"{where}kind: must be one of {', '.join(KINDS)}, got {kind!r}")
            continue
        bound, needs_quantile = KINDS[kind]
        threshold = math.nan
        if bound is not None:
            other = "min" if bound == "max" else "max"
            if other in raw:
                errors.append(f"{where}{other}: not allowed for kind {kind} (use {bound})")
            if bound not in raw:
                errors.append(f"{where}{bound}: required for kind {kind}")
            else:
                threshold = _number(raw, bound, errors, prefix=where)
        required = raw.get("required", True)
        if not isinstance(required, bool):
            errors.append(f"{where}required: must be true or false, got {required!r}")
        modes = _names(raw.get("modes", list(MODES)), f"{where}modes", errors)
        errors += [
            f"{where}modes: {m!r} is not one of {', '.join(MODES)}" for m in modes if m not in MODES
        ]
        evaluation = raw.get("evaluation", "sequential")
        if evaluation not in ("sequential", "once"):
            errors.append(f"{where}evaluation: must be 'sequential' or 'once', got {evaluation!r}")
        elif evaluation == "once" and kind not in ONCE_KINDS:
            errors.append(
                f"{where}evaluation: 'once' is not available for kind {kind} "
                "(its test is always sequential)"
            )
        quantile = None
        if needs_quantile:
            quantile = _number(
                raw, "quantile", errors, prefix=where, low=0.0, high=1.0, open_low=True
            )
            if quantile == 1.0:
                errors.append(f"{where}quantile: must be below 1")
        metric = raw.get("metric") if kind == "fairness_gap_delta" else None
        if kind == "fairness_gap_delta" and metric not in FAIRNESS_METRICS:
            errors.append(
                f"{where}metric: must be one of {', '.join(FAIRNESS_METRICS)}, got {metric!r}"
            )
        check_features = _names(raw.get("features", list(features)), f"{where}features", errors)
        if kind == "fairness_gap_delta" and not check_features:
            errors.append(f"{where}features: fairness checks need at least one sensitive feature")
        min_count = _integer(raw, "min_count", errors, prefix=where, default=30)
        t_opt = _number(
            raw, "t_opt", errors, prefix=where, default=10_000.0, low=0.0, open_low=True
        )
        checks[str(name)] = CheckSpec(
            name=str(name),
            kind=kind,
            threshold=threshold,
            bound=bound or "max",
            required=bool(required),
            modes=modes,
            evaluation=evaluation,
            quantile=quantile,
            metric=metric,
            features=check_features,
            min_count=min_count,
            t_opt=t_opt,
        )
    return checks
