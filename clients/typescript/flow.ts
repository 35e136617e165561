// One whole escalation through the client @hey-api/openapi-ts generates from
// openapi/openapi.json, against a live demo server (`escalade serve --demo`): the partner finds
// the customer, tries self-help, dry-runs and submits; an operator takes it from the triage
// queue to resolved under If-Match; the partner reads the trail. Only generated code talks to
// the server.
//
//   ESCALADE_URL=http://127.0.0.1:8080 ESCALADE_PARTNER_KEY=esc_… ESCALADE_OPERATOR_KEY=esc_… \
//     node target/clients/typescript/flow.js

import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";

import { createClient, createConfig } from "./generated/client/index.js";
import {
  addEscalationNote,
  createEscalation,
  downloadEscalationAttachment,
  getEscalation,
  getSelfHelp,
  listCustomers,
  listEscalationEvents,
  listEscalations,
  listServices,
  transitionEscalation,
  uploadEscalationAttachment,
  validateEscalation,
} from "./generated/sdk.gen.js";
import type { EscalationInput, Problem } from "./generated/types.gen.js";

function environment(name: string): string {
  const value = process.env[name];
  assert.ok(value, `${name} is set`);
  return value;
}

function submission(customerId: string, steps: string[]): EscalationInput {
  const now = Date.now();
  return {
    customer_id: customerId,
    service_key: "microsoft-365",
    category: "service_unavailable",
    severity: "moderate",
    title: "Exchange Online 邮件无法投递到外部域",
    description: "自 09:10 起，全部用户发往外部域的邮件停留在队列中，退信代码 4.4.7。",
    business_impact: "300 名员工无法与客户和供应商通信。",
    problem_started_at: new Date(now - 2 * 3600_000).toISOString(),
    reasons: ["lacks_support_tools"],
    justification: "需要世纪互联的传输日志才能确定邮件在服务端被阻塞的原因。",
    troubleshooting: {
      service_health_checked_at: new Date(now - 600_000).toISOString(),
      admin_center_attempted: true,
      steps,
    },
    contact: {
      first_name: "伟",
      last_name: "张",
      email: "zhang.wei@cloudbridge.cn",
      phone: "+86 10 5555 0199",
      preferred_contact_method: "email",
      preferred_language: "zh-Hans",
      time_zone: "Asia/Shanghai",
      available_24x7: false,
    },
  };
}

/** The body of a success, failing with the problem document otherwise. */
function ok<T>(result: { data?: T; error?: unknown; response: Response }, status: number): T {
  assert.equal(result.response.status, status, JSON.stringify(result.error));
  assert.ok(result.data !== undefined);
  return result.data;
}

/** The problem document of a refused request, as the client types it. */
function refused<E extends Problem>(result: { error?: E; response: Response }, status: number): E {
  assert.equal(result.response.status, status);
  assert.ok(result.error !== undefined);
  return result.error;
}

async function main(): Promise<void> {
  const baseUrl = environment("ESCALADE_URL");
  const partner = createClient(createConfig({ baseUrl, auth: environment("ESCALADE_PARTNER_KEY") }));
  const operator = createClient(createConfig({ baseUrl, auth: environment("ESCALADE_OPERATOR_KEY") }));

  // The partner finds the customer by the start of its name, and looks at the service.
  const found = ok(await listCustomers({ client: partner, query: { q: "上海" } }), 200);
  const customer = found.items[0];
  assert.ok(customer);
  assert.equal(customer.company_name, "上海云启科技有限公司");
  const services = ok(await listServices({ client: partner }), 200);
  assert.ok(services.items.some((service) => service.key === "microsoft-365"));
  const selfHelp = ok(
    await getSelfHelp({ client: partner, path: { customer_id: customer.id, service_key: "microsoft-365" } }),
    200,
  );
  assert.deepEqual(selfHelp.active_incidents, []);

  // A dry run without troubleshooting steps fails one criterion; with them, none.
  const lacking = ok(await validateEscalation({ client: partner, body: submission(customer.id, []) }), 200);
  assert.deepEqual(
    lacking.checks.filter((check) => check.outcome === "failed").map((check) => check.criterion),
    ["partner_troubleshooting"],
  );
  const body = submission(customer.id, ["在管理中心运行了邮件流诊断"]);
  assert.ok(ok(await validateEscalation({ client: partner, body }), 200).eligible);

  // Submitting with an Idempotency-Key: a retry answers the same escalation.
  const idempotencyKey = `typescript-flow-${randomUUID()}`;
  const submit = () => createEscalation({ client: partner, body, headers: { "Idempotency-Key": idempotencyKey } });
  const escalation = ok(await submit(), 201);
  const retried = await submit();
  assert.equal(ok(retried, 201).id, escalation.id);
  assert.equal(retried.response.headers.get("Idempotency-Replayed"), "true");
  const read = await getEscalation({ client: partner, path: { id: escalation.id } });
  assert.equal(ok(read, 200).status, "submitted");
  ok(
    await addEscalationNote({ client: partner, path: { id: escalation.id }, body: { text: "客户可随时配合远程排查。" } }),
    201,
  );
  // The log the technician will ask for, attached as bytes and read back by range.
  const log = "2026-11-24 09:10:02 451 4.4.7 邮件在队列中过期\n".repeat(400);
  const logBytes = new TextEncoder().encode(log);
  const attached = ok(
    await uploadEscalationAttachment({
      client: partner,
      path: { id: escalation.id },
      query: { filename: "queue.log" },
      body: new Blob([logBytes]),
    }),
    201,
  );
  assert.equal(attached.size_bytes, logBytes.length);
  assert.equal(attached.media_type, "text/plain");
  const head = await downloadEscalationAttachment({
    client: operator,
    path: { id: escalation.id, attachment_id: attached.id },
    headers: { Range: "bytes=0-18" },
    parseAs: "blob",
  });
  assert.equal(head.response.status, 206);
  assert.ok(head.data);
  assert.deepEqual(new Uint8Array(await head.data.arrayBuffer()), logBytes.slice(0, 19));

  // The operator finds it in the triage queue and works it under If-Match.
  const queue = ok(await listEscalations({ client: operator, query: { order: "due", status: "submitted" } }), 200);
  assert.ok(queue.items.some((item) => item.id === escalation.id));
  const stale = read.response.headers.get("ETag");
  assert.ok(stale);
  const started = await transitionEscalation({
    client: operator,
    path: { id: escalation.id },
    headers: { "If-Match": stale },
    body: { to: "in_progress", engineer: { name: "李娜", email: "li.na@oe.21vianet.com" } },
  });
  assert.equal(ok(started, 200).status, "in_progress");
  const resolve = (ifMatch: string) =>
    transitionEscalation({
      client: operator,
      path: { id: escalation.id },
      headers: { "If-Match": ifMatch },
      body: { to: "resolved", reason: "已在服务端清除传输队列，外部邮件恢复投递。" },
    });
  // The tag read before the start is stale now: a typed problem says so.
  assert.equal(refused(await resolve(stale), 412).code, "stale_version");
  const resolved = ok(await resolve(started.response.headers.get("ETag") ?? ""), 200);
  assert.equal(resolved.status, "resolved");

  // The partner reads every step in the trail.
  const events = ok(await listEscalationEvents({ client: partner, path: { id: escalation.id } }), 200);
  assert.deepEqual(
    events.items.map((event) => event.kind),
    ["created", "note_added", "attachment_added", "status_changed", "status_changed"],
  );

  // An unknown escalation (or another partner's) arrives as a typed problem too.
  const unknown = await getEscalation({ client: partner, path: { id: randomUUID() } });
  assert.equal(refused(unknown, 404).code, "not_found");
  console.log(`typescript flow: ${escalation.number} submitted, worked and resolved through the generated client`);
}

await main();
