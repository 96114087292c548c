"""canarykit.verdict: policy, checks, decision rule, Verdict, replay and the decision log."""

from canarykit.verdict.evaluate import evaluate
from canarykit.verdict.policy import Policy, load_policy
from canarykit.verdict.replay import ReplayResult, replay
from canarykit.verdict.verdict import Verdict

__all__ = ["Policy", "ReplayResult", "Verdict", "evaluate", "load_policy", "replay"]
