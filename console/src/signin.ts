// People sign in with their organisation's identity: the authorization code flow with PKCE,
// through oauth4webapi, against the provider GET /v1/auth/config names (Microsoft Entra ID
// operated by 21Vianet in production). The browser holds no secret: the console is a public
// client. What it gets back — an access token for escalade's API, the refresh token that renews
// it, the ID token that names the session to end — stays in this tab's session storage.
//
// The provider is multi-tenant: its configuration names its issuer with a `{tenantid}`
// placeholder, and each answer comes from the issuer of the person's own tenant. Every answer's
// issuer is checked to be the template with a tenant id put in, then validated as that issuer's.

import * as oauth from "oauth4webapi";

import type { SignInProvider } from "./api";

/** A signed-in person's tokens, as kept in this tab. */
export interface Tokens {
  accessToken: string;
  /** When the access token expires, in milliseconds since the epoch. */
  expiresAt: number;
  refreshToken?: string;
  idToken?: string;
  /** The issuer of the person's tenant, which issued these tokens. */
  issuer: string;
}

/** What the console remembers between leaving for the provider and coming back. */
interface Pending {
  state: string;
  nonce: string;
  codeVerifier: string;
  /** Where the person was, to return there. */
  returnTo: string;
}

const PENDING_ITEM = "escalade.sign-in";
/** Renew this long before the access token expires, so no request carries an expired one. */
const RENEW_BEFORE_MS = 60_000;

const TENANT = "{tenantid}";
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The address the provider sends people back to: the console's root, as registered. */
export function redirectUri(): string {
  return new URL("/console/", location.origin).href;
}

function client(provider: SignInProvider): oauth.Client {
  return { client_id: provider.client_id };
}

/**
 * The provider as oauth4webapi reads it, for the issuer `issuer` (the template until a tenant is
 * known). http is accepted for a provider on this machine only, as the server accepts it.
 */
function server(provider: SignInProvider, issuer: string): oauth.AuthorizationServer {
  return {
    issuer,
    authorization_endpoint: provider.authorization_endpoint ?? undefined,
    token_endpoint: provider.token_endpoint ?? undefined,
    end_session_endpoint: provider.end_session_endpoint ?? undefined,
  };
}

function options(provider: SignInProvider): { [oauth.allowInsecureRequests]?: boolean } {
  const endpoint = new URL(provider.token_endpoint ?? location.href);
  const loopback = ["127.0.0.1", "[::1]", "localhost"].includes(endpoint.hostname);
  return endpoint.protocol === "http:" && loopback ? { [oauth.allowInsecureRequests]: true } : {};
}

/**
 * `issuer` if it is the provider's issuer, or its multi-tenant template with a tenant id in place
 * of `{tenantid}`; `null` otherwise.
 */
export function tenantIssuer(template: string, issuer: string): string | null {
  const at = template.indexOf(TENANT);
  if (at < 0) return issuer === template ? issuer : null;
  const prefix = template.slice(0, at);
  const suffix = template.slice(at + TENANT.length);
  if (!issuer.startsWith(prefix) || !issuer.endsWith(suffix)) return null;
  const tenant = issuer.slice(prefix.length, issuer.length - suffix.length);
  return GUID.test(tenant) ? issuer : null;
}

/** The claims of a JWT, unverified: only to learn which tenant's issuer to validate it as. */
function claimsOf(jwt: string): Record<string, unknown> {
  try {
    const payload = jwt.split(".")[1] ?? "";
    const json = atob(payload.replace(/-/g, "+").replace(/_/g, "/"));
    return JSON.parse(new TextDecoder().decode(Uint8Array.from(json, (c) => c.charCodeAt(0))));
  } catch {
    return {};
  }
}

/** The provider's issuer as its configuration names it, `{tenantid}` and all. */
function template(provider: SignInProvider): string {
  if (!provider.issuer) throw new Error("the provider's configuration is not loaded yet");
  return provider.issuer;
}

/** Leaves for the provider's sign-in page; the provider sends the person back to the console. */
export async function beginSignIn(provider: SignInProvider): Promise<void> {
  const as = server(provider, template(provider));
  const pending: Pending = {
    state: oauth.generateRandomState(),
    nonce: oauth.generateRandomNonce(),
    codeVerifier: oauth.generateRandomCodeVerifier(),
    returnTo: location.pathname + location.search,
  };
  const url = new URL(as.authorization_endpoint!);
  url.search = new URLSearchParams({
    client_id: provider.client_id,
    redirect_uri: redirectUri(),
    response_type: "code",
    scope: `openid profile offline_access ${provider.scope}`,
    state: pending.state,
    nonce: pending.nonce,
    code_challenge: await oauth.calculatePKCECodeChallenge(pending.codeVerifier),
    code_challenge_method: "S256",
  }).toString();
  sessionStorage.setItem(PENDING_ITEM, JSON.stringify(pending));
  location.assign(url.href);
}

/** Whether this page load is the provider sending someone back. */
export function isSignInReturn(): boolean {
  const query = new URLSearchParams(location.search);
  return sessionStorage.getItem(PENDING_ITEM) !== null && (query.has("code") || query.has("error"));
}

/**
 * Redeems the code the provider sent back for tokens, and puts the address back as it was before
 * signing in. Throws when the answer is not the one this tab asked for, or the provider refused.
 */
export async function completeSignIn(provider: SignInProvider): Promise<Tokens> {
  const issuerTemplate = template(provider);
  const pending = JSON.parse(sessionStorage.getItem(PENDING_ITEM) ?? "null") as Pending | null;
  sessionStorage.removeItem(PENDING_ITEM);
  const current = new URL(location.href);
  history.replaceState(null, "", pending?.returnTo ?? "/console/");
  if (!pending) throw new Error("no sign-in was started in this tab");

  // The tenant's issuer, as the authorization response names it (RFC 9207) where it does.
  const named = current.searchParams.get("iss");
  let issuer = named === null ? issuerTemplate : tenantIssuer(issuerTemplate, named);
  if (issuer === null) throw new Error("the answer came from another issuer");
  const parameters = oauth.validateAuthResponse(server(provider, issuer), client(provider), current, pending.state);

  const response = await oauth.authorizationCodeGrantRequest(
    server(provider, issuer),
    client(provider),
    oauth.None(),
    parameters,
    redirectUri(),
    pending.codeVerifier,
    options(provider),
  );
  // Where the provider does not name its issuer in the redirect, the ID token's tenant does.
  if (issuer === issuerTemplate) {
    const idToken = ((await response.clone().json()) as { id_token?: string }).id_token ?? "";
    issuer = tenantIssuer(issuerTemplate, String(claimsOf(idToken).iss ?? ""));
    if (issuer === null) throw new Error("the token came from another issuer");
  }
  const answer = await oauth.processAuthorizationCodeResponse(server(provider, issuer), client(provider), response, {
    expectedNonce: pending.nonce,
  });
  return tokensFrom(answer, issuer);
}

/** Renews the access token with the refresh token; throws when the provider no longer agrees. */
export async function renew(provider: SignInProvider, tokens: Tokens): Promise<Tokens> {
  if (!tokens.refreshToken) throw new Error("nothing to renew with");
  const as = server(provider, tokens.issuer);
  const response = await oauth.refreshTokenGrantRequest(as, client(provider), oauth.None(), tokens.refreshToken, options(provider));
  const answer = await oauth.processRefreshTokenResponse(as, client(provider), response);
  const renewed = tokensFrom(answer, tokens.issuer);
  return { ...renewed, refreshToken: renewed.refreshToken ?? tokens.refreshToken, idToken: renewed.idToken ?? tokens.idToken };
}

/** Whether the access token must be renewed before the next request. */
export function dueForRenewal(tokens: Tokens, now = Date.now()): boolean {
  return tokens.expiresAt - RENEW_BEFORE_MS <= now;
}

function tokensFrom(answer: oauth.TokenEndpointResponse, issuer: string): Tokens {
  return {
    accessToken: answer.access_token,
    expiresAt: Date.now() + (answer.expires_in ?? 3600) * 1000,
    refreshToken: answer.refresh_token,
    idToken: answer.id_token,
    issuer,
  };
}

/**
 * Where signing out ends the provider's session too, coming back to the console; `null` when the
 * provider has no such endpoint.
 */
export function signOutUrl(provider: SignInProvider, tokens: Tokens): string | null {
  if (!provider.end_session_endpoint) return null;
  const url = new URL(provider.end_session_endpoint);
  url.searchParams.set("client_id", provider.client_id);
  url.searchParams.set("post_logout_redirect_uri", redirectUri());
  if (tokens.idToken) url.searchParams.set("id_token_hint", tokens.idToken);
  return url.href;
}
