// A new version of the wallet: the service worker installs it in the background, the app says so,
// and the citizen's click switches to it (never a reload by surprise). The test serves a copy of the
// release build from its own guichet, opens it, then publishes a "new version" by changing the copy's
// service worker, as a deployment would.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { gzipSync } from "node:zlib";
import { launch, screenshot, watchErrors } from "./support.mjs";

const bin = process.env.SOUVERAIN_BIN ?? "../target/debug/souverain";
const dist = process.env.WALLET_DIST ?? "../target/wallet/dist";

/** Starts `souverain serve` on a free loopback port with `walletDist`; resolves to { url, stop }. */
function serve(walletDist, dataDir) {
  const child = spawn(bin, [
    "serve", "--addr", "127.0.0.1:0", "--wallet-dist", walletDist, "--db", join(dataDir, "guichet.sqlite3"),
  ], { stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.on("line", (line) => {
      if (line.startsWith("listening on ")) {
        resolve({
          url: line.slice("listening on ".length).trim(),
          stop: () => new Promise((done) => { child.once("exit", done); child.kill("SIGTERM"); }),
        });
      }
    });
    child.once("exit", (code) => reject(new Error(`the guichet stopped before listening (${code})`)));
  });
}

/** The version the service worker file carries. */
function swVersion(text) {
  const version = text.match(/const VERSION = "([^"]+)"/)?.[1];
  assert.ok(version && version !== "/*VERSION*/dev", "the build's sw.js has a filled-in version");
  return version;
}

test("a new version is announced in the app and taken on the citizen's click", async () => {
  const root = mkdtempSync(join(tmpdir(), "souverain-update-"));
  const copy = join(root, "dist");
  cpSync(dist, copy, { recursive: true });
  const server = await serve(copy, join(root, "data"));
  const browser = await launch();
  try {
    const page = await (await browser.newContext()).newPage();
    const errors = watchErrors(page);
    await page.goto(server.url + "/");
    await page.getByRole("link", { name: "Créer mon portefeuille" }).waitFor();
    // The first worker takes control without any prompt.
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 20_000 });
    const old = swVersion(readFileSync(join(copy, "sw.js"), "utf8"));
    assert.deepEqual(await page.evaluate(() => caches.keys()), [`souverain-${old}`]);
    assert.equal(await page.locator(".update-banner").count(), 0);

    // Deploy: same files, a new service-worker version.
    const served = ["sw.js", "sw.js.gz"].map((name) => [name, statSync(join(copy, name))]);
    const next = "e2e-" + Date.now().toString(16);
    const sw = readFileSync(join(copy, "sw.js"), "utf8").replace(`const VERSION = "${old}"`, `const VERSION = "${next}"`);
    writeFileSync(join(copy, "sw.js"), sw);
    // Its gzip twin too, as `cargo xtask` writes it: browsers that accept gzip are sent that one.
    writeFileSync(join(copy, "sw.js.gz"), gzipSync(sw, { level: 9 }));
    // Deployed within the same second as the copy the browser holds: same modification times, which
    // is all `Last-Modified` can tell. The guichet must still send the new worker.
    for (const [name, { atime, mtime }] of served) utimesSync(join(copy, name), atime, mtime);

    // The next open finds it, installs it in the background and says so; nothing reloads by itself.
    await page.reload();
    const banner = page.locator(".update-banner");
    await banner.getByText("Une nouvelle version du portefeuille est disponible.").waitFor({ timeout: 20_000 });
    await screenshot(page, "update-available-fr");
    assert.deepEqual(await page.evaluate(() => caches.keys().then((k) => k.sort())), [`souverain-${next}`, `souverain-${old}`].sort());

    // The citizen's click: the new worker takes over, the page reloads under it, the old cache goes.
    await Promise.all([page.waitForEvent("load"), banner.getByRole("button", { name: "Recharger" }).click()]);
    await page.getByRole("link", { name: "Créer mon portefeuille" }).waitFor();
    await page.waitForFunction(async (expected) => (await caches.keys()).join() === expected, `souverain-${next}`, { timeout: 20_000 });
    assert.equal(await page.locator(".update-banner").count(), 0);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await server.stop();
    rmSync(root, { recursive: true, force: true });
  }
});
