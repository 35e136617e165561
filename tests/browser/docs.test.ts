// The documentation at /docs, as an integrator in a real deployment opens it: under a host name
// that is not localhost (where Swagger UI would ask validator.swagger.io for a badge), every
// request the page makes goes to the server that served it, and nothing the page does breaks its
// Content-Security-Policy (the console's).

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { launchChromium } from "./chromium.js";
import { startDemoServer, type DemoServer } from "./server.js";

const HOST = "escalade.internal.partner.cn";
let server: DemoServer;

before(async () => {
  server = await startDemoServer();
});

after(async () => {
  await server.stop();
});

test("/docs renders the API and asks no host but its own", async () => {
  const browser = await launchChromium([`--host-resolver-rules=MAP ${HOST} 127.0.0.1`]);
  try {
    const page = await browser.newPage();
    const requested: string[] = [];
    const problems: string[] = [];
    page.on("request", (request) => requested.push(request.url()));
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
    page.on("console", (message) => {
      if (message.type() === "error" && /Content.Security.Policy|Refused to/i.test(message.text())) {
        problems.push(`CSP: ${message.text()}`);
      }
    });
    const origin = `http://${HOST}:${server.port}`;

    const answer = await page.goto(`${origin}/docs/`);
    assert.match(answer?.headers()["content-security-policy"] ?? "", /default-src 'none'; script-src 'self'/);
    await page.getByRole("heading", { name: /escalade/ }).first().waitFor();
    await page.getByText("Create a partner").first().click();
    await page.getByRole("button", { name: "Try it out" }).first().waitFor();
    await page.waitForLoadState("networkidle");

    assert.deepEqual(problems, [], "page errors and breaches of the Content-Security-Policy");

    const elsewhere = requested.filter((url) => new URL(url).origin !== origin);
    assert.deepEqual(elsewhere, [], "requests to other hosts");
    assert.ok(requested.includes(`${origin}/openapi.json`), "the spec is read from the server");
    assert.equal(await page.locator("img[src*='validator']").count(), 0, "no validator badge");
  } finally {
    await browser.close();
  }
});
