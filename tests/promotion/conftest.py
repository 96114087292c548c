"""Fixtures of the promotion tests (helpers live in ``promotion_world``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from promotion_world import World, make_world


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    """A registry configured with roster, trust and calendar, at a fixed clock."""
    with make_world(tmp_path) as configured:
        yield configured
