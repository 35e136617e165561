// The console's one way to the server: the client @hey-api/openapi-ts generates from
// openapi/openapi.json. This module configures it (origin, credential, language) and turns its answers
// into a success or a `Failure` the screens can put into words.

import { client } from "../../clients/typescript/generated/client.gen.js";
import type { Problem } from "../../clients/typescript/generated/types.gen.js";
import { dueForRenewal, type Tokens } from "./signin";

export * from "../../clients/typescript/generated/sdk.gen.js";
export type * from "../../clients/typescript/generated/types.gen.js";

/** What this tab signs its requests with: an API key pasted in, or a signed-in person's tokens. */
export type Credential = { kind: "key"; key: string } | { kind: "person"; tokens: Tokens };

/** Where the credential lives: this tab only, gone when it closes; never in a URL, a log or storage that outlives the tab. */
const CREDENTIAL_ITEM = "escalade.credential";

let credential: Credential | null = JSON.parse(sessionStorage.getItem(CREDENTIAL_ITEM) ?? "null") as Credential | null;
let acceptLanguage = "zh-CN";
/** Renews a person's tokens; set once the provider is known. */
let renewTokens: ((tokens: Tokens) => Promise<Tokens>) | null = null;
/** The renewal under way, which every request waiting for a token shares. */
let renewing: Promise<void> | null = null;

client.setConfig({ baseUrl: location.origin, auth: bearer });
client.interceptors.request.use((request) => {
  request.headers.set("Accept-Language", acceptLanguage);
  return request;
});

/**
 * The bearer credential for the next request: the key, or the person's access token, renewed
 * first when it is about to expire. A renewal the provider refuses leaves the old token, which
 * the server then refuses, and the console asks the person to sign in again.
 */
async function bearer(): Promise<string | undefined> {
  if (credential?.kind === "person" && renewTokens && dueForRenewal(credential.tokens)) {
    const renew = renewTokens;
    renewing ??= renew(credential.tokens)
      // Kept only if the person is still signed in: signing out meanwhile wins.
      .then((tokens) => {
        if (credential?.kind === "person") keep({ kind: "person", tokens });
      })
      .catch(() => undefined)
      .finally(() => (renewing = null));
    await renewing;
  }
  if (!credential) return undefined;
  return credential.kind === "key" ? credential.key : credential.tokens.accessToken;
}

export function storedCredential(): Credential | null {
  return credential;
}

export function keep(next: Credential | null): void {
  credential = next;
  if (next === null) sessionStorage.removeItem(CREDENTIAL_ITEM);
  else sessionStorage.setItem(CREDENTIAL_ITEM, JSON.stringify(next));
}

/** How a person's tokens are renewed before they expire. */
export function renewWith(renew: (tokens: Tokens) => Promise<Tokens>): void {
  renewTokens = renew;
}

/** The language every request asks for, as an `Accept-Language` value. */
export function setAcceptLanguage(value: string): void {
  acceptLanguage = value;
}

/** Why a request did not succeed, kept as the server said it. */
export interface Failure {
  /** The HTTP status; 0 when the server could not be reached. */
  status: number;
  problem?: Problem;
  /** Seconds to wait, from `Retry-After` (429, 503). */
  retryAfter?: number;
}

export type Outcome<T> =
  | { ok: true; data: T; response: Response }
  | { ok: false; failure: Failure; response?: Response };

function isProblem(value: unknown): value is Problem {
  return typeof value === "object" && value !== null && "code" in value && "detail" in value;
}

/** Every item of a list, following `next_cursor` page by page. */
export async function all<T>(
  page: (cursor?: string) => Promise<{ data?: { items: T[]; next_cursor?: string | null }; error?: unknown; response?: Response }>,
): Promise<Outcome<T[]>> {
  const items: T[] = [];
  let cursor: string | undefined;
  for (;;) {
    const answer = await call(page(cursor));
    if (!answer.ok) return answer;
    items.push(...answer.data.items);
    cursor = answer.data.next_cursor ?? undefined;
    if (!cursor) return { ok: true, data: items, response: answer.response };
  }
}

/** Awaits a generated call: its data on success, the failure otherwise (a network error too). */
export async function call<T>(
  request: Promise<{ data?: T; error?: unknown; response?: Response }>,
): Promise<Outcome<T>> {
  let result: { data?: T; error?: unknown; response?: Response };
  try {
    result = await request;
  } catch {
    return { ok: false, failure: { status: 0 } };
  }
  const response = result.response;
  if (!response) return { ok: false, failure: { status: 0 } };
  if (response.ok && result.error === undefined) {
    return { ok: true, data: result.data as T, response };
  }
  const retryAfter = Number(response.headers.get("Retry-After"));
  return {
    ok: false,
    response,
    failure: {
      status: response.status,
      problem: isProblem(result.error) ? result.error : undefined,
      retryAfter: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined,
    },
  };
}

/**
 * Whether a failure is the server's last word on that request: not a lost answer, a busy or
 * unavailable server, or the same key still being worked on — those are retried as they were.
 */
export function isFinal(failure: Failure): boolean {
  if (failure.status === 0 || failure.status === 408 || failure.status === 429 || failure.status >= 500) return false;
  return !(failure.status === 409 && failure.problem?.code === "idempotency_key_in_use");
}

/**
 * One `Idempotency-Key` per request body until the server's last word on it: a double click, or
 * a retry after a lost answer, replays the first request instead of repeating it; a changed body,
 * a success or a refusal starts afresh.
 */
export class Attempts {
  private last: { body: string; key: string } | null = null;

  keyFor(body: string): string {
    if (this.last?.body !== body) this.last = { body, key: newIdempotencyKey() };
    return this.last.key;
  }

  settled(failure?: Failure): void {
    if (!failure || isFinal(failure)) this.last = null;
  }
}

/** A random UUID for an `Idempotency-Key`; `crypto.randomUUID` needs a secure context, this does not. */
export function newIdempotencyKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
