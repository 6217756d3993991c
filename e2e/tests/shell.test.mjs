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
