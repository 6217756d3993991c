// Shared set-up for the end-to-end tests: Debian's Chromium through playwright-core, never a
// browser downloaded by Playwright. `cargo xtask test` sets WALLET_URL, CHROMIUM and E2E_OUT, and
// for the tests that play a service or deploy a new version GUICHET_DATA (the guichet's database and
// keys), SOUVERAIN_BIN (the command line) and WALLET_DIST (the release build).
import { chromium } from "playwright-core";
import { createRequire } from "node:module";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { execFileSync, spawn } from "node:child_process";
import { createServer } from "node:net";
import { createInterface } from "node:readline";

export let walletUrl = process.env.WALLET_URL ?? "http://127.0.0.1:8080";

/**
 * Points this test file's helpers (and its `walletUrl`, a live binding) at another guichet, one the
 * test started itself. Each test file runs in its own process: the others are not affected.
 */
export function useGuichet(url) {
  walletUrl = url;
}

/** A free loopback port (a guichet or a provider that must know its address before it starts). */
export function freePort() {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => done(port));
    });
  });
}

/** How long a started process may take to say it listens. */
const STARTUP_MS = 60_000;

/** Spawns `command` and resolves when it prints a line starting with `listening on `, to { url, stop }. */
export function started(command, args, options) {
  const child = spawn(command, args, { ...options, stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolveStart, reject) => {
    // Bounded: a process that never says it listens fails the test with that reason instead of
    // holding the whole run.
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${command} did not say it listens within ${STARTUP_MS / 1000} s`));
    }, STARTUP_MS);
    createInterface({ input: child.stdout }).on("line", (line) => {
      if (line.startsWith("listening on ")) {
        clearTimeout(timer);
        resolveStart({
          url: line.slice("listening on ".length).trim(),
          stop: () => new Promise((done) => { child.once("exit", done); child.kill("SIGTERM"); }),
        });
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${command} stopped before listening (${code})`));
    });
  });
}
export const outDir = process.env.E2E_OUT ?? "../target/e2e";

/** Launches headless Chromium with the flags this offline machine needs, plus `extraArgs`. */
export async function launch(extraArgs = []) {
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
      ...extraArgs,
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

/** The wallet's origin: every request of a test must go there (no third party). */
export const walletOrigin = new URL(walletUrl).origin;

/** Starts counting the requests a context makes; returns the list of URLs outside the wallet's origin. */
export function watchRequests(context) {
  const foreign = [];
  let total = 0;
  context.on("request", (request) => {
    const url = request.url();
    total += 1;
    if (url.startsWith("data:") || url.startsWith("blob:")) return;
    if (new URL(url).origin !== walletOrigin) foreign.push(url);
  });
  return { foreign, total: () => total };
}

/** Collects uncaught page errors (they fail the tests that check them). */
export function watchErrors(page) {
  const errors = [];
  page.on("pageerror", (err) => errors.push(err.message));
  return errors;
}

export const PASSPHRASE = "cheval agrafe pile correcte 42";

/** Creates a wallet from the welcome page (of the wallet at `base`), confirming the recovery key; returns the key. */
export async function createWallet(page, passphrase = PASSPHRASE, base = walletUrl) {
  await page.goto(base + "/");
  await page.getByRole("link", { name: "Créer mon portefeuille" }).click();
  await page.getByRole("heading", { level: 1, name: "Créer votre portefeuille" }).waitFor();
  await page.getByLabel("Phrase de passe", { exact: true }).fill(passphrase);
  await page.getByLabel("Confirmez la phrase de passe").fill(passphrase);
  await page.getByRole("button", { name: "Créer le portefeuille" }).click();
  const code = page.locator("#recovery-code");
  await code.waitFor({ timeout: 30_000 });
  const groups = await code.locator("code").allTextContents();
  await screenshot(page, "create-recovery-key-fr");
  for (const input of await page.locator("input[data-group]").all()) {
    const n = Number(await input.getAttribute("data-group"));
    await input.fill(groups[n - 1]);
  }
  await page.getByRole("button", { name: "J'ai noté ma clé, continuer" }).click();
  await page.getByRole("heading", { level: 1, name: "Qui détient mes données" }).waitFor();
  return groups.join("-");
}

/** Unlocks from the unlock page. */
export async function unlock(page, passphrase = PASSPHRASE) {
  await page.getByRole("heading", { level: 1, name: "Déverrouiller votre portefeuille" }).waitFor();
  await page.getByLabel("Phrase de passe", { exact: true }).fill(passphrase);
  await page.getByRole("button", { name: "Déverrouiller", exact: true }).click();
}

/** Adds one self-declared item on the "my data" page. */
export async function addData(page, category, field, value) {
  await page.getByRole("link", { name: "Mes données" }).first().click();
  await page.getByRole("heading", { level: 1, name: "Mes données" }).waitFor();
  await page.getByLabel("Catégorie").selectOption(category);
  await page.getByLabel("Intitulé").fill(field);
  await page.getByLabel("Valeur").fill(value);
  await page.getByRole("button", { name: "Enregistrer" }).click();
  await page.locator(".data-item", { hasText: value }).waitFor();
}

const axePath = createRequire(import.meta.url).resolve("axe-core/axe.min.js");

/**
 * Runs axe-core (WCAG 2.1 A and AA rules) on the page and returns its serious and critical
 * violations, each prefixed by `name`; keeps a screenshot. axe is injected as a script, so the
 * page's context must bypass the CSP (`bypassCSP: true`).
 */
export async function axe(page, name) {
  if (!(await page.evaluate(() => typeof window.axe !== "undefined"))) {
    await page.addScriptTag({ path: axePath });
  }
  const result = await page.evaluate(async () => {
    const r = await window.axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } });
    return {
      passes: r.passes.length,
      violations: r.violations
        .filter((v) => v.impact === "serious" || v.impact === "critical")
        .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`),
    };
  });
  // axe really ran: a page with no passing rule means nothing was checked.
  assert.ok(result.passes > 10, `${name}: axe checked ${result.passes} rules`);
  await screenshot(page, `a11y-${name}`);
  return result.violations.map((v) => `${name}: ${v}`);
}

/** Calls the guichet's API (the agent's side) and returns its JSON answer; fails on an error status. */
export async function api(method, path, body) {
  const response = await fetch(walletUrl + path, {
    method,
    headers: body ? { "content-type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  assert.ok(response.ok, `${method} ${path}: ${response.status} ${text}`);
  return JSON.parse(text);
}

/** The claims of the demo citizen's proof of residence. */
export const RESIDENCE = {
  given_name: "Camille",
  family_name: "Martin",
  address: { street_address: "3 rue des Tilleuls", locality: "Beaulieu-sur-Loire", postal_code: "45630" },
  since: "2019-09-01",
};

/** The claims of the demo citizen's household composition. */
export const HOUSEHOLD = {
  family_name: "Martin",
  children: [
    { given_name: "Léa", birthdate: "2018-04-12", school: "École Jules-Ferry" },
    { given_name: "Tom", birthdate: "2020-09-30", school: "École Jules-Ferry" },
  ],
};

/** The agent creates an offer; returns the wallet link. */
export async function offer(credential, claims, label = `e2e ${credential}`) {
  const created = await api("POST", "/api/agent/offers", { credential, label, claims });
  assert.ok(created.wallet_url.startsWith(walletUrl), created.wallet_url);
  return created.wallet_url;
}

/** Opens a same-device link in the page (a new load: the wallet is locked), unlocks, and waits for the page it leads to. */
export async function openLink(page, link, heading) {
  // An offer link differs from the open page only by its fragment (`/#credential_offer=…`): going
  // there directly would not load the page again, so the wallet would stay unlocked.
  await page.goto("about:blank");
  await page.goto(link);
  await unlock(page);
  await page.getByRole("heading", { level: 1, name: heading }).waitFor();
  assert.ok(!page.url().includes("?"), "the link is cleaned from the address bar");
}

/** Receives one credential from an offer link. */
export async function receive(page, credential, claims, vct, label) {
  await openLink(page, await offer(credential, claims, label), "Mes justificatifs");
  await page.getByText("Justificatif reçu et enregistré.").waitFor({ timeout: 20_000 });
  await page.locator(`.credential[data-vct="${vct}"]`).first().waitFor();
}

/** Receives the demo citizen's proof of residence and household composition (what the canteen asks). */
export async function receiveResidenceAndHousehold(page) {
  await receive(page, "residence", RESIDENCE, "urn:souverain:vct:residence:1");
  await receive(page, "household", HOUSEHOLD, "urn:souverain:vct:household:1");
}

/** The agent asks for the canteen registration; the wallet opens it, the service shown as verified. */
export async function answerCanteen(page) {
  const request = await api("POST", "/api/agent/services/cantine/requests", { purpose: "inscription" });
  await openLink(page, request.wallet_url, "Demande d'un service");
  const identity = page.locator("#service-identity");
  await identity.waitFor({ timeout: 20_000 });
  assert.match(await identity.textContent(), /Service vérifié par la commune : Cantine scolaire/);
  return request;
}

/** The canteen asks and the citizen approves as proposed; returns the grant's id. */
export async function consentToCanteen(page) {
  const request = await answerCanteen(page);
  await page.getByRole("button", { name: "Accepter et envoyer" }).click();
  await page.locator("#request-result").waitFor({ timeout: 20_000 });
  return (await api("GET", `/api/agent/requests/${request.id}`)).grant.id;
}

/** Debian's sqlite3, with which the tests that start their own guichet read its database file. */
export const SQLITE3 = "/usr/bin/sqlite3";

/** Runs `sql` on the guichet's database file (read only) and returns its output, trimmed. */
export function query(db, sql) {
  return execFileSync(SQLITE3, ["-readonly", db, sql], { encoding: "utf8" }).trim();
}

/** Opens the consents page's section of rights, drawn by the wallet's second module. */
export async function openRights(page) {
  await page.getByRole("link", { name: "Consentements" }).first().click();
  await page.getByRole("heading", { level: 1, name: "Mes consentements" }).waitFor();
  await page.getByRole("button", { name: "Mes procurations, mes droits" }).click();
  await page.getByRole("heading", { name: "Vos données chez les services" }).waitFor({ timeout: 20_000 });
}
