"""The ``segments:`` section of a policy: how segment verdicts (``evaluate --by``) are made.

.. code-block:: yaml

    segments:
      alpha: 0.05          # false discovery rate over all (segment, check) pairs (e-BH)
      on_fail: stop        # stop: a segment regression STOPs the rollout; flag: report only
      min_samples: {control: 200, candidate: 200}   # below: inconclusive, never pass
      max_segments: 64     # more segments in the window is an input error
      t_opt: 5000          # candidate requests per segment the sequences are tuned for
      checks: [latency_p95, latency_p99, error_rate, error_rate_delta, auc_delta]

Every field is optional; without the section the defaults above apply, with ``alpha`` and
``min_samples`` taken from the policy's own and ``checks`` = every check of a kind that has a
segment test (:data:`SEGMENT_KINDS`).

Examples
--------
>>> spec = parse_segment_policy({"on_fail": "flag"}, [], alpha=0.05, min_samples=(200, 200))
>>> spec.on_fail, spec.alpha, spec.max_segments
('flag', 0.05, 64)
>>> errors = []
>>> _ = parse_segment_policy({"on_fail": "panic"}, errors, alpha=0.05, min_samples=(1, 1))
>>> errors
["segments.on_fail: must be 'stop' or 'flag', got 'panic'"]
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["SEGMENT_KINDS", "SegmentPolicy", "parse_segment_policy"]

SEGMENT_KINDS = (
    "latency_quantile",
    "latency_quantile_ratio",
    "error_rate",
    "error_rate_ratio",
    "auc_delta",
)
"""Check kinds with a per-segment e-value. Fairness gaps are between-group statistics (thin
within a segment), the sample-ratio and shadow-agreement checks are about the whole window."""

_FIELDS = {"alpha", "on_fail", "min_samples", "max_segments", "t_opt", "checks"}


@dataclass(frozen=True, slots=True, kw_only=True)
class SegmentPolicy:
    """Validated ``segments:`` section (see the module docstring)."""

    alpha: float = 0.05
    on_fail: str = "stop"
    min_samples_control: int = 200
    min_samples_candidate: int = 200
    max_segments: int = 64
    t_opt: float = 5_000.0
    checks: tuple[str, ...] | None = None


def _positive_int(
    raw: Mapping[str, Any], key: str, default: int, errors: list[str], where: str
) -> int:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        errors.append(f"{where}{key}: must be a non-negative integer, got {value!r}")
        return default
    return value


def parse_segment_policy(
    raw: Any, errors: list[str], *, alpha: float, min_samples: tuple[int, int]
) -> SegmentPolicy:
    """Validate a ``segments:`` mapping, appending path-qualified messages to ``errors``."""
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        errors.append(f"segments: must be a mapping, got {raw!r}")
        raw = {}
    errors += [f"segments.{k}: unknown field" for k in sorted(set(raw) - _FIELDS, key=str)]
    seg_alpha = raw.get("alpha", alpha)
    if (
        isinstance(seg_alpha, bool)
        or not isinstance(seg_alpha, int | float)
        or not (0.0 < seg_alpha <= 0.5)
    ):
        errors.append(f"segments.alpha: must be in (0, 0.5], got {seg_alpha!r}")
        seg_alpha = alpha
    on_fail = raw.get("on_fail", "stop")
    if on_fail not in ("stop", "flag"):
        errors.append(f"segments.on_fail: must be 'stop' or 'flag', got {on_fail!r}")
        on_fail = "stop"
    ms = raw.get("min_samples", {}) or {}
    if not isinstance(ms, Mapping):
        errors.append("segments.min_samples: must be a mapping with control and candidate")
        ms = {}
    n_c = _positive_int(ms, "control", min_samples[0], errors, "segments.min_samples.")
    n_t = _positive_int(ms, "candidate", min_samples[1], errors, "segments.min_samples.")
    max_segments = _positive_int(raw, "max_segments", 64, errors, "segments.")
    if max_segments < 1 or max_segments > 1024:
        errors.append(f"segments.max_segments: must be in [1, 1024], got {max_segments!r}")
    t_opt = raw.get("t_opt", 5_000.0)
    if (
        isinstance(t_opt, bool)
        or not isinstance(t_opt, int | float)
        or not (math.isfinite(t_opt) and t_opt > 0)
    ):
        errors.append(f"segments.t_opt: must be a number > 0, got {t_opt!r}")
        t_opt = 5_000.0
    checks = raw.get("checks")
    if checks is not None and (
        not isinstance(checks, list) or not all(isinstance(c, str) and c for c in checks)
    ):
        errors.append(f"segments.checks: must be a list of check names, got {checks!r}")
        checks = None
    return SegmentPolicy(
        alpha=float(seg_alpha),
        on_fail=str(on_fail),
        min_samples_control=n_c,
        min_samples_candidate=n_t,
        max_segments=max_segments,
        t_opt=float(t_opt),
        checks=tuple(checks) if checks is not None else None,
    )
