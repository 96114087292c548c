"""``scipy.special``, imported on first use.

Importing ``scipy.special`` costs 0.1–0.15 s: scipy 1.17 builds its array-API wrappers, which
parse the docstring of every special function and load ``numpy.f2py``, ``numpy.ma`` and
``numpy.testing``. The statistics modules read their special functions through this module
(``from canarykit.stats import _special as special`` then ``special.betaln(...)``), so importing
them costs nothing and scipy loads at the first call, or before it in a thread started by
:func:`prefetch`: ``canarykit evaluate`` starts one once its own modules are imported, and
scipy then loads while DuckDB opens the store and reads it (DuckDB releases the GIL).

The functions are scipy's own, read from ``scipy.special`` at every access: the numbers are
unchanged, and a patched ``scipy.special`` is seen as before.

Examples
--------
>>> from canarykit.stats import _special as special
>>> float(special.ndtri(0.5))
0.0
"""

from __future__ import annotations

import contextlib
import sys
import threading
from typing import Any

__all__ = ["prefetch"]


def __getattr__(name: str) -> Any:
    if name.startswith("__"):  # not a package, no scipy module attributes (__path__, __all__)
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import scipy.special

    return getattr(scipy.special, name)


def prefetch() -> threading.Thread | None:
    """Start importing ``scipy.special`` in a thread, unless it is imported already.

    The thread is not a daemon: an interpreter that exits early waits for the import instead
    of stopping it halfway. Start it once the caller's own imports are done, so that the two
    threads never import modules at the same time, except scipy's which only the thread
    imports first (a first use waits for the thread's import to finish, as imports do).

    Returns
    -------
    threading.Thread or None
        The importing thread; ``None`` when ``scipy.special`` is imported (or being imported).
    """
    if "scipy.special" in sys.modules:
        return None
    thread = threading.Thread(target=_import, name="canarykit-import-scipy.special")
    thread.start()
    return thread


def _import() -> None:
    # an import error is left to the first use, which imports again and reports it there
    with contextlib.suppress(Exception):
        import scipy.special  # noqa: F401
