// Shared set-up for the end-to-end tests: Debian's Chromium through playwright-core, never a
// browser downloaded by Playwright. `cargo xtask test` sets WALLET_URL, CHROMIUM and E2E_OUT.
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

export const walletUrl = process.env.WALLET_URL ?? "http://127.0.0.1:8080";
export const outDir = process.env.E2E_OUT ?? "../target/e2e";

/** Launches headless Chromium with the flags this offline machine needs. */
export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** Saves a full-page screenshot under target/e2e and returns its path. */
export async function screenshot(page, name) {
  mkdirSync(outDir, { recursive: true });
  const path = join(outDir, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
