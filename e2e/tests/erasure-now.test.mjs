// The right to erasure now (issue 20, GDPR art. 17): after answering the canteen, whose retention
// runs a year, the citizen has it erase what it keeps under that consent at once. The test starts
// its own guichet on a fresh SQLite file, so that it can read the tables itself (Debian's sqlite3):
// before, the canteen holds the grant's claims; after the confirmed request, none, and the agent's
// read is refused. The card shows the canteen's signed erasure receipt (claim names, the date, the
// file), the journal keeps it without a value, a second request changes nothing, and axe finds
// nothing to report.
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

test("from a consent, the citizen has the service erase its data now and keeps the signed receipt", {
  skip: existsSync(SQLITE3) ? false : "Debian's sqlite3 is not installed (cargo xtask test installs it)",
}, async () => {
  const root = mkdtempSync(join(tmpdir(), "souverain-erasure-now-"));
  const db = join(root, "guichet.sqlite3");
  const port = await freePort();
  const guichet = await started(bin, ["serve", "--addr", `127.0.0.1:${port}`, "--wallet-dist", dist, "--db", db], {});
  useGuichet(guichet.url);
  const browser = await launch();
  try {
    // axe is injected as a script, which the wallet's CSP (rightly) refuses: bypassed for it.
    const page = await (await browser.newContext({ bypassCSP: true })).newPage();
    const errors = watchErrors(page);
    await createWallet(page);
    await receiveResidenceAndHousehold(page);
    const grantId = await consentToCanteen(page);
    const claimsOf = () => Number(query(db, `SELECT COUNT(*) FROM received_claims WHERE grant_id = '${grantId}'`));
    assert.ok(claimsOf() > 0, "the canteen keeps the grant's claims");

    await openRights(page);
    const card = page.locator(`.card.access[data-grant="${grantId}"]`);
    // A confirmation first: cancelled, nothing happens.
    await card.getByRole("button", { name: "Effacer mes données maintenant" }).click();
    await card.getByRole("button", { name: "Annuler" }).click();
    await card.getByRole("button", { name: "Effacer mes données maintenant" }).waitFor({ timeout: 20_000 });
    assert.ok(claimsOf() > 0, "nothing erased without the confirmation");
    await card.getByRole("button", { name: "Effacer mes données maintenant" }).click();
    await card.getByText("C'est définitif.", { exact: false }).waitFor({ timeout: 20_000 });
    assert.deepEqual(await axe(page, "rights-erasure-confirm"), []);
    await card.getByRole("button", { name: "Oui, effacer maintenant" }).click();
    const receipt = card.locator(".erasure-receipt");
    await receipt.waitFor({ timeout: 20_000 });
    await screenshot(page, "rights-erasure-fr");

    // The guichet's database holds none of the grant's claims; the erasure is recorded and logged.
    assert.equal(claimsOf(), 0);
    assert.equal(query(db, `SELECT COUNT(*) FROM erasures WHERE grant_id = '${grantId}' AND what = 'claims'`), "1");
    assert.equal(query(db, `SELECT COUNT(*) FROM log_events WHERE grant_id = '${grantId}' AND kind = 'erasure'`), "1");
    assert.notEqual(query(db, `SELECT erased_at FROM grants WHERE id = '${grantId}'`), "");
    // The canteen's agents read nothing of it any more.
    const requestId = query(db, `SELECT request_id FROM grants WHERE id = '${grantId}'`);
    const read = await fetch(`${walletUrl}/api/agent/requests/${encodeURIComponent(requestId)}`);
    assert.equal(read.status, 410);

    // The card shows the signed receipt: the claim names and the date, no value; the receipt as a file.
    const shown = await receipt.textContent();
    assert.match(shown, /Données effacées par le service le/);
    assert.match(shown, /Composition du foyer : Enfants/);
    assert.doesNotMatch(shown, /Léa|Beaulieu|Tilleuls/);
    const href = await receipt.locator("a.erasure-download").getAttribute("href");
    assert.ok(href.startsWith("data:application/json"), href.slice(0, 40));
    const file = JSON.parse(decodeURIComponent(href.slice(href.indexOf(",") + 1)));
    assert.equal(file.content.grant_id, grantId);
    assert.deepEqual(file.content.erased.map((d) => d.vct).sort(), ["urn:souverain:vct:household:1", "urn:souverain:vct:residence:1"]);
    assert.equal(file.answer.split(".").length, 3, "the service's JWS");
    const payload = JSON.parse(Buffer.from(file.answer.split(".")[1], "base64url").toString("utf8"));
    assert.equal(payload.erased_at, file.content.erased_at);
    assert.deepEqual(await axe(page, "rights-erasure"), []);

    // Kept: the section drawn again still shows it.
    await openRights(page);
    await page.locator(`.card.access[data-grant="${grantId}"] .erasure-receipt`).waitFor({ timeout: 20_000 });

    // The journal keeps the receipt, with the claim names and no value.
    await page.getByRole("link", { name: "Journal" }).first().click();
    const entry = page.locator(".timeline-entry", { hasText: "Droit à l'effacement" });
    await entry.first().waitFor({ timeout: 20_000 });
    assert.doesNotMatch(await entry.first().textContent(), /Léa|Beaulieu/);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await guichet.stop();
  }
});
