"""Parameters reach Spark as the same values, whatever characters they hold: a model or
version name can never become SQL (quotes, backslashes, comments, newlines, Unicode)."""

from __future__ import annotations

import datetime as dt
import random

from canarykit.engines.spark import SparkConnection


def test_inlined_parameters_round_trip_on_spark(spark) -> None:
    rng = random.Random(17)
    alphabet = "ab'\"\\`?;-/*\n\t é€𝄞%_$"
    texts = ["", "'", "\\", "\\'", "'; DROP TABLE x; --", "a\\nb", "$1", "?"]
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12))) for _ in range(40)]
    values = [*texts, 0, -7, 2**62, 0.1, 1e-300, True, None]
    sql = "SELECT " + ", ".join(f"? AS c{i}" for i in range(len(values)))
    row = SparkConnection(spark, "unused").execute(sql, values).fetchall()[0]
    assert list(row) == values


def test_a_timestamp_parameter_is_utc_wall_time(spark) -> None:
    con = SparkConnection(spark, "unused")
    moment = dt.datetime(2026, 3, 8, 7, 30, 0, 123456)  # a DST change in the session's zone
    (row,) = con.execute("SELECT CAST(? AS TIMESTAMP) AS t", [moment.isoformat()]).fetchall()
    assert row[0] == moment
