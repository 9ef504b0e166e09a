"""Every metric on hand-computed small data, with the edges of its thresholds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from services.analytics.domain.facts import Facts
from services.analytics.domain.summary import cohort_curve
from tests.analytics.facts import client, metrics, monthly, order


def column(rows, name):
    return {k: v[name] for k, v in sorted(rows.items())}


def test_abc_by_revenue_the_crossing_client_is_above_the_line_and_ties_never_split():
    # 50 + 30 = 80 %: c3 starts at 80 % (not below it) -> B; c4 starts at 90 % -> B; c5 is
    # tied with c4, so it joins c4's class although it alone would start at 95 % -> C.
    rows = metrics(
        [order(c, 5, v) for c, v in [("c1", 50), ("c2", 30), ("c3", 10), ("c4", 5), ("c5", 5)]]
    )
    assert column(rows, "abc_revenue") == {"c1": "A", "c2": "A", "c3": "B", "c4": "B", "c5": "B"}
    untied = metrics(
        [order(c, 5, v) for c, v in [("c1", 50), ("c2", 30), ("c3", 10), ("c4", 6), ("c5", 4)]]
    )
    assert column(untied, "abc_revenue") == {"c1": "A", "c2": "A", "c3": "B", "c4": "B", "c5": "C"}


def test_abc_ties_are_deterministic_in_whichever_order_the_facts_come():
    orders = [order(f"c{i}", 5, 10) for i in range(10)]
    assert metrics(orders) == metrics(list(reversed(orders)))
    assert set(column(metrics(orders), "abc_revenue").values()) == {"A"}


def test_abc_by_margin_only_where_cost_is_known():
    rows = metrics(
        [
            order("c1", 5, 1000, cost=200),  # margin 800
            order("c2", 5, 1000, cost=900),  # margin 100
            order("c3", 5, 1000, cost=1100),  # loss: C
            order("c4", 5, 5000),  # no cost known: no margin class
        ]
    )
    assert column(rows, "abc_margin") == {"c1": "A", "c2": "B", "c3": "C", "c4": None}
    assert rows["c1"]["margin_share"] == pytest.approx(0.8)
    assert rows["c4"]["margin_share"] is None and rows["c4"]["ltv_minor"] is None


def test_a_client_without_orders_has_no_segments():
    rows = metrics([order("c1", 5)], clients=[client("c1"), client("quiet")])
    quiet = rows["quiet"]
    assert quiet["orders"] == 0
    for name in ("abc_revenue", "xyz", "rfm_segment", "regularity", "check_tier", "ladder"):
        assert quiet[name] is None, name
    assert quiet["churn_score"] is None and quiet["churn_raised"] is False
    assert quiet["payment_behaviour"] is None


def test_xyz_by_the_variation_of_monthly_purchases_with_exact_edges():
    rows = metrics(
        monthly("steady", [1000] * 12)
        + monthly("edge_x", [900, 1100] * 6)  # cv exactly 0.10 -> X
        + monthly("swings", [800, 1200] * 6)  # cv 0.20 -> Y
        + monthly("erratic", [2000, 0] * 6)  # cv 1.0 -> Z
        + monthly("three", [1000, 1000, 1000])  # three months of history: classified
        + monthly("one", [1000])  # one month of history: not classified
    )
    assert column(rows, "xyz") == {
        "edge_x": "X",
        "erratic": "Z",
        "one": None,
        "steady": "X",
        "swings": "Y",
        "three": "X",
    }
    assert rows["edge_x"]["xyz_cv"] == pytest.approx(0.10)
    assert rows["erratic"]["xyz_cv"] == pytest.approx(1.0)
    assert rows["one"]["months_in_xyz"] == 1


def test_xyz_thresholds_are_settings():
    rows = metrics(monthly("swings", [800, 1200] * 6), xyz_x_max=0.2)
    assert rows["swings"]["xyz"] == "X"


def test_the_matrix_cell_and_its_action():
    rows = metrics(monthly("big", [10_000] * 12) + monthly("small", [0, 100] * 6))
    assert (rows["big"]["matrix_cell"], rows["small"]["matrix_cell"]) == ("AX", "CZ")
    assert "replenishment" in rows["big"]["matrix_action"]
    custom = metrics(monthly("big", [10_000] * 12), matrix_actions_json={"AX": "Hug them"})
    assert custom["big"]["matrix_action"] == "Hug them"


def test_rfm_quintiles_and_named_segments():
    # client k: k orders of 100*k, the latest k*10 days ago
    orders = [order(f"k{k}", k * 10 + 7 * n, 100 * k) for k in range(1, 6) for n in range(k)]
    rows = metrics(orders)
    scores = {c: (r["r_score"], r["f_score"], r["m_score"]) for c, r in sorted(rows.items())}
    assert scores == {
        "k1": (5, 1, 1),
        "k2": (4, 2, 2),
        "k3": (3, 3, 3),
        "k4": (2, 4, 4),
        "k5": (1, 5, 5),
    }
    assert column(rows, "rfm_segment") == {
        "k1": "new",
        "k2": "potential_loyalist",
        "k3": "need_attention",
        "k4": "at_risk",
        "k5": "cant_lose",
    }


def test_equal_rfm_values_get_equal_scores():
    rows = metrics([order(c, 10, 500) for c in ("a", "b", "c")])
    assert {(r["r_score"], r["f_score"], r["m_score"]) for r in rows.values()} == {(5, 1, 1)}


def test_regularity_from_the_number_and_evenness_of_orders():
    rows = metrics(
        [order("clockwork", d) for d in (10, 40, 70, 100)]
        + [order("lumpy", d) for d in (10, 20, 30, 100)]  # gaps 10, 10, 70: cv 0.94
        + [order("twice", d) for d in (10, 40)]
        + [order("once", 10)]
    )
    assert column(rows, "regularity") == {
        "clockwork": "regular",
        "lumpy": "periodic",
        "once": "one_off",
        "twice": "periodic",
    }
    assert rows["lumpy"]["gap_cv"] == pytest.approx(800**0.5 / 30)


def test_average_check_tier_against_the_base_median():
    # average checks 100, 200 (the median), 399, 400: economy below 100, VIP from 400
    rows = metrics(
        [order(c, 5, v) for c, v in [("a", 99), ("b", 200), ("c", 399), ("d", 400), ("e", 200)]]
    )
    assert column(rows, "check_tier") == {
        "a": "economy",
        "b": "standard",
        "c": "standard",
        "d": "vip",
        "e": "standard",
    }


def test_ltv_is_check_times_frequency_times_margin_share_times_lifetime():
    rows = metrics(
        [order("c", d, 1000, cost=600) for d in (10, 60, 110, 160)], ltv_lifetime_months=24
    )
    c = rows["c"]
    assert c["average_check_minor"] == 1000
    assert c["orders_per_month"] == pytest.approx(4 * 30.4375 / 160)
    assert c["margin_share"] == pytest.approx(0.4)
    assert c["ltv_minor"] == 7305  # 1000 x 0.7609375 x 0.4 x 24
    assert c["ltv_revenue_minor"] == 18262  # 18262.5, to even


def test_ltv_lifetime_defaults_to_the_base_average():
    # tenure in months: a 1 (one order), b 1 + 60.875 days = 3 months -> average 2
    rows = metrics([order("a", 5, cost=500), order("b", 5, cost=500), order("b", 65.875, cost=500)])
    assert rows["a"]["lifetime_months"] == pytest.approx(2.0)


def test_churn_risk_by_the_clients_own_interval_and_by_falling_volume():
    fading = [(10, 700), (40, 500), (70, 400), (100, 1000), (130, 1000), (160, 1000)]
    halved = [(10, 500), (40, 500), (70, 500), (100, 1000), (130, 1000), (160, 1000)]
    rows = metrics(
        [order("late", d) for d in (70, 100, 130)]  # usual 30 days, silent 70
        + [order("fine", d) for d in (45, 75, 105, 135)]  # silent 45: 1.5x
        + [order("fading", d, total) for d, total in fading]
        + [order("halved", d, total) for d, total in halved]
    )
    late = rows["late"]
    assert (late["churn_score"], late["churn_raised"]) == (58, True)
    assert late["churn_reason"] == "no order for 70 days, 2.3x its usual 30-day interval"
    assert (rows["fine"]["churn_score"], rows["fine"]["churn_raised"]) == (38, False)
    # the last 91.3 days (3 x 30.4375) hold 1600, the 91.3 before them 3000: a 47 % fall
    fading = rows["fading"]
    assert fading["volume_drop"] == pytest.approx(1 - 1600 / 3000)
    assert fading["churn_reason"] == "purchases fell 47% in the last 3 months against the 3 before"
    assert fading["churn_score"] == 47 and not fading["churn_raised"]
    assert (rows["halved"]["churn_score"], rows["halved"]["churn_raised"]) == (50, True)


def test_the_volume_trend_does_not_depend_on_the_day_of_the_month():
    # A quarterly buyer who ordered yesterday, on the 1st: calendar months would compare an
    # empty Sep-Nov with the August order (a 100 % fall) and leave December's order out.
    as_of = datetime(2026, 12, 2, 12, tzinfo=UTC)
    quarterly = [datetime(2026, m, d, 10, tzinfo=UTC) for m, d in ((3, 2), (5, 30), (8, 31))]
    steady = [as_of - timedelta(days=1 + 30 * k) for k in range(7)]
    rows = metrics(
        [order("quarterly", at=at) for at in [*quarterly, datetime(2026, 12, 1, 10, tzinfo=UTC)]]
        + [order("steady", at=at) for at in steady],
        as_of=as_of,
    )
    assert rows["quarterly"]["volume_drop"] is None  # one order before: the gap judges
    assert (rows["quarterly"]["churn_score"], rows["quarterly"]["churn_raised"]) == (0, False)
    # an order every 30 days, the last yesterday: 4 in the last 91.3 days, 3 before, on any day
    for day in range(1, 32):
        moved = datetime(2027, 1, day, 12, tzinfo=UTC)
        shifted = [at + (moved - as_of) for at in steady]
        row = metrics([order("steady", at=at) for at in shifted], as_of=moved)["steady"]
        assert (row["volume_drop"], row["churn_score"]) == (0.0, 1), moved


def test_the_trend_needs_a_few_orders_before_it_judges():
    # every 60-70 days: 1 order in the last 91.3 days, 2 before; a "50 % fall" that is only
    # the timing of one order, so the gap judges (30 days against a usual 65)
    rows = metrics([order("bimonthly", d) for d in (30, 100, 160)])
    assert rows["bimonthly"]["volume_drop"] is None
    assert (rows["bimonthly"]["churn_score"], rows["bimonthly"]["churn_raised"]) == (12, False)
    judged = metrics([order("bimonthly", d) for d in (30, 100, 160)], churn_trend_min_orders=2)
    assert judged["bimonthly"]["churn_score"] == 50


def test_churn_of_a_one_order_client_uses_the_default_interval():
    rows = metrics([order("once", 100)], churn_single_order_gap_days=50)
    assert rows["once"]["churn_score"] == 50  # 100 / 50 = 2x -> the raise line
    assert rows["once"]["churn_raised"]


def test_share_of_wallet_key_clients_and_dependency():
    rows = metrics(
        [
            order("whale", 5, 6000),
            order("big", 5, 2500),
            order("mid", 5, 1100),
            order("tiny", 5, 400),
        ],
        clients=[
            client("whale"),
            client("big", purchase_potential_minor=10_000),
            client("mid"),
            client("tiny"),
        ],
    )
    assert column(rows, "concentration") == {
        "big": "dependency_risk",
        "mid": "key",
        "tiny": None,
        "whale": "critical_dependency",
    }
    assert rows["big"]["share_of_wallet"] == pytest.approx(0.25)
    assert rows["whale"]["share_of_wallet"] is None


def test_receivables_behaviour_segment():
    rows = metrics(
        [order("often", d) for d in (5, 20, 40)] + [order("rare", 5), order("good", 5)],
        clients=[
            client("often", overdue_minor=500),
            client("rare", overdue_minor=10),
            client("good", overdue_minor=0),
        ],
    )
    assert column(rows, "payment_behaviour") == {
        "good": "pays_on_time",
        "often": "buys_often_pays_late",
        "rare": "pays_late",
    }


def test_ladder_from_buyer_to_advocate():
    clockwork = [10, 40, 70, 100, 130, 160, 190, 220, 250, 280, 310, 340, 370]
    rows = metrics(
        [order("once", 10)]
        + [order("twice", d) for d in (10, 40)]
        + [order("regular", d) for d in (10, 40, 70, 100)]
        + [order("adherent", d) for d in clockwork]
        + [order("advocate", d) for d in clockwork]
        + [order("small_wallet", d) for d in clockwork],
        clients=[client("small_wallet", purchase_potential_minor=1_000_000)],
        feedback=[
            {"client_id": "advocate", "touchpoint": "manager", "nps": 10},
            {"client_id": "advocate", "touchpoint": "portal", "nps": 9},
            {"client_id": "adherent", "touchpoint": "portal", "nps": 6},
        ],
    )
    assert column(rows, "ladder") == {
        "adherent": "adherent",
        "advocate": "advocate",
        "once": "buyer",
        "regular": "regular",
        "small_wallet": "regular",
        "twice": "repeat_buyer",
    }


def test_months_are_days_over_30_4375():
    # tenure = days from first to last order / 30.4375 + 1: adherent from 11 x 30.4375 = 334.8
    def every(first: float, n: int = 4) -> list[float]:
        return [10 + first * k / (n - 1) for k in range(n)]

    rows = metrics(
        [order("long", d) for d in every(335)]
        + [order("short", d) for d in every(334)]
        + [order("young", d) for d in (1, 61)]
    )
    assert rows["long"]["tenure_months"] == pytest.approx(335 / 30.4375 + 1)
    assert (rows["long"]["ladder"], rows["short"]["ladder"]) == ("adherent", "regular")
    # C: 2 orders over an age of 61 days = 2.004 months
    assert rows["young"]["orders_per_month"] == pytest.approx(2 / (61 / 30.4375))
    # T: the base's mean tenure, (12.006 + 11.973 + 2.971) / 3
    tenures = [335 / 30.4375 + 1, 334 / 30.4375 + 1, 60 / 30.4375 + 1]
    assert rows["young"]["lifetime_months"] == pytest.approx(sum(tenures) / 3)


def test_otif_rate_per_client():
    rows = metrics(
        [
            order("c", 5, on_time=True, in_full=True),
            order("c", 10, on_time=True, in_full=False),
            order("c", 15, on_time=None, in_full=True),  # no promise: not counted
            order("c", 20),  # not delivered yet
        ]
    )
    assert rows["c"]["otif_rate"] == pytest.approx(0.5)


def test_a_client_is_measured_in_its_own_currency():
    rows = metrics([order("c", 5, 1000), order("c", 6, 9999, currency="USD")])
    assert rows["c"]["revenue_minor"] == 1000 and rows["c"]["orders"] == 1


def test_cohort_curve_pools_cohorts_old_enough():
    rows = [
        order("a", at=datetime(2026, 8, 10, tzinfo=UTC)),
        order("a", at=datetime(2026, 9, 10, tzinfo=UTC)),
        order("b", at=datetime(2026, 8, 10, tzinfo=UTC)),
        order("c", at=datetime(2026, 9, 10, tzinfo=UTC)),
    ]
    curve = cohort_curve(Facts.of(rows, []).orders, months=3)
    # month 0: all 3; month 1: a of the August cohort (the September one is too young)
    assert curve["share"].to_list() == [1.0, 0.5]


def test_nps_of_detractors_goes_below_zero_and_csat_counts_four_and_five():
    from services.analytics.domain.figures import touchpoint_scores

    feedback = pl.LazyFrame(
        {
            "client_id": ["late", "late", "mixed", "mixed", "mixed", "mixed"],
            "touchpoint": ["delivery"] * 6,
            "nps": [4, 2, 10, 9, 3, None],
            "csat": [2, None, 5, 4, 1, 3],
        },
        schema={"client_id": pl.String, "touchpoint": pl.String, "nps": pl.Int64, "csat": pl.Int64},
    )
    scores = {
        row["client_id"]: row
        for row in touchpoint_scores(feedback, "client_id").collect().to_dicts()
    }
    assert (scores["late"]["nps"], scores["late"]["nps_answers"]) == (-100.0, 2)
    assert scores["late"]["csat"] == 0.0
    assert round(scores["mixed"]["nps"], 4) == round(100 * (2 - 1) / 3, 4)
    assert (scores["mixed"]["csat"], scores["mixed"]["csat_answers"]) == (50.0, 4)
