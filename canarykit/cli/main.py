"""Entry point of the ``canarykit`` command.

Each command group lives in its own module under ``canarykit.cli`` and exposes
``register(subparsers)``, which adds its sub-commands and sets ``func`` on each parser to a
callable ``(args) -> int`` returning the exit status. Command modules import DuckDB, scipy,
pandas and the promotion layer inside their command functions only, so ``--help`` and
``--version`` answer at once.

:func:`main` is the single place where outcomes become exit statuses (:data:`EXIT_STATUS`):

- a user error (:class:`~canarykit.errors.CanaryError`) is one line on stderr and exit 2;
- a gate denial is exit 4 with its reasons one per line on stderr (and, with ``--format
  json``, ``{"allowed": false, "reasons": [...]}`` on stdout);
- any other exception is a bug in canarykit, never a decision: exit 70 (``EX_SOFTWARE``), one
  line on stderr, the traceback written to a file in the temporary folder;
- a closed output pipe (``canarykit … | head``) exits 141 quietly; Ctrl-C exits 130.

Every line printed for an error passes through :func:`canarykit.errors.one_line`: no newlines,
no database-engine wording, values cut to 80 characters, at most 300 characters.
"""

from __future__ import annotations

import argparse
import atexit
import datetime as dt
import gc
import importlib
import os
import platform
import sys
import tempfile
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from canarykit import __version__
from canarykit.errors import MESSAGE_LIMIT, CanaryError, GateDeniedError, one_line, shorten

__all__ = ["EXIT_STATUS", "build_parser", "main"]


#: The command modules, in the order of ``--help``, and the sub-commands (with aliases) each
#: registers: a command line naming one builds only that module's parsers (argparse spends
#: ~15 ms building all 62, mostly looking for translations of its own messages). The tests
#: check this table against what the modules register.
COMMANDS: dict[str, tuple[str, ...]] = {
    "canarykit.cli.store_cmds": ("ingest", "ingest-labels", "info"),
    "canarykit.cli.verdict_cmds": ("evaluate", "replay", "log"),
    "canarykit.cli.rollout_cmds": ("rollout",),
    "canarykit.cli.plan_cmd": ("plan",),
    "canarykit.cli.demo_cmd": ("demo",),
    "canarykit.cli.promotion_cmds": (
        "submit",
        "promote",
        "approve",
        "waive",
        "revoke",
        "status",
        "config",
        "change",
        "alias",
        "rollback",
        "check-startup",
        "release",
        "audit",
    ),
    "canarykit.cli.sign_cmd": ("sign",),
    "canarykit.cli.keygen_cmd": ("keygen",),
    "canarykit.cli.model_card_cmd": ("model-card",),
    "canarykit.cli.evidence_cmds": ("evidence",),
    "canarykit.cli.policy_cmd": ("policy",),
    "canarykit.cli.attest_cmd": ("attest",),
    "canarykit.cli.report_cmd": ("report",),
    "canarykit.cli.serve_cmd": ("serve",),
    "canarykit.cli.events_cmd": ("events",),
    "canarykit.cli.mlflow_cmds": ("mlflow",),
    "canarykit.cli.summaries_cmds": ("summarize", "evaluate-summaries"),
}
#: Modules that contribute sub-commands, in the order they appear in ``--help``.
COMMAND_MODULES = tuple(COMMANDS)
_MODULE_OF = {name: module for module, names in COMMANDS.items() for name in names}

EXIT_USAGE = 2
EXIT_DENIED = 4
EXIT_INTERNAL = 70  # EX_SOFTWARE of sysexits.h
EXIT_INTERRUPTED = 130  # 128 + SIGINT
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a writer whose reader left

#: Every exit status of the ``canarykit`` command and what it means.
EXIT_STATUS: tuple[tuple[str, str], ...] = (
    ("0", "PROCEED (evaluate); identical (replay); done (every other command)"),
    ("1", "STOP (evaluate); different (replay)"),
    ("2", "bad input or usage: one line on stderr, nothing written"),
    ("3", "CONTINUE (evaluate)"),
    ("4", "refused by a gate: reasons on stderr (JSON on stdout with --format json)"),
    ("5", "audit log tampered (audit verify)"),
    ("6", "release verify: the release does not verify (one FAIL line per failed check)"),
    ("10-17", "check-startup: the version may not start (see check-startup --help)"),
    ("18", "check-startup --no-artifact-check: all else passed, the artifact was NOT checked"),
    ("19", "check-startup: a drill registry (config init --drill): never starts in production"),
    ("20", "check-startup --mlflow, mlflow verify: MLflow differs from canarykit (drift)"),
    ("70", "internal error: a bug in canarykit, not a decision; traceback written to a file"),
    ("130", "interrupted (Ctrl-C)"),
    ("141", "output pipe closed early (e.g. `canarykit ... | head`)"),
)

EPILOG = "exit status:\n" + "\n".join(f"  {code:>5}  {meaning}" for code, meaning in EXIT_STATUS)


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose usage errors are one bounded line and exit 2 (as argparse's).

    Options must be spelled out: argparse would take ``--mode shadow`` for ``--model shadow``
    (a prefix), and a gating command must not guess what was meant.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, one_line(f"canarykit: error: {message}") + "\n")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """Build the full command-line parser from every command module.

    Cheap: command modules import their heavy dependencies inside the command functions.

    Parameters
    ----------
    command : str, optional
        Build only the sub-commands of the module that registers ``command`` (:data:`COMMANDS`):
        a command line naming it parses exactly as with the full parser. Default (or an unknown
        command): every sub-command.

    Examples
    --------
    >>> parser = build_parser()
    >>> parser.parse_args(["info", "--db", "x.duckdb", "--format", "json"]).format
    'json'
    >>> sorted(build_parser("info")._subparsers._group_actions[0].choices)
    ['info', 'ingest', 'ingest-labels']
    """
    parser = _Parser(
        prog="canarykit",
        description="Sequential, replayable canary verdicts and controlled promotion for ML models.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"canarykit {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    module = _MODULE_OF.get(command) if command is not None else None
    for module_name in (module,) if module is not None else COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def _command_named(argv: Sequence[str]) -> str | None:
    """The sub-command ``argv`` names, when nothing before it needs the full parser.

    The top-level options (``--help``, ``--version``) take no value: the first argument that is
    not an option is the command. An option before it (``-h``, a misspelt one) gets the full
    parser, whose help and errors list every command.
    """
    for arg in argv:
        if arg.startswith("-"):
            return None
        return arg
    return None


def _error(message: str) -> None:
    """Print one bounded error line on stderr."""
    print(one_line(f"canarykit: error: {message}"), file=sys.stderr)


def _denied(args: argparse.Namespace, err: GateDeniedError) -> int:
    """Report a gate denial: reasons on stderr, JSON on stdout with ``--format json``."""
    from canarykit.cli.common import to_json

    action = getattr(err, "action", None)
    reasons = [one_line(r) for r in getattr(err, "reasons", ())] or [one_line(str(err))]
    if getattr(args, "format", "text") == "json":
        data: dict[str, object] = {"allowed": False, "reasons": reasons}
        if getattr(args, "_drill", False):
            data["drill"] = True
        if action is not None:
            data["action"] = one_line(str(action))
        print(to_json(data))
    if action is not None:
        print(one_line(f"canarykit: denied: {action}"), file=sys.stderr)
        for reason in reasons:
            print(f"  - {one_line(reason, MESSAGE_LIMIT - 4)}", file=sys.stderr)
    else:
        print(one_line(f"canarykit: denied: {reasons[0]}"), file=sys.stderr)
    return EXIT_DENIED


def _crash_report(err: BaseException, argv: Sequence[str] | None) -> str:
    """Write the traceback of an internal error to a new file; returns where (or why not)."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    folder = Path(tempfile.gettempdir())
    text = "\n".join(
        [
            f"canarykit {__version__} internal error at {stamp}",
            f"python {platform.python_version()} on {platform.platform()}",
            f"argv: {list(argv) if argv is not None else sys.argv!r}",
            "",
            "".join(traceback.format_exception(err)),
        ]
    )
    for attempt in range(100):
        suffix = f"-{attempt}" if attempt else ""
        path = folder / f"canarykit-crash-{stamp}-{os.getpid()}{suffix}.txt"
        try:
            # exclusive create: never follow a planted link; private: a traceback may hold data
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        except OSError as os_err:
            return f"no details written ({folder}: {os_err.strerror})"
        with os.fdopen(fd, "w", encoding="utf-8", errors="replace") as handle:
            handle.write(text)
        return f"details in {path}"
    return f"no details written ({folder}: no free file name)"


def _out_of_memory(err: BaseException) -> bool:
    """DuckDB's OutOfMemoryException (duckdb is not imported here: startup)."""
    kind = type(err)
    return kind.__name__ == "OutOfMemoryException" and kind.__module__.split(".")[0] in (
        "duckdb",
        "_duckdb",
    )


def _internal_error(err: BaseException, argv: Sequence[str] | None) -> int:
    where = _crash_report(err, argv)
    head = f"canarykit: internal error: {shorten(type(err).__name__, 40)}: "
    room = max(MESSAGE_LIMIT - len(head) - len(where) - 2, 20)
    what = shorten(one_line(str(err)), min(room, 120)) or "(no message)"
    print(f"{head}{what}; {where}", file=sys.stderr)
    return EXIT_INTERNAL


def _quiet_stdout() -> None:
    """After a broken pipe: point stdout at /dev/null so the final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # stdout is not a real file (tests)
        pass


def _freeze_at_exit() -> None:
    """Leave the objects alive at exit out of the interpreter's final garbage collections.

    Python's shutdown runs full cyclic collections over every object the imports created
    (numpy, scipy, DuckDB): ~50 ms of a ``canarykit evaluate`` for nothing, since the process
    memory goes back to the system anyway. Nothing canarykit needs runs there: stores are
    closed explicitly, temporary folders are removed by their own exit handlers, and the
    garbage left at exit is parser objects. Registered once, by :func:`main`.
    """
    gc.freeze()


_EXIT_HOOK: list[bool] = []

#: Allocations between two young garbage collections while a command runs (Python's default:
#: 700). Importing numpy, scipy and DuckDB creates a few hundred thousand objects that live as
#: long as the process: at 700 the collector ran ~125 times during a 10,000-row evaluate,
#: once over every object (30-50 ms in all); at 50,000 it runs once or twice. Restored when
#: :func:`main` returns.
COMMAND_GC_THRESHOLD = 50_000


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (also used by ``python -m canarykit``).

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status (:data:`EXIT_STATUS`). Usage errors, ``--help`` and ``--version``
        raise :class:`SystemExit` as argparse does.
    """
    if not _EXIT_HOOK:
        _EXIT_HOOK.append(True)
        atexit.register(_freeze_at_exit)
    threshold = gc.get_threshold()
    gc.set_threshold(max(threshold[0], COMMAND_GC_THRESHOLD), *threshold[1:])
    try:
        return _run(argv)
    except BrokenPipeError:  # the reader left (`| head`): nothing more to say to anyone
        _quiet_stdout()
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt:
        print("canarykit: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        gc.set_threshold(*threshold)


def _run(argv: Sequence[str] | None) -> int:
    parser = build_parser(_command_named(sys.argv[1:] if argv is None else argv))
    try:
        args = parser.parse_args(argv)
    except SystemExit:  # --help, --version, usage errors: what argparse printed must get out
        sys.stdout.flush()
        raise
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        status: int = args.func(args)
        sys.stdout.flush()
    except BrokenPipeError:
        raise
    except GateDeniedError as err:
        return _denied(args, err)
    except CanaryError as err:
        _error(str(err))
        return EXIT_USAGE
    except Exception as err:  # a bug: never let it look like a decision (exit 1 = STOP)
        if _out_of_memory(err):
            _error(
                "out of memory: DuckDB needed more than its memory limit for work it cannot "
                "spill to disk; raise CANARYKIT_MEMORY_LIMIT (default 600MB), e.g. "
                f"CANARYKIT_MEMORY_LIMIT=4GB ({shorten(one_line(str(err)), 80)})"
            )
            return EXIT_INTERNAL
        return _internal_error(err, argv)
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
