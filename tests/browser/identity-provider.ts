// A local OpenID Provider that imitates Microsoft Entra ID operated by 21Vianet in multi-tenant
// mode, for the browser tests and for developers: three directory tenants (21Vianet's own and two
// partners'), each an oidc-provider instance at `/<tenant>/v2.0` signing with the one key all three
// share, behind the multi-tenant `organizations` endpoints, which find the tenant from the person's
// e-mail (authorize), the grant (token) or the ID token (logout).
//
// Run directly, it serves a developer's escalade on port 8089 (or `--port`):
//   node target/browser-tests/tests/browser/identity-provider.js --console http://127.0.0.1:8080

import { createPrivateKey, generateKeyPairSync, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { pathToFileURL } from "node:url";

export interface Person {
  tenantId: string;
  oid: string;
  email: string;
  name: string;
  roles: string[];
}

/** Everyone's password. */
export const PASSWORD = "correct horse battery staple";
/** 21Vianet's own tenant: its people are operators and admins. */
export const OPERATOR_TENANT = "4f7d2a1c-8b3e-4c5d-9e6f-0a1b2c3d4e5f";
/** CloudBridge, escalade's demo partner. */
export const PARTNER_TENANT_A = "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f";
/** Skyline, another partner. */
export const PARTNER_TENANT_B = "9f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b";

export const PEOPLE: { operator: Person; admin: Person; partnerA: Person; noRole: Person; partnerB: Person } = {
  operator: { tenantId: OPERATOR_TENANT, oid: "6a3f1c2e-5b7d-4e8f-9a0b-1c2d3e4f5a6b", email: "li.na@oe.21vianet.com", name: "李娜", roles: ["Escalade.Operator"] },
  admin: { tenantId: OPERATOR_TENANT, oid: "7b4e2d3f-6c8e-4f9a-8b1c-2d3e4f5a6b7c", email: "wang.fang@oe.21vianet.com", name: "王芳", roles: ["Escalade.Admin"] },
  partnerA: { tenantId: PARTNER_TENANT_A, oid: "8c5f3e4a-7d9f-4a0b-9c2d-3e4f5a6b7c8d", email: "zhang.wei@cloudbridge.partner.onmschina.cn", name: "张伟", roles: ["Escalade.Partner"] },
  noRole: { tenantId: PARTNER_TENANT_A, oid: "9d6a4f5b-8e0a-4b1c-8d3e-4f5a6b7c8d9e", email: "chen.jie@cloudbridge.partner.onmschina.cn", name: "陈杰", roles: [] },
  partnerB: { tenantId: PARTNER_TENANT_B, oid: "ae7b5a6c-9f1b-4c2d-9e4f-5a6b7c8d9e0f", email: "emily.zhou@skyline.partner.onmschina.cn", name: "Emily Zhou", roles: ["Escalade.Partner"] },
};

export interface IdentityProviderOptions {
  /** Default `escalade-console`. */
  clientId?: string;
  /** Default `api://escalade`. */
  audience?: string;
  /** The console's, such as `http://127.0.0.1:5555/console/`. */
  redirectUris: string[];
  /** Default: the redirect URIs. */
  postLogoutRedirectUris?: string[];
  /** Default 3600. */
  accessTokenTtlSeconds?: number;
  /** Default 0: a free port. */
  port?: number;
}

export interface IdentityProvider {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** `${url}/organizations/v2.0/.well-known/openid-configuration` */
  metadataUrl: string;
  clientId: string;
  audience: string;
  /** escalade's environment for this provider: ESCALADE_OIDC_METADATA_URL, ESCALADE_OIDC_AUDIENCE, ESCALADE_OPERATOR_TENANT_ID, ESCALADE_OIDC_CONSOLE_CLIENT_ID */
  serverEnv: Record<string, string>;
  stop(): Promise<void>;
}

const TENANTS = [
  { id: OPERATOR_TENANT, domain: "oe.21vianet.com", name: "21Vianet" },
  { id: PARTNER_TENANT_A, domain: "cloudbridge.partner.onmschina.cn", name: "CloudBridge" },
  { id: PARTNER_TENANT_B, domain: "skyline.partner.onmschina.cn", name: "Skyline" },
];
type Tenant = (typeof TENANTS)[number];

const OIDC_SCOPES = ["openid", "profile", "offline_access"];
const DAY = 24 * 3600;

// What this file uses of oidc-provider, which ships no type declarations.
interface Provider {
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
  interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<Interaction>;
  interactionFinished(req: IncomingMessage, res: ServerResponse, result: object, options?: object): Promise<void>;
  Grant: new (init: { accountId: string; clientId: string }) => {
    addOIDCScope(scope: string): void;
    addResourceScope(resource: string, scope: string): void;
    save(): Promise<string>;
  };
}
interface Interaction {
  uid: string;
  prompt: { name: string };
  params: Record<string, string | undefined>;
  session?: { accountId: string };
}
interface Context {
  type: string;
  body: string;
  oidc: { params: Record<string, unknown>; session: { accountId?: string }; result?: { login?: unknown } };
}
interface OidcProviderModule {
  default: new (issuer: string, configuration: object) => Provider;
  errors: { InvalidTarget: new () => Error };
  interactionPolicy: {
    base(): { get(name: string): { checks: { add(check: unknown): void } } };
    Check: new (reason: string, description: string, check: (ctx: Context) => boolean) => unknown;
  };
}

export async function startIdentityProvider(options: IdentityProviderOptions): Promise<IdentityProvider> {
  const clientId = options.clientId ?? "escalade-console";
  const audience = options.audience ?? "api://escalade";
  const postLogoutRedirectUris = options.postLogoutRedirectUris ?? options.redirectUris;
  const server = createServer();
  await new Promise<void>((listening, failed) => {
    server.once("error", failed);
    server.listen(options.port ?? 0, "127.0.0.1", listening);
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  // Exported as PEM by the key generation and read back: on Node 20, exporting the generated
  // KeyObject as a JWK can deadlock when a garbage collection runs during the export.
  const pem = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
  }).privateKey;
  const jwk = {
    ...createPrivateKey(pem).export({ format: "jwk" }),
    kid: randomBytes(8).toString("hex"),
    alg: "RS256",
    use: "sig",
  };
  const publicJwk = { kty: jwk.kty, n: jwk.n, e: jwk.e, kid: jwk.kid, alg: jwk.alg, use: jwk.use };
  const cookieKeys = [randomBytes(32).toString("base64url")];
  // Not a literal, so tsc does not look for the types oidc-provider lacks. Importing it warns about
  // Node 20 and its memory adapter warns too: neither helps here.
  const oidc = await quietly(() => import("oidc-provider" as string) as Promise<OidcProviderModule>);
  const { Check } = oidc.interactionPolicy;

  function configuration(tenant: Tenant): object {
    const prefix = `/${tenant.id}/v2.0`;
    const find = (oid: unknown) => Object.values(PEOPLE).find((p) => p.oid === oid && p.tenantId === tenant.id);
    const cookie = (name: string) => `${name}_${tenant.id.slice(0, 8)}`;
    const policy = oidc.interactionPolicy.base();
    // Like Entra, a login_hint naming someone else than the signed-in person asks to sign in again.
    policy.get("login").checks.add(
      new Check("login_hint_other", "login_hint names someone else", ({ oidc: { params, session, result } }) => {
        const hint = params.login_hint;
        return !result?.login && typeof hint === "string" && session.accountId !== undefined
          && find(session.accountId)?.email !== hint.toLowerCase();
      }),
    );
    return {
      clients: [{
        client_id: clientId,
        token_endpoint_auth_method: "none",
        redirect_uris: options.redirectUris,
        post_logout_redirect_uris: postLogoutRedirectUris,
        grant_types: ["authorization_code", "refresh_token"],
        response_types: ["code"],
      }],
      jwks: { keys: [jwk] },
      cookies: {
        keys: cookieKeys,
        names: { session: cookie("_session"), interaction: cookie("_interaction"), resume: cookie("_interaction_resume") },
      },
      claims: { openid: ["sub", "tid", "oid", "roles"], profile: ["name", "preferred_username"] },
      conformIdTokenClaims: false,
      scopes: OIDC_SCOPES,
      responseTypes: ["code"],
      clientBasedCORS: () => true,
      findAccount: (_ctx: unknown, sub: string) => {
        const person = find(sub);
        return person && { accountId: person.oid, claims: () => ({ sub: person.oid, ...entraClaims(person) }) };
      },
      extraTokenClaims: (_ctx: unknown, token: { accountId?: string; iat?: number }) => {
        const person = find(token.accountId);
        return person && { ...entraClaims(person), nbf: token.iat ?? Math.floor(Date.now() / 1000) };
      },
      features: {
        devInteractions: { enabled: false },
        resourceIndicators: {
          enabled: true,
          defaultResource: (_ctx: unknown, _client: unknown, oneOf?: string | string[]) =>
            (Array.isArray(oneOf) ? oneOf[0] : oneOf) ?? audience,
          useGrantedResource: () => true,
          getResourceServerInfo: (_ctx: unknown, indicator: string) => {
            if (indicator !== audience) throw new oidc.errors.InvalidTarget();
            return {
              scope: `${audience}/.default`,
              audience,
              accessTokenFormat: "jwt",
              accessTokenTTL: options.accessTokenTtlSeconds ?? 3600,
              jwt: { sign: { alg: "RS256" } },
            };
          },
        },
        rpInitiatedLogout: {
          enabled: true,
          logoutSource: (ctx: Context, form: string) => {
            ctx.body = page(`Sign out of ${tenant.name}`, `${form}<button type="submit" form="op.logoutForm" name="logout" value="yes">Sign out</button>`);
          },
          postLogoutSuccessSource: (ctx: Context) => {
            ctx.body = page("Signed out", "<p>You have signed out.</p>");
          },
        },
      },
      interactions: { policy, url: (_ctx: unknown, interaction: { uid: string }) => `${prefix}/interaction/${interaction.uid}` },
      renderError: (ctx: Context, out: Record<string, string>) => {
        ctx.type = "html";
        ctx.body = page("Sign-in error", `<p role="alert">${esc(out.error)}: ${esc(out.error_description ?? "")}</p>`);
      },
      ttl: {
        AccessToken: options.accessTokenTtlSeconds ?? 3600,
        IdToken: 3600,
        RefreshToken: 14 * DAY,
        Interaction: 3600,
        Session: DAY,
        Grant: 14 * DAY,
      },
    };
  }

  const tenants = new Map<string, { tenant: Tenant; provider: Provider; handle: ReturnType<Provider["callback"]> }>();
  for (const tenant of TENANTS) {
    const provider = await quietly(() => new oidc.default(`${url}/${tenant.id}/v2.0`, configuration(tenant)));
    tenants.set(tenant.id, { tenant, provider, handle: provider.callback() });
  }

  /** The tenant's login page; a consent is granted without asking, so a sign-in shows one page. */
  async function interaction(provider: Provider, tenant: Tenant, req: IncomingMessage, res: ServerResponse, submitted: boolean) {
    let details: Interaction;
    try {
      details = await provider.interactionDetails(req, res);
    } catch {
      return send(res, 400, page("Sign-in expired", '<p role="alert">This sign-in has expired. Start again.</p>'));
    }
    const consent = async (accountId: string) => {
      const grant = new provider.Grant({ accountId, clientId: details.params.client_id ?? "" });
      grant.addOIDCScope((details.params.scope ?? "").split(" ").filter((s) => OIDC_SCOPES.includes(s)).join(" "));
      grant.addResourceScope(audience, `${audience}/.default`);
      return { grantId: await grant.save() };
    };
    if (details.prompt.name !== "login" && details.session) {
      const result = { consent: await consent(details.session.accountId) };
      return provider.interactionFinished(req, res, result, { mergeWithLastSubmission: true });
    }
    let error = "";
    let login = details.params.login_hint ?? "";
    if (submitted) {
      const form = new URLSearchParams(await readBody(req));
      login = form.get("login") ?? "";
      const person = Object.values(PEOPLE).find((p) => p.email === login.toLowerCase() && p.tenantId === tenant.id);
      if (person && form.get("password") === PASSWORD) {
        const result = { login: { accountId: person.oid }, consent: await consent(person.oid) };
        return provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
      }
      error = '<p role="alert">Your e-mail or password is wrong.</p>';
    }
    send(res, 200, page(`Sign in to ${tenant.name}`, `${error}
<form method="post" action="/${tenant.id}/v2.0/interaction/${esc(details.uid)}/login">
<p><label for="login">E-mail</label> <input id="login" name="login" type="email" autocomplete="username" required value="${esc(login)}"></p>
<p><label for="password">Password</label> <input id="password" name="password" type="password" autocomplete="current-password" required${login ? " autofocus" : ""}></p>
<p><button type="submit">Sign in</button></p>
</form>`));
  }

  /** Home realm discovery: the e-mail's domain names the tenant. */
  function authorize(query: URLSearchParams, res: ServerResponse) {
    const hint = query.get("login_hint");
    const tenant = TENANTS.find((t) => hint?.toLowerCase().endsWith(`@${t.domain}`));
    if (tenant) return redirect(res, `${url}/${tenant.id}/v2.0/auth?${query}`);
    const hidden = [...query].filter(([name]) => name !== "login_hint")
      .map(([name, value]) => `<input type="hidden" name="${esc(name)}" value="${esc(value)}">`).join("");
    const error = hint === null ? "" : `<p role="alert">No organisation signs in here with ${esc(hint)}.</p>`;
    send(res, 200, page("Sign in", `${error}
<form method="get" action="/organizations/oauth2/v2.0/authorize">${hidden}
<p><label for="login_hint">E-mail</label> <input id="login_hint" name="login_hint" type="email" autocomplete="username" required autofocus value="${esc(hint ?? "")}"></p>
<p><button type="submit">Next</button></p>
</form>`));
  }

  /** The first tenant's answer that is not `invalid_grant`, as it gave it. */
  async function token(req: IncomingMessage, res: ServerResponse) {
    if (req.headers.origin) {
      res.setHeader("Access-Control-Allow-Origin", req.headers.origin);
      res.setHeader("Vary", "Origin");
    }
    if (req.method === "OPTIONS") {
      res.writeHead(204, { "Access-Control-Allow-Methods": "POST", "Access-Control-Allow-Headers": "Content-Type", "Access-Control-Max-Age": "600" });
      return res.end();
    }
    if (req.method !== "POST") return send(res, 405, page("Method not allowed", ""));
    const body = await readBody(req);
    let answer = { status: 400, type: "application/json", text: '{"error":"invalid_grant"}' };
    for (const { id } of TENANTS) {
      const reply = await fetch(`${url}/${id}/v2.0/token`, {
        method: "POST",
        headers: { "Content-Type": req.headers["content-type"] ?? "application/x-www-form-urlencoded" },
        body,
      });
      answer = { status: reply.status, type: reply.headers.get("content-type") ?? "application/json", text: await reply.text() };
      if (answer.status !== 400 || errorOf(answer.text) !== "invalid_grant") break;
    }
    res.writeHead(answer.status, { "Content-Type": answer.type, "Cache-Control": "no-store" });
    res.end(answer.text);
  }

  /** To the end-session page of the ID token's tenant; without one, straight back. */
  function logout(query: URLSearchParams, res: ServerResponse) {
    const tid = payloadOf(query.get("id_token_hint") ?? "")?.tid;
    if (typeof tid === "string" && tenants.has(tid)) return redirect(res, `${url}/${tid}/v2.0/session/end?${query}`);
    const back = query.get("post_logout_redirect_uri");
    if (back && postLogoutRedirectUris.includes(back)) {
      const to = new URL(back);
      const state = query.get("state");
      if (state !== null) to.searchParams.set("state", state);
      return redirect(res, to.href);
    }
    send(res, 200, page("Signed out", "<p>You have signed out.</p>"));
  }

  const metadata = {
    issuer: `${url}/{tenantid}/v2.0`,
    authorization_endpoint: `${url}/organizations/oauth2/v2.0/authorize`,
    token_endpoint: `${url}/organizations/oauth2/v2.0/token`,
    end_session_endpoint: `${url}/organizations/oauth2/v2.0/logout`,
    jwks_uri: `${url}/organizations/discovery/v2.0/keys`,
    response_types_supported: ["code"],
    response_modes_supported: ["query", "fragment", "form_post"],
    grant_types_supported: ["authorization_code", "refresh_token"],
    code_challenge_methods_supported: ["S256"],
    subject_types_supported: ["public"],
    id_token_signing_alg_values_supported: ["RS256"],
    token_endpoint_auth_methods_supported: ["none"],
    scopes_supported: ["openid", "profile", "offline_access"],
    claims_supported: ["sub", "iss", "aud", "exp", "iat", "nbf", "tid", "oid", "name", "preferred_username", "roles"],
    request_uri_parameter_supported: false,
  };

  async function route(req: IncomingMessage, res: ServerResponse) {
    const { pathname, searchParams } = new URL(req.url ?? "/", url);
    const tenantPath = /^\/([0-9a-f-]{36})\/v2\.0(\/.*)?$/.exec(pathname);
    const found = tenantPath && tenants.get(tenantPath[1]);
    if (found) {
      const { tenant, provider, handle } = found;
      const rest = tenantPath[2] ?? "/";
      const login = /^\/interaction\/[^/]+(\/login)?$/.exec(rest);
      if (login) return interaction(provider, tenant, req, res, req.method === "POST" && login[1] !== undefined);
      if (rest === "/auth" && req.method === "GET") entraPrompt(searchParams);
      // Mounted as Express would: oidc-provider finds its mount path from originalUrl.
      const query = searchParams.toString() ? `?${searchParams}` : "";
      Object.assign(req, { url: `${rest}${query}`, originalUrl: `/${tenant.id}/v2.0${rest}${query}`, baseUrl: `/${tenant.id}/v2.0` });
      return handle(req, res);
    }
    switch (pathname) {
      case "/organizations/v2.0/.well-known/openid-configuration":
        return send(res, 200, JSON.stringify(metadata), "application/json");
      case "/organizations/discovery/v2.0/keys":
        return send(res, 200, JSON.stringify({ keys: [publicJwk] }), "application/json");
      case "/organizations/oauth2/v2.0/authorize":
        return authorize(searchParams, res);
      case "/organizations/oauth2/v2.0/token":
        return token(req, res);
      case "/organizations/oauth2/v2.0/logout":
        return logout(searchParams, res);
    }
    send(res, 404, page("Not found", ""));
  }

  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    route(req, res).catch((err: unknown) => {
      console.error("identity provider:", err);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });

  return {
    url,
    metadataUrl: `${url}/organizations/v2.0/.well-known/openid-configuration`,
    clientId,
    audience,
    serverEnv: {
      ESCALADE_OIDC_METADATA_URL: `${url}/organizations/v2.0/.well-known/openid-configuration`,
      ESCALADE_OIDC_AUDIENCE: audience,
      ESCALADE_OPERATOR_TENANT_ID: OPERATOR_TENANT,
      ESCALADE_OIDC_CONSOLE_CLIENT_ID: clientId,
    },
    async stop() {
      const closed = new Promise((done) => server.close(done));
      server.closeAllConnections();
      await closed;
    },
  };
}

/** The claims escalade reads, as Entra names them. */
function entraClaims(person: Person) {
  return { tid: person.tenantId, oid: person.oid, name: person.name, preferred_username: person.email, roles: person.roles };
}

/**
 * Entra issues a refresh token for `offline_access` without `prompt=consent`, and knows
 * `select_account`; oidc-provider wants the first and refuses the second.
 */
function entraPrompt(query: URLSearchParams) {
  const prompt = new Set((query.get("prompt") ?? "").split(" ").filter(Boolean).map((p) => (p === "select_account" ? "login" : p)));
  if (query.get("scope")?.split(" ").includes("offline_access") && !prompt.has("none")) prompt.add("consent");
  if (prompt.size) query.set("prompt", [...prompt].join(" "));
}

/** An OAuth error answer's `error`. */
function errorOf(text: string): unknown {
  try {
    return JSON.parse(text).error;
  } catch {
    return undefined;
  }
}

/** A JWT's payload, unverified; undefined when it is not one. */
function payloadOf(jwt: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(Buffer.from(jwt.split(".")[1] ?? "", "base64url").toString("utf8"));
  } catch {
    return undefined;
  }
}

async function quietly<T>(work: () => T | Promise<T>): Promise<T> {
  const { info, warn } = console;
  console.info = console.warn = () => {};
  try {
    return await work();
  } finally {
    Object.assign(console, { info, warn });
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function send(res: ServerResponse, status: number, body: string, type = "text/html; charset=utf-8") {
  res.writeHead(status, { "Content-Type": type, "Cache-Control": "no-store", ...(type.startsWith("application/json") ? { "Access-Control-Allow-Origin": "*" } : {}) });
  res.end(body);
}

function redirect(res: ServerResponse, location: string) {
  res.writeHead(302, { Location: location, "Cache-Control": "no-store" });
  res.end();
}

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(title)}</title></head>
<body><main><h1>${esc(title)}</h1>
${body}
</main></body></html>`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i === -1 ? undefined : process.argv[i + 1];
  };
  const consoleUri = `${(arg("console") ?? "http://127.0.0.1:8080").replace(/\/+$/, "")}/console/`;
  const provider = await startIdentityProvider({ redirectUris: [consoleUri], port: Number(arg("port") ?? 8089) });
  for (const [name, value] of Object.entries(provider.serverEnv)) console.log(`export ${name}=${value}`);
  console.log(`# ${provider.url}, redirect and post-logout URI ${consoleUri}; everyone's password: ${PASSWORD}`);
  for (const [key, p] of Object.entries(PEOPLE)) {
    console.log(`#   ${key.padEnd(8)} ${p.email.padEnd(44)} ${p.name}  tenant ${p.tenantId}  roles ${p.roles.join(", ") || "none"}`);
  }
  const stop = () => void provider.stop().then(() => process.exit(0));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}
