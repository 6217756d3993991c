// Accessibility: axe-core reports no serious or critical violation on any page, in French and in
// English. axe is injected as a script, which the wallet's CSP forbids: this test alone runs in a
// context that bypasses the CSP (the other tests keep it).
import { test } from "node:test";
import assert from "node:assert/strict";
import { launch, createWallet, walletUrl, axe } from "./support.mjs";

const audited = [];

async function audit(page, name, findings) {
  findings.push(...(await axe(page, name)));
  audited.push(name);
}

async function pages(page, lang, findings) {
  const h1 = (text) => page.getByRole("heading", { level: 1, name: text }).waitFor();
  const t = lang === "fr"
    ? { home: "Qui détient mes données", data: "Mes données", journal: "Journal", settings: "Réglages",
        nav: ["Mes données", "Journal", "Réglages"], lock: "Verrouiller", unlock: "Déverrouiller votre portefeuille" }
    : { home: "Who holds my data", data: "My data", journal: "Journal", settings: "Settings",
        nav: ["My data", "Journal", "Settings"], lock: "Lock", unlock: "Unlock your wallet" };
  await h1(t.home);
  await audit(page, `home-${lang}`, findings);
  await page.getByRole("link", { name: t.nav[0] }).first().click();
  await h1(t.data);
  await page.locator(".data-group").first().waitFor();
  await audit(page, `data-${lang}`, findings);
  await page.getByRole("link", { name: t.nav[1] }).first().click();
  await h1(t.journal);
  await page.locator("#chain-status").waitFor();
  await audit(page, `journal-${lang}`, findings);
  await page.getByRole("link", { name: t.nav[2] }).first().click();
  await h1(t.settings);
  await audit(page, `settings-${lang}`, findings);
  await page.goto(walletUrl + "/#/restore");
  await page.locator("#backup-file").waitFor();
  await audit(page, `restore-${lang}`, findings);
  await page.getByRole("link", { name: t.nav[2] }).first().click();
  await h1(t.settings);
  await page.getByRole("button", { name: t.lock }).click();
  await h1(t.unlock);
  await audit(page, `unlock-${lang}`, findings);
}

test("axe-core: no serious or critical violation on any page, in French and in English", async () => {
  const browser = await launch();
  try {
    const context = await browser.newContext({ bypassCSP: true });
    const page = await context.newPage();
    const findings = [];

    await page.goto(walletUrl + "/");
    await page.getByRole("heading", { level: 1, name: "Bienvenue dans votre portefeuille" }).waitFor();
    await audit(page, "welcome-fr", findings);
    await page.getByRole("link", { name: "Créer mon portefeuille" }).click();
    await page.getByRole("heading", { level: 1, name: "Créer votre portefeuille" }).waitFor();
    await page.getByLabel("Phrase de passe", { exact: true }).fill("court");
    await audit(page, "create-fr", findings);
    await page.getByRole("button", { name: "Switch to English" }).click();
    await page.getByRole("heading", { level: 1, name: "Create your wallet" }).waitFor();
    await audit(page, "create-en", findings);
    await page.getByRole("link", { name: "Back" }).click();
    await page.getByRole("heading", { level: 1, name: "Welcome to your wallet" }).waitFor();
    await audit(page, "welcome-en", findings);
    await page.getByRole("button", { name: "Passer en français" }).click();

    await createWallet(page);
    await pages(page, "fr", findings);

    await page.getByRole("button", { name: "Switch to English" }).click();
    await page.getByRole("heading", { level: 1, name: "Unlock your wallet" }).waitFor();
    await page.getByLabel("Passphrase", { exact: true }).fill("cheval agrafe pile correcte 42");
    await page.getByRole("button", { name: "Unlock", exact: true }).click();
    await pages(page, "en", findings);
    await page.goto(walletUrl + "/#/");
    await page.getByRole("heading", { level: 1, name: "Unlock your wallet" }).waitFor();

    assert.deepEqual(findings, []);
    assert.equal(audited.length, 16, audited.join(", "));
  } finally {
    await browser.close();
  }
});

test("keyboard only: skip link to the heading, unlock with Enter, navigate with Tab", async () => {
  const browser = await launch();
  try {
    const page = await (await browser.newContext()).newPage();
    await createWallet(page);
    await page.getByRole("button", { name: "Verrouiller" }).click();
    await page.getByRole("heading", { level: 1, name: "Déverrouiller votre portefeuille" }).waitFor();
    // Focus moved to the heading; the next Tab stops reach the passphrase field.
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Déverrouiller votre portefeuille");
    let guard = 0;
    while ((await page.evaluate(() => document.activeElement?.id)) !== "passphrase" && guard++ < 10) {
      await page.keyboard.press("Tab");
    }
    await page.keyboard.type("cheval agrafe pile correcte 42");
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { level: 1, name: "Qui détient mes données" }).waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.tagName), "H1");
    // The skip link is the first Tab stop and leads to the heading.
    await page.reload();
    await page.getByRole("heading", { level: 1, name: "Déverrouiller votre portefeuille" }).waitFor();
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Aller au contenu");
    await page.keyboard.press("Enter");
    assert.equal(await page.evaluate(() => document.activeElement?.tagName), "H1");
  } finally {
    await browser.close();
  }
});
