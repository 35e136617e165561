// The console at /console/ in Debian's Chromium, as partner staff and 21Vianet technicians use
// it: the partner's four steps to a request (a criterion failing live, then fixed; submit
// double-clicked), an operator working it from the queue to resolved (meeting a page someone
// else changed on the way), and the partner reading every step in the timeline — once in
// Chinese on a phone and once in English on a desktop. Every screen passes axe-core with no
// serious violation and fits its width; no request leaves the server's origin; the page breaks
// no rule of its Content-Security-Policy. Screenshots of each step go to target/console-screenshots
// (or ESCALADE_SCREENSHOTS).

import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { after, before, test } from "node:test";

import type { Browser, BrowserContext, Page } from "playwright-core";

import { STRINGS, type Lang } from "../../console/src/i18n.js";
import { launchChromium } from "./chromium.js";
import { freePort, startDemoServer, type DemoServer } from "./server.js";
import { fillForm, step, walkToForm } from "./steps.js";

/** A host name that is not localhost: the console must work outside a secure context too. */
const HOST = "escalade.internal.partner.cn";
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1440, height: 900 };
/** The log a partner drops onto the form. */
const QUEUE_LOG = "2026-11-24 09:10:02 451 4.4.7 邮件在队列中过期\n";

let server: DemoServer;
let browser: Browser;

before(async () => {
  server = await startDemoServer();
  browser = await launchChromium([`--host-resolver-rules=MAP ${HOST} 127.0.0.1`]);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** The console's address as a deployment would have it: under a host name, not 127.0.0.1. */
function origin(at: DemoServer = server): string {
  return `http://${HOST}:${at.port}`;
}

/** The API from the test's side (setting up, and checking what the console did). */
async function api<T = any>(
  key: string,
  method: string,
  path: string,
  options: { body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: T; etag: string | null }> {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${key}`,
      ...(options.body === undefined ? {} : { "Content-Type": "application/json" }),
      ...options.headers,
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined, etag: response.headers.get("ETag") };
}

/** What a browser context did that it must not: requests elsewhere, page errors, CSP breaches. */
class Watch {
  readonly requests: { url: string; acceptLanguage?: string }[] = [];
  readonly problems: string[] = [];

  constructor(context: BrowserContext) {
    context.on("request", (request) =>
      this.requests.push({ url: request.url(), acceptLanguage: request.headers()["accept-language"] }),
    );
    context.on("page", (page) => this.page(page));
  }

  page(page: Page): void {
    page.on("pageerror", (error) => this.problems.push(`page error: ${error.message}`));
    page.on("console", (message) => {
      if (message.type() === "error" && /Content.Security.Policy|Refused to/i.test(message.text())) {
        this.problems.push(`CSP: ${message.text()}`);
      }
    });
  }

  assertClean(lang: Lang, at: DemoServer = server): void {
    const elsewhere = this.requests.filter((request) => new URL(request.url).origin !== origin(at));
    assert.deepEqual(elsewhere, [], "requests to other hosts");
    assert.deepEqual(this.problems, []);
    const dryRuns = this.requests.filter((request) => request.url.includes("/v1/escalations/validate"));
    for (const request of dryRuns) assert.equal(request.acceptLanguage, lang, "the console asks in its language");
  }
}

/**
 * Opens the console (of `at`, the main server by default) in a context that starts in the other
 * language, switches, and signs in; with `shot`, first tries a wrong key and takes that screenshot.
 */
async function signIn(
  context: BrowserContext,
  watch: Watch,
  lang: Lang,
  key: string,
  options: { shot?: string; at?: DemoServer } = {},
): Promise<Page> {
  const t = STRINGS[lang];
  const shot = options.shot;
  const page = await context.newPage();
  watch.page(page);
  await page.goto(`${origin(options.at)}/console/`);
  await page.getByRole("button", { name: lang === "en" ? "English" : "中文" }).click();
  await page.getByRole("heading", { name: t.signIn }).waitFor();
  if (shot) {
    // A wrong key is refused in place.
    await page.getByLabel(t.apiKey).fill("esc_not-a-key");
    await page.getByRole("button", { name: t.signIn }).click();
    await page.getByText(t.keyRejected).waitFor();
    await step(page, shot);
  }
  await page.getByLabel(t.apiKey).fill(key);
  await page.getByRole("button", { name: t.signIn }).click();
  await page.getByRole("button", { name: t.signOut }).waitFor();
  assert.ok(!page.url().includes(key), "the key is never in the address");
  assert.deepEqual(await page.evaluate(() => JSON.parse(sessionStorage.getItem("escalade.credential") ?? "null")), { kind: "key", key });
  const kept = await page.evaluate(() => Object.values(localStorage).join("\n"));
  assert.ok(!kept.includes(key), "the key is in no storage that outlives the tab");
  return page;
}

/** Signs in as the partner and walks to the form for a demo customer and service. */
async function openForm(
  context: BrowserContext,
  watch: Watch,
  options: { domain: string; service: RegExp; at?: DemoServer },
): Promise<Page> {
  const t = STRINGS.en;
  const at = options.at ?? server;
  const page = await signIn(context, watch, "en", at.keys.partner, { at });
  await walkToForm(page, t, options);
  return page;
}

async function partnerToResolved(lang: Lang, viewport: { width: number; height: number }): Promise<void> {
  const t = STRINGS[lang];
  const prefix = `${lang}-${viewport.width}`;
  const vocabulary = (await api(server.keys.partner, "GET", "/v1/vocabulary", { headers: { "Accept-Language": lang } })).body;
  const statusLabel = (code: string) => vocabulary.escalation_statuses.find((term: any) => term.code === code).label;
  const title = `Exchange Online 外发邮件停滞 (${prefix})`;
  const otherLocale = lang === "en" ? "zh-CN" : "en-US";

  const partnerContext = await browser.newContext({ viewport, locale: otherLocale, timezoneId: "Asia/Shanghai" });
  const operatorContext = await browser.newContext({ viewport, locale: otherLocale, timezoneId: "Asia/Shanghai" });
  const partnerWatch = new Watch(partnerContext);
  const operatorWatch = new Watch(operatorContext);
  try {
    // Sign in; step 1: find the customer by the start of its domain, with the keyboard.
    const partner = await signIn(partnerContext, partnerWatch, lang, server.keys.partner, {
      shot: `${prefix}-01-sign-in`,
    });
    await partner.getByRole("heading", { name: t.customerRequests }).waitFor();
    const search = partner.getByLabel(t.searchCustomers);
    await search.pressSequentially("yunqi", { delay: 40 });
    await partner.getByRole("option", { name: /上海云启科技有限公司/ }).waitFor();
    assert.equal(await partner.getByRole("option").count(), 1);
    await step(partner, `${prefix}-02-customer-search`);
    await search.press("Enter");

    // Step 2: the customer, New request; step 3: the service, its admin center, self-help and health.
    await partner.getByRole("heading", { name: "上海云启科技有限公司" }).waitFor();
    await partner.getByRole("link", { name: t.newRequest }).click();
    await partner.getByRole("heading", { name: new RegExp(t.stepService) }).waitFor();
    await step(partner, `${prefix}-03-services`);
    await partner.getByRole("link", { name: /Microsoft 365/ }).click();
    await partner.getByRole("heading", { name: new RegExp(t.stepSelfHelp) }).waitFor();
    const adminCenter = partner.getByRole("link", { name: "https://portal.partner.microsoftonline.cn/AdminPortal" });
    assert.equal(await adminCenter.getAttribute("target"), "_blank");
    await partner.getByRole("heading", { name: t.serviceHealth }).waitFor();
    await partner.getByText(t.noActiveIncidents).waitFor();
    await step(partner, `${prefix}-04-self-help`);
    await partner.getByRole("button", { name: t.stillNeedsHelp }).click();

    // Step 4: the support details, with the troubleshooting steps left out at first.
    await fillForm(partner, t, title);
    // A field the server refuses says why beside it, in the console's language.
    const titleField = partner.getByLabel(t.title, { exact: true });
    await titleField.fill("   ");
    await partner.locator("#f-title-error").waitFor();
    assert.equal(await titleField.getAttribute("aria-invalid"), "true");
    await titleField.fill(title);
    await partner.locator("#f-title-error").waitFor({ state: "detached" });
    const troubleshooting = partner.locator('[data-criterion="partner_troubleshooting"]');
    await partner.locator('[data-criterion="partner_troubleshooting"].failed').waitFor();
    await troubleshooting.getByText(t.failed).waitFor();
    assert.equal(await partner.locator(".criterion.passed").count(), 11);
    await step(partner, `${prefix}-05-form-one-criterion-failing`);

    // Fixed live: the step is written, every criterion passes, the due time shows.
    await partner.getByLabel(t.steps).fill("在管理中心运行了邮件流诊断\n检查了连接器配置");
    await partner.locator('[data-criterion="partner_troubleshooting"].passed').waitFor();
    await partner.getByText(t.eligible).waitFor();
    assert.equal(await partner.locator(".criterion.passed").count(), 12);
    assert.ok(await partner.locator(".due").isVisible());

    // A log file dropped onto the form, attached once the escalation exists.
    const dropped = await partner.evaluateHandle((log) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([log], "queue.log", { type: "text/plain" }));
      return transfer;
    }, QUEUE_LOG);
    await partner.locator(".dropzone").dispatchEvent("drop", { dataTransfer: dropped });
    await partner.getByText("queue.log").waitFor();
    await step(partner, `${prefix}-06-form-ready`);

    // Submitted with a double click, and the answer lost on its way back: one request goes out;
    // the retry carries the same Idempotency-Key and gets the same escalation, replayed.
    const submissions: string[] = [];
    let loseTheAnswer = true;
    await partner.route("**/v1/escalations", async (route) => {
      const request = route.request();
      if (request.method() !== "POST") return route.continue();
      submissions.push(request.headers()["idempotency-key"] ?? "");
      if (!loseTheAnswer) return route.continue();
      loseTheAnswer = false;
      await route.fetch({ url: request.url().replace(HOST, "127.0.0.1") });
      return route.abort("connectionreset");
    });
    await partner.getByRole("button", { name: t.submit }).dblclick();
    await partner.getByText(t.offline).waitFor();
    assert.equal(submissions.length, 1, "a double click sends one request");
    const replayed = partner.waitForResponse(
      (response) => response.url().endsWith("/v1/escalations") && response.request().method() === "POST",
    );
    await partner.getByRole("button", { name: t.submit }).click();
    assert.equal((await replayed).headers()["idempotency-replayed"], "true");
    assert.equal(submissions.length, 2);
    assert.equal(submissions[1], submissions[0], "the retry reuses the key");
    await partner.unroute("**/v1/escalations");
    await partner.waitForURL(/\/console\/escalations\/[0-9a-f-]{36}$/);
    const id = partner.url().split("/").pop()!;
    const mine = await api(server.keys.partner, "GET", "/v1/escalations?limit=100");
    assert.equal(mine.body.items.filter((item: any) => item.title === title).length, 1, "exactly one escalation");
    const escalation = mine.body.items.find((item: any) => item.id === id);
    await partner.getByRole("heading", { name: new RegExp(escalation.number) }).waitFor();
    await partner.getByTestId("status").getByText(statusLabel("submitted")).waitFor();
    await partner.getByTestId("countdown").waitFor();
    // The dropped file was attached, and downloads as it was.
    const download = partner.waitForEvent("download");
    await partner.getByRole("button", { name: t.download("queue.log") }).click();
    const downloaded = await download;
    assert.equal(downloaded.suggestedFilename(), "queue.log");
    assert.equal(readFileSync(await downloaded.path(), "utf8"), QUEUE_LOG);
    await partner.getByLabel(t.addNote).fill("客户可随时配合远程排查。");
    await partner.getByRole("button", { name: t.addNote }).click();
    await partner.getByText("客户可随时配合远程排查。").first().waitFor();
    await step(partner, `${prefix}-07-request-submitted`);

    // The operator finds it in the triage queue, filtered, and opens it.
    const operator = await signIn(operatorContext, operatorWatch, lang, server.keys.operator);
    await operator.getByRole("heading", { name: t.queue }).waitFor();
    await operator.getByLabel(t.severity).selectOption("moderate");
    await operator.getByLabel(t.partner, { exact: true }).selectOption(escalation.partner_id);
    await operator.getByLabel(t.contactLanguage).selectOption("zh-Hans");
    const row = operator.getByRole("link", { name: escalation.number });
    await row.waitFor();
    await step(operator, `${prefix}-08-triage-queue`);
    await row.click();
    await operator.getByRole("heading", { name: t.quality(90) }).waitFor();

    // Assign an engineer and start work.
    const moves = operator.locator("form.move");
    await operator.getByRole("button", { name: t.startWork }).click();
    await operator.getByLabel(t.engineerName).fill("李娜");
    await operator.getByLabel(t.engineerEmail).fill("li.na@oe.21vianet.com");
    await moves.getByRole("button", { name: t.startWork }).click();
    await operator.getByTestId("status").getByText(statusLabel("in_progress")).waitFor();
    await step(operator, `${prefix}-09-operator-in-progress`);

    // A colleague asks the partner meanwhile; this page is stale and says so.
    const current = await api(server.keys.operator, "GET", `/v1/escalations/${id}`);
    const asked = await api(server.keys.operator, "POST", `/v1/escalations/${id}/transitions`, {
      headers: { "If-Match": current.etag! },
      body: { to: "awaiting_partner", reason: "请提供一封退信的完整邮件头。" },
    });
    assert.equal(asked.status, 200);
    await operator.getByRole("button", { name: t.resolve }).click();
    await operator.getByLabel(t.reason, { exact: true }).fill("已在服务端清除传输队列。");
    await moves.getByRole("button", { name: t.resolve }).click();
    await operator.getByText(t.stale).waitFor();
    await step(operator, `${prefix}-10-stale-page`);
    await operator.getByRole("button", { name: t.reload }).click();
    await operator.getByTestId("status").getByText(statusLabel("awaiting_partner")).waitFor();

    // The partner answers; the operator resolves.
    await partner.reload();
    await partner.getByTestId("status").getByText(statusLabel("awaiting_partner")).waitFor();
    await partner.locator(".notice", { hasText: t.asks }).getByText("请提供一封退信的完整邮件头。").waitFor();
    await partner.getByRole("button", { name: t.answer }).click();
    await partner.getByLabel(t.reasonOptional).fill("邮件头已作为附件上传。");
    await partner.locator("form.move").getByRole("button", { name: t.answer }).click();
    await partner.getByTestId("status").getByText(statusLabel("in_progress")).waitFor();

    await operator.reload();
    await operator.getByTestId("status").getByText(statusLabel("in_progress")).waitFor();
    await operator.getByRole("button", { name: t.resolve }).click();
    await operator.getByLabel(t.reason, { exact: true }).fill("已在服务端清除传输队列，外部邮件恢复投递。");
    await moves.getByRole("button", { name: t.resolve }).click();
    await operator.getByTestId("status").getByText(statusLabel("resolved")).waitFor();

    // The partner sees every step in the timeline.
    await partner.reload();
    await partner.getByTestId("status").getByText(statusLabel("resolved")).waitFor();
    const kinds = await partner.locator(".timeline li").evaluateAll((items) =>
      items.map((item) => (item as HTMLElement).dataset.kind),
    );
    assert.deepEqual(kinds, [
      "created",
      "attachment_added",
      "note_added",
      "status_changed",
      "status_changed",
      "status_changed",
      "status_changed",
    ]);
    for (const [from, to] of [
      ["submitted", "in_progress"],
      ["in_progress", "awaiting_partner"],
      ["awaiting_partner", "in_progress"],
      ["in_progress", "resolved"],
    ]) {
      await partner.locator(".timeline").getByText(t.fromTo(statusLabel(from!), statusLabel(to!))).first().waitFor();
    }
    await step(partner, `${prefix}-11-partner-timeline`);

    // The partner's list shows it, filtered by status.
    await partner.getByRole("link", { name: t.navMyEscalations }).click();
    await partner.getByLabel(t.status).selectOption("resolved");
    await partner.getByRole("link", { name: escalation.number }).waitFor();
    await step(partner, `${prefix}-12-partner-list`);

    partnerWatch.assertClean(lang);
    operatorWatch.assertClean(lang);
  } finally {
    await partnerContext.close();
    await operatorContext.close();
  }
}

test("in Chinese on a phone: a partner's request from search to resolved", async () => {
  await partnerToResolved("zh-CN", PHONE);
});

test("in English on a desktop: a partner's request from search to resolved", async () => {
  await partnerToResolved("en", DESKTOP);
});

test("customer search finds any part of a name, pages, and moves through its results with the keyboard", async () => {
  const t = STRINGS.en;
  for (let n = 1; n <= 6; n++) {
    const created = await api(server.keys.partner, "POST", "/v1/customers", {
      body: {
        company_name: `Ceshi Trading ${n}`,
        domain: `ceshi-${n}.partner.onmschina.cn`,
        tenant_id: randomUUID(),
        support_plan: "standard",
        primary_contact: { name: `Contact ${n}`, email: `it${n}@ceshi.cn` },
      },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
  }
  const context = await browser.newContext({ viewport: DESKTOP, locale: "en-US" });
  const watch = new Watch(context);
  try {
    const page = await signIn(context, watch, "en", server.keys.partner);
    const search = page.getByLabel(t.searchCustomers);
    await search.pressSequentially("eshi tra", { delay: 40 });
    await page.getByRole("option", { name: /Ceshi Trading 1/ }).waitFor();
    assert.equal(await page.getByRole("option").count(), 5);
    await search.press("ArrowDown");
    await search.press("ArrowDown");
    const active = page.getByRole("option", { selected: true });
    assert.match((await active.textContent()) ?? "", /Ceshi Trading 3/);
    assert.equal(await search.getAttribute("aria-activedescendant"), await active.getAttribute("id"));
    await page.getByRole("button", { name: t.nextPage }).click();
    await page.getByRole("option", { name: /Ceshi Trading 6/ }).waitFor();
    assert.equal(await page.getByRole("option").count(), 1);
    await page.getByRole("button", { name: t.previousPage }).click();
    await page.getByRole("option", { name: /Ceshi Trading 5/ }).waitFor();
    await search.focus();
    await search.press("Enter");
    await page.getByRole("heading", { name: "Ceshi Trading 1" }).waitFor();
    watch.assertClean("en");
  } finally {
    await context.close();
  }
});

/** Submits the open form once every criterion passes; the request page's escalation number. */
async function submitEligible(page: Page, title: string): Promise<string> {
  const t = STRINGS.en;
  await fillForm(page, t, title);
  await page.getByLabel(t.steps).fill("在 Azure 门户中重启了虚拟机");
  await page.getByText(t.eligible).waitFor();
  await page.getByRole("button", { name: t.submit }).click();
  await page.waitForURL(/\/console\/escalations\/[0-9a-f-]{36}$/);
  return (await page.locator("h1 .number").textContent()) ?? "";
}

test("a duplicate is refused on the form, pointing to the open escalation", async () => {
  const t = STRINGS.en;
  const context = await browser.newContext({ viewport: DESKTOP, locale: "en-US" });
  const watch = new Watch(context);
  try {
    const azure = { domain: "yunqi", service: /Azure/ };
    const first = await openForm(context, watch, azure);
    const number = await submitEligible(first, "Azure 虚拟机无法启动");
    const originalUrl = first.url();

    const second = await openForm(context, watch, azure);
    await fillForm(second, t, "Azure 虚拟机仍无法启动");
    await second.getByLabel(t.steps).fill("在 Azure 门户中重启了虚拟机");
    await second.locator('[data-criterion="no_duplicate"].failed').waitFor();
    await second.getByRole("button", { name: t.submit }).click();
    await second.getByText(t.duplicateOf(number)).waitFor();
    await step(second, "en-1440-13-duplicate-refused");
    await second.getByRole("link", { name: number }).click();
    await second.waitForURL(originalUrl);
    watch.assertClean("en");
  } finally {
    await context.close();
  }
});

test("too many requests, and a store that is down, are sentences saying what to do", async () => {
  const t = STRINGS.en;
  // A port nothing listens on, for an S3 endpoint that cannot answer.
  const closed = await freePort();
  const busy = await startDemoServer({ ESCALADE_RATE_LIMIT_PER_MINUTE: "6" });
  const storeDown = await startDemoServer({
    ESCALADE_ATTACHMENT_STORE: `s3://escalade/attachments?endpoint=http://127.0.0.1:${closed}&allow_http=true&skip_signature=true&region=us-east-1`,
  });
  const contexts: BrowserContext[] = [];
  /** A phone-sized browser, watched for requests elsewhere. */
  const open = async () => {
    const context = await browser.newContext({ viewport: PHONE, locale: "en-US" });
    contexts.push(context);
    return { context, watch: new Watch(context) };
  };
  try {
    // Signing in and the first page take three requests of six; searching as one types, the rest.
    const tooMany = await open();
    const page = await signIn(tooMany.context, tooMany.watch, "en", busy.keys.partner, { at: busy });
    await page.getByLabel(t.searchCustomers).pressSequentially("yunqi.partner", { delay: 350 });
    await page.getByRole("alert").getByText(/^Too many requests\. Wait \d+ seconds, then try again\.$/).waitFor();
    await step(page, "en-390-14-too-many-requests");
    tooMany.watch.assertClean("en", busy);

    const down = await open();
    const request = await openForm(down.context, down.watch, { domain: "yunqi", service: /Azure/, at: storeDown });
    await submitEligible(request, "Azure 虚拟机无法启动");
    await request.getByLabel(t.addAttachment).setInputFiles({
      name: "boot.log",
      mimeType: "text/plain",
      buffer: Buffer.from("boot diagnostics: disk not found\n"),
    });
    await request.getByRole("alert").getByText(t.unavailable).waitFor();
    await request.getByText(t.noAttachments).waitFor();
    await step(request, "en-390-15-store-unavailable");
    down.watch.assertClean("en", storeDown);
  } finally {
    for (const context of contexts) await context.close();
    await busy.stop();
    await storeDown.stop();
  }
});
