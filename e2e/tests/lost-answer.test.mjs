// Issue 16, finding 4: an answered grant is never lost. The guichet receives and records the
// wallet's answer to the canteen's request, but its reply never reaches the wallet (the route
// fetches it, then aborts). The wallet kept the grant before sending it: after a reload and an
// unlock the consent is listed, it can be withdrawn, and the guichet holds exactly that one grant,
// withdrawn.
import { test } from "node:test";
import assert from "node:assert/strict";
import { launch, screenshot, watchErrors, createWallet, unlock, walletUrl, api, receiveResidenceAndHousehold, answerCanteen } from "./support.mjs";

const CANTEEN_DPV = "https://w3id.org/dpv#ServiceRegistration";

test("an answer whose reply is lost: the consent is kept, listed after unlock, and withdrawable", async () => {
  const browser = await launch();
  try {
    // Service workers blocked: the route below must see the page's own fetch.
    const context = await browser.newContext({ serviceWorkers: "block" });
    const page = await context.newPage();
    const errors = watchErrors(page);
    await createWallet(page);
    await receiveResidenceAndHousehold(page);
    const request = await answerCanteen(page);

    // The guichet gets the answer and records it; the wallet never sees the reply.
    let posts = 0;
    let delivered = null;
    await context.route("**/api/oid4vp/responses/**", async (route) => {
      posts += 1;
      const reply = await route.fetch();
      delivered = reply.status();
      await route.abort("connectionreset");
    });
    await page.getByRole("button", { name: "Accepter et envoyer" }).click();
    await page.getByText("Le service n'a pas pu être joint ou a refusé. Réessayez plus tard.").waitFor({ timeout: 20_000 });
    await context.unroute("**/api/oid4vp/responses/**");
    assert.equal(posts, 1);
    assert.equal(delivered, 200, "the guichet accepted the answer");
    const held = await api("GET", `/api/agent/requests/${request.id}`);
    assert.equal(held.state, "verified");
    assert.equal(held.grant.state, "given");
    const grantId = held.grant.id;

    // A new load: the wallet is locked; after the unlock, the consent is there.
    await page.goto(walletUrl + "/");
    await unlock(page);
    await page.getByRole("heading", { level: 1, name: "Qui détient mes données" }).waitFor();
    const holder = page.locator(".holder", { hasText: "Cantine scolaire" });
    await holder.waitFor({ timeout: 20_000 });
    assert.match(await holder.textContent(), /Inscrire vos enfants à la cantine/);
    await screenshot(page, "lost-answer-home-fr");

    await page.getByRole("link", { name: "Consentements" }).first().click();
    await page.getByRole("heading", { level: 1, name: "Mes consentements" }).waitFor();
    const card = page.locator(`.consent[data-grant="${grantId}"]`);
    await card.waitFor({ timeout: 20_000 });
    assert.equal(await page.locator(".consent").count(), 1, "one consent, the one the guichet holds");
    // Being sent again, or already confirmed by the guichet's stored receipt: either way listed.
    assert.match(await card.locator("dd.status").textContent(), /^(En cours d'envoi|Actif)$/);
    await screenshot(page, "lost-answer-consent-fr");

    await card.getByRole("button", { name: "Retirer mon consentement" }).click();
    await card.getByText("Reçu signé du service (vérifié)").waitFor({ timeout: 20_000 });
    assert.match(await card.textContent(), /Retiré/);

    // The guichet holds exactly one grant for the request: the wallet's, now withdrawn.
    const after = await api("GET", `/api/agent/requests/${request.id}`);
    assert.equal(after.state, "verified");
    assert.equal(after.grant.id, grantId);
    assert.equal(after.grant.state, "withdrawn");
    const check = await api("GET", `/api/consents/${grantId}/check?purpose=${encodeURIComponent(CANTEEN_DPV)}`);
    assert.equal(check.state, "withdrawn");
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});
