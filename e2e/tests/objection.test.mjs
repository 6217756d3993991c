// The right to object (issue 20, GDPR art. 21): after answering the canteen, the citizen objects
// from the consent's card, with a reason. The test starts its own guichet on a fresh SQLite file,
// so that it can read the tables itself (Debian's sqlite3): after the confirmed objection, the
// canteen still keeps the claims (until their erasure date, only to show it complied) but the
// grant is marked objected, its agents' read is refused and their page says "Opposition du
// citoyen"; the card shows the canteen's signed receipt, kept when the section is drawn again,
// and axe finds nothing to report.
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

test("from the canteen's consent, the citizen objects and every use of the data stops", {
  skip: existsSync(SQLITE3) ? false : "Debian's sqlite3 is not installed (cargo xtask test installs it)",
}, async () => {
  const root = mkdtempSync(join(tmpdir(), "souverain-objection-"));
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
    const kept = claimsOf();
    assert.ok(kept > 0, "the canteen keeps the grant's claims");
    const requestId = query(db, `SELECT request_id FROM grants WHERE id = '${grantId}'`);
    const result = `${walletUrl}/api/agent/requests/${encodeURIComponent(requestId)}`;
    assert.equal((await fetch(result)).status, 200);

    await openRights(page);
    const card = page.locator(`.card.access[data-grant="${grantId}"]`);
    // A confirmation first, with a line for the reasons: cancelled, nothing happens.
    await card.getByRole("button", { name: "M'opposer à l'utilisation de mes données" }).click();
    await card.getByRole("button", { name: "Annuler" }).click();
    await card.getByRole("button", { name: "M'opposer à l'utilisation de mes données" }).waitFor({ timeout: 20_000 });
    assert.equal(query(db, `SELECT objected_at IS NULL FROM grants WHERE id = '${grantId}'`), "1");
    await card.getByRole("button", { name: "M'opposer à l'utilisation de mes données" }).click();
    await card.getByText("seulement pour prouver qu'il a respecté votre choix", { exact: false }).waitFor({ timeout: 20_000 });
    await card.getByLabel("Vos raisons, si vous le souhaitez (500 caractères au plus)").fill("Nous déménageons.");
    assert.deepEqual(await axe(page, "rights-objection-confirm"), []);
    await card.getByRole("button", { name: "Oui, je m'oppose" }).click();
    const receipt = card.locator(".objection-receipt");
    await receipt.waitFor({ timeout: 20_000 });
    await screenshot(page, "rights-objection-fr");

    // The guichet marked the grant objected with the signed request (grounds included); the
    // claims stay, unread, until their erasure date.
    assert.notEqual(query(db, `SELECT objected_at FROM grants WHERE id = '${grantId}'`), "");
    const request = query(db, `SELECT objection_request_jwt FROM grants WHERE id = '${grantId}'`);
    const asked = JSON.parse(Buffer.from(request.split(".")[1], "base64url").toString("utf8"));
    assert.equal(asked.grounds, "Nous déménageons.");
    assert.equal(claimsOf(), kept);
    // The canteen's agents read nothing of it any more; their page says why.
    const read = await fetch(result);
    assert.equal(read.status, 410);
    assert.equal((await read.json()).error, "grant_objected");
    const agentPage = await fetch(`${walletUrl}/guichet/demandes/${encodeURIComponent(requestId)}`);
    const agentText = await agentPage.text();
    assert.equal(agentPage.status, 410);
    assert.match(agentText, /Opposition du citoyen/);
    assert.doesNotMatch(agentText, /Léa|Tilleuls/);

    // The card shows the signed receipt: since when, erased by; the receipt as a file.
    const shown = await receipt.textContent();
    assert.match(shown, /Opposition enregistrée par le service le/);
    assert.match(shown, /Il les efface au plus tard le/);
    const href = await receipt.locator("a.objection-download").getAttribute("href");
    const file = JSON.parse(decodeURIComponent(href.slice(href.indexOf(",") + 1)));
    assert.equal(file.content.grant_id, grantId);
    assert.equal(file.content.state, "objected");
    assert.equal(file.answer.split(".").length, 3, "the service's JWS");
    assert.deepEqual(await axe(page, "rights-objection"), []);
    // The button is gone; kept: the section drawn again still shows the receipt.
    assert.equal(await card.getByRole("button", { name: "M'opposer à l'utilisation de mes données" }).count(), 0);
    await page.getByRole("link", { name: "Accueil" }).first().click();
    await openRights(page);
    await page.locator(`.card.access[data-grant="${grantId}"] .objection-receipt`).waitFor({ timeout: 20_000 });
    // The consent's own card no longer says it is simply active: the service no longer uses it.
    await page.getByText("Opposition : le service ne l'utilise plus").first().waitFor({ timeout: 20_000 });
    assert.equal(await page.getByText("Actif", { exact: true }).count(), 0, "no consent left shown as active");
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await guichet.stop();
  }
});
