"""canarykit's Brent root finder returns the same float as ``scipy.optimize.brentq``."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
from scipy import optimize

from canarykit.stats.roots import brentq

TOLERANCES = [
    {},
    {"xtol": 1e-15, "rtol": 1e-12},
    {"xtol": 1e-14},
    {"xtol": 1e-13},
    {"xtol": 0.5},
    {"xtol": 0.25},
]


def _cases(seed: int) -> list[tuple[object, float, float]]:
    rng = np.random.default_rng(seed)
    out: list[tuple[object, float, float]] = []
    for _ in range(40):
        root = float(rng.normal(0, 10))
        scale = float(rng.uniform(0.1, 100))
        power = int(rng.integers(1, 6)) * 2 - 1
        lo, hi = root - float(rng.uniform(1e-3, 50)), root + float(rng.uniform(1e-3, 50))
        out.append((lambda x, r=root, s=scale, k=power: s * (x - r) ** k, lo, hi))
        out.append((lambda x, r=root, s=scale: math.tanh(s * (x - r)) + 1e-3 * (x - r), lo, hi))
        out.append((lambda x, r=root: math.expm1(x - r) if x - r < 700 else math.inf, lo, hi))
        out.append((lambda x, r=root, s=scale: np.log1p(np.exp(x - r)) - math.log(2.0), lo, hi))
    return out


def _outcome(solver: object, *args: object, **kw: object) -> object:
    """The root, or the kind of error (scipy fails to converge on some of these too)."""
    try:
        return solver(*args, **kw)  # type: ignore[operator]
    except (ValueError, RuntimeError) as err:
        return type(err).__name__


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("tol", TOLERANCES)
def test_same_float_as_scipy_on_random_functions(seed: int, tol: dict[str, float]) -> None:
    outcomes = []
    for f, lo, hi in _cases(seed):
        ours = _outcome(brentq, f, lo, hi, **tol)
        assert ours == _outcome(optimize.brentq, f, lo, hi, **tol)
        outcomes.append(ours)
    assert sum(isinstance(o, float) for o in outcomes) > len(outcomes) // 2


def test_same_float_on_the_bracket_shapes_canarykit_solves() -> None:
    # log-mixture boundary crossings (counts), Bernoulli confidence limits, logit ratios
    from canarykit.stats.boundaries import beta_binomial_log_mixture

    for n in (10, 1_000, 100_000):
        for s in (0.5, 3.0, 10.0):

            def g(c: float, n: int = n, s: float = s) -> float:
                return (
                    float(beta_binomial_log_mixture(c - 0.2 * n, n * 0.16, n * 0.16, 0.2, 0.8)) - s
                )

            lo, hi = 0.2 * n, float(n)
            if g(lo) * g(hi) < 0:
                assert brentq(g, lo, hi, xtol=0.25) == optimize.brentq(g, lo, hi, xtol=0.25)
    for k, m in ((0, 10), (3, 10), (50, 1000), (999, 1000)):
        p = k / m

        def h(q: float, k: int = k, m: int = m, p: float = p) -> float:
            return (k * math.log(max(p, 1e-300) / q) if k else 0.0) - 3.0

        if p > 0 and h(p * 1e-12) > 0:
            assert brentq(h, p * 1e-12, p, xtol=1e-15, rtol=1e-12) == optimize.brentq(
                h, p * 1e-12, p, xtol=1e-15, rtol=1e-12
            )


def test_errors_match_scipy() -> None:
    with pytest.raises(ValueError, match="different signs"):
        brentq(lambda x: x, 1.0, 2.0)
    with pytest.raises(ValueError, match="NaN"):
        brentq(lambda x: math.nan, 1.0, 2.0)
    with pytest.raises(RuntimeError, match="converge"):
        brentq(lambda x: math.tanh(x - math.pi), -50.0, 50.0, maxiter=2)
    with pytest.raises(ValueError, match="rtol"):
        brentq(lambda x: x, -1.0, 1.0, rtol=1e-17)
    assert brentq(lambda x: 0.0 if x == 1.0 else x - 1.0, 1.0, 5.0) == 1.0


def test_an_evaluation_does_not_import_scipy_optimize(tmp_path: object) -> None:
    code = (
        "import sys\n"
        "from canarykit.traces.generate import generate_traces\n"
        "from canarykit.verdict.evaluate import evaluate\n"
        "evaluate(generate_traces('identical', n_requests=3000, seed=1), log=False)\n"
        "print('scipy.optimize' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
