"""Every shell block of README.md runs as written (issue 11).

Conventions of the README's ```sh blocks, as this test reads them:

- The blocks run **in order, in one fresh temporary folder**, each in its own ``bash`` — as a
  user pastes them into a terminal in an empty checkout: ``data/samples`` is there (a link to
  the repository's samples), the virtualenv's ``canarykit`` and ``python`` come first on
  ``PATH``, and no ``CANARYKIT_*`` variable is set (no registry, actor or clock from the
  environment). Files a block writes are there for the blocks after it.
- **Every command must exit 0**, unless its line ends with a comment ``# exit N`` (for example
  ``canarykit approve ... --actor dana   # exit 4: four-eyes``): then it must exit exactly N. Such
  a line must hold one complete command (no continuation, not inside a heredoc). A comment
  ``# PROCEED, exit 0`` or ``# exit 0: may start`` states the default.
- The block runs with ``set -euo pipefail``: the first command that fails unexpectedly stops it,
  and the failure names the command.
- A block preceded by the HTML comment ``<!-- readme-test: repository ... -->`` runs inside a
  checkout of the repository (``make demo``, ``make test``): it is not executed here (it would
  run the whole suite), but each of its lines must be ``make TARGET`` for a target that
  ``make -n`` accepts in the repository.

Markdown links and images of the README must point inside the repository, to files that exist.
The whole run takes about half a minute (the promotion walkthrough is most of it).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
BIN = Path(sys.executable).parent
FENCE = re.compile(
    r"(?P<marker><!--\s*readme-test:\s*(?P<mode>[\w-]+)[^>]*-->\s*\n)?```(?P<lang>[\w-]*)[^\n]*\n"
    r"(?P<body>.*?)^```\s*$",
    re.DOTALL | re.MULTILINE,
)
EXPECT = re.compile(r"^(?P<command>.*\S)\s+#\s*(?:[^#\n]*?,\s*)?exit\s+(?P<code>\d+)\b[^#\n]*$")
LINK = re.compile(r"!?\[[^\]]*\]\((?P<target>[^)\s]+)(?:\s+\"[^\"]*\")?\)")
# Helpers every block's script starts with: how an expected exit status is checked.
PREAMBLE = """set -euo pipefail
trap 'echo "README: exit $? from: $BASH_COMMAND" >&2' ERR
__expect() {  # __expect WANTED GOT COMMAND-TEXT
  if [ "$2" != "$1" ]; then
    echo "README: expected exit $1, got $2 from: $3" >&2
    exit 97
  fi
}
"""


@dataclass(frozen=True)
class Block:
    """One fenced shell block of the README."""

    number: int
    line: int
    body: str
    mode: str | None


def shell_blocks(text: str) -> list[Block]:
    """The ```sh blocks of a Markdown text, in order, with the line each starts on."""
    blocks = []
    for match in FENCE.finditer(text):
        if match.group("lang") not in ("sh", "bash", "shell"):
            continue
        line = text.count("\n", 0, match.start("body"))
        blocks.append(Block(len(blocks) + 1, line, match.group("body"), match.group("mode")))
    return blocks


def script_of(block: Block) -> str:
    """The block as a bash script whose ``# exit N`` lines check their status."""
    lines = []
    heredoc_end: str | None = None
    for raw in block.body.splitlines():
        if heredoc_end is not None:  # heredoc bodies are data, never rewritten
            lines.append(raw)
            if raw.strip() == heredoc_end:
                heredoc_end = None
            continue
        opened = re.search(r"<<-?\s*(['\"]?)(\w+)\1", raw)
        if opened:
            heredoc_end = opened.group(2)
        expect = EXPECT.match(raw)
        if expect and not opened and int(expect.group("code")) != 0:
            command = expect.group("command")
            lines.append(
                f"{{ {command} ; }} && __rc=0 || __rc=$?; "
                f'__expect {expect.group("code")} "$__rc" {shlex.quote(command)}'
            )
        else:
            lines.append(raw)
    return PREAMBLE + "\n".join(lines) + "\n"


def _environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CANARYKIT_")}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env.pop("PYTHONPATH", None)
    env["MPLBACKEND"] = "Agg"
    return env


def test_the_conventions_are_read_as_documented() -> None:
    text = (
        "<!-- readme-test: repository -->\n```sh\nmake demo\n```\n\n"
        "```python\n>>> 1\n```\n"
        "```sh\nfalse   # exit 1\ncat > f <<'EOF'\nx  # exit 4\nEOF\necho ok  # PROCEED, exit 0\n```\n"
    )
    first, second = shell_blocks(text)
    assert (first.mode, second.mode) == ("repository", None)
    script = script_of(second)
    assert "{ false ; } && __rc=0 || __rc=$?; __expect 1" in script
    assert "x  # exit 4\n" in script  # inside the heredoc: untouched
    assert "echo ok  # PROCEED, exit 0" in script


def test_every_readme_shell_block_runs_as_written(tmp_path: Path) -> None:
    blocks = shell_blocks(README.read_text(encoding="utf-8"))
    assert len(blocks) >= 4, "expected the make, report and two promotion blocks"
    work = tmp_path / "work"
    (work / "data").mkdir(parents=True)
    (work / "data" / "samples").symlink_to(ROOT / "data" / "samples")
    env = _environment()
    for block in blocks:
        where = f"README.md block {block.number} (line {block.line})"
        if block.mode == "repository":
            for line in block.body.splitlines():
                words = line.split("#", 1)[0].split()
                assert len(words) == 2, f"{where}: {line!r} is not `make TARGET`"
                assert words[0] == "make", f"{where}: {line!r} is not `make TARGET`"
                dry = subprocess.run(
                    ["make", "-n", words[1]], cwd=ROOT, capture_output=True, text=True
                )
                assert dry.returncode == 0, f"{where}: make -n {words[1]}: {dry.stderr}"
            continue
        assert block.mode is None, f"{where}: unknown readme-test mode {block.mode!r}"
        script = tmp_path / f"block{block.number}.sh"
        script.write_text(script_of(block), encoding="utf-8")
        done = subprocess.run(
            ["bash", str(script)],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, (
            f"{where} failed (exit {done.returncode}):\n{done.stderr[-3000:]}\n"
            f"--- stdout ---\n{done.stdout[-2000:]}"
        )
        assert "Traceback" not in done.stderr, f"{where}:\n{done.stderr[-3000:]}"
    assert (work / "release" / "release_manifest.json").is_file()
    assert (work / "report.html").is_file()


@pytest.mark.parametrize("target", sorted(set(LINK.findall(README.read_text(encoding="utf-8")))))
def test_readme_links_point_inside_the_repository(target: str) -> None:
    assert "://" not in target, f"{target} is a link outside the repository"
    assert not target.startswith(("/", "~")), f"{target} is an absolute path"
    path = (ROOT / target.split("#", 1)[0]).resolve()
    assert path.is_relative_to(ROOT), f"{target} leaves the repository"
    assert path.exists(), f"{target} does not exist"


def test_readme_names_no_file_outside_the_repository() -> None:
    text = README.read_text(encoding="utf-8")
    assert not re.search(r"(?<![\w.])\.\./", text), "a ../ path leaves the repository"
