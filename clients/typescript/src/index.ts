/**
 * A typed client for the B2B Commerce API gateway.
 *
 * Paths, parameters, bodies and answers come from `schema.ts`, which openapi-typescript
 * generates from openapi/gateway.openapi.json (`npm run generate`); requests go through
 * openapi-fetch. What is written here is what a generator cannot know: refusals as one error
 * class, and the two headers that make writes safe to retry (Idempotency-Key) and safe against
 * a concurrent change (If-Match).
 */
import createClient, { type Client } from "openapi-fetch";
import type { components, paths } from "./schema.js";

export type { components, operations, paths } from "./schema.js";

/** An RFC 9457 problem, as every refusal of the API is written. */
export type Problem = components["schemas"]["Problem"];
/** One rejected field; `row` is set when it belongs to a row of a batch or a feed. */
export type FieldError = components["schemas"]["FieldError"];
export type B2BClient = Client<paths>;

export interface B2BClientOptions {
  /** The gateway's address, e.g. http://127.0.0.1:8000 */
  baseUrl: string;
  /** A person's access token, from POST /api/v2/accounts/auth/login */
  token?: string;
  /** An integrator's or partner's key: it reaches feeds and ERP endpoints only */
  apiKey?: string;
  fetch?: typeof globalThis.fetch;
}

export function createB2BClient({ baseUrl, token, apiKey, fetch }: B2BClientOptions): B2BClient {
  const headers: Record<string, string> = {};
  if (token) headers["Authorization"] = `Bearer ${token}`;
  if (apiKey) headers["X-API-Key"] = apiKey;
  return createClient<paths>({ baseUrl, headers, ...(fetch ? { fetch } : {}) });
}

export function isProblem(value: unknown): value is Problem {
  if (typeof value !== "object" || value === null) return false;
  const { title, status, errors } = value as Record<string, unknown>;
  return (
    typeof title === "string" &&
    typeof status === "number" &&
    (errors === undefined || Array.isArray(errors))
  );
}

/** A refusal of the API, thrown by `ok()`: catch it and read the fields, not the message. */
export class ApiProblem extends Error {
  readonly status: number;
  readonly type: string;
  readonly title: string;
  readonly detail: string | null;
  readonly errors: FieldError[];
  readonly instance: string | null;
  readonly requestId: string | null;

  constructor(problem: Problem) {
    super(problem.detail ? `${problem.title}: ${problem.detail}` : problem.title);
    this.name = "ApiProblem";
    this.status = problem.status;
    this.type = problem.type ?? "about:blank";
    this.title = problem.title;
    this.detail = problem.detail ?? null;
    this.errors = problem.errors ?? [];
    this.instance = problem.instance ?? null;
    this.requestId = problem.request_id ?? null;
  }

  /** Also for answers that are not problems (a proxy's error page): the status is kept. */
  static from(error: unknown, response: Response): ApiProblem {
    if (isProblem(error)) return new ApiProblem(error);
    const detail = typeof error === "string" && error ? error.slice(0, 500) : null;
    return new ApiProblem({ status: response.status, title: response.statusText || "Error", detail });
  }
}

/** What openapi-fetch answers: the data of a success, or the error body of a refusal. */
export interface Answer {
  data?: unknown;
  error?: unknown;
  response: Response;
}

/** The data of the successful answers of an operation, as the document declares them. */
export type DataOf<A extends Answer> = Extract<A, { error?: never }>["data"];

/** The data of a successful answer; a refusal is thrown as an ApiProblem. */
export async function ok<A extends Answer>(answer: A | Promise<A>): Promise<DataOf<A>> {
  const { data, error, response } = await answer;
  if (error !== undefined || !response.ok) throw ApiProblem.from(error, response);
  return data as DataOf<A>;
}

/** The data and the ETag it was read with, to change it later with `ifMatch(etag)`. */
export async function versioned<A extends Answer>(
  answer: A | Promise<A>,
): Promise<{ data: DataOf<A>; etag: string }> {
  const settled = await answer;
  const data = await ok(settled);
  const etag = settled.response.headers.get("ETag");
  if (!etag) throw new Error(`${settled.response.url} answered without an ETag`);
  return { data, etag };
}

/** A fresh key for one creating request. Keep it to retry: the retry gets the first outcome. */
export function idempotencyKey(): string {
  return crypto.randomUUID();
}

/** The header of a creating POST; pass the same key again when you retry it. */
export function idempotent(key: string = idempotencyKey()): { "Idempotency-Key": string } {
  return { "Idempotency-Key": key };
}

/** The header of a change guarded by what you read: a 412 ApiProblem if it changed since. */
export function ifMatch(etag: string): { "If-Match": string } {
  return { "If-Match": etag };
}
