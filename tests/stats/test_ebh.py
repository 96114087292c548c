"""e-BH (Wang & Ramdas 2022): definition (brute force), hand-worked values, FDR by simulation."""

from __future__ import annotations

import numpy as np
import pytest

from canarykit.errors import InvalidInputError
from canarykit.stats.ebh import ebh, ebh_brute_force


def test_hand_worked_example():
    # m = 4, alpha = 0.05: k = 2 needs e >= 4/(0.05*2) = 40 (400 and 90 qualify);
    # k = 3 would need three e-values >= 26.7 — only two. (Definition: Wang & Ramdas 2022, §3.)
    r = ebh([400.0, 3.0, 0.5, 90.0], alpha=0.05)
    assert r.rejected.tolist() == [True, False, False, True]
    assert (r.k, r.threshold) == (2, 40.0)


def test_needs_m_over_alpha_for_a_single_discovery():
    assert ebh([19.999, 1.0], alpha=0.1).k == 0
    assert ebh([20.0, 1.0], alpha=0.1).k == 1
    assert ebh([], alpha=0.1).k == 0


@pytest.mark.parametrize("seed", range(40))
def test_agrees_with_the_brute_force_definition(seed):
    rng = np.random.default_rng(seed)
    m = int(rng.integers(1, 30))
    e = np.exp(rng.normal(1.0, 2.5, m))
    e[rng.random(m) < 0.1] = 0.0
    e[rng.random(m) < 0.05] = np.inf
    if m > 3:  # ties on a boundary value
        e[:3] = 4.0 * m / 3.0 / 0.1  # exactly m/(alpha k) at k = 3 ... of the threshold grid
    alpha = float(rng.choice([0.01, 0.05, 0.1, 0.2]))
    fast = ebh(e, alpha=alpha)
    slow = ebh_brute_force(e, alpha=alpha)
    assert fast.rejected.tolist() == slow.tolist()
    assert fast.k == int(slow.sum())
    # adjusted values: rejected at alpha exactly when the adjusted value is <= alpha
    assert ((fast.adjusted <= alpha * (1 + 1e-12)) == fast.rejected).all()


def test_rejects_nan_and_negative():
    with pytest.raises(InvalidInputError, match="e_values"):
        ebh([1.0, np.nan], alpha=0.05)
    with pytest.raises(InvalidInputError, match="alpha"):
        ebh([1.0], alpha=1.5)


@pytest.mark.simulation
@pytest.mark.parametrize("dependence", ["independent", "identical"])
def test_fdr_below_alpha_by_simulation(dependence):
    """Nulls: likelihood ratios exp(λX − λ²/2), X ~ N(0, 1) (E = 1); alternatives shifted.

    FDR must be <= alpha·m0/m for independent and for perfectly dependent null e-values.
    """
    rng = np.random.default_rng(7)
    reps, m, m1, lam, alpha = 4000, 20, 4, 3.0, 0.1
    x = rng.standard_normal((reps, m))
    if dependence == "identical":
        x[:, 1 : m - m1] = x[:, [0]]
    x[:, m - m1 :] += 3.5
    e = np.exp(lam * x - lam**2 / 2)
    fdp = np.empty(reps)
    power = np.empty(reps)
    for i in range(reps):
        rej = ebh(e[i], alpha=alpha).rejected
        fdp[i] = rej[: m - m1].sum() / max(rej.sum(), 1)
        power[i] = rej[m - m1 :].mean()
    bound = alpha * (m - m1) / m
    assert fdp.mean() <= bound + 3 * fdp.std() / np.sqrt(reps)
    assert power.mean() > 0.3  # the test can reject: a procedure that never does would pass
