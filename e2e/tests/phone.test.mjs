// Issue 21: every page the citizen reads fits a phone's screen (and the consents page's mandates and
// rights section, issues 19 and 20). After a whole exchange (two
// credentials received, the canteen's request answered, a second one pending), every page at 360 × 740 and at 320 × 568,
// in French and in English: nothing wider than the screen (the page never scrolls sideways).
// Screenshots are kept in E2E_OUT. And no page speaks in identifiers outside a details element.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  launch, createWallet, walletUrl, screenshot, receiveResidenceAndHousehold, consentToCanteen, answerCanteen, addData,
} from "./support.mjs";

const SIZES = [
  { width: 360, height: 740 },
  { width: 320, height: 568 },
];
// "rights": the consents page with its mandates and rights section open and an access answer shown
// (drawn by the wallet's second module).
const ROUTES = ["home", "request", "credentials", "consents", "rights", "studies", "data", "journal", "settings", "restore"];

/** How far the page is wider than the window, and the widest elements sticking out (for the message). */
async function overflow(page) {
  return page.evaluate(() => {
    const width = window.innerWidth;
    const culprits = [...document.querySelectorAll("body *")]
      .filter((e) => e.getBoundingClientRect().right > width + 0.5)
      .slice(0, 3)
      .map((e) => `${e.tagName.toLowerCase()}.${e.className}: ${(e.textContent ?? "").slice(0, 60)}`);
    return { excess: document.documentElement.scrollWidth - width, culprits };
  });
}

/**
 * Identifiers a citizen should not have to read (issue 21): DIDs, URNs, DPV IRIs, dotted claim
 * paths, in the page's text outside any <details> (where they stay available on request).
 */
async function identifiers(page) {
  return page.evaluate(() => {
    const body = document.body.cloneNode(true);
    body.querySelectorAll("details, script, noscript").forEach((e) => e.remove());
    const text = body.textContent ?? "";
    const found = text.match(/did:[a-z]+:\S{0,20}|urn:\S{0,30}|https?:\/\/w3id\.org\/dpv\S*|\b[a-z][a-z_]*\.[a-z][a-z_]*\b/g);
    return found ?? [];
  });
}

test("every page fits 360 and 320 pixel wide screens, in French and in English", async () => {
  const browser = await launch();
  try {
    const context = await browser.newContext({ viewport: SIZES[0] });
    const page = await context.newPage();
    await createWallet(page);
    await addData(page, "profile", "Prénom", "Camille");
    await receiveResidenceAndHousehold(page);
    await consentToCanteen(page);
    // A second request left unanswered, so that the request page and the home page's pending list show.
    await answerCanteen(page);

    const checked = [];
    for (const lang of ["fr", "en"]) {
      if (lang === "en") {
        await page.goto(walletUrl + "/#/settings");
        await page.getByRole("button", { name: "Switch to English" }).click();
        await page.getByRole("heading", { level: 1 }).waitFor();
        if (await page.getByLabel("Passphrase", { exact: true }).isVisible().catch(() => false)) {
          await page.getByLabel("Passphrase", { exact: true }).fill("cheval agrafe pile correcte 42");
          await page.getByRole("button", { name: "Unlock", exact: true }).click();
        }
      }
      for (const size of SIZES) {
        await page.setViewportSize(size);
        for (const route of ROUTES) {
          if (route === "request") {
            // The pending request opens from the home page's list (the request page alone is empty).
            await page.goto(`${walletUrl}/#/home`);
            await page.getByRole("button", { name: /Voir la demande et répondre|See the request and answer/ }).click();
            await page.locator("#service-identity").waitFor({ timeout: 20_000 });
          } else if (route === "rights") {
            await page.goto(`${walletUrl}/#/consents`);
            await page.getByRole("button", { name: /Mes procurations, mes droits|My mandates, my rights/ }).click();
            await page.getByRole("button", { name: /Demander mes données|Ask for my data/ }).first().click();
            await page.locator("#access-export").waitFor({ timeout: 20_000 });
          } else {
            await page.goto(`${walletUrl}/#/${route}`);
          }
          await page.getByRole("heading", { level: 1 }).waitFor();
          // Lists load after the heading: wait for the page to settle.
          await page.waitForLoadState("networkidle");
          await page.waitForTimeout(300);
          const name = `phone-${route}-${size.width}-${lang}`;
          await screenshot(page, name);
          const { excess, culprits } = await overflow(page);
          assert.ok(excess <= 0, `${name}: ${excess} px wider than the screen (${culprits.join(" | ")})`);
          assert.deepEqual(await identifiers(page), [], `${name}: identifiers shown outside a details element`);
          checked.push(name);
        }
      }
    }
    assert.equal(checked.length, ROUTES.length * SIZES.length * 2);
  } finally {
    await browser.close();
  }
});
