"""Direct two-sample quantile-ratio test: brute force, partial order statistics, laws, simulation."""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from canarykit.errors import InvalidInputError
from canarykit.simulate.quantile_ratio import interval_paths, look_decisions, validation_sections
from canarykit.stats.boundaries import beta_binomial_log_mixture
from canarykit.stats.order_statistics import OrderStatistics
from canarykit.stats.quantile_ratio import (
    QuantileRatioCSResult,
    quantile_ratio_cs,
    quantile_ratio_rank_requests,
)
from canarykit.stats.quantiles import quantile_ratio_rank_requests as old_rank_requests
from canarykit.stats.quantiles import quantile_ratio_test

AP, AF = 0.05, 0.003
LVL_P, LVL_F = math.log(1 / AP), math.log(1 / AF)
IntArray = np.ndarray


def _cs(
    control: OrderStatistics,
    candidate: OrderStatistics,
    p: float,
    threshold: float | None = None,
    *,
    t_opt: tuple[float, float] = (1000.0, 1000.0),
    alphas: tuple[float, float] = (AP, AF),
) -> QuantileRatioCSResult:
    return quantile_ratio_cs(
        control,
        candidate,
        p,
        alpha_pass=alphas[0],
        alpha_fail=alphas[1],
        t_opt_control=t_opt[0],
        t_opt_candidate=t_opt[1],
        threshold=threshold,
    )


def _tenths(rng: np.random.Generator, n: int, scale: float, zeros: int = 0) -> IntArray:
    """Latencies in integer tenths of a ms (lognormal, rounded: ties within and across arms)."""
    x = np.round(scale * rng.lognormal(3.0, 0.5, n) * 10.0).astype(np.int64)
    x[:zeros] = 0
    return x


# --------------------------------------------------------------------------- brute force


def _alpha_opt(alpha: float, share: float) -> float:
    """The module's tuning, restated: ``½ (2α)^share`` (see ``quantile_ratio_cs`` Notes)."""
    return 0.5 * (2 * min(alpha, 0.25)) ** share


def _mix(count: IntArray, n: int, p: float, t_opt: float, a_opt: float, upper: bool) -> IntArray:
    s = count - n * p
    v, v_opt = n * p * (1 - p), t_opt * p * (1 - p)
    if upper:
        return np.asarray(beta_binomial_log_mixture(s, v, v_opt, p, 1 - p, a_opt, one_sided=True))
    return np.asarray(beta_binomial_log_mixture(-s, v, v_opt, 1 - p, p, a_opt, one_sided=True))


def _brute_t(
    xc: IntArray, xt: IntArray, p: float, r: Fraction, t_opt: tuple[float, float], test: str
) -> float:
    """``T_pass``/``T_fail`` at ``r`` straight from the definitions, in exact integer arithmetic.

    With ``r = a/b`` and data in tenths, ``Y = r·X_c`` and ``X_t`` are compared as ``2a·X_c``
    vs ``2b·X_t``; x runs over every data point, every midpoint and both ends (±inf).
    """
    a, b = r.numerator, r.denominator
    y, t = 2 * a * xc, 2 * b * xt
    pts = np.unique(np.concatenate((y, t)))
    xs = np.concatenate((pts, (pts[:-1] + pts[1:]) // 2, [pts[0] - 2, pts[-1] + 2]))
    share_c = t_opt[1] / (t_opt[0] + t_opt[1])
    n_c, n_t = xc.size, xt.size
    if test == "pass":
        a_c = (y[None, :] <= xs[:, None]).sum(axis=1)
        b_t = (t[None, :] < xs[:, None]).sum(axis=1)
        total = _mix(a_c, n_c, p, t_opt[0], _alpha_opt(AP, share_c), False) + _mix(
            b_t, n_t, p, t_opt[1], _alpha_opt(AP, 1 - share_c), True
        )
    else:
        d_t = (t[None, :] <= xs[:, None]).sum(axis=1)
        e_c = (y[None, :] < xs[:, None]).sum(axis=1)
        total = _mix(d_t, n_t, p, t_opt[1], _alpha_opt(AF, 1 - share_c), False) + _mix(
            e_c, n_c, p, t_opt[0], _alpha_opt(AF, share_c), True
        )
    return float(np.min(total))


def _os(x_tenths: IntArray) -> OrderStatistics:
    return OrderStatistics.from_sample(x_tenths / 10.0)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("p", [0.5, 0.9])
def test_statistics_match_brute_force(seed: int, p: float) -> None:
    rng = np.random.default_rng(seed)
    xc = _tenths(rng, 60, 1.0, zeros=2)
    xt = _tenths(rng, 45, 1.3, zeros=1)
    t_opt = (60.0, 45.0)
    for r in (Fraction(3, 4), Fraction(1), Fraction(11, 10), Fraction(13, 10), Fraction(2)):
        res = _cs(_os(xc), _os(xt), p, float(r), t_opt=t_opt)
        assert res.log_e_pass == pytest.approx(_brute_t(xc, xt, p, r, t_opt, "pass"), abs=1e-9)
        assert res.log_e_fail == pytest.approx(_brute_t(xc, xt, p, r, t_opt, "fail"), abs=1e-9)


def _brute_bounds(
    xc: IntArray, xt: IntArray, p: float, t_opt: tuple[float, float]
) -> tuple[Fraction | float, Fraction | float]:
    """Exact ``L``, ``U``: the statistics are constant between the ratios ``X_t(j) / X_c(i)``.

    ``seq`` lists, in increasing order, a point inside every open piece and every critical
    ratio, as ``(ratio, k, is_point)`` with ``k`` the index of the piece's left end (−1 below
    the first). ``T_pass`` is non-decreasing along it and ``T_fail`` non-increasing, so the
    first rejecting element of the one and the last of the other are found by bisection.
    """
    crit = sorted({Fraction(int(b), int(a)) for a in np.unique(xc) if a > 0 for b in np.unique(xt)})
    seq: list[tuple[Fraction, int, bool]] = [(crit[0] / 2, -1, False)]
    for k, r in enumerate(crit):
        nxt = (r + crit[k + 1]) / 2 if k + 1 < len(crit) else 2 * r
        seq += [(r, k, True), (nxt, k, False)]

    def first(flag: Callable[[int], bool]) -> int:
        lo, hi = 0, len(seq)
        while lo < hi:
            mid = (lo + hi) // 2
            lo, hi = (lo, mid) if flag(mid) else (mid + 1, hi)
        return lo

    i = first(lambda i: _brute_t(xc, xt, p, seq[i][0], t_opt, "pass") >= LVL_P)
    upper: Fraction | float = math.inf
    if i < len(seq):
        upper = 0.0 if seq[i][1] < 0 else crit[seq[i][1]]
    i = first(lambda i: _brute_t(xc, xt, p, seq[i][0], t_opt, "fail") < LVL_F)
    lower: Fraction | float = 0.0 if i == 0 else math.inf
    if 0 < i < len(seq):
        r, k, is_point = seq[i - 1]  # the last rejecting element: L is its piece's right end
        lower = r if is_point else crit[k + 1]
    return lower, upper


@pytest.mark.parametrize(("seed", "scale"), [(3, 1.0), (4, 1.25), (5, 0.8)])
def test_bounds_match_brute_force(seed: int, scale: float) -> None:
    rng = np.random.default_rng(seed)
    xc = _tenths(rng, 50, 1.0)
    xt = _tenths(rng, 40, scale)
    p, t_opt = 0.5, (50.0, 40.0)
    lower, upper = _brute_bounds(xc, xt, p, t_opt)
    res = _cs(_os(xc), _os(xt), p, t_opt=t_opt)
    assert 0 < lower < upper < math.inf  # a non-degenerate case
    # the module returns a point where the test rejects, within 1e-9 (tie tolerance) + 1e-10
    assert float(upper) < res.ci_high <= float(upper) * (1 + 2e-9)
    assert float(lower) * (1 - 2e-9) <= res.ci_low < float(lower)


# --------------------------------------------------------------------------- partial order stats


@pytest.mark.parametrize("grid_size", [64, 512])
def test_partial_order_statistics_are_conservative(grid_size: int) -> None:
    rng = np.random.default_rng(7)
    xc = np.round(rng.lognormal(3.0, 0.5, 60_000), 1)
    xt = np.round(1.05 * rng.lognormal(3.0, 0.5, 6_000), 1)
    kw = {"alpha_pass": AP, "alpha_fail": AF, "t_opt_control": 60_000, "t_opt_candidate": 6_000}
    req_c, req_t = quantile_ratio_rank_requests(xc.size, xt.size, 0.99, grid_size=grid_size, **kw)
    assert len(req_c.ranks) < xc.size
    assert len(req_t.ranks) < xt.size
    full_c, full_t = OrderStatistics.from_sample(xc), OrderStatistics.from_sample(xt)
    part_c, part_t = full_c.select(req_c.ranks), full_t.select(req_t.ranks)
    for r in (0.9, 1.0, 1.05, 1.1, 1.2, 1.4):
        full = quantile_ratio_cs(full_c, full_t, 0.99, threshold=r, **kw)
        part = quantile_ratio_cs(part_c, part_t, 0.99, threshold=r, **kw)
        for got, exact in ((part.log_e_pass, full.log_e_pass), (part.log_e_fail, full.log_e_fail)):
            assert got <= exact + 1e-12
            if grid_size == 512 and -1.0 < exact < math.log(1e6):
                # where decisions are made the default grid resolves the counts to a rank or two
                assert got == pytest.approx(exact, abs=0.05)
    assert part.ci_low <= full.ci_low
    assert part.ci_high >= full.ci_high
    assert part.estimate == full.estimate
    if grid_size == 512:
        assert part.ci_low == pytest.approx(full.ci_low, rel=1e-3)
        assert part.ci_high == pytest.approx(full.ci_high, rel=1e-3)


def test_rank_requests() -> None:
    kw = {"alpha_pass": AP, "alpha_fail": AF, "t_opt_control": 171_000, "t_opt_candidate": 9_000}
    c, t = quantile_ratio_rank_requests(171_000, 300, 0.99, **kw)
    assert t.ranks == tuple(range(1, 301))  # small arm: in full
    assert c.n == 171_000
    assert list(c.ranks) == sorted(set(c.ranks))
    assert (c.ranks[0], c.ranks[-1]) == (1, 171_000)
    assert 169_290 in c.ranks  # ⌈n·p⌉, the sample quantile
    assert 512 <= len(c.ranks) < 700
    c0, t0 = quantile_ratio_rank_requests(0, 10, 0.99, **kw)
    assert c0.ranks == ()
    assert t0.ranks == tuple(range(1, 11))
    with pytest.raises(InvalidInputError, match="grid_size"):
        quantile_ratio_rank_requests(10, 10, 0.99, grid_size=1, **kw)


# --------------------------------------------------------------------------- laws


def _samples(seed: int, n_c: int, n_t: int, scale: float) -> tuple[OrderStatistics, ...]:
    rng = np.random.default_rng(seed)
    return _os(_tenths(rng, n_c, 1.0)), _os(_tenths(rng, n_t, scale))


def test_monotone_in_r() -> None:
    c, t = _samples(8, 400, 300, 1.2)
    rs = np.exp(np.linspace(math.log(0.5), math.log(3.0), 41))
    res = [_cs(c, t, 0.9, float(r), t_opt=(400, 300)) for r in rs]
    assert np.all(np.diff([x.log_e_pass for x in res]) >= 0)
    assert np.all(np.diff([x.log_e_fail for x in res]) <= 0)
    assert res[0].log_e_fail >= LVL_F
    assert res[-1].log_e_pass >= LVL_P


arm = st.lists(st.integers(0, 400), min_size=0, max_size=120).map(
    lambda v: np.asarray(v, dtype=np.int64)
)


def _close(a: float, b: float) -> bool:
    if math.isinf(a) or math.isinf(b) or a == 0.0 or b == 0.0:
        return a == b
    return math.isclose(a, b, rel_tol=1e-8)


@settings(max_examples=40, deadline=None)
@given(xc=arm, xt=arm, p=st.sampled_from([0.3, 0.5, 0.8]))
def test_swapping_arms_inverts_the_interval(xc: IntArray, xt: IntArray, p: float) -> None:
    c, t = _os(xc), _os(xt)
    res = _cs(c, t, p, t_opt=(100.0, 50.0))
    swapped = _cs(t, c, p, t_opt=(50.0, 100.0), alphas=(AF, AP))
    inv_u = 0.0 if math.isinf(res.ci_high) else (math.inf if res.ci_high == 0 else 1 / res.ci_high)
    inv_l = math.inf if res.ci_low == 0 else (0.0 if math.isinf(res.ci_low) else 1 / res.ci_low)
    assert _close(swapped.ci_low, inv_u)
    assert _close(swapped.ci_high, inv_l)


@settings(max_examples=40, deadline=None)
@given(xc=arm, xt=arm, k=st.sampled_from([2.0, 3.7, 0.013]), p=st.sampled_from([0.5, 0.9]))
def test_scaling_laws(xc: IntArray, xt: IntArray, k: float, p: float) -> None:
    c, t = _os(xc), _os(xt)
    res = _cs(c, t, p, t_opt=(100.0, 100.0))
    both = _cs(_os(xc * k), _os(xt * k), p, t_opt=(100.0, 100.0))
    assert _close(both.ci_low, res.ci_low)
    assert _close(both.ci_high, res.ci_high)
    cand = _cs(c, _os(xt * k), p, t_opt=(100.0, 100.0))
    assert _close(cand.ci_low, k * res.ci_low)
    assert _close(cand.ci_high, k * res.ci_high)


@settings(max_examples=40, deadline=None)
@given(xc=arm, xt=arm, thr=st.sampled_from([0.8, 1.0, 1.1, 1.25]))
def test_decide_is_exactly_the_two_tests(xc: IntArray, xt: IntArray, thr: float) -> None:
    res = _cs(_os(xc), _os(xt), 0.5, thr, t_opt=(80.0, 80.0))
    passes, fails = res.log_e_pass >= LVL_P, res.log_e_fail >= LVL_F
    assert (res.ci_high <= thr) == passes
    assert (res.ci_low > thr) == fails
    expected = "pass" if passes else ("fail" if fails else "inconclusive")
    assert res.decide(thr, bound="max") == expected
    assert res.pvalue == pytest.approx(min(1.0, math.exp(-max(res.log_e_fail, 0.0))))


def test_ties_on_an_atom_at_the_quantile() -> None:
    """Both arms P(1) = 0.3, P(2) = 0.4, P(3) = 0.3: the medians are the atom 2 and the ratio 1.

    Counting the candidate with ``≤`` instead of ``<`` would give it drift 0.2·n at x* and pass
    almost always; the strict count keeps the pass test (and the mirror fail test) valid.
    """
    rng = np.random.default_rng(11)
    n_paths, looks, per_look = 150, 8, 50
    pas = fail = 0
    for _ in range(n_paths):
        xc = rng.choice([1.0, 2.0, 3.0], p=[0.3, 0.4, 0.3], size=looks * per_look)
        xt = rng.choice([1.0, 2.0, 3.0], p=[0.3, 0.4, 0.3], size=looks * per_look)
        hit_p = hit_f = False
        for j in range(1, looks + 1):
            n = j * per_look
            res = _cs(_os(xc[:n] * 10), _os(xt[:n] * 10), 0.5, 1.0, t_opt=(400.0, 400.0))
            hit_p |= res.log_e_pass >= LVL_P
            hit_f |= res.log_e_fail >= LVL_F
        pas += hit_p
        fail += hit_f
    se = math.sqrt(AP * (1 - AP) / n_paths)
    assert pas / n_paths <= AP + 3 * se
    assert fail / n_paths <= AF + 3 * math.sqrt(max(AF, 1 / n_paths) / n_paths)


@pytest.mark.parametrize(
    ("control", "threshold", "candidate"),
    [(3.0, 1.1, 3.3), (1.5, 1.2, 1.8), (64.0, 1.1, 70.4), (0.7, 1.3, 0.91)],
)
def test_decimal_ratio_exactly_at_the_threshold(
    control: float, threshold: float, candidate: float
) -> None:
    """``threshold × control`` rounds above (1.1 × 3.0) or below (1.2 × 1.5) the decimal product.

    The true ratio equals the threshold, so neither test may reject however much data there is;
    without the conservative tolerance one of them would, on a 1e-16 rounding error.
    """
    c, t = (OrderStatistics.from_sample(np.full(400, x)) for x in (control, candidate))
    r = _cs(c, t, 0.5, threshold)
    assert r.decide(threshold, bound="max") == "inconclusive"
    assert r.ci_low <= threshold <= r.ci_high
    assert r.ci_high == pytest.approx(threshold, rel=1e-8)  # and the data pin the ratio down
    assert r.ci_low == pytest.approx(threshold, rel=1e-8)


# --------------------------------------------------------------------------- degenerate input


def test_too_little_data_and_zero_latencies() -> None:
    empty = OrderStatistics.from_sample([])
    some = OrderStatistics.from_sample(np.arange(1.0, 301.0))
    zeros = OrderStatistics.from_sample(np.zeros(300))
    r = _cs(empty, some, 0.5, 1.1)
    assert (r.ci_low, r.ci_high, r.pvalue) == (0.0, math.inf, 1.0)
    assert math.isnan(r.estimate)
    assert "no observations" in r.note
    r = _cs(OrderStatistics.from_sample([5.0, 7.0]), some, 0.99)
    assert (r.ci_low, r.ci_high) == (0.0, math.inf)
    assert "too few observations" in r.note
    r = _cs(some, zeros, 0.5, 1.1)  # candidate median 0: passes at every ratio > 0
    assert (r.ci_low, r.ci_high, r.estimate) == (0.0, 0.0, 0.0)
    assert r.decide(1.1, bound="max") == "pass"
    r = _cs(zeros, some, 0.5, 1.1)  # control median 0, candidate positive: ratio = inf
    assert (r.ci_low, r.ci_high, r.estimate) == (math.inf, math.inf, math.inf)
    assert r.decide(1.1, bound="max") == "fail"
    r = _cs(zeros, zeros, 0.5, 1.1)  # 0/0: neither null can be rejected
    assert (r.ci_low, r.ci_high) == (0.0, math.inf)
    assert math.isnan(r.estimate)
    r = _cs(some, some, 0.5)
    assert r.pvalue is None
    assert math.isnan(r.log_e_pass)
    assert math.isnan(r.log_e_fail)
    assert r.confidence_level == pytest.approx(1 - AP - AF)
    d = r.to_dict()
    assert (d["alpha_pass"], d["alpha_fail"], d["p"]) == (AP, AF, 0.5)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"p": 1.0}, "p"),
        ({"alpha_pass": 0.0}, "alpha_pass"),
        ({"alpha_fail": 1.5}, "alpha_fail"),
        ({"alpha_pass": 0.6, "alpha_fail": 0.5}, "alpha_pass \\+ alpha_fail"),
        ({"t_opt_control": 0}, "t_opt_control"),
        ({"t_opt_candidate": math.inf}, "t_opt_candidate"),
        ({"threshold": -1.1}, "threshold"),
        ({"control": OrderStatistics.from_sample([-1.0, 2.0])}, "control"),
        ({"candidate": OrderStatistics.from_sample([1.0, math.inf])}, "candidate"),
        ({"candidate": [1.0, 2.0]}, "candidate"),
    ],
)
def test_invalid_arguments(kwargs: dict[str, object], name: str) -> None:
    args: dict[str, object] = {
        "control": OrderStatistics.from_sample([1.0, 2.0]),
        "candidate": OrderStatistics.from_sample([1.0, 2.0]),
        "p": 0.5,
        "alpha_pass": AP,
        "alpha_fail": AF,
        "t_opt_control": 10.0,
        "t_opt_candidate": 10.0,
        "threshold": 1.1,
    }
    args.update(kwargs)
    with pytest.raises(InvalidInputError, match=name):
        quantile_ratio_cs(**args)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- simulation


@pytest.mark.simulation
@pytest.mark.parametrize(
    ("n_control", "n_candidate", "fixed", "seed"),
    [
        (171_000, 9_000, False, 1),  # 5 % canary for 30 minutes at 100 requests/s
        (9_000, 9_000, False, 2),  # 50 % split
        (180_000, 18_000, True, 3),  # historical control window, recorded before the step
    ],
)
def test_false_pass_and_fail_at_the_threshold(
    n_control: int, n_candidate: int, fixed: bool, seed: int
) -> None:
    d = look_decisions(
        ratio=1.10,
        n_paths=400,
        n_control=n_control,
        n_candidate=n_candidate,
        fixed_control=fixed,
        seed=seed,
    )
    assert d.true_ratio == 1.1  # 70.4 ms / 64.0 ms: the least favourable null of both tests
    assert d.pass_rate <= AP + 3 * d.se(AP), d
    assert d.fail_rate <= AF + 3 * d.se(AF), d
    nominal = 1 - AP - AF  # coverage of 1.10 by the running intersection of [L, U]
    assert 1 - d.either_rate >= nominal - 3 * d.se(1 - nominal)


@pytest.mark.simulation
def test_intervals_cover_and_agree_with_the_tests() -> None:
    kw = {"n_paths": 40, "n_control": 171_000, "n_candidate": 9_000, "seed": 21}
    ip = interval_paths(ratio=1.10, **kw)
    d = look_decisions(ratio=1.10, **kw)  # same seed: same data
    np.testing.assert_array_equal(ip.first("pass_new"), d.first_pass)
    np.testing.assert_array_equal(ip.first("fail_new"), d.first_fail)
    nominal = 1 - AP - AF
    cov = float(ip.covered.mean())
    assert cov >= nominal - 3 * math.sqrt(nominal * (1 - nominal) / kw["n_paths"])
    assert np.all(ip.lower_new <= ip.upper_new)


@pytest.mark.simulation
def test_power_identical_candidate_passes() -> None:
    d = look_decisions(ratio=1.0, n_paths=400, n_control=171_000, n_candidate=9_000, seed=31)
    assert d.pass_rate >= 0.90, d.pass_rate
    assert d.fail_rate == 0.0


@pytest.mark.simulation
def test_power_regression_fails() -> None:
    d = look_decisions(ratio=1.3, n_paths=100, n_control=135_000, n_candidate=45_000, seed=32)
    assert d.fail_rate >= 0.95, d.fail_rate
    assert d.pass_rate == 0.0


@pytest.mark.simulation
def test_upper_end_below_the_per_arm_test() -> None:
    """Same full-size data (5 % canary, identical arms): U of the direct test vs the old one."""
    rng = np.random.default_rng(41)
    n_c, n_t = 171_000, 9_000
    new_u, old_u = [], []
    for _ in range(5):
        xc = np.round(rng.lognormal(3.0, 0.5, n_c), 1)
        xt = np.round(rng.lognormal(3.0, 0.5, n_t), 1)
        full_c, full_t = OrderStatistics.from_sample(xc), OrderStatistics.from_sample(xt)
        kw = {"alpha_pass": AP, "alpha_fail": AF, "t_opt_control": n_c, "t_opt_candidate": n_t}
        rc, rt = quantile_ratio_rank_requests(n_c, n_t, 0.99, **kw)
        new = quantile_ratio_cs(full_c.select(rc.ranks), full_t.select(rt.ranks), 0.99, **kw)
        best_old = math.inf
        for t_opt in (n_t, n_c):  # the old test's single t_opt, at its better value
            oc, ot = old_rank_requests(n_c, n_t, 0.99, confidence_level=1 - AP, t_opt=t_opt)
            old = quantile_ratio_test(
                full_c.select(oc.ranks),
                full_t.select(ot.ranks),
                0.99,
                confidence_level=1 - AP,
                t_opt=t_opt,
            )
            best_old = min(best_old, old.ci_high)
        new_u.append(new.ci_high)
        old_u.append(best_old)
    report = f"U new = {np.round(new_u, 4).tolist()}, U old = {np.round(old_u, 4).tolist()}"
    print(report)
    assert all(u < v for u, v in zip(new_u, old_u, strict=True)), report


@pytest.mark.simulation
def test_validation_sections_are_deterministic() -> None:
    a = validation_sections(scale=0.01, seed=5)
    assert [t for t, _ in a] == [
        "Quantile ratio, direct test: false PASS / FAIL at the threshold",
        "Quantile ratio, direct test: coverage and width of the running intersection",
        "Quantile ratio, direct test: power and time to decision vs the per-arm test",
    ]
    assert "**NO**" not in a[0][1]
