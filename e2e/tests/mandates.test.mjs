// Issue 19: a person and her carer, two wallets in two browser contexts against the commune's
// guichet. The person gives the carer a mandate for the heatwave register; the carer enrols her;
// the guichet accepts the chain and records who acted for whom; the person's wallet shows the
// enrolment made by the carer (home page, journal); she revokes the mandate; the carer's next
// attempt is refused by the guichet.
import { test } from "node:test";
import assert from "node:assert/strict";
import { launch, screenshot, watchErrors, createWallet, api, axe, receive } from "./support.mjs";

const JEANNE = {
  given_name: "Jeanne",
  family_name: "Lefèvre",
  address: { street_address: "12 chemin des Saules", locality: "Beaulieu-sur-Loire", postal_code: "45630" },
  since: "1971-06-01",
};
const REGISTER = "Registre canicule et grand froid";

/** Opens the mandates section of the consents page (the page opened afresh: the section empty). */
async function openMandates(page) {
  await page.getByRole("link", { name: "Accueil" }).first().click();
  await page.getByRole("heading", { level: 1, name: "Qui détient mes données" }).waitFor();
  await page.getByRole("link", { name: "Consentements" }).first().click();
  await page.getByRole("heading", { level: 1, name: "Mes consentements" }).waitFor();
  await page.getByRole("button", { name: "Mes procurations" }).click();
  await page.locator("#carer-code").waitFor({ timeout: 20_000 });
}

/**
 * The agent asks for an enrolment in the register; the carer opens it on her mandates page, in
 * Jeanne's card, and sees what would be sent for Jeanne before she sends it.
 */
async function carerOpensForJeanne(carer) {
  const request = await api("POST", "/api/agent/services/canicule/requests", { purpose: "inscription" });
  await openMandates(carer);
  const card = carer.locator(".mandate-held", { hasText: "Jeanne Lefèvre" });
  await card.getByLabel("Lien de la demande du service").fill(request.wallet_url);
  await card.getByRole("button", { name: "Ouvrir la demande" }).click();
  const panel = carer.locator("#mandate-confirm-panel");
  await panel.waitFor({ timeout: 20_000 });
  assert.match(await panel.textContent(), new RegExp(`${REGISTER} demande, pour Jeanne Lefèvre`));
  const shared = await panel.locator("[data-claim]").evaluateAll((els) => els.map((e) => e.dataset.claim).sort());
  assert.deepEqual(shared, ["/address", "/family_name", "/given_name"]);
  return request;
}

test("a carer enrols the person she acts for in the heatwave register, until the person revokes the mandate", async () => {
  const browser = await launch(["--lang=fr-FR"]);
  try {
    const personContext = await browser.newContext({ bypassCSP: true });
    const carerContext = await browser.newContext({ bypassCSP: true });
    const person = await personContext.newPage();
    const carer = await carerContext.newPage();
    const errors = [...[person, carer].map(watchErrors)];
    await createWallet(person);
    await receive(person, "residence", JEANNE, "urn:souverain:vct:residence:1");
    await createWallet(carer);

    // The carer's code, shown in her mandates section.
    await openMandates(carer);
    const code = (await carer.locator("#carer-code").textContent()).trim();
    assert.equal(Buffer.from(code, "base64url").length, 32, "the code is a key thumbprint");
    assert.deepEqual(await axe(carer, "mandates-carer"), []);

    // Jeanne gives Marie a mandate for the heatwave register, and hands her the link.
    await openMandates(person);
    await person.getByLabel("Code de la personne de confiance").fill(code);
    await person.getByLabel("Son nom").fill("Marie");
    await person.getByLabel("Service", { exact: true }).selectOption({ label: REGISTER });
    await person.getByRole("button", { name: "Créer la procuration" }).click();
    const linkText = person.locator("#mandate-link-text");
    await linkText.waitFor({ timeout: 20_000 });
    const link = await linkText.inputValue();
    assert.match(link, /#\/consents\?m=/);
    const given = person.locator(".mandate-given");
    await given.waitFor();
    assert.match(await given.textContent(), /Marie/);
    assert.match(await given.textContent(), /En vigueur/);
    await screenshot(person, "mandate-given-fr");
    assert.deepEqual(await axe(person, "mandates-person"), []);

    // Marie keeps it: her wallet checks it names her and is signed by Jeanne's key.
    await carer.getByLabel("Lien de la procuration").fill(link);
    await carer.getByRole("button", { name: "Enregistrer la procuration" }).click();
    await carer.locator(".mandate-held", { hasText: "Jeanne Lefèvre" }).waitFor({ timeout: 20_000 });
    // A mandate for another wallet is refused: Jeanne's own wallet cannot keep it.
    await person.getByLabel("Lien de la procuration").fill(link);
    await person.getByRole("button", { name: "Enregistrer la procuration" }).click();
    await person.getByText("Ce lien n'est pas une procuration pour ce portefeuille").waitFor();

    // The register asks; Marie answers for Jeanne; the guichet records who acted for whom.
    const request = await carerOpensForJeanne(carer);
    await screenshot(carer, "mandate-request-for-jeanne-fr");
    await carer.getByRole("button", { name: "Accepter et envoyer pour cette personne" }).click();
    await carer.getByText("Réponse envoyée et reçu du service vérifié.").waitFor({ timeout: 20_000 });
    // The register is read only while the prefect's emergency plan is in force.
    await api("POST", "/api/agent/services/canicule/emergency", { reference: "Arrêté préfectoral 45-2027-07-12", hours: 72 });
    const result = await api("GET", `/api/agent/requests/${request.id}`);
    assert.equal(result.state, "verified");
    assert.equal(result.claims[0].claims.family_name, "Lefèvre");
    assert.equal(result.grant.content.representative.id, code, "the grant names the carer as representative");
    assert.notEqual(result.grant.content.pii_principal, code, "and Jeanne as the person concerned");
    // Marie's wallet keeps it as given for Jeanne, which only Jeanne withdraws (listed again
    // when the page opens again).
    await carer.getByRole("link", { name: "Accueil" }).first().click();
    await carer.getByRole("link", { name: "Consentements" }).first().click();
    const carerCard = carer.locator(`.consent[data-grant="${result.grant.id}"]`);
    await carerCard.waitFor();
    assert.match(await carerCard.textContent(), /Donné par vous pour Jeanne Lefèvre/);
    assert.equal(await carerCard.getByRole("button", { name: "Retirer mon consentement" }).count(), 0);

    // Jeanne's wallet fetches what was done in her name when her mandates page opens, and shows the
    // enrolment Marie made on her home page and in her journal.
    await openMandates(person);
    const acts = person.locator(".mandate-given .mandate-acts li");
    await acts.waitFor({ timeout: 20_000 });
    assert.match(await acts.textContent(), new RegExp(REGISTER));
    await person.getByRole("link", { name: "Accueil" }).first().click();
    const holder = person.locator(".holder", { hasText: REGISTER });
    await holder.waitFor({ timeout: 20_000 });
    assert.match(await holder.textContent(), /Donné pour vous par Marie/);
    assert.match(await holder.textContent(), /Nom/);
    await screenshot(person, "mandate-act-on-home-fr");
    await person.getByRole("link", { name: "Journal" }).first().click();
    await person.getByText("Fait en votre nom par votre mandataire").first().waitFor();
    await person.getByRole("link", { name: "Consentements" }).first().click();
    const personCard = person.locator(`.consent[data-grant="${result.grant.id}"]`);
    await personCard.getByRole("button", { name: "Retirer mon consentement" }).waitFor();

    // Jeanne revokes the mandate; the guichet refuses Marie's next attempt.
    await openMandates(person);
    await person.locator(".mandate-given").getByRole("button", { name: "Révoquer" }).click();
    await person.locator(".mandate-given .mandate-state", { hasText: "Révoquée" }).waitFor({ timeout: 20_000 });
    const again = await carerOpensForJeanne(carer);
    await carer.getByRole("button", { name: "Accepter et envoyer pour cette personne" }).click();
    await carer.getByText("Le service a refusé la réponse").waitFor({ timeout: 20_000 });
    assert.equal((await api("GET", `/api/agent/requests/${again.id}`)).state, "pending", "nothing recorded");
    await screenshot(carer, "mandate-revoked-refused-fr");
    assert.deepEqual(errors.flat(), []);
  } finally {
    await browser.close();
  }
});
