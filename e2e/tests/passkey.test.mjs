// Passkey unlock (issue 20): in Chromium with a virtual authenticator that has the PRF extension
// (the DevTools protocol's WebAuthn domain), the citizen registers a passkey from the settings
// (a wrong passphrase registers nothing), locks, unlocks with the passkey, locks again and unlocks
// with the passphrase, then removes the passkey: the stored header no longer holds its wrap, the
// unlock page no longer offers it, though the authenticator still holds the credential. axe finds
// nothing to report on the panel, which the wallet's second module draws when it is opened. WebAuthn refuses an IP address as relying party, so this test
// opens the wallet as http://localhost (the same loopback server).
import { test } from "node:test";
import assert from "node:assert/strict";
import { launch, screenshot, watchErrors, createWallet, axe, unlock, walletUrl, PASSPHRASE } from "./support.mjs";

const base = walletUrl.replace("//127.0.0.1:", "//localhost:");
const LABEL = "Téléphone de test";

/** The vault header as stored in IndexedDB (JSON). */
function storedHeader(page) {
  return page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const open = indexedDB.open("souverain-vault");
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const get = open.result.transaction("entries").objectStore("entries").get("meta/header");
          get.onsuccess = () => {
            open.result.close();
            resolve(JSON.parse(new TextDecoder().decode(get.result)));
          };
          get.onerror = () => reject(get.error);
        };
      }),
  );
}

async function openSettings(page) {
  await page.getByRole("link", { name: "Réglages" }).first().click();
  const panel = page.locator("section.panel", { has: page.getByRole("heading", { name: "Clés d'accès" }) });
  // Drawn by the wallet's second module when opened.
  await panel.getByRole("button", { name: "Gérer mes clés d'accès" }).click();
  await panel.getByRole("button", { name: "Ajouter une clé d'accès" }).waitFor({ timeout: 20_000 });
  return panel;
}

async function lock(page) {
  await page.getByRole("button", { name: "Verrouiller" }).first().click();
  await page.getByRole("heading", { level: 1, name: "Déverrouiller votre portefeuille" }).waitFor();
}

/** Waits for the home page; on a timeout, says what the page shows instead. */
async function home(page) {
  try {
    await page.getByRole("heading", { level: 1, name: "Qui détient mes données" }).waitFor({ timeout: 30_000 });
  } catch (error) {
    throw new Error(`not unlocked; the page says: ${await page.locator("main").innerText()}`, { cause: error });
  }
}

test("a passkey is registered, unlocks the wallet, and after its removal no longer does", async () => {
  const browser = await launch();
  try {
    // axe is injected as a script, which the wallet's CSP (rightly) refuses: bypassed for it.
    const context = await browser.newContext({ bypassCSP: true });
    const page = await context.newPage();
    const errors = watchErrors(page);
    const cdp = await context.newCDPSession(page);
    await cdp.send("WebAuthn.enable");
    const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
      options: {
        protocol: "ctap2",
        ctap2Version: "ctap2_1",
        transport: "internal",
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        hasPrf: true,
        automaticPresenceSimulation: true,
      },
    });
    const credentials = async () => (await cdp.send("WebAuthn.getCredentials", { authenticatorId })).credentials;

    await createWallet(page, undefined, base);
    let panel = await openSettings(page);
    await panel.getByText("Aucune clé d'accès enregistrée.").waitFor();

    // A wrong passphrase: refused before the browser is asked, so no credential is created.
    await panel.getByLabel("Nom de la clé d'accès").fill(LABEL);
    await panel.getByLabel("Phrase de passe actuelle").fill("pas la bonne phrase");
    await panel.getByRole("button", { name: "Ajouter une clé d'accès" }).click();
    await page.getByText("Phrase de passe ou clé de secours incorrecte").first().waitFor({ timeout: 20_000 });
    assert.equal((await credentials()).length, 0, "no passkey created for a wrong passphrase");
    assert.equal((await storedHeader(page)).passkeys, undefined);

    await panel.getByLabel("Nom de la clé d'accès").fill(LABEL);
    await panel.getByLabel("Phrase de passe actuelle").fill(PASSPHRASE);
    await panel.getByRole("button", { name: "Ajouter une clé d'accès" }).click();
    await page.getByText("Clé d'accès ajoutée").first().waitFor({ timeout: 20_000 }).catch(async (e) => {
      throw new Error(`not added; the page says: ${await page.locator("main").innerText()}`, { cause: e });
    });
    await panel.getByText(LABEL, { exact: true }).waitFor();
    assert.equal((await credentials()).length, 1, "the authenticator holds the new passkey");
    const header = await storedHeader(page);
    assert.equal(header.passkeys.length, 1);
    assert.equal(header.passkeys[0].label, LABEL);
    assert.equal(header.passkeys[0].credential_id, (await credentials())[0].credentialId.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, ""));
    await screenshot(page, "passkey-registered-fr");
    await axe(page, "settings with a passkey");

    // Lock, unlock with the passkey: no passphrase typed.
    await lock(page);
    const signCount = (await credentials())[0].signCount;
    await page.getByRole("button", { name: "Déverrouiller avec une clé d'accès" }).click();
    await home(page);
    assert.ok((await credentials())[0].signCount > signCount, "the authenticator was used to unlock");

    // Lock, unlock with the passphrase: it stays valid.
    await lock(page);
    await unlock(page);
    await home(page);

    // Remove it: its wrap leaves the header, the unlock page no longer offers it.
    panel = await openSettings(page);
    await panel.getByRole("button", { name: `Retirer la clé « ${LABEL} »` }).click();
    await page.getByText("Clé d'accès retirée").first().waitFor({ timeout: 20_000 });
    await panel.getByText("Aucune clé d'accès enregistrée.").waitFor();
    assert.equal((await storedHeader(page)).passkeys, undefined, "no passkey wrap left");
    assert.equal((await credentials()).length, 1, "the authenticator still holds the credential; the wallet no longer accepts it");
    await lock(page);
    await page.getByLabel("Phrase de passe", { exact: true }).waitFor();
    assert.equal(await page.getByRole("button", { name: "Déverrouiller avec une clé d'accès" }).count(), 0);
    await unlock(page);
    await home(page);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});
