"""The version canarykit reports is the one it is installed (and built) as."""

from __future__ import annotations

import tomllib
from importlib.metadata import version
from pathlib import Path

import canarykit

ROOT = Path(__file__).resolve().parents[2]


def test_version_matches_pyproject_and_installed_metadata() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert canarykit.__version__ == declared == version("canarykit")
