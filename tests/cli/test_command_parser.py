"""A command line naming a sub-command builds only its module's parsers, and parses the same
(issue 15: argparse took ~15 ms to build all 62 sub-command parsers for every command)."""

from __future__ import annotations

import argparse
import importlib
from typing import Any

import pytest

from canarykit.cli.main import COMMAND_MODULES, COMMANDS, _command_named, build_parser, main


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    found: dict[str, argparse.ArgumentParser] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            found.update(action.choices)
    return found


def _signature(parser: argparse.ArgumentParser) -> Any:
    """Everything parsing and help read from a parser, its sub-commands' included."""
    actions = [
        (
            type(action).__name__,
            tuple(action.option_strings),
            action.dest,
            repr(action.default),
            repr(action.type),
            repr(action.choices) if not isinstance(action, argparse._SubParsersAction) else None,
            action.required,
            action.nargs,
            repr(action.const),
            action.help,
            action.metavar,
        )
        for action in parser._actions
    ]
    defaults = {k: getattr(v, "__qualname__", repr(v)) for k, v in parser._defaults.items()}
    children = {name: _signature(p) for name, p in _subcommands(parser).items()}
    return parser.prog, parser.format_help(), actions, defaults, children


def test_the_table_lists_what_each_module_registers() -> None:
    assert tuple(COMMANDS) == COMMAND_MODULES
    for module, names in COMMANDS.items():
        parser = argparse.ArgumentParser(prog="canarykit")
        importlib.import_module(module).register(parser.add_subparsers())
        assert tuple(_subcommands(parser)) == names, module
    full = tuple(_subcommands(build_parser()))
    assert full == tuple(name for names in COMMANDS.values() for name in names)


@pytest.mark.parametrize("command", [n for names in COMMANDS.values() for n in names])
def test_each_command_parses_as_with_the_full_parser(command: str) -> None:
    alone = _subcommands(build_parser(command))
    full = _subcommands(build_parser())
    assert command in alone
    assert set(alone) == set(COMMANDS[next(m for m, n in COMMANDS.items() if command in n)])
    assert _signature(alone[command]) == _signature(full[command])


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        ([], None),
        (["--help"], None),
        (["--version"], None),
        (["-h", "evaluate"], None),
        (["--verbose", "evaluate"], None),
        (["evaluate", "store.duckdb", "--no-log"], "evaluate"),
        (["evaluate", "--help"], "evaluate"),
        (["no-such-command"], "no-such-command"),
    ],
)
def test_the_command_is_the_first_argument_unless_an_option_comes_first(
    argv: list[str], named: str | None
) -> None:
    assert _command_named(argv) == named


def test_an_unknown_command_gets_the_full_parser_and_its_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert len(_subcommands(build_parser("no-such-command"))) == sum(map(len, COMMANDS.values()))
    with pytest.raises(SystemExit) as exit_info:
        main(["no-such-command"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'no-such-command'" in err
    assert "'evaluate'" in err
    assert "'rollout'" in err


def test_a_subcommand_help_is_unchanged(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["evaluate", "--help"])
    alone = capsys.readouterr().out
    full = _subcommands(build_parser())["evaluate"].format_help()
    assert alone == full
    assert alone.startswith("usage: canarykit evaluate")
