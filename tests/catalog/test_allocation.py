"""Where a reservation takes stock from, without a server: the preferred warehouse first, then
the one with the most, then by code; split when one is not enough."""

from __future__ import annotations

from decimal import Decimal as D

from services.catalog.domain.allocation import Short, allocate, same_request

STOCK = {("A", "MSK"): D(40), ("A", "SPB"): D(30), ("B", "MSK"): D(5), ("B", "EKB"): D(5)}


def test_without_a_preference_the_most_available_goes_first_then_the_code():
    assert allocate([("A", None, D(60))], STOCK)[0] == {("A", "MSK"): D(40), ("A", "SPB"): D(20)}
    # B: 5 and 5, so by code: EKB before MSK
    assert allocate([("B", None, D(7))], STOCK)[0] == {("B", "EKB"): D(5), ("B", "MSK"): D(2)}


def test_the_preferred_warehouse_goes_first():
    taken, short = allocate([("A", None, D(60))], STOCK, preferred="SPB")
    assert (taken, short) == ({("A", "SPB"): D(30), ("A", "MSK"): D(30)}, [])
    assert allocate([("A", None, D(10))], STOCK, preferred="SPB")[0] == {("A", "SPB"): D(10)}


def test_lines_of_one_sku_draw_in_turn_and_a_named_warehouse_is_the_only_one():
    taken, _ = allocate([("A", None, D(50)), ("A", None, D(15))], STOCK)
    assert taken == {("A", "MSK"): D(40), ("A", "SPB"): D(25)}
    assert allocate([("A", "SPB", D(31))], STOCK) == ({}, [Short(1, "A", D(30), "SPB")])


def test_short_lines_are_named_and_nothing_is_taken():
    oversold = {**STOCK, ("A", "SPB"): D(-3)}  # reserved beyond on hand counts as none
    taken, short = allocate([("A", None, D(41)), ("B", None, D(1)), ("C", None, D(1))], oversold)
    assert taken == {}
    assert short == [Short(1, "A", D(40), None), Short(3, "C", D(0), None)]


def test_a_repeat_is_the_same_request_whatever_warehouses_served_it():
    held = [("A", "MSK", D("40.000")), ("A", "SPB", D("20.000"))]
    assert same_request([("A", None, D(60))], held)
    assert same_request([("A", None, D(50)), ("A", "SPB", D(10))], held)
    assert not same_request([("A", None, D(61))], held)
    assert not same_request([("A", "SPB", D(60))], held)
    assert not same_request([("A", None, D(60)), ("B", None, D(1))], held)
