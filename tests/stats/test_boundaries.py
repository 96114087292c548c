"""Reference values for the Howard et al. / Howard & Ramdas uniform boundaries.

Unless stated otherwise, expected values come from confseq's C++ unit tests
(gostevehoward/confseq, ``test/uniform_boundaries_unittest.cpp``: "all target values are from a
reference implementation in R"), V_OPT = 100, alpha_opt = alpha = 0.05, tolerance 1e-5 as there;
they are also listed in ``stats_reference_values.json``
(key ``confseq_unit_tests_v_opt100_alpha_opt0.05_alpha0.05``).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from canarykit.errors import InvalidInputError
from canarykit.stats import bernoulli
from canarykit.stats import boundaries as b

TOL = 1e-5


def test_two_sided_best_rho() -> None:
    # confseq unit test TestTwoSidedNormalMixture
    assert b.normal_mixture_rho(100, 0.05, one_sided=False) == pytest.approx(12.60056, abs=TOL)


@pytest.mark.parametrize(
    ("one_sided", "log_m", "bound"),
    [(False, -0.6510052, 30.35209), (True, -0.06502391, 27.66071)],
)
def test_normal_mixture(one_sided: bool, log_m: float, bound: float) -> None:
    # confseq unit tests TestTwoSidedNormalMixture / TestOneSidedNormalMixture
    assert b.normal_log_mixture(10, 100, 100, one_sided=one_sided) == pytest.approx(log_m, abs=TOL)
    assert b.normal_mixture_bound(100, 0.05, 100, one_sided=one_sided) == pytest.approx(
        bound, abs=TOL
    )


def test_gamma_exponential_mixture() -> None:
    # confseq unit test TestGammaExponentialMixture (c = 2)
    assert b.gamma_exponential_log_mixture(10, 100, 100, 2) == pytest.approx(-0.2490165, abs=TOL)
    assert b.gamma_exponential_mixture_bound(100, 0.05, 100, 2) == pytest.approx(33.02017, abs=TOL)


def test_gamma_poisson_mixture() -> None:
    # confseq unit test TestGammaPoissonMixture (c = 2)
    assert b.gamma_poisson_log_mixture(10, 100, 100, 2) == pytest.approx(-0.06991219, abs=TOL)
    assert b.gamma_poisson_mixture_bound(100, 0.05, 100, 2) == pytest.approx(30.1949, abs=TOL)


@pytest.mark.parametrize(
    ("one_sided", "log_m", "bound"),
    [(False, -0.6941012, 31.4308), (True, -0.07134019, 28.41238)],
)
def test_beta_binomial_mixture(one_sided: bool, log_m: float, bound: float) -> None:
    # confseq unit tests Test{Two,One}SidedBetaBinomialMixture, g = 0.2, h = 0.8
    got = b.beta_binomial_log_mixture(10, 100, 100, 0.2, 0.8, one_sided=one_sided)
    assert got == pytest.approx(log_m, abs=TOL)
    got = b.beta_binomial_mixture_bound(100, 0.05, 100, 0.2, 0.8, one_sided=one_sided)
    assert got == pytest.approx(bound, abs=TOL)


@pytest.mark.parametrize(("c", "expected"), [(3.0, 64.48755), (-1.0, 28.99389)])
def test_poly_stitching(c: float, expected: float) -> None:
    # confseq unit tests PolyStitchingTest.BasicTest / NegativeC (v_min = 10, s = 1.4, eta = 2)
    assert b.poly_stitching_bound(100, 0.05, 10, c) == pytest.approx(expected, abs=TOL)


def test_empirical_process_lil() -> None:
    # confseq unit test EmpiricalProcessLILTest (t = 1000, t_min = 100, A = 0.85)
    assert b.empirical_process_lil_bound(1000, 0.05, 100, 0.85) == pytest.approx(
        0.08204769, abs=TOL
    )
    # stats_methods.md §2.3 (reproduced by the confseq port): t = 10,000 -> 0.0266721
    assert b.empirical_process_lil_bound(10_000, 0.05, 100) == pytest.approx(0.0266721, abs=TOL)
    assert math.isinf(b.empirical_process_lil_bound(50, 0.05, 100))


@pytest.mark.parametrize(("p", "expected"), [(0.5, 68.62803), (0.9, 43.72119), (0.1, 59.96521)])
def test_double_stitching(p: float, expected: float) -> None:
    # stats_methods.md §2.3 (confseq double_stitching_bound, t = 1000, t_opt = 100)
    assert b.double_stitching_bound(p, 1000, 0.05, 100) == pytest.approx(expected, abs=TOL)


def test_bernoulli_confidence_interval() -> None:
    # stats_reference_values.json: bernoulli_confidence_interval(700, 1000, .05, t_opt=100)
    lo, hi = bernoulli.bernoulli_confidence_interval(700, 1000, 0.05, 100)
    assert lo == pytest.approx(0.651629, abs=TOL)
    assert hi == pytest.approx(0.745949, abs=TOL)


def test_bernoulli_interval_edges() -> None:
    lo, hi = bernoulli.bernoulli_confidence_interval(0, 500, 0.05, 1000)
    assert lo == 0.0
    assert 0.0 < hi < 0.05
    lo, hi = bernoulli.bernoulli_confidence_interval(500, 500, 0.05, 1000)
    assert hi == 1.0
    assert 0.95 < lo < 1.0


def test_bound_is_root_of_log_mixture() -> None:
    # brute force: the boundary is where the log-mixture crosses ln(1/alpha)
    for one_sided in (False, True):
        u = b.beta_binomial_mixture_bound(400, 0.05, 100, 0.3, 0.7, one_sided=one_sided)
        got = b.beta_binomial_log_mixture(u, 400, 100, 0.3, 0.7, one_sided=one_sided)
        assert got == pytest.approx(math.log(20), abs=1e-8)
        u = b.normal_mixture_bound(400, 0.05, 100, one_sided=one_sided)
        assert b.normal_log_mixture(u, 400, 100, one_sided=one_sided) == pytest.approx(
            math.log(20), abs=1e-8
        )


def test_vectorised_matches_scalar() -> None:
    v = np.array([10.0, 100.0, 1000.0])
    vec = b.beta_binomial_mixture_bound(v, 0.05, 100, 0.2, 0.8, one_sided=False)
    scal = [b.beta_binomial_mixture_bound(x, 0.05, 100, 0.2, 0.8, one_sided=False) for x in v]
    np.testing.assert_allclose(vec, scal, rtol=1e-9)
    vec = b.normal_mixture_bound(v, 0.05, 100, one_sided=True)
    scal = [b.normal_mixture_bound(x, 0.05, 100, one_sided=True) for x in v]
    np.testing.assert_allclose(vec, scal, rtol=1e-9)


def test_bernoulli_log_mixture_matches_beta_binomial() -> None:
    p, k, n, t_opt = 0.3, 40, 100, 500
    direct = b.beta_binomial_log_mixture(
        k - p * n, p * (1 - p) * n, p * (1 - p) * t_opt, p, 1 - p, one_sided=False
    )
    assert bernoulli.bernoulli_log_mixture(p, k, n, t_opt) == pytest.approx(direct, rel=1e-10)


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: b.normal_mixture_bound(10, 1.5, 100), "alpha"),
        (lambda: b.normal_mixture_rho(-1), "v_opt"),
        (lambda: b.beta_binomial_log_mixture(1, 1, 10, 0.0, 1.0), "g"),
        (lambda: b.empirical_process_lil_bound(10, 0.05, 1, A=0.5), "A"),
        (lambda: bernoulli.bernoulli_confidence_interval(5, 3, 0.05, 10), "num_successes"),
        (lambda: bernoulli.bernoulli_confidence_interval(0, 0, 0.05, 10), "num_trials"),
    ],
)
def test_bad_arguments_name_the_argument(call, name: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInputError, match=name):
        call()
