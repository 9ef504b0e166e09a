/**
 * Mistakes the types must refuse. `tsc --strict` fails on an unused @ts-expect-error, so if
 * the generated types ever stopped catching one of these (an `any` creeping in, a required
 * header turned optional), the build fails. Compiled by `npm run build`, never run.
 */
import { createB2BClient, ok } from "../src/index.js";

const b2b = createB2BClient({ baseUrl: "http://127.0.0.1:1" });
const path = { cart_id: "00000000-0000-4000-8000-000000000000" };

export async function mistakes(): Promise<void> {
  // @ts-expect-error: a misspelt field of a line (quantty)
  await b2b.PUT("/api/v2/orders/carts/{cart_id}/lines", { params: { path }, body: { lines: [{ sku: "A", quantty: 1 }] } });
  // @ts-expect-error: a checkout without its Idempotency-Key
  await b2b.POST("/api/v2/orders/carts/{cart_id}/checkout", { params: { path } });
  // @ts-expect-error: a login without its password
  await b2b.POST("/api/v2/accounts/auth/login", { body: { email: "buyer@example.com" } });
  // @ts-expect-error: a path the API does not have
  await b2b.GET("/api/v2/orders/order/{order_id}", { params: { path: { order_id: "1" } } });
  const order = await ok(b2b.GET("/api/v2/orders/orders/{order_id}", { params: { path: { order_id: "1" } } }));
  // @ts-expect-error: an order has no `totl_minor`
  console.log(order.totl_minor);
  // @ts-expect-error: a money amount is a number of minor units, not a string
  const total: string = order.total_minor;
  console.log(total);
}
