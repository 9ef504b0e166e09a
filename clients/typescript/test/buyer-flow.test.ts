/**
 * The buyer flow through the SDK against a running gateway: `make test` starts the stack,
 * seeds a buyer and a priced SKU, and runs this (tests/contract/test_typescript_client.py).
 */
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  ApiProblem,
  createB2BClient,
  idempotencyKey,
  idempotent,
  ifMatch,
  isProblem,
  ok,
  versioned,
} from "../src/index.js";

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`set ${name} (tests/contract/test_typescript_client.py does)`);
  return value;
}

const baseUrl = env("B2B_BASE_URL");
const email = env("B2B_BUYER_EMAIL");
const password = env("B2B_BUYER_PASSWORD");
const sku = env("B2B_SKU");

async function buyer() {
  const login = await ok(
    createB2BClient({ baseUrl }).POST("/api/v2/accounts/auth/login", { body: { email, password } }),
  );
  return createB2BClient({ baseUrl, token: login.access_token });
}

test("a buyer prices a SKU, fills a cart and checks out once, however often it retries", async () => {
  // README example: begin
  const b2b = await buyer();
  const companies = await ok(b2b.GET("/api/v2/accounts/companies", { params: { query: { limit: 10 } } }));
  const company = companies.items[0];
  assert.ok(company, "the buyer belongs to a company");

  const prices = await ok(
    b2b.POST("/api/v2/pricing/prices/resolve", {
      body: { client_id: company.id, lines: [{ sku, quantity: "12" }] },
    }),
  );
  const unitPrice = prices.lines[0]?.unit_price_minor;
  assert.ok(unitPrice, `${sku} has a price for ${company.legal_name}`);

  const cart = await ok(
    b2b.POST("/api/v2/orders/carts", { params: { header: idempotent() }, body: { name: "Site 7" } }),
  );
  // Every list of version 2 is a page: items, and the cursor of the next one (null: the last).
  const carts = await ok(b2b.GET("/api/v2/orders/carts", { params: { query: { limit: 1 } } }));
  assert.deepEqual(
    carts.items.map((c) => c.id),
    [cart.id],
  );
  assert.equal(carts.next_cursor, null);
  // Lines change the cart only if nobody changed it since we read it.
  const { etag } = await versioned(
    b2b.GET("/api/v2/orders/carts/{cart_id}", { params: { path: { cart_id: cart.id } } }),
  );
  await ok(
    b2b.PUT("/api/v2/orders/carts/{cart_id}/lines", {
      params: { path: { cart_id: cart.id }, header: ifMatch(etag) },
      body: { lines: [{ sku, quantity: "12" }] },
    }),
  );
  const filled = await ok(b2b.GET("/api/v2/orders/carts/{cart_id}", { params: { path: { cart_id: cart.id } } }));
  assert.equal(filled.total_minor, 12 * unitPrice);

  // One key per checkout, kept for its retries: a retry answers with the order already placed.
  const checkout = {
    params: { path: { cart_id: cart.id }, header: { "Idempotency-Key": idempotencyKey() } },
    body: { comment: "Deliver to gate 2" },
  };
  const placed = await b2b.POST("/api/v2/orders/carts/{cart_id}/checkout", checkout);
  const retried = await b2b.POST("/api/v2/orders/carts/{cart_id}/checkout", checkout);
  const order = await ok(placed);
  const again = await ok(retried);
  assert.equal(placed.response.status, 201);
  assert.equal(retried.response.headers.get("Idempotent-Replayed"), "true");
  assert.deepEqual(again, order);
  assert.equal(order.total_minor, 12 * unitPrice);

  const read = await ok(b2b.GET("/api/v2/orders/orders/{order_id}", { params: { path: { order_id: order.id } } }));
  assert.equal(read.number, order.number);
  assert.deepEqual(
    read.lines.map((line) => [line.sku, line.unit_price_minor]),
    [[sku, unitPrice]],
  );
  // README example: end
});

test("refusals are typed problems: status, type, title, and the fields at fault", async () => {
  const b2b = await buyer();
  const unknown = await b2b.GET("/api/v2/orders/orders/{order_id}", {
    params: { path: { order_id: "00000000-0000-4000-8000-000000000000" } },
  });
  assert.ok(isProblem(unknown.error));
  const notFound = await ok(unknown).catch((refused: unknown) => refused);
  assert.ok(notFound instanceof ApiProblem);
  assert.equal(notFound.status, 404);
  assert.equal(unknown.response.headers.get("content-type"), "application/problem+json");
  assert.ok(notFound.title && notFound.type);

  const cart = await ok(b2b.POST("/api/v2/orders/carts", { body: { name: "Probe" } }));
  const invalid = await ok(
    b2b.PUT("/api/v2/orders/carts/{cart_id}/lines", {
      params: { path: { cart_id: cart.id } },
      body: { lines: [{ sku, quantity: "1" }, { sku, quantity: "a dozen" }] },
    }),
  ).catch((refused: unknown) => refused);
  assert.ok(invalid instanceof ApiProblem);
  assert.equal(invalid.status, 422);
  // The field at fault, and the row of the batch it is in (the second line).
  assert.ok(
    invalid.errors.some((e) => e.field.includes("quantity") && typeof e.row === "number"),
    JSON.stringify(invalid.errors),
  );

  // A change sent with the ETag of what was read before another change is refused.
  const { etag } = await versioned(
    b2b.GET("/api/v2/orders/carts/{cart_id}", { params: { path: { cart_id: cart.id } } }),
  );
  const lines = (quantity: string) => ({
    params: { path: { cart_id: cart.id }, header: ifMatch(etag) },
    body: { lines: [{ sku, quantity }] },
  });
  await ok(b2b.PUT("/api/v2/orders/carts/{cart_id}/lines", lines("1")));
  const stale = await ok(b2b.PUT("/api/v2/orders/carts/{cart_id}/lines", lines("2"))).catch(
    (refused: unknown) => refused,
  );
  assert.ok(stale instanceof ApiProblem);
  assert.equal(stale.status, 412);
});
