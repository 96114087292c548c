"""One local Spark session (``local[2]``) for every Spark test, started once.

Without pyspark the Spark tests skip — unless ``CANARYKIT_REQUIRE_SPARK=1`` (``make test``
sets it), where they fail: a CI run never passes by silently skipping the engine.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from typing import Any

import pytest


def _require_spark() -> None:
    if importlib.util.find_spec("pyspark") is None:
        if os.environ.get("CANARYKIT_REQUIRE_SPARK") == "1":
            pytest.fail("CANARYKIT_REQUIRE_SPARK=1 but pyspark is not installed")
        pytest.skip("pyspark is not installed (pip install 'canarykit[spark]')")


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    _require_spark()
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("canarykit-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.default.parallelism", "2")
        .config("spark.driver.memory", "1g")
        .config("spark.sql.session.timeZone", "America/New_York")  # ts must not depend on it
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
