// Issue 16, finding 4, issuance side: the guichet issues the credential, but its reply never
// reaches the wallet (the route fetches it, then aborts). The wallet sends the identical request
// again (same access token, same proof), gets the same credential back and stores it; the guichet
// issued one credential, not two.
import { test } from "node:test";
import assert from "node:assert/strict";
import { launch, screenshot, watchErrors, createWallet, walletUrl, offer, openLink, RESIDENCE } from "./support.mjs";

const CREDENTIAL = "**/api/oid4vci/credential";

test("a lost credential reply: the wallet asks once more with the same proof and stores the one credential issued", async () => {
  const browser = await launch();
  try {
    // Service workers blocked: the route must see the page's own fetch.
    const context = await browser.newContext({ serviceWorkers: "block" });
    const page = await context.newPage();
    const errors = watchErrors(page);
    await createWallet(page);
    const label = `e2e lost reply ${Date.now()}`;
    const link = await offer("residence", RESIDENCE, label);

    const posted = [];
    const replies = [];
    await context.route(CREDENTIAL, async (route) => {
      posted.push(route.request().postData());
      const reply = await route.fetch();
      replies.push(await reply.text());
      if (posted.length === 1) {
        assert.equal(reply.status(), 200, "the guichet issued the credential");
        await route.abort("connectionreset");
      } else {
        await route.fulfill({ response: reply });
      }
    });
    await openLink(page, link, "Mes justificatifs");
    await page.getByText("Justificatif reçu et enregistré.").waitFor({ timeout: 20_000 });
    await page.locator('.credential[data-vct="urn:souverain:vct:residence:1"]').first().waitFor();

    assert.equal(posted.length, 2, "one retry after the lost reply");
    assert.equal(posted[1], posted[0], "the retry is the identical request");
    assert.equal(replies[1], replies[0], "the guichet gave the same credential again");
    // The agents' page lists the offer's credential once: no second issuance.
    const agentPage = await (await fetch(`${walletUrl}/guichet/agent`)).text();
    assert.equal(agentPage.split(label).length - 1, 1, "one credential issued for the offer");
    await screenshot(page, "lost-credential-recovered");
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});
