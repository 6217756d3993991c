// The walking skeleton: the wallet served by the guichet loads in Chromium, speaks French first,
// switches to English and back, and remembers the choice.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { launch, screenshot, walletUrl } from "./support.mjs";

test("the wallet shell loads in French and switches to English", async () => {
  const browser = await launch();
  try {
    const page = await (await browser.newContext()).newPage();
    const errors = [];
    page.on("pageerror", (err) => errors.push(err.message));
    await page.goto(walletUrl + "/");

    const heading = page.getByRole("heading", { level: 1 });
    await heading.waitFor();
    assert.equal(await heading.textContent(), "Bienvenue dans votre portefeuille");
    assert.equal(await page.locator("html").getAttribute("lang"), "fr");

    await page.getByRole("button", { name: "Switch to English" }).click();
    await page.getByRole("heading", { name: "Welcome to your wallet" }).waitFor();
    assert.equal(await page.locator("html").getAttribute("lang"), "en");
    const shot = await screenshot(page, "shell-en");
    assert.ok(existsSync(shot), `screenshot written at ${shot}`);

    // The choice survives a reload.
    await page.reload();
    await page.getByRole("heading", { name: "Welcome to your wallet" }).waitFor();
    await page.getByRole("button", { name: "Passer en français" }).click();
    await page.getByRole("heading", { name: "Bienvenue dans votre portefeuille" }).waitFor();
    await screenshot(page, "shell-fr");
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

test("the guichet answers its health check", async () => {
  const response = await fetch(walletUrl + "/healthz");
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { status: "ok" });
});

test("the wallet's files travel gzip-compressed: the wasm, its JavaScript and the styles", async () => {
  const browser = await launch();
  try {
    // Service workers blocked: these are the network transfers of a first visit.
    const page = await (await browser.newContext({ serviceWorkers: "block" })).newPage();
    await page.goto(walletUrl + "/");
    await page.getByRole("heading", { level: 1 }).waitFor();
    const files = await page.evaluate(() =>
      performance.getEntriesByType("resource")
        .filter((e) => /\.(wasm|js|css)$/.test(new URL(e.name).pathname))
        .map((e) => ({ name: new URL(e.name).pathname, encoded: e.encodedBodySize, decoded: e.decodedBodySize })),
    );
    for (const kind of [".wasm", ".css"]) assert.ok(files.some((f) => f.name.endsWith(kind)), `${kind} loaded`);
    for (const f of files) assert.ok(f.encoded < f.decoded, `${f.name}: ${f.encoded} bytes sent for ${f.decoded}`);
    const wasm = files.find((f) => f.name.endsWith(".wasm"));
    assert.ok(wasm.encoded < wasm.decoded / 2, `the wasm shrinks more than twofold (${wasm.encoded} / ${wasm.decoded})`);
  } finally {
    await browser.close();
  }
});
