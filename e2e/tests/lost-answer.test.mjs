// Issue 16, finding 4: an answered grant is never lost. The guichet receives and records the
// wallet's answer to the canteen's request, but its reply never reaches the wallet (the route
// fetches it, then aborts). The wallet kept the grant before sending it: after a reload and an
// unlock the consent is listed and can be withdrawn, and the guichet holds exactly that one grant.
import { test } from "node:test";
import assert from "node:assert/strict";
import { launch, screenshot, watchErrors, createWallet, unlock, walletUrl, api, receiveResidenceAndHousehold, answerCanteen } from "./support.mjs";

const CANTEEN_DPV = "https://w3id.org/dpv#ServiceRegistration";
const RESPONSES = "**/api/oid4vp/responses/**";

/**
 * A wallet with the canteen's credentials answers its request; the guichet gets the answer and
 * records it, the wallet never sees the reply. Returns the request, the grant id the guichet
 * holds and the form the wallet posted.
 */
async function answerWithLostReply(context, page) {
  await createWallet(page);
  await receiveResidenceAndHousehold(page);
  const request = await answerCanteen(page);
  const posted = [];
  await context.route(RESPONSES, async (route) => {
    posted.push(route.request().postData());
    const reply = await route.fetch();
    assert.equal(reply.status(), 200, "the guichet accepted the answer");
    await route.abort("connectionreset");
  });
  await page.getByRole("button", { name: "Accepter et envoyer" }).click();
  await page.getByText("Le service n'a pas pu être joint ou a refusé. Réessayez plus tard.").waitFor({ timeout: 20_000 });
  await context.unroute(RESPONSES);
  assert.equal(posted.length, 1);
  const held = await api("GET", `/api/agent/requests/${request.id}`);
  assert.equal(held.state, "verified");
  assert.equal(held.grant.state, "given");
  return { request, grantId: held.grant.id, form: posted[0] };
}

/** A new load (the wallet is locked), the unlock, and the home page. */
async function reopen(page) {
  await page.goto(walletUrl + "/");
  await unlock(page);
  await page.getByRole("heading", { level: 1, name: "Qui détient mes données" }).waitFor();
}

/** Withdraws the consent `grantId` on the consents page; the guichet holds it, withdrawn. */
async function withdrawAndCheck(page, request, grantId) {
  const card = page.locator(`.consent[data-grant="${grantId}"]`);
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
}

test("a lost reply: after unlock the identical answer is sent again, the consent is given, and withdrawable", async () => {
  const browser = await launch();
  try {
    // Service workers blocked: the route must see the page's own fetch.
    const context = await browser.newContext({ serviceWorkers: "block" });
    const page = await context.newPage();
    const errors = watchErrors(page);
    const { request, grantId, form } = await answerWithLostReply(context, page);

    const reposted = [];
    context.on("request", (r) => {
      if (r.url().includes("/api/oid4vp/responses/")) reposted.push(r.postData());
    });
    await reopen(page);
    const holder = page.locator(".holder", { hasText: "Cantine scolaire" });
    await holder.waitFor({ timeout: 20_000 });
    assert.match(await holder.textContent(), /Inscrire vos enfants à la cantine/);

    await page.getByRole("link", { name: "Consentements" }).first().click();
    await page.getByRole("heading", { level: 1, name: "Mes consentements" }).waitFor();
    const card = page.locator(`.consent[data-grant="${grantId}"]`);
    // The guichet answers the identical form with the receipt it stored: the consent is given.
    await card.getByText("Actif", { exact: true }).waitFor({ timeout: 20_000 });
    assert.equal(await page.locator(".consent").count(), 1, "one consent, the one the guichet holds");
    assert.ok(reposted.length >= 1, "the kept answer was sent again");
    for (const body of reposted) assert.equal(body, form, "sent again byte for byte");
    await screenshot(page, "lost-reply-recovered-fr");

    await withdrawAndCheck(page, request, grantId);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

test("a lost reply, the guichet unreachable since: the consent is listed as being sent and can be withdrawn", async () => {
  const browser = await launch();
  try {
    const context = await browser.newContext({ serviceWorkers: "block" });
    const page = await context.newPage();
    const errors = watchErrors(page);
    const { request, grantId } = await answerWithLostReply(context, page);

    // From now on no answer reaches the guichet.
    let resent = 0;
    await context.route(RESPONSES, (route) => {
      resent += 1;
      return route.abort("connectionrefused");
    });
    await reopen(page);
    const holder = page.locator(".holder", { hasText: "Cantine scolaire" });
    await holder.waitFor({ timeout: 20_000 });
    await holder.getByText("En cours d'envoi", { exact: true }).waitFor();
    await screenshot(page, "lost-reply-home-fr");

    await page.getByRole("link", { name: "Consentements" }).first().click();
    await page.getByRole("heading", { level: 1, name: "Mes consentements" }).waitFor();
    const card = page.locator(`.consent[data-grant="${grantId}"]`);
    await card.locator("dd.status", { hasText: "En cours d'envoi" }).waitFor({ timeout: 20_000 });
    assert.equal(await page.locator(".consent").count(), 1);
    await screenshot(page, "lost-reply-being-sent-fr");
    // The wallet tried to send it again (and failed): it stays being sent.
    for (let waited = 0; resent === 0 && waited < 20_000; waited += 200) await page.waitForTimeout(200);
    assert.ok(resent >= 1, "the wallet sends the kept answer again after the unlock");
    assert.match(await card.locator("dd.status").textContent(), /En cours d'envoi/);

    // The withdrawal goes to the guichet, which holds the grant.
    await withdrawAndCheck(page, request, grantId);

    // Withdrawn, the answer is never sent again.
    await context.unroute(RESPONSES);
    let after = 0;
    context.on("request", (r) => {
      if (r.url().includes("/api/oid4vp/responses/")) after += 1;
    });
    await reopen(page);
    await page.getByRole("link", { name: "Consentements" }).first().click();
    await page.locator(`.consent[data-grant="${grantId}"]`).getByText("Retiré", { exact: true }).waitFor();
    await page.waitForTimeout(2_500);
    assert.equal(after, 0, "a withdrawn answer is not sent again");
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

test("an answer the service refuses for good when sent again: listed as refused, not withdrawable, not sent again", async () => {
  const browser = await launch();
  try {
    const context = await browser.newContext({ serviceWorkers: "block" });
    const page = await context.newPage();
    const errors = watchErrors(page);
    await createWallet(page);
    await receiveResidenceAndHousehold(page);
    const request = await answerCanteen(page);
    // The first post never reaches the guichet; sent again, the service answers 410.
    let posts = 0;
    await context.route(RESPONSES, (route) => {
      posts += 1;
      return posts === 1
        ? route.abort("internetdisconnected")
        : route.fulfill({ status: 410, contentType: "application/json", body: '{"error":"request_expired"}' });
    });
    await page.getByRole("button", { name: "Accepter et envoyer" }).click();
    await page.getByText("Le service n'a pas pu être joint ou a refusé. Réessayez plus tard.").waitFor({ timeout: 20_000 });
    assert.equal((await api("GET", `/api/agent/requests/${request.id}`)).state, "pending", "nothing reached the guichet");

    await reopen(page);
    await page.getByRole("link", { name: "Consentements" }).first().click();
    const card = page.locator(".consent");
    await card.locator("dd.status", { hasText: "Refusé par le service" }).waitFor({ timeout: 20_000 });
    assert.equal(posts, 2);
    assert.equal(await card.getByRole("button", { name: "Retirer mon consentement" }).count(), 0);
    await screenshot(page, "lost-reply-refused-fr");
    // Nobody holds anything: the home page does not list the canteen.
    await page.getByRole("link", { name: "Accueil" }).first().click();
    await page.getByText("Aucun service ne détient de données de votre portefeuille pour l'instant.").waitFor();
    // The journal says so.
    await page.getByRole("link", { name: "Journal" }).first().click();
    await page.locator("#chain-status").waitFor();
    await page.locator('.timeline-entry[data-kind="data_change"]', { hasText: "réponse refusée par le service" }).waitFor();
    assert.equal(await page.locator('.timeline-entry[data-kind="disclosure"]').count(), 0);
    assert.match(await page.locator("#chain-status").textContent(), /Journal vérifié/);

    // Refused, it is not sent again.
    await reopen(page);
    await page.waitForTimeout(2_500);
    assert.equal(posts, 2);
    assert.equal((await api("GET", `/api/agent/requests/${request.id}`)).state, "pending");
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});
