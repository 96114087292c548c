"""Entry point of the ``canarykit`` command.

Each command group lives in its own module under ``canarykit.cli`` and exposes
``register(subparsers)``, which adds its sub-commands and sets ``func`` on each parser to a
callable ``(args) -> int`` returning the exit status. User errors (:class:`CanaryError`)
become one line on stderr and exit status 2 — never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from canarykit import __version__
from canarykit.errors import CanaryError

# Modules that contribute sub-commands, in the order they appear in ``--help``.
COMMAND_MODULES = (
    "canarykit.cli.store_cmds",
    "canarykit.cli.verdict_cmds",
    "canarykit.cli.rollout_cmds",
    "canarykit.cli.plan_cmd",
    "canarykit.cli.demo_cmd",
    "canarykit.cli.promotion_cmds",
    "canarykit.cli.report_cmd",
)

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose usage errors are one line and exit 2 (argparse's default too)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"canarykit: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """Build the full command-line parser from every command module."""
    parser = _Parser(
        prog="canarykit",
        description="Sequential, replayable canary verdicts and controlled promotion for ML models.",
    )
    parser.add_argument("--version", action="version", version=f"canarykit {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (also used by ``python -m canarykit``)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        status: int = args.func(args)
    except CanaryError as err:
        print(f"canarykit: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("canarykit: interrupted", file=sys.stderr)
        return 130
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
