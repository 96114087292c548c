"""Planning a canary rollout before it starts: time to PROCEED, detectable regressions, traffic.

For every step of the policy's rollout plan (``rollout.steps``) and every check that applies at
that step, :func:`plan_rollout` answers three questions at a declared traffic rate:

* **minutes to PROCEED** — the first look (a multiple of ``look_every`` within the step's
  window) at which a candidate *as good as control* passes, on the expected path;
* **detectable regression** — the regression the check fails (STOPs) with 90 % power by the
  end of the step window, in the check's own units;
* **minimum rate** — the traffic (requests/s, both arms) below which the check can never pass
  within the step window, even for a candidate as good as control.

The answers come from the product's own check code: synthetic :class:`Summaries` are built at
the expected values of a :class:`BaselineProfile` (the control's error rate, latency quantile
function, labels, prevalence, AUC and groups) and passed to
:func:`canarykit.verdict.checks.evaluate_checks` with the step's tuning from
:func:`canarykit.verdict.tuning.step_tuning` — exactly what a look of the rollout will run.
Effects and rates are found by bisection.

The modules, each importing only those above it:

* :mod:`~canarykit.verdict.planning.baseline` — the control's traffic: :class:`BaselineProfile`
  and its :class:`LatencyProfile`, assumed or measured by :func:`profile_from_store`;
* :mod:`~canarykit.verdict.planning.synthetic` — a step tuned at one rate, the summaries a look
  of it would see, and the checks' outcomes on them;
* :mod:`~canarykit.verdict.planning.answers` — minutes to PROCEED, minimum rate and detectable
  regression, each a search over those outcomes;
* :mod:`~canarykit.verdict.planning.render` — a report as plain text or HTML;
* :mod:`~canarykit.verdict.planning.report` — the results :class:`CheckPlan`, :class:`StepPlan`
  and :class:`RolloutPlanReport` (schema ``canarykit.plan/1``);
* :mod:`~canarykit.verdict.planning.plan` — :func:`plan_rollout`, which runs the answers for
  every step and check and collects the report.

Notes
-----
Two synthetic paths stand in for real data. On the *expected path* (minutes to PROCEED,
minimum rate) every count, order statistic, score and confusion cell sits at its expected value
for a candidate as good as control. On the *power path* (detectable regression) the data sit at
their 10 % quantile least favourable to detection, at the step's last look only, so the column
reads "at least 90 % power" (conservative for the two-sample checks). Effects are searched
within a sane range and the minimum rate up to ``1e6`` requests/s. :func:`plan_rollout` (Notes)
details every approximation and the simulated power behind that reading.

Examples
--------
>>> from canarykit.verdict.policy import parse_policy
>>> policy = parse_policy({"schema": "canarykit.policy/1",
...     "rollout": {"steps": [{"share": 0.05, "window_minutes": 30}]},
...     "checks": {"latency_p95": {"kind": "latency_quantile", "quantile": 0.95, "max": 120}}})
>>> row = plan_rollout(policy, rate=100.0).step(1).check("latency_p95")
>>> row.minutes_to_proceed, round(row.detectable, 1), round(row.minimum_rate, 2)
(5.0, 125.8, 2.22)
"""

from canarykit.verdict.planning.baseline import BaselineProfile, LatencyProfile, profile_from_store
from canarykit.verdict.planning.plan import plan_rollout
from canarykit.verdict.planning.report import SCHEMA, CheckPlan, RolloutPlanReport, StepPlan

__all__ = [
    "SCHEMA",
    "BaselineProfile",
    "CheckPlan",
    "LatencyProfile",
    "RolloutPlanReport",
    "StepPlan",
    "plan_rollout",
    "profile_from_store",
]
