"""The reading use cases (search filter and page, one product and its stock, quantities,
categories) and the marketplace's decisions, called as functions without HTTP: a session of
the started catalog (real PostgreSQL) and, where pricing is asked, the real pricing app."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from services.catalog.domain.marketplace import FeedFormat
from services.catalog.domain.units import QuantityProblem
from services.catalog.store.models import Product
from services.catalog.usecases import categories, marketplace, products, quantities
from services.catalog.usecases.quantities import Ordered
from shared.auth import Role
from shared.pagination import EVERY, PageParams
from shared.problems import Forbidden, NotFound, ProblemError, Unprocessable
from shared.testing.fixtures import principal
from tests.catalog.world import ATTRIBUTES, HEADER, STOCK, TREE, as_csv, feed

BUYER = principal(Role.BUYER, company_id=uuid.uuid4())
MANAGER = principal(Role.SALES_MANAGER)
ADMIN = principal(Role.ADMIN)


async def call(app, flow, *args, **kwargs):
    async with app.state.sessionmaker() as session, session.begin():
        return await flow(session, *args, **kwargs)


async def test_a_filter_names_each_bad_attribute_parameter(catalog):
    assert (await feed(catalog, ATTRIBUTES, "attributes"))["state"] == "succeeded"
    where = await call(
        catalog, products.search_filter, [("attr.color", "red,blue"), ("attr.width_mm", "1..")]
    )
    assert [c.name for c in where.attributes] == ["color", "width_mm"]

    with pytest.raises(Unprocessable) as bad:
        await call(
            catalog,
            products.search_filter,
            [("attr.size", "L"), ("attr.width_mm", "wide"), ("attr.color", "red")],
        )
    assert [e.field for e in bad.value.errors] == ["attr.size", "attr.width_mm"]


async def test_a_page_with_stock_counts_a_product_without_stock_as_none_available(catalog):
    await feed(catalog, HEADER + "A-1,Board,,,,,,,\nB-1,Glue,,,,,,,\n")
    await feed(catalog, STOCK + "A-1,MSK,10,\nA-1,SPB,4,\n", "stock")
    page = await call(
        catalog,
        products.search,
        catalog.state.upstreams,
        BUYER,
        await call(catalog, products.search_filter, []),
        None,
        PageParams(limit=10),
        stock=True,
    )
    assert [p["sku"] for p in page.products] == ["A-1", "B-1"]
    assert page.available == {"A-1": Decimal("14.000"), "B-1": Decimal("0.000")}
    assert page.prices is None and page.cursor is None


async def test_one_product_and_its_stock_or_404(catalog):
    await feed(catalog, HEADER + "A-1,Board,,,,,,,\n")
    await feed(catalog, STOCK + "A-1,SPB,4,\nA-1,MSK,10,\n", "stock")
    assert (await call(catalog, products.product, "A-1")).name == "Board"
    levels, cursor = await call(catalog, products.stock, "A-1", PageParams(limit=1))
    rest, end = await call(catalog, products.stock, "A-1", PageParams(limit=1, cursor=cursor))
    assert [(x.warehouse, x.on_hand) for x in levels + rest] == [
        ("MSK", Decimal("10.000")),
        ("SPB", Decimal("4.000")),
    ]
    assert end is None
    with pytest.raises(NotFound):
        await call(catalog, products.product, "NOPE")
    with pytest.raises(NotFound):
        await call(catalog, products.stock, "NOPE", EVERY)


async def test_prices_of_a_client_pricing_does_not_know(start_app):
    pricing = await start_app("pricing")
    catalog = await start_app("catalog", upstreams={"pricing": pricing})
    upstreams = catalog.state.upstreams
    wanted = [("A-1", Decimal(1))]
    # a buyer's company pricing has not heard of yet: the page shows no prices
    assert await products.client_prices(upstreams, BUYER, BUYER.company_id, wanted) == {}
    # a sales manager's: pricing answers a client not assigned to it the same way, so 404
    with pytest.raises(NotFound):
        await products.client_prices(upstreams, MANAGER, uuid.uuid4(), wanted)


def product(**values) -> Product:
    defaults = dict(
        sku="A-1",
        unit="m",
        units={"coil": "50.5"},
        min_order_qty=Decimal(2),
        order_multiple=Decimal("0.5"),
        unit_precision=1,
        status="active",
        replacement_sku=None,
    )
    return Product(**{**defaults, **values})


@pytest.mark.parametrize(
    ("ordered", "found", "ok", "problem", "base", "suggested"),
    [
        (Ordered("A-1", "coil", Decimal(2)), product(), True, None, Decimal(101), None),
        (Ordered("A-1", None, Decimal(3)), product(), True, None, Decimal(3), None),
        (Ordered("A-1", None, Decimal(1)), product(), False, "below_minimum", None, Decimal(2)),
        (Ordered("A-1", None, Decimal("2.25")), product(), False, "too_precise", None, None),
        (Ordered("A-1", None, Decimal("2.3")), product(), False, "not_a_multiple", None, None),
        (Ordered("A-1", "box", Decimal(1)), product(), False, "unknown_unit", None, None),
        (Ordered("X-1", None, Decimal(1)), None, False, "unknown_sku", None, None),
    ],
)
def test_a_verdict_per_line(ordered, found, ok, problem, base, suggested):
    verdict = quantities.verdict(3, ordered, found)
    assert (verdict.row, verdict.ok, verdict.base_quantity) == (3, ok, base)
    assert verdict.problem == (QuantityProblem(problem) if problem else None)
    assert verdict.base_unit == (found.unit if found else None)
    if suggested is not None:
        assert verdict.suggested_base_quantity == suggested
    assert (verdict.message is None) == ok


def test_a_discontinued_product_names_its_replacement():
    gone = product(status="discontinued", replacement_sku="B-1")
    verdict = quantities.verdict(1, Ordered("A-1", None, Decimal(2)), gone)
    assert (verdict.ok, verdict.problem, verdict.replacement_sku) == (
        False,
        QuantityProblem.DISCONTINUED,
        "B-1",
    )
    assert verdict.message == "A-1 is discontinued; buy B-1 instead"


async def test_converting_a_batch_answers_each_line_in_order(catalog):
    await feed(catalog, HEADER + "A-1,Board,,,pcs,,,,\n")
    verdicts = await call(
        catalog,
        quantities.convert,
        [Ordered("X-1", None, Decimal(1)), Ordered("A-1", None, Decimal(4))],
    )
    assert [(v.row, v.sku, v.ok, v.base_quantity) for v in verdicts] == [
        (1, "X-1", False, None),
        (2, "A-1", True, Decimal(4)),
    ]


async def test_the_category_tree_nests_children_by_name(catalog):
    await feed(catalog, TREE, "categories")
    await feed(catalog, as_csv([{"sku": "A-1", "name": "Glue", "category": "tile-glue"}]))
    tree, _ = await call(catalog, categories.category_tree, EVERY)
    assert [(n["code"], n["product_count"]) for n in tree] == [("building", 1), ("garden", 0)]
    building = tree[0]["children"]
    assert [n["code"] for n in building] == ["adhesives", "boards"]
    assert [n["code"] for n in building[0]["children"]] == ["tile-glue"]


def test_a_partner_key_reads_only_its_own_feed_admins_any():
    marketplace.may_read_feed(principal(Role.PARTNER, partner_code="ozon"), "ozon")
    marketplace.may_read_feed(ADMIN, "ozon")
    with pytest.raises(Forbidden):
        marketplace.may_read_feed(principal(Role.PARTNER, partner_code="wb"), "ozon")


async def test_a_feed_pull_refuses_before_it_asks_pricing(start_app):
    pricing = await start_app("pricing")
    catalog = await start_app("catalog", upstreams={"pricing": pricing})
    pull = dict(
        sessionmaker=catalog.state.sessionmaker,
        upstreams=catalog.state.upstreams,
        principal=ADMIN,
        code="ozon",
        if_none_match=None,
        chunk_skus=10,
    )
    with pytest.raises(ProblemError) as refused:
        await call(catalog, marketplace.pull_feed, wanted=None, accept="text/xml", **pull)
    assert refused.value.status == 406
    with pytest.raises(NotFound):
        await call(catalog, marketplace.pull_feed, wanted="csv", accept=None, **pull)
    # a price list pricing does not know is refused naming the field, and saves nothing
    with pytest.raises(Unprocessable) as unknown:
        await call(
            catalog,
            marketplace.save_partner,
            catalog.state.upstreams,
            ADMIN,
            "ozon",
            "Ozon",
            "NOPE",
        )
    assert [e.field for e in unknown.value.errors] == ["price_list_code"]
    with pytest.raises(NotFound):
        await call(catalog, marketplace.partner, "ozon")


async def test_an_unchanged_feed_is_answered_from_its_etag_alone(catalog):
    # no pricing behind this catalog: a call to it would fail
    async with catalog.state.sessionmaker() as session, session.begin():
        await marketplace.store.save_partner(session, "ozon", "Ozon", "BASE")
    pull = dict(
        sessionmaker=catalog.state.sessionmaker,
        upstreams=catalog.state.upstreams,
        principal=ADMIN,
        code="ozon",
        wanted="jsonl",
        accept=None,
        chunk_skus=10,
    )
    etag = (await call(catalog, marketplace.pull_feed, if_none_match="*", **pull)).etag
    again = await call(catalog, marketplace.pull_feed, if_none_match=etag, **pull)
    assert (again.unchanged, again.chunks, again.format) == (True, None, FeedFormat.JSONL)
    assert again.file_name.startswith("ozon-") and again.file_name.endswith(".jsonl")
