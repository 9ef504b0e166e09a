"""The TypeScript SDK in clients/typescript (openapi-typescript + openapi-fetch, pinned in its
package.json): its types are generated from the gateway document and committed, they compile
under `tsc --strict` (and refuse the mistakes in test/refused.ts), and its buyer flow runs under
`node --test` against the gateway on a real socket, with accounts, catalog, pricing and orders
behind it in process and their workers on the real broker."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import textwrap
import time
import uuid

import pytest
from sqlalchemy import text

from shared.runtime import ROOT
from shared.testing.fixtures import client, running
from tests.accounts.factories import add_user
from tests.stack import (
    client_and_products,
    erp_feeds,
    eventually,
    seller_and_erp,
    start_order_stack,
)

SDK = ROOT / "clients" / "typescript"
SKU = "CE-200"

pytestmark = pytest.mark.skipif(
    not (shutil.which("node") and shutil.which("npm")),
    reason="Node.js and npm are not on this machine: the TypeScript SDK cannot be built",
)


@pytest.fixture(scope="module")
def sdk_installed() -> None:
    """The pinned packages, as `make tsclient` installs them (make test does it first)."""
    if not (SDK / "node_modules" / ".installed").exists():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--silent"], cwd=SDK, check=True, timeout=300
        )
        (SDK / "node_modules" / ".installed").touch()


def test_committed_types_are_what_openapi_typescript_makes_of_the_gateway_document(
    sdk_installed,
):
    generated = subprocess.run(
        ["npm", "run", "--silent", "types"], cwd=SDK, capture_output=True, text=True, timeout=120
    )
    assert generated.returncode == 0, generated.stderr[-3000:]
    assert generated.stdout == (SDK / "src" / "schema.ts").read_text(), (
        "the gateway document changed: run `npm run generate` in clients/typescript"
    )


def test_the_readme_example_is_the_code_the_buyer_flow_test_runs():
    readme = (SDK / "README.md").read_text()
    example = re.search(r"```ts\n(.*?)```", readme, re.S)
    flow = (SDK / "test" / "buyer-flow.test.ts").read_text()
    tested = re.search(r"// README example: begin\n(.*?)\s*// README example: end", flow, re.S)
    assert example and tested
    assert example.group(1).strip() == textwrap.dedent(tested.group(1)).strip()


async def run(*command: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    """Without blocking the event loop: the gateway this test serves answers meanwhile."""
    process = await asyncio.create_subprocess_exec(
        *command,
        cwd=SDK,
        env={**os.environ, **(env or {})},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        said, _ = await asyncio.wait_for(process.communicate(), timeout=300)
    except TimeoutError:
        process.kill()
        raise
    assert process.returncode is not None
    return process.returncode, said.decode()


async def seed(http, accounts, orders) -> tuple[str, str]:
    """ERP feeds one client, one product with stock and its prices; the client gets a buyer.
    Answers the buyer's email and password."""
    admin, erp = await seller_and_erp(http, accounts, "boss@seller.example")

    company_id = await client_and_products(
        http,
        admin,
        erp,
        f"{SKU},Ceresit CM 11 tile glue,Ceresit,glue,bag,1,1\n",
        f"{SKU},MAIN,400\n",
        [SKU],
    )
    await erp_feeds(
        http,
        erp,
        "/api/v1/pricing/feeds/prices",
        f"list,client,sku,min_qty,price_minor,currency\nBASE,,{SKU},1,890,EUR\n"
        f",C-1,{SKU},1,790,EUR\n",
    )
    email = "buyer@alpha.example"
    await add_user(accounts, email, companies={uuid.UUID(company_id): "buyer"})

    async def orders_knows_them():  # from accounts' and catalog's events
        async with orders.state.sessionmaker() as session:
            return await session.scalar(
                text(
                    "SELECT EXISTS (SELECT FROM products WHERE sku = :sku) "
                    "AND EXISTS (SELECT FROM companies WHERE id = :company)"
                ),
                {"sku": SKU, "company": uuid.UUID(company_id)},
            )

    await eventually(orders_knows_them)
    return email, "secret-password"


async def test_the_buyer_flow_compiles_under_strict_and_runs_against_the_stack(
    sdk_installed, start_app, serve, capsys
):
    started = time.monotonic()
    # tsc takes a few seconds: it compiles while the stack starts and the world is fed.
    build = asyncio.create_task(run("npm", "run", "--silent", "build"))
    apps, gateway = await start_order_stack(start_app)
    async with running(gateway):
        async with client(gateway) as http:
            email, password = await seed(http, apps["accounts"], apps["orders"])
        base_url = await serve(gateway)
        seeded = time.monotonic()
        built, said = await build
        assert built == 0, f"tsc --strict refused the SDK or its tests:\n{said[-6000:]}"
        ran, said = await run(
            "node",
            "--test",
            "dist/test/buyer-flow.test.js",
            env={
                "B2B_BASE_URL": base_url,
                "B2B_BUYER_EMAIL": email,
                "B2B_BUYER_PASSWORD": password,
                "B2B_SKU": SKU,
            },
        )
    assert ran == 0, said[-6000:]
    assert re.search(r"^# pass 2$", said, re.M) and re.search(r"^# fail 0$", said, re.M), said
    with capsys.disabled():
        print(
            f"\nTypeScript buyer flow: stack and world {seeded - started:.1f} s, "
            f"node --test {time.monotonic() - seeded:.1f} s"
        )
