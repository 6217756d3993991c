// The right of access from a consent (issue 20, GDPR art. 15): after answering the canteen, the
// citizen asks the canteen what it keeps; the wallet shows the canteen's signed export, which
// lists exactly what the canteen's agents see, offers it as a file, and journals the answer with
// the claim names only. After a withdrawal (the canteen erases at once), the export is empty.
import { test } from "node:test";
import assert from "node:assert/strict";
import { launch, screenshot, watchErrors, createWallet, api, axe, receiveResidenceAndHousehold, answerCanteen, openRights,
} from "./support.mjs";

test("from a consent, the citizen gets the service's signed export of what it keeps", async () => {
  const browser = await launch();
  try {
    // axe is injected as a script, which the wallet's CSP (rightly) refuses: bypassed for it.
    const page = await (await browser.newContext({ bypassCSP: true })).newPage();
    const errors = watchErrors(page);
    await createWallet(page);
    await receiveResidenceAndHousehold(page);
    const request = await answerCanteen(page);
    await page.getByRole("button", { name: "Accepter et envoyer" }).click();
    await page.locator("#request-result").waitFor({ timeout: 20_000 });
    const result = await api("GET", `/api/agent/requests/${request.id}`);
    const grantId = result.grant.id;

    await openRights(page);
    const card = page.locator(`.card.access[data-grant="${grantId}"]`);
    assert.match(await card.textContent(), /Cantine scolaire/);
    await card.getByRole("button", { name: "Demander mes données" }).click();
    const exported = page.locator(`#access-export[data-grant="${grantId}"]`);
    await exported.waitFor({ timeout: 20_000 });
    await screenshot(page, "rights-access-fr");
    // What the wallet shows is what the canteen's agents see: each credential type's claims.
    for (const { vct, claims } of result.claims) {
      const shown = await exported.locator(`dl[data-vct="${vct}"] dt`).evaluateAll((dts) => dts.map((d) => d.dataset.claim));
      assert.deepEqual(shown.sort(), Object.keys(claims).sort(), vct);
    }
    assert.match(await exported.textContent(), /Composition du foyer.*Enfants.*Prénom : Léa/s);
    // The signed export, as a file.
    const href = await page.locator("#access-download").getAttribute("href");
    assert.ok(href.startsWith("data:application/json"), href.slice(0, 40));
    const file = JSON.parse(decodeURIComponent(href.slice(href.indexOf(",") + 1)));
    assert.equal(file.content.grant_id, grantId);
    assert.equal(file.answer.split(".").length, 3, "the service's JWS");
    assert.deepEqual(await axe(page, "rights-access"), []);

    // The journal keeps the answer, with the claim names and no value.
    await page.getByRole("link", { name: "Journal" }).first().click();
    const entry = page.locator(".timeline-entry", { hasText: "Droit d'accès : export signé du service reçu" });
    await entry.first().waitFor({ timeout: 20_000 });
    assert.doesNotMatch(await entry.first().textContent(), /Léa|Beaulieu/);

    // Withdrawn: the canteen erases at once; asked again, it says it keeps nothing.
    await page.getByRole("link", { name: "Consentements" }).first().click();
    const consent = page.locator(`.consent[data-grant="${grantId}"]`);
    await consent.getByRole("button", { name: "Retirer mon consentement" }).click();
    await consent.getByText("Reçu signé du service (vérifié)").waitFor({ timeout: 20_000 });
    await openRights(page);
    await page.locator(`.card.access[data-grant="${grantId}"]`).getByRole("button", { name: "Demander mes données" }).click();
    await exported.waitFor({ timeout: 20_000 });
    await page.getByText("Rien : ce service ne garde plus aucune donnée de ce consentement.").waitFor();
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});
