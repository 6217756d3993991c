// Issue 22: a citizen identified before issuance. The test starts its own OpenID provider (npm
// `oidc-provider`, tools/oidc-provider/: ProConnect's part for the agents, FranceConnect's for the
// citizens) and its own guichet configured with both (`[oidc]`, `[citizen_identity]`), serving the
// release wallet. An agent signs in through the provider, creates an offer that requires the
// citizen's identity; the citizen opens the identification link, signs in at the provider, and
// receives the credential in the wallet. An agent without the canteen's role gets 403 there.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { launch, screenshot, watchErrors, createWallet, unlock, PASSPHRASE, freePort, started } from "./support.mjs";

const bin = process.env.SOUVERAIN_BIN ?? "../target/debug/souverain";
const dist = process.env.WALLET_DIST ?? "../target/wallet/dist";
const providerDir = resolve("../tools/oidc-provider");
const demoCommune = resolve("../crates/guichet/demo/commune.toml");

/** At the provider's login page: signs in as `login`, then consents. */
async function signInAtProvider(page, login, password) {
  await page.getByLabel("Identifiant").fill(login);
  await page.getByLabel("Mot de passe").fill(password);
  await page.getByRole("button", { name: "Se connecter" }).click();
  await page.getByRole("button", { name: "Autoriser" }).click();
}

test("an agent signed in at the provider makes an identity-required offer; the citizen signs in and receives it in the wallet", {
  skip: existsSync(join(providerDir, "node_modules/oidc-provider")) ? false : "tools/oidc-provider/node_modules is missing",
}, async () => {
  const root = mkdtempSync(join(tmpdir(), "souverain-citizen-"));
  const port = await freePort();
  const guichetUrl = `http://127.0.0.1:${port}`;
  const provider = await started("node", ["server.mjs"], {
    cwd: providerDir,
    env: {
      ...process.env,
      OIDC_REDIRECT_URI: `${guichetUrl}/guichet/connexion/retour`,
      OIDC_POST_LOGOUT_URI: `${guichetUrl}/guichet/deconnecte`,
      OIDC_CLIENT_SECRET: "e2e-agents-secret",
      OIDC_CITIZEN_REDIRECT_URI: `${guichetUrl}/guichet/identification/retour`,
      OIDC_CITIZEN_POST_LOGOUT_URI: `${guichetUrl}/guichet/identification/deconnecte`,
      OIDC_CITIZEN_CLIENT_SECRET: "e2e-citizens-secret",
      PORT: "0",
    },
  });
  writeFileSync(join(root, "agents-secret"), "e2e-agents-secret\n");
  writeFileSync(join(root, "citizens-secret"), "e2e-citizens-secret\n");
  const config = readFileSync(demoCommune, "utf8") + `
[oidc]
issuer = "${provider.url}"
client_id = "guichet"
client_secret_file = "${join(root, "agents-secret")}"
scopes = ["openid", "email", "given_name", "usual_name", "groups"]

[[oidc.roles]]
email_domain = "cantine.beaulieu-sur-loire.example"
read_results = ["cantine"]

[[oidc.roles]]
claim = "groups"
value = "accueil"
issue = true

[citizen_identity]
issuer = "${provider.url}"
client_id = "guichet-citoyens"
client_secret_file = "${join(root, "citizens-secret")}"
acr = "eidas2"
`;
  writeFileSync(join(root, "commune.toml"), config);
  const guichet = await started(bin, [
    "serve", "--addr", `127.0.0.1:${port}`, "--wallet-dist", dist, "--config", join(root, "commune.toml"),
    "--db", join(root, "data", "guichet.sqlite3"),
  ], {});
  assert.equal(guichet.url, guichetUrl);
  const browser = await launch();
  try {
    // The front desk's agent signs in through the provider and ticks the identity box.
    const agent = await (await browser.newContext()).newPage();
    await agent.goto(`${guichetUrl}/guichet/agent`);
    await signInAtProvider(agent, "paul.accueil", "accueil-pass");
    await agent.getByRole("heading", { level: 1, name: "Émettre une attestation" }).waitFor({ timeout: 20_000 });
    await agent.getByLabel("Type d'attestation").selectOption("residence");
    await agent.getByLabel("Adresse").fill("3 rue des Tilleuls");
    await agent.getByLabel("Code postal").fill("45630");
    await agent.getByLabel("Commune", { exact: true }).fill("Beaulieu-sur-Loire");
    await agent.getByLabel("Identité du citoyen requise (FranceConnect)", { exact: false }).check();
    await agent.getByRole("button", { name: "Créer l'offre" }).click();
    await agent.getByRole("heading", { level: 1, name: "Offre créée" }).waitFor();
    const link = await agent.getByRole("link", { name: "Ouvrir le lien d'identification" }).getAttribute("href");
    assert.ok(link.startsWith(`${guichetUrl}/guichet/identification/`), link);
    assert.ok(!(await agent.content()).includes("credential_offer"), "no offer before the citizen's sign-in");
    await screenshot(agent, "citizen-identity-offer-created");
    // The front desk does not read the canteen's results.
    const refused = await agent.goto(`${guichetUrl}/guichet/services/cantine`);
    assert.equal(refused.status(), 403);

    // The citizen, on their phone: a wallet, the link, the provider, the wallet again.
    const citizen = await (await browser.newContext()).newPage();
    const errors = watchErrors(citizen);
    await createWallet(citizen, PASSPHRASE, guichetUrl);
    await citizen.goto(link);
    await signInAtProvider(citizen, "jeanne.citoyenne", "jeanne-pass");
    await citizen.getByRole("heading", { level: 1, name: "Identité vérifiée" }).waitFor({ timeout: 20_000 });
    assert.match(await citizen.locator("main").textContent(), /Jeanne Marie ROUX/);
    await screenshot(citizen, "citizen-identity-verified");
    await citizen.getByRole("link", { name: "Recevoir l'attestation dans mon portefeuille" }).click();
    await unlock(citizen);
    await citizen.getByRole("heading", { level: 1, name: "Mes justificatifs" }).waitFor();
    await citizen.getByText("Justificatif reçu et enregistré.").waitFor({ timeout: 20_000 });
    await citizen.locator('.credential[data-vct="urn:souverain:vct:residence:1"]').first().waitFor();
    await screenshot(citizen, "citizen-identity-received");
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await guichet.stop();
    await provider.stop();
  }
});
