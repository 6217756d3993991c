// QR codes in and out of the wallet. Scanning: Chromium on Linux has no BarcodeDetector, so the
// tests inject a stand-in for it (the camera itself is Chromium's fake device); the wallet must
// offer the scan button only where a detector exists, feed what it reads to the same handler as a
// pasted link, and stop the camera on every way out. Showing: each consent carries a QR code of
// the guichet's agent page checking it, which says "active", then "withdrawn" once the citizen
// withdraws.
import { test } from "node:test";
import assert from "node:assert/strict";
import { launch, screenshot, watchErrors, watchRequests, createWallet, walletUrl, axe, api, receiveResidenceAndHousehold, consentToCanteen } from "./support.mjs";

const FAKE_CAMERA = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"];
const CANTEEN_DPV = "https://w3id.org/dpv#ServiceRegistration";

/**
 * Runs in the page before the wallet: a BarcodeDetector stand-in that reads `window.__qr.value`
 * on its third look at the camera video of each scan (nothing before), and a record of the camera's
 * streams and of every track stopped. `window.__qr.deny` makes the camera refuse access.
 */
function barcodeDouble() {
  const qr = { value: null, deny: false, seen: 0, sawCamera: false, streams: [], stops: 0 };
  window.__qr = qr;
  window.BarcodeDetector = class {
    constructor(options) {
      this.formats = options?.formats ?? [];
    }
    static async getSupportedFormats() {
      return ["qr_code"];
    }
    async detect(source) {
      const live = source instanceof HTMLVideoElement && source.srcObject instanceof MediaStream;
      qr.sawCamera ||= live;
      if (!live || qr.value === null || !this.formats.includes("qr_code")) return [];
      qr.seen += 1;
      return qr.seen > 2 ? [{ rawValue: qr.value, format: "qr_code" }] : [];
    }
  };
  const stop = MediaStreamTrack.prototype.stop;
  MediaStreamTrack.prototype.stop = function () {
    qr.stops += 1;
    return stop.call(this);
  };
  const getUserMedia = MediaDevices.prototype.getUserMedia;
  MediaDevices.prototype.getUserMedia = async function (constraints) {
    if (qr.deny) throw new DOMException("Permission denied", "NotAllowedError");
    const stream = await getUserMedia.call(this, constraints);
    qr.streams.push(stream);
    qr.seen = 0;
    qr.constraints = JSON.stringify(constraints);
    return stream;
  };
}

/** Whether every camera stream the page opened has all its tracks ended, and how many there were. */
async function cameraState(page) {
  return page.evaluate(() => ({
    streams: window.__qr.streams.length,
    live: window.__qr.streams.flatMap((s) => s.getTracks()).filter((t) => t.readyState !== "ended").length,
    stops: window.__qr.stops,
    videoAttached: [...document.querySelectorAll("video")].some((v) => v.srcObject !== null),
    constraints: window.__qr.constraints,
  }));
}

/** Waits (briefly) until no camera track is live: stopping may finish just after the page changed. */
async function cameraOff(page, why) {
  await page
    .waitForFunction(() => window.__qr.streams.flatMap((s) => s.getTracks()).every((t) => t.readyState === "ended"), null, { timeout: 3_000 })
    .catch(() => assert.fail(why));
}


/** Reports Content-Security-Policy violations printed in the console (a camera stream must not cause any). */
function watchCsp(page) {
  const violations = [];
  page.on("console", (m) => {
    if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
  });
  return violations;
}

async function openPage(page, link, heading) {
  await page.getByRole("link", { name: link }).first().click();
  await page.getByRole("heading", { level: 1, name: heading }).waitFor();
}

test("scanning: offered only with a detector, reads an offer and a request, the camera always stops", async () => {
  const browser = await launch(FAKE_CAMERA);
  try {
    // Without BarcodeDetector (Chromium on Linux): no scan button, the paste field only.
    const plain = await browser.newContext();
    const bare = await plain.newPage();
    await createWallet(bare);
    assert.equal(await bare.evaluate(() => typeof window.BarcodeDetector), "undefined");
    await openPage(bare, "Justificatifs", "Mes justificatifs");
    await bare.getByLabel("Lien d'offre de justificatif").waitFor();
    // The detector check is asynchronous: give it time to (wrongly) show the button.
    await bare.waitForTimeout(1_000);
    assert.equal(await bare.getByRole("button", { name: "Scanner un code QR" }).count(), 0);
    await plain.close();

    const context = await browser.newContext();
    await context.addInitScript(barcodeDouble);
    const requests = watchRequests(context);
    const page = await context.newPage();
    const errors = watchErrors(page);
    const csp = watchCsp(page);
    await createWallet(page);
    await openPage(page, "Justificatifs", "Mes justificatifs");
    const scan = page.getByRole("button", { name: "Scanner un code QR" });
    await scan.waitFor();
    await screenshot(page, "scan-offered-fr");

    // A refused camera is said in words; the paste field stays.
    await page.evaluate(() => (window.__qr.deny = true));
    await scan.click();
    await page.getByText("L'accès à la caméra a été refusé.").waitFor();
    await page.getByLabel("Lien d'offre de justificatif").waitFor();
    await page.evaluate(() => (window.__qr.deny = false));

    // Scanning an offer receives the credential, then the camera is off.
    const offer = await api("POST", "/api/agent/offers", {
      credential: "residence",
      label: "e2e scan",
      claims: { given_name: "Camille", family_name: "Martin", address: { locality: "Beaulieu-sur-Loire" } },
    });
    await page.evaluate((link) => (window.__qr.value = link), offer.wallet_url);
    await scan.click();
    await page.getByRole("button", { name: "Arrêter la caméra" }).waitFor();
    await page.getByText("Justificatif reçu et enregistré.").waitFor({ timeout: 20_000 });
    await page.locator('.credential[data-vct="urn:souverain:vct:residence:1"]').waitFor();
    let camera = await cameraState(page);
    assert.equal(camera.streams, 1, "the camera was opened once");
    assert.equal(camera.live, 0, "every camera track is stopped after reading");
    assert.ok(camera.stops >= 1);
    assert.equal(camera.videoAttached, false, "the video no longer shows the camera");
    assert.match(camera.constraints, /"facingMode":"environment"/);
    assert.equal(await page.evaluate(() => window.__qr.sawCamera), true, "the detector looked at the camera video");
    await page.getByRole("button", { name: "Scanner un code QR" }).waitFor();
    await screenshot(page, "scan-received-fr");

    // Cancelling stops the camera; so does leaving the page while it runs.
    await page.evaluate(() => (window.__qr.value = null));
    await page.evaluate(() => (location.hash = "#/request"));
    await page.getByRole("heading", { level: 1, name: "Demande d'un service" }).waitFor();
    await scan.click();
    await page.getByRole("button", { name: "Arrêter la caméra" }).waitFor();
    await page.waitForFunction(() => window.__qr.streams.length === 2);
    await page.locator("video").evaluate((v) => new Promise((ok) => (v.srcObject ? ok() : v.addEventListener("loadedmetadata", ok))));
    await screenshot(page, "scan-camera-fr");
    await page.getByRole("button", { name: "Arrêter la caméra" }).click();
    await page.getByRole("button", { name: "Scanner un code QR" }).waitFor();
    camera = await cameraState(page);
    assert.equal(camera.streams, 2);
    assert.equal(camera.live, 0, "cancel stops the camera");
    assert.equal(camera.videoAttached, false);

    await scan.click();
    await page.waitForFunction(() => window.__qr.streams.length === 3);
    await openPage(page, "Journal", "Journal");
    await cameraOff(page, "leaving the page stops the camera");
    assert.equal((await cameraState(page)).streams, 3);

    // Scanning a request link opens the request, as a pasted link would.
    const request = await api("POST", "/api/agent/services/cantine/requests", { purpose: "inscription" });
    await page.evaluate((link) => (window.__qr.value = link), request.wallet_url);
    await page.evaluate(() => (location.hash = "#/request"));
    await page.getByRole("heading", { level: 1, name: "Demande d'un service" }).waitFor();
    await scan.click();
    const identity = page.locator("#service-identity");
    await identity.waitFor({ timeout: 20_000 });
    assert.match(await identity.textContent(), /Service vérifié par la commune : Cantine scolaire/);
    camera = await cameraState(page);
    assert.equal(camera.streams, 4);
    assert.equal(camera.live, 0, "the camera is stopped after reading the request");

    assert.deepEqual(csp, [], "no CSP violation with the camera on");
    assert.deepEqual(requests.foreign, [], "no request outside the wallet's origin");
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

test("each consent shows a QR code of the agents' check page, which follows the withdrawal", async () => {
  const browser = await launch();
  try {
    // axe is injected as a script, which the wallet's CSP forbids: this context bypasses it.
    const context = await browser.newContext({ bypassCSP: true });
    const page = await context.newPage();
    const errors = watchErrors(page);
    await createWallet(page);
    await receiveResidenceAndHousehold(page);
    const grantId = await consentToCanteen(page);

    await openPage(page, "Consentements", "Mes consentements");
    const card = page.locator(`.consent[data-grant="${grantId}"]`);
    await card.getByText("Actif").waitFor();
    await card.getByText("Montrer à un agent").click();
    const qr = card.getByRole("img", { name: "Code QR pour vérifier ce consentement" });
    await qr.waitFor();
    // The modules are drawn by the wallet's worker once the details open (not in the first load).
    await qr.locator("path").waitFor({ timeout: 20_000 });
    assert.equal(await qr.evaluate((svg) => svg.tagName.toLowerCase()), "svg");
    assert.equal(await qr.getAttribute("shape-rendering"), "crispEdges");
    assert.equal(await qr.locator("title").textContent(), "Code QR pour vérifier ce consentement");
    assert.equal(await qr.locator("path").count(), 1, "one path draws every module");
    const [, , side] = (await qr.getAttribute("viewBox")).split(" ").map(Number);
    // Version 1 to 40 codes are 21 to 177 modules wide, plus 4 modules of quiet zone each side.
    assert.ok(side >= 29 && side <= 185 && (side - 8 - 21) % 4 === 0, `viewBox side ${side}`);
    const d = await qr.locator("path").getAttribute("d");
    const xs = [...d.matchAll(/M(\d+) (\d+)h(\d+)/g)].map(([, x, y, n]) => [Number(x), Number(y), Number(n)]);
    assert.ok(xs.length > 50, "the code has dark modules");
    assert.ok(xs.every(([x, y, n]) => x >= 4 && y >= 4 && x + n <= side - 4 && y < side - 4), "quiet zone kept clear");
    const box = await qr.boundingBox();
    assert.ok(box.width >= 150, `the code is large enough to scan (${box.width}px)`);

    // The address is shown as text too; it is the guichet's agent page checking this grant and purpose.
    const url = (await card.locator(".check-url").textContent()).trim();
    assert.equal(url, `${walletUrl}/guichet/consentements/${encodeURIComponent(grantId)}?purpose=${encodeURIComponent(CANTEEN_DPV)}`);
    const reason = async () => (await (await fetch(url)).text()).match(/data-reason="([a-z_]+)"/)?.[1];
    assert.equal(await reason(), "active");
    await screenshot(page, "consent-qr-fr");
    assert.deepEqual(await axe(page, "consent-qr-fr"), []);

    // Withdraw: the code stays, and the same address now answers "withdrawn".
    await card.getByRole("button", { name: "Retirer mon consentement" }).click();
    await card.getByText("Reçu signé du service (vérifié)").waitFor({ timeout: 20_000 });
    assert.equal(await card.locator("svg.qr").count(), 1, "the QR code is still shown after withdrawal");
    assert.equal((await card.locator(".check-url").textContent()).trim(), url);
    assert.equal(await reason(), "withdrawn");
    if (!(await card.locator("details.show-agent").evaluate((el) => el.open))) await card.getByText("Montrer à un agent").click();
    await screenshot(page, "consent-qr-withdrawn-fr");

    await page.getByRole("button", { name: "Switch to English" }).click();
    await page.getByRole("heading", { level: 1, name: "My consents" }).waitFor();
    if (!(await card.locator("details.show-agent").evaluate((el) => el.open))) await card.getByText("Show to an agent").click();
    await card.getByRole("img", { name: "QR code to check this consent" }).waitFor();
    assert.deepEqual(await axe(page, "consent-qr-en"), []);
    await screenshot(page, "consent-qr-en");
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});
