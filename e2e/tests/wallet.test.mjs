// The vault journeys as a citizen lives them, in Chromium against the wallet served by the guichet:
// create, a wrong passphrase reported, unlock, personal data, the journal verified, lock; every
// request to the wallet's origin only, and no page error.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import {
  launch, screenshot, watchRequests, watchErrors, createWallet, unlock, addData, PASSPHRASE, walletUrl,
} from "./support.mjs";

test("create a wallet, wrong passphrase reported, unlock, add data, journal verified", async () => {
  const browser = await launch();
  try {
    const context = await browser.newContext();
    const requests = watchRequests(context);
    const page = await context.newPage();
    const errors = watchErrors(page);
    // Any Content-Security-Policy violation (an inline script, a foreign style...) is recorded.
    await page.addInitScript(() => {
      window.__cspViolations = [];
      document.addEventListener("securitypolicyviolation", (e) =>
        window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
    });

    const code = await createWallet(page);
    const csp = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute("content");
    assert.match(csp, /script-src 'self' 'wasm-unsafe-eval';/);
    assert.equal(await page.locator("script:not([src])").count(), 0, "no inline script");
    assert.match(code, /^([0-9A-HJKMNP-TV-Z]{4}-){13}[0-9A-HJKMNP-TV-Z]{4}$/, "a 14-group Crockford code");
    await screenshot(page, "home-fr");

    // Lock, then a wrong passphrase is reported and the wallet stays locked.
    await page.getByRole("button", { name: "Verrouiller" }).click();
    await unlock(page, "not the right passphrase at all");
    const alert = page.getByRole("alert");
    await alert.waitFor();
    assert.match(await alert.textContent(), /Phrase de passe ou clé de secours incorrecte/);
    await screenshot(page, "unlock-wrong-fr");
    await unlock(page);
    await page.getByRole("heading", { level: 1, name: "Qui détient mes données" }).waitFor();
    // Focus moves to the new page's heading.
    assert.equal(await page.evaluate(() => document.activeElement?.tagName), "H1");

    await addData(page, "profile", "Prénom", "Camille");
    await addData(page, "health", "Allergie", "Arachide");
    const health = page.locator("section.data-group.sensitive", { hasText: "Arachide" });
    assert.match(await health.textContent(), /Donnée sensible/);
    assert.match(await page.locator(".data-item", { hasText: "Camille" }).textContent(), /Déclaré par vous/);
    await screenshot(page, "data-fr");

    await page.getByRole("link", { name: "Journal" }).first().click();
    await page.getByRole("heading", { level: 1, name: "Journal" }).waitFor();
    const status = page.locator("#chain-status");
    await status.waitFor();
    assert.match(await status.textContent(), /Journal vérifié : 2 entrées/);
    assert.equal(await page.locator(".timeline-entry").count(), 2);
    // The kind filter narrows the timeline.
    await page.getByLabel("Type").selectOption("export");
    assert.equal(await page.locator(".timeline-entry").count(), 0);
    await page.getByLabel("Type").selectOption("data_change");
    assert.equal(await page.locator(".timeline-entry").count(), 2);
    await screenshot(page, "journal-fr");

    assert.deepEqual(await page.evaluate(() => window.__cspViolations), [], "no CSP violation");
    assert.deepEqual(requests.foreign, [], "no request outside the wallet's origin");
    assert.ok(requests.total() > 0);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

test("a backup made in one browser restores in a fresh one: same data, same journal, chain verified", async () => {
  const browser = await launch();
  try {
    const first = await browser.newContext({ acceptDownloads: true });
    const page = await first.newPage();
    await createWallet(page);
    await addData(page, "contact", "Téléphone", "06 12 34 56 78");
    await page.getByRole("link", { name: "Réglages" }).first().click();
    await page.getByRole("heading", { level: 1, name: "Réglages" }).waitFor();
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("button", { name: "Télécharger une sauvegarde" }).click(),
    ]);
    const file = await download.path();
    assert.ok(file, "the backup was downloaded");
    await screenshot(page, "settings-fr");

    // The readable export (GDPR art. 20) needs an explicit confirmation first.
    await page.getByRole("button", { name: "Exporter en clair" }).click();
    await page.getByText("Cochez d'abord la case de confirmation.").waitFor();
    await page.getByLabel("Je comprends que ce fichier n'est pas chiffré").check();
    const [portable] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("button", { name: "Exporter en clair" }).click(),
    ]);
    const exported = JSON.parse(readFileSync(await portable.path(), "utf8"));
    assert.equal(exported.format, "souverain-portability-export");
    assert.match(JSON.stringify(exported), /06 12 34 56 78/);

    // Deleting the wallet needs the confirmation box, then erases it from this browser.
    await page.getByRole("button", { name: "Effacer le portefeuille" }).click();
    await page.getByText("Cochez d'abord la case de confirmation.").waitFor();
    await page.getByLabel("Je veux effacer définitivement ce portefeuille").check();
    await page.getByRole("button", { name: "Effacer le portefeuille" }).click();
    await page.getByRole("heading", { level: 1, name: "Bienvenue dans votre portefeuille" }).waitFor();
    assert.equal(await page.evaluate(async () => (await caches.keys()).length), 0, "caches erased");
    assert.equal(await page.evaluate(async () => (await navigator.serviceWorker.getRegistrations()).length), 0);
    await page.reload();
    await page.getByRole("heading", { level: 1, name: "Bienvenue dans votre portefeuille" }).waitFor();

    const fresh = await browser.newContext();
    const requests = watchRequests(fresh);
    const page2 = await fresh.newPage();
    const errors = watchErrors(page2);
    await page2.goto(walletUrl + "/");
    await page2.getByRole("link", { name: "Restaurer une sauvegarde" }).click();
    await page2.getByRole("heading", { level: 1, name: "Restaurer une sauvegarde" }).waitFor();
    await page2.getByLabel("Fichier de sauvegarde").setInputFiles(file);
    // A wrong passphrase imports nothing and says so.
    await page2.getByRole("textbox", { name: "Phrase de passe" }).fill("wrong wrong wrong wrong");
    await page2.getByRole("button", { name: "Restaurer", exact: true }).click();
    await page2.getByRole("alert").waitFor();
    assert.match(await page2.getByRole("alert").textContent(), /incorrecte/);
    await page2.getByRole("textbox", { name: "Phrase de passe" }).fill(PASSPHRASE);
    await page2.getByRole("button", { name: "Restaurer", exact: true }).click();
    await page2.getByRole("heading", { level: 1, name: "Qui détient mes données" }).waitFor();

    await page2.getByRole("link", { name: "Mes données" }).first().click();
    await page2.locator(".data-item", { hasText: "06 12 34 56 78" }).waitFor();
    await page2.getByRole("link", { name: "Journal" }).first().click();
    const status = page2.locator("#chain-status");
    await status.waitFor();
    // data change, backup export, import.
    assert.match(await status.textContent(), /Journal vérifié : 3 entrées/);
    const kinds = await page2.locator(".timeline-entry").evaluateAll((els) => els.map((e) => e.dataset.kind));
    assert.deepEqual(kinds, ["import", "export", "data_change"]);
    await screenshot(page2, "restored-journal-fr");

    // Deleting the journal (GDPR art. 17, ARF): confirmed first; the deletion itself is kept, the
    // kept part verifies, and the data stays.
    const deleteButton = page2.getByRole("button", { name: "Effacer le journal" });
    await deleteButton.click();
    await page2.getByText("Cochez d'abord la case de confirmation.").waitFor();
    assert.equal(await page2.locator(".timeline-entry").count(), 3, "nothing deleted unconfirmed");
    await page2.getByLabel("Je veux effacer toutes les entrées du journal").check();
    await deleteButton.click();
    await page2.getByText("Les entrées ont été effacées du journal.").waitFor();
    await page2.locator("#chain-status", { hasText: "Journal vérifié : 1 entrée," }).waitFor();
    const left = await page2.locator(".timeline-entry").evaluateAll((els) => els.map((e) => e.dataset.kind));
    assert.deepEqual(left, ["journal_deleted"]);
    assert.match(await page2.locator(".timeline-entry").textContent(), /Effacement du journal.*entrée n° 4/s);
    await screenshot(page2, "journal-deleted-fr");

    // The restored wallet unlocks with the same passphrase after a reload; the cut journal
    // still verifies and the data is still there.
    await page2.reload();
    await unlock(page2);
    await page2.getByRole("heading", { level: 1, name: "Qui détient mes données" }).waitFor();
    await page2.getByRole("link", { name: "Journal" }).first().click();
    await page2.locator("#chain-status", { hasText: "Journal vérifié : 1 entrée," }).waitFor();
    await page2.getByRole("link", { name: "Mes données" }).first().click();
    await page2.locator(".data-item", { hasText: "06 12 34 56 78" }).waitFor();
    assert.deepEqual(requests.foreign, []);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

test("offline: the wallet reloads from its service worker, unlocks and shows the data", async () => {
  const browser = await launch();
  try {
    const context = await browser.newContext();
    const requests = watchRequests(context);
    const page = await context.newPage();
    await createWallet(page);
    await addData(page, "household", "Enfant", "Léa, 2018");
    // Wait until the service worker is active and controls the page.
    await page.evaluate(async () => {
      await navigator.serviceWorker.ready;
    });
    await page.reload();
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null);
    await unlock(page);
    await page.getByRole("heading", { level: 1, name: "Qui détient mes données" }).waitFor();

    await context.setOffline(true);
    await page.reload();
    await unlock(page);
    await page.getByRole("heading", { level: 1, name: "Qui détient mes données" }).waitFor();
    await page.getByRole("link", { name: "Mes données" }).first().click();
    await page.locator(".data-item", { hasText: "Léa, 2018" }).waitFor();
    await screenshot(page, "offline-data-fr");
    await context.setOffline(false);
    // Chromium finds the manifest and service worker installable.
    const cdp = await context.newCDPSession(page);
    const { installabilityErrors } = await cdp.send("Page.getInstallabilityErrors");
    // Playwright's contexts are incognito, which Chromium reports by itself; nothing else may appear.
    assert.deepEqual(installabilityErrors.filter((e) => e.errorId !== "in-incognito"), []);
    assert.deepEqual(requests.foreign, []);
  } finally {
    await browser.close();
  }
});

test("the wallet locks itself after the chosen inactivity delay", async () => {
  const browser = await launch();
  try {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.clock.install();
    await createWallet(page);
    await page.getByRole("link", { name: "Réglages" }).first().click();
    await page.getByLabel("Verrouiller après une inactivité de").selectOption("1");
    await page.getByText("Le délai de verrouillage est enregistré.").waitFor();
    await page.clock.fastForward("00:50");
    assert.equal(await page.getByRole("heading", { level: 1 }).textContent(), "Réglages", "not yet locked");
    await page.clock.fastForward("00:20");
    await page.getByRole("heading", { level: 1, name: "Déverrouiller votre portefeuille" }).waitFor();
    await page.getByText("Le portefeuille s'est verrouillé après un moment d'inactivité.").waitFor();
    // The delay is kept in the vault: after unlocking, it is still one minute.
    await unlock(page);
    await page.getByRole("link", { name: "Réglages" }).first().click();
    assert.equal(await page.getByLabel("Verrouiller après une inactivité de").inputValue(), "1");
  } finally {
    await browser.close();
  }
});

test("a forgotten passphrase: the recovery key opens the wallet and sets a new one; then change it", async () => {
  const browser = await launch();
  try {
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors = watchErrors(page);
    const code = await createWallet(page);
    await page.getByRole("button", { name: "Verrouiller" }).click();
    await page.getByRole("heading", { level: 1, name: "Déverrouiller votre portefeuille" }).waitFor();
    await page.getByRole("button", { name: "J'ai oublié ma phrase de passe" }).click();
    // A mistyped code is refused as such.
    await page.getByLabel("Clé de secours").fill(code.slice(0, -1) + (code.endsWith("0") ? "1" : "0"));
    await page.getByLabel("Nouvelle phrase de passe").fill("tulipe orange sur le balcon 7");
    await page.getByRole("button", { name: "Déverrouiller", exact: true }).click();
    await page.getByText("Cette clé de secours est mal saisie").waitFor();
    await page.getByLabel("Clé de secours").fill(code.toLowerCase());
    await page.getByRole("button", { name: "Déverrouiller", exact: true }).click();
    await page.getByRole("heading", { level: 1, name: "Qui détient mes données" }).waitFor();

    // The new passphrase works, the old one no longer does.
    await page.getByRole("button", { name: "Verrouiller" }).click();
    await unlock(page, PASSPHRASE);
    await page.getByRole("alert").waitFor();
    await unlock(page, "tulipe orange sur le balcon 7");
    await page.getByRole("heading", { level: 1, name: "Qui détient mes données" }).waitFor();

    // Change it from the settings (the current one is required).
    await page.getByRole("link", { name: "Réglages" }).first().click();
    await page.getByLabel("Phrase de passe actuelle").fill("tulipe orange sur le balcon 7");
    await page.getByLabel("Nouvelle phrase de passe").fill(PASSPHRASE);
    await page.getByLabel("Confirmez la phrase de passe").fill(PASSPHRASE);
    await page.getByRole("button", { name: "Changer la phrase de passe" }).click();
    await page.getByText("La phrase de passe a été changée.").waitFor();
    await page.getByRole("button", { name: "Verrouiller" }).click();
    await unlock(page, PASSPHRASE);
    await page.getByRole("heading", { level: 1, name: "Qui détient mes données" }).waitFor();
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});
