// The citizen's journeys with the commune's guichet, in Chromium against the wallet it serves:
// receive credentials from offer links, answer the canteen's request, check what the agent sees,
// read the journal, withdraw (online, then offline and sent once back online), and see a revoked
// credential shown as revoked. The agent's side is driven through the guichet's JSON API.
import { test } from "node:test";
import assert from "node:assert/strict";
import { launch, screenshot, watchRequests, watchErrors, createWallet, unlock, walletUrl, axe, api, HOUSEHOLD, receive, receiveResidenceAndHousehold, answerCanteen, consentToCanteen } from "./support.mjs";

const CANTEEN_DPV = "https://w3id.org/dpv#ServiceRegistration";


test("the whole story: credentials, the canteen's request, journal, withdrawal with receipt", async () => {
  const browser = await launch();
  try {
    const context = await browser.newContext();
    const requests = watchRequests(context);
    const page = await context.newPage();
    const errors = watchErrors(page);
    await createWallet(page);

    await receiveResidenceAndHousehold(page);
    const cards = page.locator(".credential");
    assert.equal(await cards.count(), 2);
    const residence = page.locator('.credential[data-vct="urn:souverain:vct:residence:1"]');
    assert.match(await residence.textContent(), /Beaulieu-sur-Loire/);
    await residence.getByText("Valide").waitFor();
    await screenshot(page, "credentials-fr");

    const request = await answerCanteen(page);
    // The commune's key is pinned on first use, and said so.
    await page.getByText("Clé de la commune enregistrée lors de la première utilisation").waitFor();
    assert.match(await page.locator(".request-facts").textContent(), /Inscrire vos enfants à la cantine/);
    assert.match(await page.locator(".request-facts").textContent(), /365 jours/);
    const asked = await page.locator("[data-claim]").evaluateAll((els) => els.map((e) => e.dataset.claim).sort());
    assert.deepEqual(asked, ["/address/locality", "/address/street_address", "/children/0", "/children/1"]);
    // The canteen asks for the children: the parent answers for Léa only, each child a switch.
    const tom = page.locator('[data-claim="/children/1"]');
    assert.match(await tom.textContent(), /Enfants \(Tom\)/);
    await tom.locator('input[role="switch"]').uncheck();
    // The street address is optional: shared unless the citizen switches it off, which she does.
    const street = page.locator('[data-claim="/address/street_address"] input[role="switch"]');
    assert.equal(await street.isChecked(), true);
    assert.equal(await page.locator('[data-claim="/address/locality"] input').count(), 0, "needed: no switch");
    await street.uncheck();
    assert.equal(await street.isChecked(), false);
    await screenshot(page, "request-fr");
    // The answer carries the public half of the wallet's own data-use event key; the guichet,
    // which then made none, returns no seed (only this wallet can open the events).
    const answered = page.waitForResponse((r) => r.url().includes("/api/oid4vp/responses/") && r.request().method() === "POST");
    await page.getByRole("button", { name: "Accepter et envoyer" }).click();
    const posted = await answered;
    const eventKey = new URLSearchParams(posted.request().postData()).get("data_use_event_key");
    assert.equal(Buffer.from(eventKey, "base64url").length, 32, "the wallet sends a 32-byte X25519 public key");
    const logKeys = (await posted.json()).data_use_log;
    assert.ok(logKeys.log_secret, "the guichet gives the grant's tag secret");
    assert.equal(logKeys.event_key_seed, undefined, "and no event key seed: the wallet made its own");
    await page.locator("#request-result").waitFor({ timeout: 20_000 });
    await screenshot(page, "request-sent-fr");

    // The wallet lists what left the device, without the declined street address.
    assert.doesNotMatch(await page.locator("#request-result").textContent(), /Rue/);
    // The agent sees exactly the disclosed claims, nothing more (not the declined one).
    const result = await api("GET", `/api/agent/requests/${request.id}`);
    assert.equal(result.state, "verified");
    const seen = Object.fromEntries(result.claims.map((c) => [c.vct, c.claims]));
    assert.deepEqual(seen["urn:souverain:vct:residence:1"], { address: { locality: "Beaulieu-sur-Loire" } });
    assert.deepEqual(seen["urn:souverain:vct:household:1"], { children: [HOUSEHOLD.children[0]] }, "Tom's entry stayed home");
    // The grant says whom the parent acted for.
    assert.deepEqual(result.grant.content.children, [{ given_name: "Léa", birthdate: "2018-04-12" }]);
    const grantId = result.grant.id;

    // Home: the canteen now holds these claims, for this purpose, until the consent's end.
    await page.getByRole("link", { name: "Accueil" }).first().click();
    const holder = page.locator(".holder", { hasText: "Cantine scolaire" });
    await holder.waitFor();
    const held = await holder.textContent();
    assert.match(held, /Inscrire vos enfants à la cantine/);
    assert.match(held, /Justificatif de domicile : Adresse › Commune/);
    assert.doesNotMatch(held, /Rue/);
    await screenshot(page, "home-holders-fr");

    // The journal shows the disclosure, with paths and no values.
    await page.getByRole("link", { name: "Journal" }).first().click();
    await page.locator("#chain-status").waitFor();
    assert.match(await page.locator("#chain-status").textContent(), /Journal vérifié/);
    const disclosure = page.locator('.timeline-entry[data-kind="disclosure"]');
    assert.equal(await disclosure.count(), 1);
    assert.doesNotMatch(await disclosure.textContent(), /Léa|Beaulieu-sur-Loire/);
    assert.equal(await page.locator('.timeline-entry[data-kind="issuance"]').count(), 2);
    await screenshot(page, "journal-disclosure-fr");

    // What the commune did with the data: the agent's read above is in the commune's log, found
    // by the wallet's audit (a second wasm module, started only now, in a Web Worker).
    await page.getByRole("link", { name: "Consentements" }).first().click();
    await page.getByRole("heading", { level: 1, name: "Mes consentements" }).waitFor();
    const workerRequests = [];
    page.on("request", (r) => r.url().includes("souverain-audit-worker") && workerRequests.push(r.url()));
    assert.deepEqual(workerRequests, [], "the worker is not loaded before it is needed");
    await page.getByRole("button", { name: "Vérifier le journal de la commune" }).click();
    const audit = page.locator("#audit-out");
    await audit.locator(".audit-summary").waitFor({ timeout: 20_000 });
    assert.match(await audit.locator(".audit-summary").textContent(), /Journal de la commune vérifié : \d+ entrées?, signé par la commune/);
    const uses = audit.locator(`.data-use[data-grant="${grantId}"]`);
    assert.match(await uses.locator("h3").textContent(), /Cantine scolaire/);
    assert.match(await uses.textContent(), /Consulté par loopback — motif : Inscrire vos enfants à la cantine/);
    assert.equal(await audit.locator(".alert-error").count(), 0, await audit.textContent());
    assert.ok(workerRequests.some((u) => u.endsWith("_loader.js")), "the worker's module is loaded on demand");
    await screenshot(page, "audit-fr");
    // The card keeps what the audit found; after a reload (and unlock) the home page's card and
    // the journal show it too, from the state the audit kept in the vault, without a new audit.
    const card = page.locator(`.consent[data-grant="${grantId}"]`);
    const read = card.locator('.uses li[data-use="agent_read"]');
    await read.waitFor();
    assert.match(await read.textContent(), /\d{2}\/\d{2}\/\d{4} .*Consultées par loopback — Motif : Inscrire vos enfants à la cantine/);
    await page.reload();
    await unlock(page);
    const homeRead = page.locator('.holder .uses li[data-use="agent_read"]');
    await homeRead.waitFor({ timeout: 20_000 });
    assert.match(await homeRead.textContent(), /Consultées par loopback/);
    await screenshot(page, "home-uses-fr");
    await page.getByRole("link", { name: "Journal" }).first().click();
    const journalUses = page.locator(".journal-uses");
    await journalUses.waitFor();
    assert.match(await journalUses.textContent(), /Cantine scolaire.*Consultées par loopback/s);
    await page.getByRole("link", { name: "Consentements" }).first().click();
    await read.waitFor();

    // Withdraw: the guichet records it and the wallet keeps the verified receipt.
    await card.getByText("Actif", { exact: true }).waitFor();
    await card.getByRole("button", { name: "Retirer mon consentement" }).click();
    await card.getByText("Reçu signé du service (vérifié)").waitFor({ timeout: 20_000 });
    assert.match(await card.textContent(), /Retiré/);
    await screenshot(page, "consent-withdrawn-fr");
    const check = await api("GET", `/api/consents/${grantId}/check?purpose=${encodeURIComponent(CANTEEN_DPV)}`);
    assert.equal(check.state, "withdrawn");
    assert.equal(check.may_process, false);
    // The log now holds the withdrawal processed and the erasure the wallet expects after it; the
    // second audit reads only the new entries and keeps the read it found before.
    await page.getByRole("button", { name: "Vérifier le journal de la commune" }).click();
    await uses.getByText("Votre retrait de consentement a été traité").waitFor({ timeout: 20_000 });
    const after = await uses.textContent();
    assert.match(after, /Consulté par loopback/);
    assert.match(after, /Vos données ont été effacées/);
    assert.equal(await audit.locator(".alert-error").count(), 0, await audit.textContent());
    await screenshot(page, "audit-after-withdrawal-fr");
    await card.locator('.uses li[data-use="erasure"]').waitFor();
    assert.match(await card.locator(".uses").textContent(), /Retrait pris en compte.*Effacées/s);
    // The canteen erases at once on withdrawal: home no longer lists it as holding anything.
    await page.getByRole("link", { name: "Accueil" }).first().click();
    await page.getByText("Aucun service ne détient de données de votre portefeuille pour l'instant.").waitFor();

    assert.deepEqual(requests.foreign, [], "no request outside the wallet's origin");
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

test("a withdrawal made offline is queued and reaches the guichet once back online", async () => {
  const browser = await launch();
  try {
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors = watchErrors(page);
    await createWallet(page);
    await receiveResidenceAndHousehold(page);
    const grantId = await consentToCanteen(page);

    await page.getByRole("link", { name: "Consentements" }).first().click();
    const card = page.locator(`.consent[data-grant="${grantId}"]`);
    await card.getByText("Actif", { exact: true }).waitFor();
    await context.setOffline(true);
    await card.getByRole("button", { name: "Retirer mon consentement" }).click();
    await card.getByText("Retrait enregistré, envoi au retour du réseau").waitFor();
    const url = `/api/consents/${grantId}/check?purpose=${encodeURIComponent(CANTEEN_DPV)}`;
    assert.equal((await api("GET", url)).state, "given", "nothing reached the guichet while offline");
    await screenshot(page, "consent-queued-fr");

    await context.setOffline(false);
    await card.getByText("Reçu signé du service (vérifié)").waitFor({ timeout: 20_000 });
    assert.equal((await api("GET", url)).state, "withdrawn");
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

test("a credential revoked by the issuer is shown as revoked", async () => {
  const browser = await launch();
  try {
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors = watchErrors(page);
    await createWallet(page);
    const label = `e2e revocation ${Date.now()}`;
    const vct = "urn:souverain:vct:family-quotient:1";
    await receive(page, "family_quotient", { bracket: "B", reference_year: 2025 }, vct, label);
    const card = page.locator(`.credential[data-vct="${vct}"]`);
    await card.getByText("Valide").waitFor();

    // The agent revokes it (its status index is on the agent's page, next to its label).
    const agentPage = await (await fetch(walletUrl + "/guichet/agent")).text();
    const row = agentPage.split("<tr>").find((r) => r.includes(label));
    const idx = row?.match(/name="idx" value="(\d+)"/)?.[1];
    assert.ok(idx !== undefined, "the credential is listed with its status index");
    await api("POST", `/api/agent/credentials/${idx}/revoke`);

    // Back on the page, the issuer's status list says revoked.
    await page.getByRole("link", { name: "Journal" }).first().click();
    await page.getByRole("link", { name: "Justificatifs" }).first().click();
    await card.getByText("Révoqué par l'émetteur").waitFor({ timeout: 20_000 });
    await screenshot(page, "credential-revoked-fr");

    // Deleting it removes it from the wallet, and the journal records the change.
    await card.getByRole("button", { name: "Supprimer" }).click();
    await page.getByText("Justificatif supprimé.").waitFor();
    await page.getByText("Aucun justificatif pour l'instant.").waitFor();
    assert.equal(await page.locator(".credential").count(), 0);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

test("axe-core: the credentials, request and consents pages, in French and in English", async () => {
  const browser = await launch();
  try {
    // axe is injected as a script, which the wallet's CSP forbids: this context bypasses it.
    const page = await (await browser.newContext({ bypassCSP: true })).newPage();
    await createWallet(page);
    await receiveResidenceAndHousehold(page);
    await page.locator(".credential .status-valid").first().waitFor();
    const findings = [];
    findings.push(...(await axe(page, "credentials-fr")));
    await answerCanteen(page);
    findings.push(...(await axe(page, "request-fr")));
    await page.getByRole("button", { name: "Switch to English" }).click();
    await page.getByRole("heading", { level: 1, name: "A service's request" }).waitFor();
    await page.getByText("Service verified by the commune:").waitFor();
    findings.push(...(await axe(page, "request-en")));
    await page.getByRole("button", { name: "Accept and send" }).click();
    await page.locator("#request-result").waitFor({ timeout: 20_000 });
    await page.getByRole("link", { name: "Consents" }).first().click();
    await page.getByRole("heading", { level: 1, name: "My consents" }).waitFor();
    await page.locator(".consent").first().waitFor();
    findings.push(...(await axe(page, "consents-en")));
    await page.getByRole("link", { name: "Credentials" }).first().click();
    await page.getByRole("heading", { level: 1, name: "My credentials" }).waitFor();
    await page.locator(".credential").first().waitFor();
    findings.push(...(await axe(page, "credentials-en")));
    await page.getByRole("button", { name: "Passer en français" }).click();
    await page.getByRole("link", { name: "Consentements" }).first().click();
    await page.locator(".consent").first().waitFor();
    findings.push(...(await axe(page, "consents-fr")));
    assert.deepEqual(findings, []);
  } finally {
    await browser.close();
  }
});
