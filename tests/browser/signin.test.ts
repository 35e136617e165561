// People signing in to the console with their organisation's identity, through a real OpenID
// Provider (npm oidc-provider, standing in for Microsoft Entra ID operated by 21Vianet with a
// tenant per organisation): a partner's engineer signs in on the provider's pages and raises an
// escalation as themselves; a 21Vianet technician signs in and sees who raised it; a person
// without a role is turned away in words; the access token is renewed before it expires; signing
// out ends the provider's session too.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import type { Browser, BrowserContext, Page } from "playwright-core";

import { STRINGS } from "../../console/src/i18n.js";
import { launchChromium } from "./chromium.js";
import { PASSWORD, PEOPLE, startIdentityProvider, type IdentityProvider, type Person } from "./identity-provider.js";
import { freePort, startDemoServer, type DemoServer } from "./server.js";
import { fillForm, step, walkToForm } from "./steps.js";

const t = STRINGS.en;
/** Short-lived access tokens, so a renewal happens within the test (the console renews a minute ahead). */
const TOKEN_TTL_SECONDS = 65;
const DESKTOP = { width: 1440, height: 900 };

let provider: IdentityProvider;
let server: DemoServer;
let browser: Browser;
/** The console's origin: 127.0.0.1 is a secure context, as an https deployment is. */
let consoleOrigin: string;

before(async () => {
  const port = await freePort();
  consoleOrigin = `http://127.0.0.1:${port}`;
  provider = await startIdentityProvider({
    redirectUris: [`${consoleOrigin}/console/`],
    postLogoutRedirectUris: [`${consoleOrigin}/console/`],
    accessTokenTtlSeconds: TOKEN_TTL_SECONDS,
  });
  server = await startDemoServer(provider.serverEnv, port);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await provider?.stop();
});

/** The context's pages break no rule of the console's policy and throw nothing. */
function watch(context: BrowserContext): string[] {
  const problems: string[] = [];
  context.on("page", (page) => {
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
    page.on("console", (message) => {
      if (message.type() === "error" && /Content.Security.Policy|Refused to/i.test(message.text())) {
        problems.push(`CSP: ${message.text()}`);
      }
    });
  });
  return problems;
}

/**
 * Signs `person` in from the console, through the provider's e-mail and password pages; with
 * `shot`, the console's sign-in page is checked and its screenshot kept under that name first.
 */
async function signIn(context: BrowserContext, person: Person, shot?: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${consoleOrigin}/console/`);
  await page.getByRole("button", { name: "English" }).click();
  if (shot) {
    await page.getByRole("button", { name: t.signInWithOrganisation }).waitFor();
    await step(page, shot);
  }
  await page.getByRole("button", { name: t.signInWithOrganisation }).click();
  await page.waitForURL((url) => url.origin === provider.url);
  await page.getByLabel("E-mail").fill(person.email);
  await page.getByRole("button", { name: "Next" }).click();
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL((url) => url.origin === consoleOrigin);
  return page;
}

function storedCredential(page: Page): Promise<any> {
  return page.evaluate(() => JSON.parse(sessionStorage.getItem("escalade.credential") ?? "null"));
}

test("a partner's engineer signs in with their organisation and escalates as themselves", async () => {
  const partnerContext = await browser.newContext({ locale: "en-US", viewport: DESKTOP });
  const operatorContext = await browser.newContext({ locale: "en-US", viewport: DESKTOP });
  const problems = [...[partnerContext, operatorContext].map(watch)];
  try {
    // Signed in as 张伟 of the demo partner, with nothing about the sign-in left in the address.
    const partner = await signIn(partnerContext, PEOPLE.partnerA, "en-1440-00-sign-in-with-organisation");
    await partner.getByRole("button", { name: t.signOut }).waitFor();
    await partner.getByText(t.signedInAs(`${PEOPLE.partnerA.name} · 云桥科技 CloudBridge (demo)`)).waitFor();
    assert.equal(new URL(partner.url()).search, "", "the code and state are gone from the address");
    const credential = await storedCredential(partner);
    assert.equal(credential.kind, "person");
    const kept = await partner.evaluate(() => Object.values(localStorage).join("\n"));
    assert.ok(!kept.includes(credential.tokens.accessToken), "the token is in no storage that outlives the tab");

    // The partner's flow, as that person.
    const title = "Exchange Online 外发邮件停滞（组织账户）";
    await walkToForm(partner, t, { domain: "yunqi", service: /Microsoft 365/ });
    await fillForm(partner, t, title);
    await partner.getByLabel(t.steps).fill("在管理中心运行了邮件流诊断");
    await partner.getByText(t.eligible).waitFor();
    await partner.getByRole("button", { name: t.submit }).click();
    await partner.waitForURL(/\/console\/escalations\/[0-9a-f-]{36}$/);
    const id = partner.url().split("/").pop()!;
    const raisedBy = t.byPerson(PEOPLE.partnerA.name, t.roleNames.partner!);
    await partner.locator('[data-kind="created"]').getByText(raisedBy).waitFor();
    await step(partner, "en-1440-00-escalation-raised-by-a-person");

    // The access token is renewed before it expires, and requests go on working.
    const first = credential.tokens.accessToken;
    await partner.waitForTimeout((TOKEN_TTL_SECONDS - 60 + 1) * 1000);
    await partner.getByRole("link", { name: t.navMyEscalations }).click();
    await partner.getByRole("cell", { name: title }).waitFor();
    const renewed = await storedCredential(partner);
    assert.notEqual(renewed.tokens.accessToken, first, "a new access token");
    assert.ok(renewed.tokens.expiresAt > credential.tokens.expiresAt);

    // 21Vianet's technician signs in from the operator tenant, and sees who raised it.
    const operator = await signIn(operatorContext, PEOPLE.operator);
    await operator.getByRole("heading", { name: t.queue }).waitFor();
    await operator.getByText(t.signedInAs(`${PEOPLE.operator.name} · ${t.roleNames.operator}`)).waitFor();
    await operator.goto(`${consoleOrigin}/console/escalations/${id}`);
    await operator.locator('[data-kind="created"]').getByText(raisedBy).waitFor();

    // Signing out ends the provider's session: the next sign-in asks for the password again.
    await partner.getByRole("button", { name: t.signOut }).click();
    await partner.waitForURL((url) => url.origin === provider.url);
    await partner.getByRole("button", { name: /yes|sign.?out/i }).click();
    await partner.waitForURL(`${consoleOrigin}/console/`);
    await partner.getByRole("button", { name: t.signInWithOrganisation }).waitFor();
    assert.equal(await storedCredential(partner), null);
    await partner.getByRole("button", { name: t.signInWithOrganisation }).click();
    await partner.getByLabel("E-mail").fill(PEOPLE.partnerA.email);
    await partner.getByRole("button", { name: "Next" }).click();
    await partner.getByLabel("Password").waitFor();

    assert.deepEqual(problems.flat(), []);
  } finally {
    await partnerContext.close();
    await operatorContext.close();
  }
});

test("a person without a role is turned away in words, and keeps no credential", async () => {
  const context = await browser.newContext({ locale: "en-US" });
  const problems = watch(context);
  try {
    const page = await signIn(context, PEOPLE.noRole);
    await page.getByRole("alert").getByText(/no escalade role/).waitFor();
    await page.getByRole("button", { name: t.signInWithOrganisation }).waitFor();
    assert.equal(await storedCredential(page), null);
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});
