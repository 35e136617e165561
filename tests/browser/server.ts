// Starts `escalade serve --demo` on a free port over a fresh SQLite file, for tests that need a
// live server, and reads the URL and the demo keys it prints.

import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";

export interface DemoServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  port: number;
  keys: { admin: string; operator: string; partner: string };
  stop(): Promise<void>;
}

/** The checkout's root, from where tsc puts this file (target/browser-tests/tests/browser/). */
export const REPO = resolve(import.meta.dirname, "../../../..");

/** The binary under test: `ESCALADE_BIN`, or the debug build of this checkout. */
function binary(): string {
  return process.env.ESCALADE_BIN ?? resolve(REPO, "target/debug/escalade");
}

/** A port free on 127.0.0.1 now, for a server whose address must be known before it starts. */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((listening) => probe.listen(0, "127.0.0.1", listening));
  const { port } = probe.address() as AddressInfo;
  await new Promise((closed) => probe.close(closed));
  return port;
}

/** Starts the demo on `port` (any free one by default), with `env` added to its environment. */
export async function startDemoServer(env: Record<string, string> = {}, bindPort = 0): Promise<DemoServer> {
  const dir = mkdtempSync(join(tmpdir(), "escalade-browser-"));
  const child: ChildProcess = spawn(binary(), ["serve", "--demo", "--bind", `127.0.0.1:${bindPort}`], {
    env: {
      ...process.env,
      ESCALADE_DATABASE_URL: `sqlite://${join(dir, "escalade.db")}`,
      ESCALADE_LOG: "warn",
      ESCALADE_LOG_FORMAT: "json",
      ...env,
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const keys: Record<string, string> = {};
  const lines = createInterface({ input: child.stdout! });
  const url = await new Promise<string>((resolveUrl, reject) => {
    child.once("exit", (code) => reject(new Error(`escalade exited early with ${code}`)));
    lines.on("line", (line) => {
      const key = /^\s+(admin|operator|partner)\s+(esc_\S+)$/.exec(line);
      if (key) keys[key[1]] = key[2];
      const listening = /^escalade: listening on (http:\/\/\S+)/.exec(line);
      if (listening) resolveUrl(listening[1]);
    });
  });
  const port = Number(new URL(url).port);
  return {
    url,
    port,
    keys: { admin: keys.admin, operator: keys.operator, partner: keys.partner },
    async stop() {
      const exited = new Promise((done) => child.once("exit", done));
      child.kill("SIGTERM");
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
