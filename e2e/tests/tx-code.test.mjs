// Issue 16, finding 7: an offer the agent protects with a transaction code. The link alone redeems
// nothing: the wallet asks the citizen for the code (given at the counter, never in the link),
// and a wrong one is refused without storing anything.
import { test } from "node:test";
import assert from "node:assert/strict";
import { launch, screenshot, watchErrors, createWallet, api, openLink, RESIDENCE } from "./support.mjs";

test("an offer with a transaction code: the wallet asks for it; a wrong code stores nothing, the right one the credential", async () => {
  const browser = await launch();
  try {
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors = watchErrors(page);
    await createWallet(page);
    const created = await api("POST", "/api/agent/offers", { credential: "residence", label: "e2e code", claims: RESIDENCE, tx_code: true });
    assert.match(created.tx_code, /^\d{6}$/);
    assert.ok(!created.wallet_url.includes(created.tx_code), "the code is not in the link");
    assert.ok(created.wallet_url.includes("/#credential_offer="), "the offer travels in the fragment");

    // A wrong code: the issuer refuses, nothing is stored.
    const asked = [];
    const wrong = created.tx_code === "000000" ? "000001" : "000000";
    page.once("dialog", (dialog) => {
      asked.push(dialog.message());
      dialog.accept(wrong);
    });
    await openLink(page, created.wallet_url, "Mes justificatifs");
    await page.locator(".alert-error").first().waitFor({ timeout: 20_000 });
    assert.deepEqual(asked, ["Code remis par la mairie :"]);
    assert.equal(await page.locator('.credential[data-vct="urn:souverain:vct:residence:1"]').count(), 0);

    // The right code: received and stored.
    page.once("dialog", (dialog) => dialog.accept(created.tx_code));
    await openLink(page, created.wallet_url, "Mes justificatifs");
    await page.getByText("Justificatif reçu et enregistré.").waitFor({ timeout: 20_000 });
    await page.locator('.credential[data-vct="urn:souverain:vct:residence:1"]').first().waitFor();
    await screenshot(page, "tx-code-received");
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});
