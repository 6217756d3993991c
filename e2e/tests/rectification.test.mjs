// The right to rectification (issue 20, GDPR art. 16): after answering the canteen, the citizen
// asks it, from the consent's card, to correct the town of the address it holds. The test starts
// its own guichet on a fresh SQLite file, so that it can read the tables itself (Debian's
// sqlite3). The guichet takes the request as pending, and the card keeps it as unanswered with
// its due date; an agent accepts it on the canteen's page (its form, in the browser, with its
// CSRF token); the stored value is replaced and the change is in the data-use log; the citizen
// sends the request again from the card and gets the signed decision, kept on the card.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  launch, screenshot, watchErrors, createWallet, axe, receiveResidenceAndHousehold, consentToCanteen,
  freePort, started, useGuichet, walletUrl, SQLITE3, query, openRights,
} from "./support.mjs";

const bin = process.env.SOUVERAIN_BIN ?? "../target/debug/souverain";
const dist = process.env.WALLET_DIST ?? "../target/wallet/dist";
const TOWN = "Beaulieu-sur-Loire-le-Haut";

test("from the canteen's consent, the citizen has a piece of data corrected once an agent accepts", {
  skip: existsSync(SQLITE3) ? false : "Debian's sqlite3 is not installed (cargo xtask test installs it)",
}, async () => {
  const root = mkdtempSync(join(tmpdir(), "souverain-rectification-"));
  const db = join(root, "guichet.sqlite3");
  const port = await freePort();
  const guichet = await started(bin, ["serve", "--addr", `127.0.0.1:${port}`, "--wallet-dist", dist, "--db", db], {});
  useGuichet(guichet.url);
  const browser = await launch();
  try {
    // axe is injected as a script, which the wallet's CSP (rightly) refuses: bypassed for it.
    const context = await browser.newContext({ bypassCSP: true });
    const page = await context.newPage();
    const errors = watchErrors(page);
    await createWallet(page);
    await receiveResidenceAndHousehold(page);
    const grantId = await consentToCanteen(page);
    const claims = () =>
      query(db, `SELECT claims FROM received_claims WHERE grant_id = '${grantId}' AND vct = 'urn:souverain:vct:residence:1'`);
    assert.doesNotMatch(claims(), new RegExp(TOWN));

    // The form: one of the claims the consent disclosed, and the corrected value.
    await openRights(page);
    const card = page.locator(`.card.access[data-grant="${grantId}"]`);
    await card.getByRole("button", { name: "Corriger une donnée" }).click();
    const select = card.getByLabel("Donnée", { exact: true });
    await select.waitFor({ timeout: 20_000 });
    const options = await select.locator("option").allTextContents();
    const town = options.findIndex((o) => o.includes("Commune"));
    assert.ok(town >= 0, options.join(" | "));
    await select.selectOption(String(town));
    await card.getByLabel("Valeur corrigée", { exact: true }).fill(TOWN);
    assert.deepEqual(await axe(page, "rights-rectification-form"), []);
    await card.getByRole("button", { name: "Demander la correction" }).click();
    // Taken, not decided: kept on the card as unanswered, with its due date; no error.
    const waiting = card.locator('.rights-unanswered[data-right="rectification"]');
    await waiting.waitFor({ timeout: 20_000 });
    assert.match(await waiting.textContent(), /Demande de rectification envoyée le .* le service doit répondre avant le/);
    assert.equal(await page.locator(".alert-error").count(), 0);
    assert.equal(query(db, `SELECT COUNT(*) FROM rectifications WHERE grant_id = '${grantId}' AND decision IS NULL`), "1");

    // An agent of the canteen accepts it on the service's page (the loopback demo's agent).
    const agent = await context.newPage();
    await agent.goto(`${walletUrl}/guichet/services/cantine`);
    await agent.getByRole("heading", { name: "Demandes de rectification" }).waitFor();
    assert.match(await agent.content(), new RegExp(TOWN));
    await agent.getByRole("button", { name: "Accepter" }).click();
    await agent.getByText("Aucune demande de rectification en attente.").waitFor({ timeout: 20_000 });
    assert.match(claims(), new RegExp(TOWN));
    assert.equal(query(db, `SELECT COUNT(*) FROM log_events WHERE grant_id = '${grantId}' AND kind = 'agent_rectification'`), "1");
    await agent.close();

    // The citizen sends the same request again from the card: the signed decision is kept.
    await openRights(page);
    const again = page.locator(`.card.access[data-grant="${grantId}"]`);
    await again.getByRole("button", { name: "Envoyer de nouveau la demande" }).click();
    const decision = again.locator('.rectification-decision[data-decision="accepted"]');
    await decision.waitFor({ timeout: 20_000 });
    await screenshot(page, "rights-rectification-fr");
    const shown = await decision.textContent();
    assert.match(shown, /Correction acceptée par le service le/);
    assert.doesNotMatch(shown, new RegExp(TOWN));
    assert.equal(await again.locator('.rights-unanswered[data-right="rectification"]').count(), 0);
    const href = await decision.locator("a.rectification-download").getAttribute("href");
    const file = JSON.parse(decodeURIComponent(href.slice(href.indexOf(",") + 1)));
    assert.equal(file.content.decision, "accepted");
    assert.equal(file.content.claim, "/address/locality");
    assert.deepEqual(await axe(page, "rights-rectification"), []);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await guichet.stop();
  }
});
