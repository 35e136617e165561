// What more than one browser test does: check a screen and keep its screenshot, and walk the
// partner's flow.

import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";

import type { Page } from "playwright-core";

import type { Strings } from "../../console/src/i18n.js";
import { REPO } from "./server.js";

const SHOTS = process.env.ESCALADE_SCREENSHOTS ?? resolve(REPO, "target/console-screenshots");
const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
mkdirSync(SHOTS, { recursive: true });

/** Each step: axe-core finds nothing serious, nothing is wider than the screen, a screenshot. */
export async function step(page: Page, name: string): Promise<void> {
  await page.evaluate(AXE);
  const violations: { id: string; impact: string; nodes: { target: string[] }[] }[] = await page.evaluate(
    async () => (await (window as any).axe.run(document, { resultTypes: ["violations"] })).violations,
  );
  const serious = violations
    .filter((violation) => violation.impact === "serious" || violation.impact === "critical")
    .map((violation) => `${violation.id} at ${violation.nodes.map((node) => node.target.join(" ")).join(", ")}`);
  assert.deepEqual(serious, [], `${name}: axe-core`);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `${name}: ${overflow}px wider than the screen`);
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}


/** A `datetime-local` value `hours` ago, in the page's time zone. */
export function hoursAgo(page: Page, hours: number): Promise<string> {
  return page.evaluate((hours) => {
    const date = new Date(Date.now() - hours * 3600_000);
    const pad = (n: number) => String(n).padStart(2, "0");
    return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
  }, hours);
}

/** Fills the support details form, all but the troubleshooting steps. */
export async function fillForm(page: Page, t: Strings, title: string): Promise<void> {
  await page.getByLabel(t.category).selectOption("service_unavailable");
  await page.getByLabel(t.severity).selectOption("moderate");
  await page.getByLabel(t.title, { exact: true }).fill(title);
  await page.getByLabel(t.description).fill("自 09:10 起，全部用户发往外部域的邮件停留在队列中，退信代码 4.4.7。");
  await page.getByLabel(t.businessImpact).fill("300 名员工无法与客户和供应商通信。");
  await page.getByLabel(t.problemStartedAt).fill(await hoursAgo(page, 2));
  await page.locator("fieldset", { hasText: t.reasons }).getByRole("checkbox").first().check();
  await page.getByLabel(t.justification).fill("需要世纪互联的传输日志才能确定邮件在服务端被阻塞的原因。");
  await page.getByLabel(t.adminCenterAttempted).check();
  await page.getByLabel(t.lastName).fill("张");
  await page.getByLabel(t.firstName).fill("伟");
  await page.getByLabel(t.email).fill("zhang.wei@cloudbridge.cn");
  await page.getByLabel(t.phone, { exact: true }).fill("+86 10 5555 0199");
}

/** From the customer search to the support details form of a customer's service. */
export async function walkToForm(page: Page, t: Strings, to: { domain: string; service: RegExp }): Promise<void> {
  await page.getByLabel(t.searchCustomers).pressSequentially(to.domain, { delay: 40 });
  await page.getByRole("option").first().waitFor();
  await page.getByLabel(t.searchCustomers).press("Enter");
  await page.getByRole("link", { name: t.newRequest }).click();
  await page.getByRole("link", { name: to.service }).click();
  await page.getByRole("button", { name: t.stillNeedsHelp }).click();
}
