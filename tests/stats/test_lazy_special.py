"""``canarykit.stats._special``: scipy's special functions, with scipy imported on first use.

A verdict's numbers come from the very same scipy functions; what changes is when scipy loads
(issue 15: ``canarykit evaluate`` starts it in a thread while DuckDB reads the store).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.special

from canarykit.stats import _special as special


def _run(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


@pytest.mark.parametrize("name", ["betaln", "betainc", "gammaln", "ndtri", "ndtr", "xlogy"])
def test_the_functions_are_scipys(name: str) -> None:
    assert getattr(special, name) is getattr(scipy.special, name)


def test_the_numbers_are_scipys() -> None:
    rng = np.random.default_rng(15)
    a, b = rng.gamma(0.5, 100.0, (2, 1000))
    x = rng.random(1000)
    assert np.array_equal(special.betainc(a, b, x), scipy.special.betainc(a, b, x))
    assert np.array_equal(special.betaln(a, b), scipy.special.betaln(a, b))


def test_it_is_not_a_package_and_names_are_checked() -> None:
    assert not hasattr(special, "__path__")
    with pytest.raises(AttributeError):
        _ = special.no_such_function


def test_importing_the_verdict_layer_leaves_scipy_for_later() -> None:
    out = _run(
        "import sys\n"
        "import canarykit.verdict, canarykit.verdict.evaluate, canarykit.verdict.checks\n"
        "print('scipy.special' in sys.modules)\n"
    )
    assert out == "False"


def test_prefetch_imports_scipy_in_a_thread_once() -> None:
    out = _run(
        "import sys\n"
        "from canarykit.stats._special import prefetch\n"
        "thread = prefetch()\n"
        "thread.join()\n"
        "print(thread.daemon, 'scipy.special' in sys.modules, prefetch())\n"
    )
    assert out == "False True None"


def test_a_verdict_equals_the_one_computed_after_an_eager_import(tmp_path: Path) -> None:
    from canarykit.traces import TraceStore
    from canarykit.traces.generate import generate_traces

    path = tmp_path / "s.duckdb"
    with TraceStore(path) as store:
        store.ingest(generate_traces("latency_shift", n_requests=3000, seed=3))
    code = (
        "{pre}\n"
        "import contextlib, io, json, sys\n"
        "from canarykit.cli.main import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        f"    main(['evaluate', {str(path)!r}, '--no-log', '--format', 'json'])\n"
        "print(json.dumps(json.loads(out.getvalue())['checks'], sort_keys=True))\n"
    )
    lazy = _run(code.format(pre="pass"))
    eager = _run(code.format(pre="import scipy.special"))
    assert lazy == eager
    assert "latency_p95" in lazy
