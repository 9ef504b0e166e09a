"""Segment rules as plain Python: which assignments a client's segments make and end."""

from datetime import date

from services.pricing.domain.segments import Rule, reassign

TODAY = date(2026, 11, 23)
KEY = Rule(1, "key-accounts", {"abc_revenue": "A", "regularity": "regular"})
RETENTION = Rule(2, "retention", {"churn_risk": "high"}, duration_days=60)


def test_all_conditions_must_hold_and_the_cause_is_kept():
    add, _ = reassign([KEY], {"abc_revenue": "A", "regularity": "regular", "xyz": "X"}, {}, TODAY)
    assert [(a.rule.code, a.valid_to, a.segments) for a in add] == [
        ("key-accounts", None, {"abc_revenue": "A", "regularity": "regular"})
    ]
    assert reassign([KEY], {"abc_revenue": "A", "regularity": "irregular"}, {}, TODAY) == ([], [])


def test_an_open_assignment_ends_with_the_segment_a_timed_one_runs_its_course():
    assert reassign([KEY], {"abc_revenue": "B"}, {1: None}, TODAY) == ([], [1])
    add, _ = reassign([RETENTION], {"churn_risk": "high"}, {}, TODAY)
    assert add[0].valid_to == date(2027, 1, 22)
    # Risk fell again: the 60 days still run; once over, the row goes.
    assert reassign([RETENTION], {"churn_risk": "low"}, {2: date(2027, 1, 22)}, TODAY) == ([], [])
    assert reassign([RETENTION], {"churn_risk": "low"}, {2: date(2026, 11, 1)}, TODAY) == ([], [2])


def test_a_live_assignment_is_not_renewed_and_a_rule_out_of_force_gives_nothing():
    assert reassign([RETENTION], {"churn_risk": "high"}, {2: date(2027, 1, 1)}, TODAY) == ([], [])
    ended = Rule(3, "old", {"xyz": "X"}, valid_to=date(2026, 1, 1))
    assert reassign([ended], {"xyz": "X"}, {}, TODAY) == ([], [])
    capped = Rule(4, "capped", {"xyz": "X"}, duration_days=60, valid_to=date(2026, 12, 1))
    assert reassign([capped], {"xyz": "X"}, {}, TODAY)[0][0].valid_to == date(2026, 12, 1)
