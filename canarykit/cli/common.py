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
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from canarykit.errors import InvalidInputError, shorten
from canarykit.safe_io import write_file

if TYPE_CHECKING:
    from canarykit.promotion.api import Promotion
    from canarykit.promotion.clock import Clock

__all__ = [
    "ACTOR_ENV",
    "DEFAULT_POLICY",
    "DEFAULT_REGISTRY",
    "EXIT_DENIED",
    "EXIT_HELP",
    "EXIT_OK",
    "KEY_ENV",
    "REGISTRY_ENV",
    "STARTUP_EXIT_CODES",
    "act_key",
    "add_common",
    "add_format",
    "add_key",
    "emit",
    "mark_if_drill",
    "open_registry",
    "to_json",
    "write_output",
]

EXIT_OK = 0
EXIT_DENIED = 4
ACTOR_ENV = "CANARYKIT_ACTOR"
# Same values as canarykit.promotion.session / .startup / .acts (a test keeps them equal); repeated
# here so that building the parser does not import the promotion layer.
REGISTRY_ENV = "CANARYKIT_REGISTRY"
KEY_ENV = "CANARYKIT_KEY"
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
    "mlflow": 20,
    "drill": 19,
    "degraded": 18,
}
DEFAULT_POLICY = os.path.join(os.path.dirname(os.path.dirname(__file__)), "policies")
EXIT_HELP = (
    "exit status: 0 done, 2 bad input or usage, 4 refused by a gate (reasons on stderr; "
    'with --format json also {"allowed": false, "reasons": [...]} on stdout), '
    "70 internal error"
)


CLOCK_HELP = (
    "fixed time, only for drill registries (canarykit config init --drill); refused on any"
    " other registry, which takes the system clock (CANARYKIT_ALLOW_CLOCK_OVERRIDE no longer has"
    " any effect)"
)


def add_common(parser: argparse.ArgumentParser, *, actor: bool = True, key: bool = False) -> None:
    """Add ``--registry``, ``--clock``, ``--format``, for actions ``--actor`` and for a
    person's signed acts ``--key``.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        A promotion command's parser.
    actor : bool, default True
        Whether the command acts (and so takes ``--actor``).
    key : bool, default False
        Whether the command is a signed act (and so takes ``--key``, default ``$CANARYKIT_KEY``).
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
    if key:
        add_key(parser)
    parser.add_argument("--clock", metavar="TIME", help=CLOCK_HELP)
    add_format(parser)


def add_key(parser: argparse.ArgumentParser) -> None:
    """Add ``--key FILE``: the actor's Ed25519 private key that signs the act."""
    parser.add_argument(
        "--key",
        metavar="FILE",
        help=f"your Ed25519 private key (unencrypted PEM, canarykit keygen) that signs this act;"
        f" default ${KEY_ENV}. The roster lists its public half under your name. Only a drill"
        " registry accepts an unsigned act",
    )


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


def fixed_clock(args: argparse.Namespace) -> Clock | None:
    """The fixed ``--clock`` time, or None when not given.

    Raises
    ------
    InvalidInputError
        ``--clock`` is not a time.
    """
    from canarykit.promotion.clock import FixedClock, parse_instant

    if getattr(args, "clock", None) is None:
        return None
    return FixedClock(parse_instant(args.clock, field="--clock"))


def drill_banner(args: argparse.Namespace, path: Any) -> None:
    """Mark this run as one on a drill registry: a first line on stderr, and ``"drill": true``
    in every JSON document printed (:func:`emit`)."""
    args._drill = True
    fixed = getattr(args, "clock", None)
    when = f"; clock fixed at {shorten(str(fixed), 40)}" if fixed else ""
    print(
        f"DRILL registry: {shorten(str(path))}: a rehearsal (canarykit config init --drill);"
        f" nothing from it may start in production{when}",
        file=sys.stderr,
    )


def mark_if_drill(args: argparse.Namespace, path: Any) -> bool:
    """For commands that read a registry without opening it for actions (``events``,
    ``serve``): when ``path`` is a drill registry, say DRILL (:func:`drill_banner`)."""
    import sqlite3

    from canarykit.promotion.drill import is_drill

    if not path or not Path(path).is_file():
        return False
    try:
        conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        return False
    try:
        conn.row_factory = sqlite3.Row
        drill = is_drill(conn)
    except sqlite3.Error:  # not a registry: the command itself says so
        return False
    finally:
        conn.close()
    if drill:
        drill_banner(args, path)
    return drill


def open_registry(args: argparse.Namespace, *, create: bool = False) -> Promotion:
    """The registry named by ``--registry`` (must exist unless ``create``).

    It takes the system clock; ``--clock`` only on a drill registry (DESIGN.md §10). On a drill
    registry a ``DRILL registry: ...`` line goes to stderr first and JSON output says
    ``"drill": true``.

    Raises
    ------
    InvalidInputError
        ``--clock`` on a registry that is not a drill registry, or not a time.
    """
    from canarykit.promotion.api import Promotion

    clock = fixed_clock(args)
    promotion = Promotion(args.registry, create=create)
    promotion.mirror_warn = _warn  # a failed MLflow mirror: one line on stderr, decision stands
    if not promotion.drill:
        if clock is not None:
            promotion.close()
            raise InvalidInputError(
                f"--clock: only for drill registries (canarykit config init --drill);"
                f" {shorten(str(args.registry))} is not one and takes the system clock"
            )
        return promotion
    drill_banner(args, args.registry)
    if clock is not None:
        promotion.clock = clock
    return promotion


def _warn(line: str) -> None:
    print(line, file=sys.stderr)


def act_key(args: argparse.Namespace, promotion: Promotion, what: str) -> Any:
    """The signer of the actor's act: ``--key FILE``, else ``$CANARYKIT_KEY`` (None: unsigned,
    which only a drill registry accepts).

    Raises
    ------
    InvalidInputError
        No key outside a drill registry, or a file that is not an unencrypted Ed25519 private
        key (one line naming it).
    """
    from canarykit.promotion.acts import act_signer

    path = getattr(args, "key", None) or os.environ.get(KEY_ENV) or None
    if path is None:
        if promotion.drill:
            return None
        raise InvalidInputError(
            f"--key: {what} is a signed act: give your Ed25519 private key with --key FILE or"
            f" ${KEY_ENV} (canarykit keygen makes one; the roster lists its public half)"
        )
    return act_signer(path)


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
    """Print ``text``, or ``data`` as JSON with ``--format json`` (a document of a drill
    registry says ``"drill": true``)."""
    if getattr(args, "format", "text") == "json":
        if getattr(args, "_drill", False) and isinstance(data, Mapping):
            data = {**data, "drill": True}
        print(to_json(data))
    else:
        print(text)


def write_output(path: str | Path, text: str, *, what: str = "--out") -> str:
    """Write ``text`` to ``path``; ``-`` means stdout. Returns where it went.

    A file is written atomically (a temporary file in the same folder, then renamed) with the
    mode any new file gets (``0o666`` less the umask), never ``0o600``, and never through a
    symbolic link (:func:`canarykit.safe_io.write_file`).

    Raises
    ------
    InvalidInputError
        ``path`` or its folder is a symbolic link, or ``path`` is a folder.
    StorageError
        The file cannot be written (one line naming it and the reason).
    """
    if str(path) == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return "stdout"
    target = Path(path)
    write_file(target, text, what=what)
    return str(target)
