"""The one clock: a run can say which day it is, and the services agree."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta

import pytest

from shared import clock


def test_the_clock_starts_at_the_moment_given_and_runs_on():
    leap = datetime(2028, 2, 29, 23, 59, 30, tzinfo=UTC)
    before = clock.utcnow() - datetime.now(UTC)
    with clock.moved_to(leap):
        first = clock.utcnow()
        assert leap <= first < leap + timedelta(seconds=5)
        assert clock.today() == date(2028, 2, 29)
        assert clock.utcnow() >= first
        assert abs(clock.timestamp() - first.timestamp()) < 5
    after = clock.utcnow() - datetime.now(UTC)
    assert abs(after - before) < timedelta(seconds=1)  # the run's own clock again


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-31T23:30:00Z", datetime(2026, 12, 31, 23, 30, tzinfo=UTC)),
        ("2027-03-01T02:00:00+03:00", datetime(2027, 2, 28, 23, 0, tzinfo=UTC)),
        ("2028-02-29", datetime(2028, 2, 29, tzinfo=UTC)),
    ],
)
def test_the_clock_reads_iso_times_with_an_offset_or_a_bare_date(text, expected):
    assert clock.parse(text) == expected


def test_a_time_without_an_offset_is_refused_rather_than_guessed():
    with pytest.raises(ValueError, match="offset"):
        clock.parse("2027-03-01T10:00:00")


def test_a_process_started_with_b2b_clock_reads_that_day():
    # Services started by `b2b run`, the e2e tests and the benchmarks inherit the variable.
    code = "from shared import clock; print(clock.today(), clock.utcnow().tzinfo)"
    env = {**os.environ, clock.ENV: "2026-12-31T23:00:00Z"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["2026-12-31", "UTC"]
