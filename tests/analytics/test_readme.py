"""The README's tables of the segmentation are the ones the code applies."""

from __future__ import annotations

import re
from pathlib import Path

from services.analytics.domain.tables import MATRIX_ACTIONS, RFM_SEGMENTS

README = (Path(__file__).parents[2] / "services" / "analytics" / "README.md").read_text()


def rows(first_header: str) -> list[list[str]]:
    """The cells of the table whose header row starts with `first_header`."""
    lines = README[README.index(first_header) :].splitlines()[2:]
    out = []
    for line in lines:
        if not line.strip().startswith("|"):
            break
        out.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return out


def test_the_matrix_actions_are_those_of_domain_tables():
    table = rows("| | X | Y | Z |")
    documented = {
        row[0] + xyz: action for row in table for xyz, action in zip("XYZ", row[1:], strict=True)
    }
    assert documented == MATRIX_ACTIONS


def test_the_rfm_segments_are_those_of_domain_tables():
    def scores(cell: str) -> tuple[int, int]:
        if cell == "any":
            return (1, 5)
        low, _, high = cell.partition("-")
        return (int(low), int(high or low))

    table = rows("| segment | R | F | M |")
    documented = [(name, scores(r), scores(f), scores(m)) for name, r, f, m in table]
    assert documented == [(s.name, s.r, s.f, s.m) for s in RFM_SEGMENTS]
    assert all(re.fullmatch(r"[a-z_]+", name) for name, *_ in documented)
