// Debian's Chromium, driven by playwright-core (no browser download), started the way this
// machine's closed network needs: no background networking, no component updates.

import { chromium, type Browser } from "playwright-core";

export async function launchChromium(args: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      ...args,
    ],
  });
}
