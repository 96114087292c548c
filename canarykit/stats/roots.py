"""Brent's root finder on a bracket, without importing ``scipy.optimize``.

``scipy.optimize`` costs 0.2–0.4 s to import (it pulls in linear programming, sparse
linear algebra and Fortran wrappers), more than the rest of an evaluation of a small store;
the statistics only need a bracketing root finder. :func:`brentq` is Brent's method [1]_ —
inverse quadratic interpolation or secant steps, falling back to bisection — with the same
steps, tolerances and defaults as ``scipy.optimize.brentq``, so a verdict's numbers do not
change: ``tests/stats/test_roots.py`` checks that both return the *same float* on the
functions canarykit solves and on random ones.

References
----------
.. [1] R. P. Brent, *Algorithms for Minimization Without Derivatives*, Prentice-Hall, 1973,
   chapter 4.

Examples
--------
>>> round(brentq(lambda x: x * x - 2.0, 0.0, 2.0), 12)
1.414213562373
>>> brentq(lambda x: x - 1.0, 1.0, 3.0)   # a bracket end that is a root is returned as is
1.0
"""

from __future__ import annotations

import math
from collections.abc import Callable

__all__ = ["MAXITER", "RTOL", "XTOL", "brentq"]

XTOL = 2e-12
RTOL = 4 * 2.220446049250313e-16  # four machine epsilons: the smallest useful relative step
MAXITER = 100


def _value(f: Callable[[float], object], x: float) -> float:
    fx = float(f(x))  # type: ignore[arg-type]
    if math.isnan(fx):
        raise ValueError(f"The function value at x={x:f} is NaN; solver cannot continue.")
    return fx


def brentq(
    f: Callable[[float], object],
    a: float,
    b: float,
    *,
    xtol: float = XTOL,
    rtol: float = RTOL,
    maxiter: int = MAXITER,
) -> float:
    """A root of ``f`` in the bracket ``[a, b]`` (``f(a)`` and ``f(b)`` of opposite signs).

    Parameters
    ----------
    f : callable
        ``f(x)`` for a float ``x``; anything ``float()`` accepts (a 0-d array, a numpy scalar).
    a, b : float
        The bracket.
    xtol, rtol : float
        The root is returned when the bracket is narrower than ``xtol + rtol·|x|``
        (``rtol`` at least four machine epsilons).
    maxiter : int

    Returns
    -------
    float

    Raises
    ------
    ValueError
        ``f(a)`` and ``f(b)`` have the same sign, a tolerance is out of range, or ``f`` is NaN.
    RuntimeError
        No convergence within ``maxiter`` iterations.

    Examples
    --------
    >>> brentq(lambda x: x, 1.0, 2.0)
    Traceback (most recent call last):
    ...
    ValueError: f(a) and f(b) must have different signs
    """
    if xtol <= 0:
        raise ValueError(f"xtol too small ({xtol:g} <= 0)")
    if rtol < RTOL:
        raise ValueError(f"rtol too small ({rtol:g} < {RTOL:g})")
    x_pre, x_cur = float(a), float(b)
    f_pre, f_cur = _value(f, x_pre), _value(f, x_cur)
    if f_pre == 0.0:
        return x_pre
    if f_cur == 0.0:
        return x_cur
    if math.copysign(1.0, f_pre) == math.copysign(1.0, f_cur):
        raise ValueError("f(a) and f(b) must have different signs")
    # x_cur: the best estimate; x_blk: the other end of the bracket; x_pre: the previous x_cur
    x_blk = f_blk = s_pre = s_cur = 0.0
    for _ in range(maxiter):
        if f_pre != 0.0 and f_cur != 0.0 and (f_pre < 0.0) != (f_cur < 0.0):
            x_blk, f_blk = x_pre, f_pre
            s_pre = s_cur = x_cur - x_pre
        if abs(f_blk) < abs(f_cur):
            x_pre, x_cur, x_blk = x_cur, x_blk, x_cur
            f_pre, f_cur, f_blk = f_cur, f_blk, f_cur
        delta = (xtol + rtol * abs(x_cur)) / 2
        s_bis = (x_blk - x_cur) / 2
        if f_cur == 0.0 or abs(s_bis) < delta:
            return x_cur
        interpolated = False  # bisection unless interpolation promises a short, safe step
        if abs(s_pre) > delta and abs(f_cur) < abs(f_pre):
            if x_pre == x_blk:  # secant through the two ends
                s_try = -f_cur * (x_cur - x_pre) / (f_cur - f_pre)
            else:  # inverse quadratic interpolation through three points
                d_pre = (f_pre - f_cur) / (x_pre - x_cur)
                d_blk = (f_blk - f_cur) / (x_blk - x_cur)
                s_try = -f_cur * (f_blk * d_blk - f_pre * d_pre) / (d_blk * d_pre * (f_blk - f_pre))
            if 2 * abs(s_try) < min(abs(s_pre), 3 * abs(s_bis) - delta):
                s_pre, s_cur = s_cur, s_try
                interpolated = True
        if not interpolated:
            s_pre = s_cur = s_bis
        x_pre, f_pre = x_cur, f_cur
        x_cur += s_cur if abs(s_cur) > delta else (delta if s_bis > 0 else -delta)
        f_cur = _value(f, x_cur)
    raise RuntimeError(f"Failed to converge after {maxiter} iterations, value is {x_cur}")
