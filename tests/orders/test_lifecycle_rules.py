"""The order state machine's rule for ERP updates that repeat or arrive late, without a server."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.orders.domain.lifecycle import TransitionRefused, moves

T1, T2, T3, T4 = (datetime(2026, 11, d, 8, tzinfo=UTC) for d in (23, 24, 25, 26))
DELIVERED = {"confirmed": T1, "shipped": T2, "delivered": T3, "cancelled": None}
SKIPPED = {"confirmed": None, "shipped": None, "delivered": T3, "cancelled": None}


def test_a_forward_step_moves_and_the_current_status_is_a_repeat():
    assert moves("placed", "confirmed", T1, {"confirmed": None})
    assert moves("placed", "delivered", T3, SKIPPED | {"delivered": None})
    assert not moves("delivered", "delivered", T4, DELIVERED)
    assert moves("confirmed", "cancelled")


def test_a_status_went_through_at_the_same_time_is_a_repeat_at_another_time_refused():
    assert not moves("delivered", "confirmed", T1, DELIVERED)
    assert not moves("delivered", "shipped", T2, DELIVERED)
    with pytest.raises(TransitionRefused, match="was shipped at"):
        moves("delivered", "shipped", T4, DELIVERED)


def test_a_skipped_step_reported_late_is_a_repeat_unless_it_comes_after():
    assert not moves("delivered", "shipped", T2, SKIPPED)
    assert not moves("delivered", "confirmed", T1, SKIPPED)
    with pytest.raises(TransitionRefused, match="a delivered order cannot become shipped"):
        moves("delivered", "shipped", T4, SKIPPED)


def test_without_a_time_only_the_state_machine_decides():
    with pytest.raises(TransitionRefused, match="a cancelled order cannot become confirmed"):
        moves("cancelled", "confirmed")
    with pytest.raises(TransitionRefused, match="a shipped order cannot become cancelled"):
        moves("shipped", "cancelled", T4, DELIVERED | {"delivered": None})
