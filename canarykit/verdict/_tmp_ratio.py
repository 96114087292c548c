"""TEMPORARY adapter until canarykit.stats.quantile_ratio lands (old per-arm test)."""

# ruff: noqa
from __future__ import annotations

from dataclasses import replace
from typing import Any

from canarykit.stats.order_statistics import RankRequest
from canarykit.stats.quantiles import quantile_ratio_rank_requests as _old_ranks
from canarykit.stats.quantiles import quantile_ratio_test


def quantile_ratio_rank_requests(
    n_control: int,
    n_candidate: int,
    p: float,
    *,
    alpha_pass: float,
    alpha_fail: float,
    t_opt_control: float,
    t_opt_candidate: float,
    grid_size: int = 512,
) -> tuple[RankRequest, RankRequest]:
    c: set[int] = set()
    t: set[int] = set()
    for a in {alpha_pass, alpha_fail}:
        for t_opt in {t_opt_control, t_opt_candidate}:
            rc, rt = _old_ranks(n_control, n_candidate, p, confidence_level=1 - a, t_opt=t_opt)
            c.update(rc.ranks)
            t.update(rt.ranks)
    return RankRequest(n=n_control, ranks=tuple(sorted(c))), RankRequest(
        n=n_candidate, ranks=tuple(sorted(t))
    )


def quantile_ratio_cs(
    control: Any,
    candidate: Any,
    p: float,
    *,
    alpha_pass: float,
    alpha_fail: float,
    t_opt_control: float,
    t_opt_candidate: float,
    threshold: float | None = None,
) -> Any:
    a = quantile_ratio_test(
        control, candidate, p, confidence_level=1 - alpha_pass, t_opt=t_opt_candidate
    )
    b = quantile_ratio_test(
        control, candidate, p, confidence_level=1 - alpha_fail, t_opt=t_opt_candidate
    )
    return replace(a, ci_low=b.ci_low, confidence_level=1 - alpha_pass - alpha_fail)
