// Issue 17: the erasure date a service signs is kept by the guichet's erasure job, and the citizen
// sees it in the commune's data-use log. The test starts its own guichet, whose canteen keeps the
// claims 30 days after a withdrawal. The citizen consents, an agent reads the result, the citizen
// withdraws: the audit shows the read and the withdrawal processed, and no erasure yet (not due).
// Then the guichet is started again on the same database with its clock moved 31 days on
// (Debian's libfaketime preloaded, `FAKETIME=+31d`: the process's clock, not a hook in the guichet), and
// the wallet's clock with it (Playwright's clock): the erasure job runs at start, logs the erasure,
// and the wallet's card shows it, verified.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import {
  launch, screenshot, watchErrors, createWallet, unlock, receiveResidenceAndHousehold, consentToCanteen,
  freePort, started, useGuichet,
} from "./support.mjs";

const bin = process.env.SOUVERAIN_BIN ?? "../target/debug/souverain";
const dist = process.env.WALLET_DIST ?? "../target/wallet/dist";
const demoCommune = resolve("../crates/guichet/demo/commune.toml");
// The library itself rather than the `faketime` command, which forks: stopping the command would
// leave the guichet running.
const FAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";
const DAY = 86_400_000;

test("the erasure job keeps the signed date (guichet's clock moved 31 days) and the wallet's card shows the erasure", {
  skip: existsSync(FAKETIME) ? false : "Debian's faketime is not installed (cargo xtask test installs it)",
}, async () => {
  const root = mkdtempSync(join(tmpdir(), "souverain-erasure-"));
  const port = await freePort();
  // The demo commune, its canteen keeping the claims 30 days after a withdrawal.
  const demo = readFileSync(demoCommune, "utf8");
  const canteen = demo.indexOf('id = "cantine"');
  const keep = demo.indexOf('erasure = "delete"', canteen);
  assert.ok(canteen > 0 && keep > canteen, "the demo's canteen and its erasure policy");
  writeFileSync(join(root, "commune.toml"), demo.slice(0, keep) + "erasure = 30" + demo.slice(keep + 'erasure = "delete"'.length));
  const args = [
    "serve", "--addr", `127.0.0.1:${port}`, "--wallet-dist", dist, "--config", join(root, "commune.toml"),
    "--db", join(root, "guichet.sqlite3"),
  ];
  let guichet = await started(bin, args, {});
  useGuichet(guichet.url);
  const browser = await launch();
  try {
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors = watchErrors(page);
    await createWallet(page);
    await receiveResidenceAndHousehold(page);
    // The agent reads the result (consentToCanteen does), which the guichet logs before showing it.
    const grantId = await consentToCanteen(page);

    await page.getByRole("link", { name: "Consentements" }).first().click();
    const card = page.locator(`.consent[data-grant="${grantId}"]`);
    await card.getByRole("button", { name: "Retirer mon consentement" }).click();
    await card.getByText("Reçu signé du service (vérifié)").waitFor({ timeout: 20_000 });
    const erasureBy = await card.locator("dt", { hasText: "Effacement au plus tard le" }).locator("xpath=following-sibling::dd[1]").textContent();
    await page.getByRole("button", { name: "Vérifier le journal de la commune" }).click();
    await card.locator('.uses li[data-use="withdrawal_processed"]').waitFor({ timeout: 20_000 });
    assert.equal(await card.locator('.uses li[data-use="agent_read"]').count(), 1);
    assert.equal(await card.locator('.uses li[data-use="erasure"]').count(), 0, "not due: not erased");
    assert.equal(await page.locator("#audit-out .alert-error").count(), 0, await page.locator("#audit-out").textContent());

    // 31 days later: the guichet starts again on its database, its erasure job runs at start.
    await guichet.stop();
    guichet = await started(bin, args, { env: { ...process.env, LD_PRELOAD: FAKETIME, FAKETIME: "+31d" } });
    const later = Date.now() + 31 * DAY + 5 * 60_000;
    await page.clock.setFixedTime(later);
    await page.reload();
    await unlock(page);
    await page.getByRole("link", { name: "Consentements" }).first().click();
    await page.getByRole("button", { name: "Vérifier le journal de la commune" }).click();
    const erased = card.locator('.uses li[data-use="erasure"]');
    await erased.waitFor({ timeout: 20_000 });
    assert.match(await erased.textContent(), /Effacées/);
    // Logged after the date signed to the citizen, by the guichet's moved clock.
    const [d, m, y] = erasureBy.trim().split(" ")[0].split("/").map(Number);
    const [ed, em, ey] = (await erased.locator("time").textContent()).trim().split(" ")[0].split("/").map(Number);
    assert.ok(Date.UTC(ey, em - 1, ed) >= Date.UTC(y, m - 1, d), `erased ${ed}/${em}/${ey}, due ${erasureBy}`);
    assert.equal(await page.locator("#audit-out .alert-error").count(), 0, await page.locator("#audit-out").textContent());
    await screenshot(page, "erasure-after-31-days-fr");
    // Past its erasure date, the canteen no longer appears among those holding data.
    await page.getByRole("link", { name: "Accueil" }).first().click();
    await page.getByText("Aucun service ne détient de données de votre portefeuille pour l'instant.").waitFor();
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await guichet.stop();
  }
});
