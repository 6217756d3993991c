// Public-interest statistics (issue 18): the guichet runs a canteen-attendance study's leader and
// an independent helper (`souverain aggregator`) runs beside it, both set up by `souverain study
// setup` with this test's own template. The citizen, holding a proof of residence, opens the
// Studies page (in the navigation, and linked from the consents page's section), reads what would
// be computed and who aggregates, and contributes an answer; the leader's file then holds one report and the token spent, never the answer. Twelve
// simulated neighbours add theirs (`souverain study simulate`); after the close the commune
// aggregates with the helper, computes and signs the result, and states its use; the wallet shows
// the published result by bucket and the commune's statement, both verified. axe finds nothing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  launch, screenshot, watchErrors, createWallet, axe, receiveResidenceAndHousehold, freePort, started, useGuichet, SQLITE3, query,
} from "./support.mjs";

const bin = process.env.SOUVERAIN_BIN ?? "../target/debug/souverain";
const dist = process.env.WALLET_DIST ?? "../target/wallet/dist";

const TEMPLATE = {
  title: { fr: "Cantine : combien de jours (essai e2e) ?", en: "Canteen: how many days (e2e trial)?" },
  question: { fr: "Combien de jours par semaine vos enfants mangent-ils à la cantine ?", en: "How many days a week do your children eat at the canteen?" },
  purpose: { dpv: "https://w3id.org/dpv#ServiceOptimisation", text: { fr: "Prévoir les repas", en: "Plan the meals" } },
  eligibility_vct: "urn:souverain:vct:residence:1",
  computed_from: [],
  computation: { fr: "Votre choix, fait ici", en: "Your choice, made here" },
  derivation: { kind: "choice" },
  measure: { type: "histogram", buckets: [
    { fr: "Jamais", en: "Never" }, { fr: "Un ou deux jours", en: "One or two days" }, { fr: "Trois jours ou plus", en: "Three days or more" },
  ] },
  leader_name: { fr: "Mairie d'essai", en: "Trial town hall" },
  helper_name: { fr: "Tiers indépendant d'essai", en: "Trial independent party" },
  min_batch: 10,
  time_precision: 10,
  use_of_results: { fr: "Les commandes de repas", en: "The meal orders" },
};

async function openStudies(page) {
  // The consents page's section links to the studies page, which the navigation also names.
  await page.getByRole("link", { name: "Consentements" }).first().click();
  await page.getByRole("heading", { level: 1, name: "Mes consentements" }).waitFor();
  await page.getByRole("button", { name: "Mes procurations, mes droits" }).click();
  await page.getByRole("link", { name: "Voir les études de la commune" }).waitFor({ timeout: 20_000 });
  await page.getByRole("navigation").getByRole("link", { name: "Études" }).click();
  await page.getByRole("heading", { level: 1, name: "Études" }).waitFor();
  await page.getByText("La commune vous demande de contribuer").waitFor({ timeout: 20_000 });
}

test("the citizen contributes to a canteen study without anyone seeing the answer, then reads the result and its use", {
  skip: existsSync(SQLITE3) ? false : "Debian's sqlite3 is not installed (cargo xtask test installs it)",
}, async () => {
  const root = mkdtempSync(join(tmpdir(), "souverain-studies-"));
  const [port, helperPort] = [await freePort(), await freePort()];
  writeFileSync(join(root, "study.json"), JSON.stringify(TEMPLATE));
  const now = Math.floor(Date.now() / 1000);
  const opens = now - (now % 10) - 10;
  const closes = opens + 100;
  const printed = execFileSync(bin, [
    "study", "setup", "--keys", join(root, "keys"), "--template", join(root, "study.json"),
    "--leader-url", `http://127.0.0.1:${port}/dap/`, "--helper-url", `http://127.0.0.1:${helperPort}/`,
    "--opens-at", String(opens), "--closes-at", String(closes), "--out", join(root, "studies"),
  ], { encoding: "utf8" }).trim();
  const task = printed.replace(/^study /, "");
  const helper = await started(bin, ["aggregator", "--addr", `127.0.0.1:${helperPort}`, "--config",
    join(root, "studies", "helper.toml"), "--db", join(root, "helper.sqlite3")], {});
  const guichet = await started(bin, ["serve", "--addr", `127.0.0.1:${port}`, "--wallet-dist", dist,
    "--db", join(root, "guichet.sqlite3"), "--keys", join(root, "keys"), "--studies", join(root, "studies", "leader.toml")], {});
  useGuichet(guichet.url);
  const leaderDb = join(root, "studies", "leader.aggregator.sqlite3");
  const operator = readFileSync(join(root, "studies", "operator-token"), "utf8").trim();
  const asOperator = async (path, body) => {
    const r = await fetch(`${guichet.url}/dap/studies/${task}/${path}`, {
      method: "POST", headers: { authorization: `Bearer ${operator}`, "content-type": "application/json" }, body,
    });
    assert.equal(r.status, 200, `${path}: ${await r.text()}`);
    return r;
  };
  const browser = await launch();
  try {
    const page = await (await browser.newContext({ bypassCSP: true })).newPage();
    const errors = watchErrors(page);
    await createWallet(page);
    await receiveResidenceAndHousehold(page);

    await openStudies(page);
    await screenshot(page, "studies-list");
    const card = page.locator("section.study").filter({ hasText: TEMPLATE.question.fr });
    await card.waitFor({ timeout: 20_000 });
    // What would leave and who aggregates, in plain words, before anything is sent.
    for (const text of ["Tiers indépendant d'essai", "Mairie d'essai", "10"]) {
      assert.ok((await card.textContent()).includes(text), `the card says ${text}`);
    }
    await axe(page, "studies-open");
    await card.getByLabel("Votre réponse").selectOption({ label: "Trois jours ou plus" });
    await card.getByRole("button", { name: "Contribuer" }).click();
    await page.getByText("Merci : votre contribution a été envoyée.").waitFor({ timeout: 30_000 });
    await screenshot(page, "studies-contributed");
    // One report and one token spent at the leader; its stored share is not the answer.
    assert.equal(query(leaderDb, `SELECT COUNT(*) FROM reports WHERE task_id = '${task}'`), "1");
    assert.equal(query(leaderDb, `SELECT COUNT(*) FROM tokens_spent WHERE task_id = '${task}'`), "1");
    // Already answered: no second contribution is offered.
    assert.equal(await page.locator("section.study").filter({ hasText: TEMPLATE.question.fr }).getByRole("button", { name: "Contribuer" }).count(), 0);

    // Twelve neighbours (simulated through the real flow), then the close.
    execFileSync(bin, ["study", "simulate", "--guichet", guichet.url, "--task", task, "--count", "12"]);
    await asOperator("aggregate");
    const wait = closes - Math.floor(Date.now() / 1000) + 1;
    if (wait > 0) await new Promise((done) => setTimeout(done, wait * 1000));
    await asOperator("collect");
    await asOperator("use", JSON.stringify({ fr: "Un second service le jeudi", en: "A second sitting on Thursdays" }));

    await openStudies(page);
    const done = page.locator("section.study").filter({ hasText: TEMPLATE.question.fr });
    const table = done.locator("table.study-result");
    await table.waitFor({ timeout: 20_000 });
    // The exact totals (this study adds no noise): the neighbours' answers as `souverain study
    // simulate` spreads them (bucket (i² + ⌊i/3⌋) mod 3 for the i-th), and the citizen's.
    const expected = [0, 0, 0];
    for (let i = 0; i < 12; i++) expected[(i * i + Math.floor(i / 3)) % 3] += 1;
    expected[2] += 1;
    assert.deepEqual(await table.locator("tbody td").allTextContents(), expected.map(String));
    assert.ok((await done.textContent()).includes("Contributions comptées : 13"), await done.textContent());
    assert.ok((await done.textContent()).includes("Un second service le jeudi"));
    await screenshot(page, "studies-result");
    await axe(page, "studies-result");
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await guichet.stop();
    await helper.stop();
  }
});
