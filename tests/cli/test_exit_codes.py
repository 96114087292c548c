"""The command line never lies with its exit code (issue 11).

A crash is exit 70 with one line and a crash file, never exit 1 (STOP); a closed pipe exits
quietly; every error line is ours, one line, at most 300 characters; ``--help`` and
``--version`` import nothing heavy; verdicts record their engine versions; the package
declares what it imports and nothing more.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import canarykit.cli.store_cmds as store_cmds
from canarykit.cli import common
from canarykit.cli.main import COMMAND_GC_THRESHOLD, EXIT_STATUS, main
from canarykit.errors import InvalidInputError, one_line
from canarykit.traces.generate import generate_traces
from canarykit.verdict.verdict import Verdict, engine_versions

ROOT = Path(__file__).resolve().parents[2]
CRASH_LINE = re.compile(
    r"^canarykit: internal error: (\w+): (.*); details in (\S+canarykit-crash-\S+\.txt)$"
)


@pytest.fixture
def crash_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Crash files go to a folder of the test, not the shared temporary folder."""
    folder = tmp_path / "crashes"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


@pytest.fixture(scope="module")
def traces(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("exit") / "identical.parquet"
    pq.write_table(generate_traces("identical", n_requests=20_000, canary_share=0.25, seed=5), path)
    return path


def _run(
    *argv: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``canarykit ARGV`` in a fresh interpreter; ``env`` is added to this process's."""
    return subprocess.run(
        [sys.executable, "-m", "canarykit", *argv],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, **env} if env else None,
        check=False,
    )


# -- 1. internal errors are not decisions -----------------------------------------------------


def test_a_crash_exits_70_with_one_line_and_a_crash_file(
    crash_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def crash(args: object) -> int:
        raise RuntimeError("state is broken\n" + "x" * 5000)

    monkeypatch.setattr(store_cmds, "_info", crash)
    assert main(["info", "--db", "x.duckdb"]) == 70
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    line = captured.err.rstrip("\n")
    assert len(line) <= 300
    match = CRASH_LINE.match(line)
    assert match, line
    assert match.group(1) == "RuntimeError"
    assert match.group(2).startswith("state is broken x")
    crash_file = Path(match.group(3))
    assert crash_file.parent == crash_dir
    details = crash_file.read_text()
    assert "Traceback (most recent call last)" in details
    assert "RuntimeError: state is broken" in details
    assert "'info', '--db', 'x.duckdb'" in details


def test_a_crash_in_a_subprocess_is_not_a_stop(tmp_path: Path) -> None:
    code = (
        "import sys, tempfile\n"
        f"tempfile.tempdir = {str(tmp_path)!r}\n"
        "import canarykit.cli.verdict_cmds as v\n"
        "def crash(args):\n"
        "    raise KeyError('verdict')\n"
        "v._evaluate = crash\n"
        "from canarykit.cli.main import main\n"
        "sys.exit(main(['evaluate', 'x.parquet']))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 70
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert CRASH_LINE.match(result.stderr.strip())
    assert len(list(tmp_path.glob("canarykit-crash-*.txt"))) == 1


def test_ctrl_c_exits_130(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted(args: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(store_cmds, "_info", interrupted)
    assert main(["info", "--db", "x.duckdb"]) == 130
    assert capsys.readouterr().err == "canarykit: interrupted\n"


def test_a_closed_pipe_exits_quietly(tmp_path: Path) -> None:
    registry = tmp_path / "reg.sqlite"
    roster = tmp_path / "roster.yaml"
    roster.write_text("people:\n  ann: [product]\n  sam: [security]\n")
    init = ["config", "init", str(registry), "--drill", "--actor", "sam"]
    assert _run(*init).returncode == 0  # a drill registry: a roster without keys, unsigned
    set_roster = ["config", "set-roster", str(roster), "--registry", str(registry)]
    assert _run(*set_roster, "--actor", "sam").returncode == 0
    process = subprocess.Popen(
        [sys.executable, "-m", "canarykit", "config", "show", "--registry", str(registry)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None
    assert process.stderr is not None
    process.stdout.close()  # the reader leaves before the command writes (`| head -0`)
    err = process.stderr.read()
    process.stderr.close()
    assert process.wait() == 141
    assert err.startswith(b"DRILL registry: ")  # the drill line, and nothing else
    assert err.count(b"\n") == 1


def test_every_exit_status_is_documented_in_help_and_readme(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Command line") :]
    section = section[: section.index("\n## ", 3)]
    for code, _ in EXIT_STATUS:
        assert re.search(rf"^\s+{re.escape(code)}\s+\S", text, re.MULTILINE), code
        assert f"| {code} |" in section or f"| `{code}` |" in section, code


# -- 2. errors in our words, bounded ----------------------------------------------------------


def test_the_choke_point_makes_every_error_one_bounded_line_in_our_words(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def engine_wording(args: object) -> int:
        raise InvalidInputError(
            'traces.parquet: Binder Error: Referenced column "group" not found in FROM clause!\n'
            'Candidate bindings: "arm"\n\nLINE 1: SELECT "group" FROM traces\n           ^^^^'
        )

    monkeypatch.setattr(store_cmds, "_info", engine_wording)
    assert main(["info", "--db", "x.duckdb"]) == 2
    assert capsys.readouterr().err == (
        'canarykit: error: traces.parquet: column "group" is not in the data\n'
    )

    def huge_value(args: object) -> int:
        raise InvalidInputError(f"--model: no model {'m' * 1_000_000!r}\n(known: a, b)")

    monkeypatch.setattr(store_cmds, "_info", huge_value)
    assert main(["info", "--db", "x.duckdb"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert len(err) <= 301
    assert "'" + "m" * 77 + "…'" in err  # 80 characters with the quotes
    assert err.endswith("(known: a, b)\n")


def test_a_usage_error_echoing_a_huge_value_is_one_bounded_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["info", "--format", "x" * 10_000])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert len(err) <= 301
    assert err.startswith("canarykit: error: argument --format: invalid choice: 'xxx")


@pytest.mark.parametrize(
    "message",
    [
        "Conversion Error: Could not convert string 'abc' to INT32\n\nLINE 1: SELECT",
        'IO Error: No files found that match the pattern "lake/*.parquet"',
        'Catalog Error: Table with name traces does not exist!\nDid you mean "pg_tables"?',
        "Out of Memory Error: could not allocate block of size 256.0 KiB (1.0 GiB/1.0 GiB used)",
    ],
)
def test_engine_wording_is_rewritten(message: str) -> None:
    line = one_line(message)
    assert "Error:" not in line
    assert "LINE 1" not in line
    assert "Did you mean" not in line
    assert "\n" not in line


def test_missing_sensitive_column_skips_fairness(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    table = generate_traces("identical", n_requests=20_000, canary_share=0.25, seed=7)
    assert "group" in table.column_names
    path = tmp_path / "no_group.parquet"
    pq.write_table(table.drop_columns(["group"]), path)
    code = main(["evaluate", str(path), "--format", "json", "--no-log"])
    captured = capsys.readouterr()
    assert code in (0, 1, 3), captured.err
    verdict = json.loads(captured.out)
    fairness = [c for c in verdict["checks"] if c["name"].startswith("fairness")]
    assert fairness
    for check in fairness:
        assert check["status"] == "inconclusive"
        assert "group" in check["note"]


# -- 3. verdicts record their engines ---------------------------------------------------------


def test_verdicts_record_engine_versions_and_replay_warns_when_they_differ(
    traces: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from importlib.metadata import version

    out = tmp_path / "v.json"
    assert main(["evaluate", str(traces), "--out", str(out), "--no-log"]) == 0
    capsys.readouterr()
    data = json.loads(out.read_text())
    assert data["engines"] == {"duckdb": version("duckdb"), "regopy": version("regopy")}
    assert data["engines"] == engine_versions()

    assert main(["replay", str(out), str(traces)]) == 0
    assert capsys.readouterr().err == ""

    data["engines"] = {"duckdb": "0.9.2", "regopy": data["engines"]["regopy"]}
    out.write_text(json.dumps(data))
    assert main(["replay", str(out), str(traces), "--format", "json"]) == 0
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1
    assert captured.err.startswith("canarykit: warning: the verdict was computed with duckdb 0.9.2")
    result = json.loads(captured.out)
    assert result["identical"] is True
    assert result["warnings"]
    assert "duckdb 0.9.2" in result["warnings"][0]


def test_a_verdict_without_engines_still_reads_and_replays(
    traces: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "old.json"
    assert main(["evaluate", str(traces), "--out", str(out), "--no-log"]) == 0
    data = json.loads(out.read_text())
    del data["engines"]
    out.write_text(json.dumps(data))
    assert Verdict.from_dict(data).engines == {}
    capsys.readouterr()
    assert main(["replay", str(out), str(traces)]) == 0
    assert capsys.readouterr().err == ""


def test_malformed_engines_are_a_one_line_error(
    traces: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "v.json"
    assert main(["evaluate", str(traces), "--out", str(out), "--no-log"]) == 0
    data = json.loads(out.read_text())
    data["engines"] = ["duckdb"]
    out.write_text(json.dumps(data))
    capsys.readouterr()
    assert main(["replay", str(out), str(traces)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "engines" in err


# -- 6. --help and --version import nothing heavy -----------------------------------------------


def test_building_the_parser_imports_no_heavy_module() -> None:
    code = (
        "import sys\n"
        "import canarykit.cli.main as m\n"
        "m.build_parser()\n"
        "heavy = ('scipy', 'duckdb', 'pandas', 'numpy', 'pyarrow', 'matplotlib', 'regopy',\n"
        "         'cryptography', 'yaml', 'canarykit.promotion', 'canarykit.traces',\n"
        "         'canarykit.verdict', 'canarykit.stats', 'canarykit.report')\n"
        "print([m for m in sys.modules if m.startswith(heavy)])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_version_and_help_answer_without_heavy_imports() -> None:
    for argv in (["--version"], ["--help"], ["evaluate", "--help"], ["promote", "--help"]):
        code = (
            "import sys\n"
            "from canarykit.cli.main import main\n"
            "try:\n"
            f"    main({argv!r})\n"
            "except SystemExit:\n"
            "    pass\n"
            "print([m for m in ('scipy', 'duckdb', 'pandas') if m in sys.modules], "
            "file=sys.stderr)\n"
        )
        result = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        assert result.stderr.strip() == "[]", argv


def test_the_command_tunes_the_garbage_collector_and_restores_it() -> None:
    # an exit handler registered before main runs after main's (last in, first out)
    code = (
        "import atexit, gc, sys\n"
        "atexit.register(lambda: print(gc.get_freeze_count() > 0, len(hooks), file=sys.stderr))\n"
        "import canarykit.cli.main as m\n"
        "hooks = m._EXIT_HOOK\n"
        "gc.set_threshold(700, 10, 10)\n"
        "def tell(*t):\n"
        "    print('set', *t, file=sys.stderr)\n"
        "    gc.set_threshold(*t)\n"
        "m.gc = type(sys)('gc')\n"
        "m.gc.__dict__.update(get_threshold=gc.get_threshold, set_threshold=tell, freeze=gc.freeze)\n"
        "m.main(['log', '--db', 'no-such-store.duckdb'])\n"
        "m.main(['log', '--db', 'no-such-store.duckdb'])\n"
        "print(gc.get_freeze_count(), gc.get_threshold(), file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    lines = [line for line in result.stderr.splitlines() if not line.startswith("canarykit:")]
    during = f"set {COMMAND_GC_THRESHOLD} 10 10"
    assert lines == [during, "set 700 10 10", during, "set 700 10 10", "0 (700, 10, 10)", "True 1"]


def test_constants_repeated_for_a_light_parser_match_the_promotion_layer() -> None:
    from canarykit.promotion import session, startup

    assert common.REGISTRY_ENV == session.REGISTRY_ENV
    assert common.DEFAULT_REGISTRY == session.DEFAULT_REGISTRY
    assert common.STARTUP_EXIT_CODES == startup.EXIT_CODES


# -- 7. the package declares what it imports --------------------------------------------------

# import name → distribution name
_DISTRIBUTIONS = {"yaml": "pyyaml", "sklearn": "scikit-learn", "mlflow": "mlflow-skinny"}


def _requirement_names(requirements: list[str]) -> set[str]:
    return {re.split(r"[<>=!~\[; ]", r, maxsplit=1)[0].lower() for r in requirements}


def test_dependencies_are_what_the_package_imports() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    required = _requirement_names(project["dependencies"])
    dev = _requirement_names(project["optional-dependencies"]["dev"])
    imported = set()
    pattern = re.compile(r"^\s*(?:import|from)\s+([A-Za-z_]\w*)", re.MULTILINE)
    for source in (ROOT / "canarykit").rglob("*.py"):
        imported |= set(pattern.findall(source.read_text(encoding="utf-8")))
    third_party = {
        _DISTRIBUTIONS.get(name, name).lower()
        for name in imported
        if name not in sys.stdlib_module_names and name not in ("canarykit", "__future__")
    }
    assert "sklearn" not in imported
    assert "fairlearn" not in imported
    assert {"scikit-learn", "fairlearn"} <= dev
    assert not {"scikit-learn", "fairlearn"} & required
    # an optional extra's client is imported only by its integration, lazily (issues 17, 18)
    project_extras = project["optional-dependencies"]
    extras = _requirement_names(project_extras["mlflow"])
    assert extras == {"mlflow-skinny"}
    assert "mlflow" in dev
    spark = _requirement_names(project_extras["spark"])
    lake = _requirement_names(project_extras["lake"])
    assert {"pyspark", "sqlglot"} <= spark
    assert "deltalake" in lake
    optional = extras | spark | lake
    assert not optional & required
    assert third_party <= required | optional, third_party - required - optional


def test_a_table_without_the_optional_columns_still_gets_a_verdict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    table = generate_traces("identical", n_requests=20_000, canary_share=0.25, seed=3)
    path = tmp_path / "minimal.parquet"
    keep = ["request_id", "ts", "model", "version", "arm", "latency_ms", "error"]
    pq.write_table(pa.table({name: table[name] for name in keep}), path)
    code = main(["evaluate", str(path), "--no-log"])
    captured = capsys.readouterr()
    assert code in (0, 1, 3), captured.err
    assert "Traceback" not in captured.err


def test_an_abbreviated_option_is_refused_not_guessed(tmp_path) -> None:
    # argparse would read --mode as a prefix of --model; a gating command must not guess
    result = _run("evaluate", str(tmp_path / "none.duckdb"), "--mode", "shadow")
    assert result.returncode == 2
    assert "unrecognized arguments: --mode shadow" in result.stderr


def test_the_memory_limit_comes_from_the_environment(traces: Path) -> None:
    bad = _run("evaluate", str(traces), env={"CANARYKIT_MEMORY_LIMIT": "lots"})
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        "canarykit: error: CANARYKIT_MEMORY_LIMIT: must be a memory size such as 600MB or 4GB, "
        "got 'lots'"
    ]
    # too small for the work: one line naming the setting, never a decision's exit code
    tiny = _run("evaluate", str(traces), env={"CANARYKIT_MEMORY_LIMIT": "1MB"})
    assert tiny.returncode == 70
    (line,) = tiny.stderr.strip().splitlines()
    assert line.startswith("canarykit: error: out of memory: ")
    assert "CANARYKIT_MEMORY_LIMIT" in line
    roomy = _run("evaluate", str(traces), env={"CANARYKIT_MEMORY_LIMIT": "2GB"})
    assert roomy.returncode == 0, roomy.stderr
