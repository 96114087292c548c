"""Helpers shared by the command modules: common options, output, registry access.

Importing this module is cheap (no DuckDB, scipy, pandas or promotion layer): ``canarykit
--help`` builds every parser, so command modules import heavy things inside their command
functions only. Output helpers make every command speak ``--format text|json`` the same way,
and :func:`write_output` makes ``-`` mean stdout for every ``--out``.

Examples
--------
>>> to_json({"b": float("nan"), "a": (1, 2)})
'{\\n  "a": [\\n    1,\\n    2\\n  ],\\n  "b": null\\n}'
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import json
import math
import os
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from canarykit.errors import InvalidInputError, StorageError, shorten

if TYPE_CHECKING:
    from canarykit.promotion.api import Promotion
    from canarykit.promotion.clock import Clock

__all__ = [
    "ACTOR_ENV",
    "CLOCK_ENV",
    "DEFAULT_POLICY",
    "DEFAULT_REGISTRY",
    "EXIT_DENIED",
    "EXIT_HELP",
    "EXIT_OK",
    "REGISTRY_ENV",
    "STARTUP_EXIT_CODES",
    "add_common",
    "add_format",
    "clock_from",
    "emit",
    "open_registry",
    "to_json",
    "write_output",
]

EXIT_OK = 0
EXIT_DENIED = 4
ACTOR_ENV = "CANARYKIT_ACTOR"
CLOCK_ENV = "CANARYKIT_ALLOW_CLOCK_OVERRIDE"
# Same values as canarykit.promotion.session / .startup (a test keeps them equal); repeated
# here so that building the parser does not import the promotion layer.
REGISTRY_ENV = "CANARYKIT_REGISTRY"
DEFAULT_REGISTRY = "canarykit-registry.sqlite"
STARTUP_EXIT_CODES = {
    "resolve": 10,
    "revoked": 11,
    "stage": 12,
    "artifact": 13,
    "signature": 14,
    "policy": 15,
    "audit": 16,
    "undecided": 17,
    "degraded": 18,
}
DEFAULT_POLICY = os.path.join(os.path.dirname(os.path.dirname(__file__)), "policies")
EXIT_HELP = (
    "exit status: 0 done, 2 bad input or usage, 4 refused by a gate (reasons on stderr; "
    'with --format json also {"allowed": false, "reasons": [...]} on stdout), '
    "70 internal error"
)


def add_common(parser: argparse.ArgumentParser, *, actor: bool = True) -> None:
    """Add ``--registry``, ``--clock``, ``--format`` and (for actions) ``--actor``.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        A promotion command's parser.
    actor : bool, default True
        Whether the command acts (and so takes ``--actor``).
    """
    parser.add_argument(
        "--registry",
        default=os.environ.get(REGISTRY_ENV) or DEFAULT_REGISTRY,
        help=f"registry file (default ${REGISTRY_ENV} or {DEFAULT_REGISTRY})",
    )
    if actor:
        parser.add_argument(
            "--actor",
            default=os.environ.get(ACTOR_ENV) or _login(),
            help=f"who acts (default ${ACTOR_ENV} or the login name)",
        )
    parser.add_argument(
        "--clock",
        metavar="TIME",
        help=f"fixed time for drills/tests (needs {CLOCK_ENV}=1; never earlier than the log)",
    )
    add_format(parser)


def _login() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name (a container without a passwd entry)
        return ""


def add_format(parser: argparse.ArgumentParser, *, extra: tuple[str, ...] = ()) -> None:
    """Add ``--format text|json`` (default text), plus ``extra`` choices (e.g. markdown)."""
    parser.add_argument(
        "--format",
        choices=("text", "json", *extra),
        default="text",
        help="output format (default: %(default)s)",
    )


def clock_from(args: argparse.Namespace) -> Clock:
    """The system clock, or the fixed ``--clock`` when explicitly allowed.

    Raises
    ------
    InvalidInputError
        ``--clock`` given without ``CANARYKIT_ALLOW_CLOCK_OVERRIDE=1``, or not a time.
    """
    from canarykit.promotion.clock import FixedClock, SystemClock, parse_instant

    if getattr(args, "clock", None) is None:
        return SystemClock()
    if os.environ.get(CLOCK_ENV) != "1":
        raise InvalidInputError(
            f"--clock: a fixed clock is for drills and tests; set {CLOCK_ENV}=1 to allow it"
        )
    instant = parse_instant(args.clock, field="--clock")
    print(f"canarykit: warning: using fixed clock {shorten(args.clock)}", file=sys.stderr)
    return FixedClock(instant)


def open_registry(args: argparse.Namespace, *, create: bool = False) -> Promotion:
    """The registry named by ``--registry`` (must exist unless ``create``)."""
    from canarykit.promotion.api import Promotion

    return Promotion(args.registry, clock=clock_from(args), create=create)


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return [_jsonable(v) for v in items]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return _jsonable(value.item())
    return value


def to_json(data: Any) -> str:
    """Strict JSON text (NaN and infinities become ``null``), indented, keys sorted."""
    return json.dumps(
        _jsonable(data), indent=2, sort_keys=True, allow_nan=False, ensure_ascii=False
    )


def emit(args: argparse.Namespace, data: Any, text: str) -> None:
    """Print ``text``, or ``data`` as JSON with ``--format json``."""
    if getattr(args, "format", "text") == "json":
        print(to_json(data))
    else:
        print(text)


def write_output(path: str | Path, text: str, *, what: str = "--out") -> str:
    """Write ``text`` to ``path``; ``-`` means stdout. Returns where it went.

    A file is written atomically (a temporary file in the same folder, then renamed) with the
    mode any new file gets (``0o666`` less the umask), never ``0o600``.

    Raises
    ------
    StorageError
        The file cannot be written (one line naming it and the reason).
    """
    if str(path) == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return "stdout"
    target = Path(path)
    tmp: str | None = None
    try:
        if target.is_dir():
            raise StorageError(f"{what} {shorten(target)}: cannot write (it is a folder)")
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, target)
        tmp = None
    except OSError as err:
        raise StorageError(
            f"{what} {shorten(target)}: cannot write ({err.strerror or type(err).__name__})"
        ) from None
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
    return str(target)
