// Wallet load timings (issue 7), run by `cargo xtask bench` (not by CI's end-to-end stage):
// time from navigation to an interactive unlock screen (its heading shown and the passphrase
// field enabled), measured in the page with performance.now() (origin: the navigation start).
// - cold: no service worker (blocked in that context) and the HTTP cache cleared before each
//   run, a wallet already created, so every file comes from the network;
// - warm: the service worker installed and controlling, the page navigated again.
// On warm opens every request is counted, and those that reached the network (not answered by
// the service worker, or fetched by it) are listed. The bytes Chromium received for the wasm, JS
// and CSS on the last cold open (resource timing's encodedBodySize: compressed as served) are
// summed too. Prints one JSON line.
// Environment: WALLET_URL (a running guichet serving the release wallet), CHROMIUM, E2E_OUT.
import { createWallet, launch, walletUrl } from "../tests/support.mjs";

const RUNS = Number(process.env.BENCH_RUNS ?? 5);

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Navigates and returns the in-page time at which the unlock screen is interactive. */
async function timeToUnlock(page) {
  await page.goto(walletUrl + "/", { waitUntil: "commit" });
  const handle = await page.waitForFunction(
    () => {
      const h1 = document.querySelector("h1");
      const input = document.getElementById("passphrase");
      const ready = h1 && h1.textContent.includes("Déverrouiller") && input && !input.disabled;
      return ready ? performance.now() : null;
    },
    null,
    { polling: "raf", timeout: 60_000 },
  );
  return await handle.jsonValue();
}

const browser = await launch();
try {
  // Cold: service workers blocked, HTTP cache cleared before each navigation.
  const coldContext = await browser.newContext({ serviceWorkers: "block" });
  const coldPage = await coldContext.newPage();
  await createWallet(coldPage);
  const cdp = await coldContext.newCDPSession(coldPage);
  await cdp.send("Network.enable");
  const cold = [];
  let coldRequests = 0;
  coldPage.on("request", () => (coldRequests += 1));
  for (let i = 0; i < RUNS; i++) {
    await cdp.send("Network.clearBrowserCache");
    cold.push(await timeToUnlock(coldPage));
  }
  const received = await coldPage.evaluate(() =>
    performance
      .getEntriesByType("resource")
      .filter((e) => /\.(wasm|js|css)$/.test(new URL(e.name).pathname))
      .reduce((sum, e) => ({ encoded: sum.encoded + e.encodedBodySize, decoded: sum.decoded + e.decodedBodySize }), { encoded: 0, decoded: 0 }),
  );
  await coldContext.close();

  // Warm: the service worker took control (as after a first visit), then navigations again.
  const context = await browser.newContext();
  const page = await context.newPage();
  await createWallet(page);
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
  });
  await page.reload();
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null);
  let watching = false;
  const seen = [];
  context.on("request", (request) => {
    if (watching) seen.push(request);
  });
  const warm = [];
  for (let i = 0; i < RUNS; i++) {
    watching = true;
    warm.push(await timeToUnlock(page));
    watching = false;
  }
  // A request reached the network if the service worker fetched it itself, or if the page's
  // request was not answered by the service worker.
  const network = [];
  for (const request of seen) {
    const response = await request.response();
    const bySw = request.serviceWorker() !== null;
    if (bySw || !response || !response.fromServiceWorker()) network.push(request.url());
  }
  const controlled = await page.evaluate(() => navigator.serviceWorker.controller !== null);
  await context.close();

  console.log(
    JSON.stringify({
      bench: "wallet-load",
      runs: RUNS,
      cold_ms: median(cold),
      cold_max_ms: Math.max(...cold),
      cold_requests_per_open: coldRequests / RUNS,
      cold_received_bytes: received.encoded,
      cold_decoded_bytes: received.decoded,
      warm_ms: median(warm),
      warm_max_ms: Math.max(...warm),
      warm_requests: seen.length,
      warm_network_requests: network.length,
      warm_network_urls: network,
      sw_controlled: controlled,
    }),
  );
} finally {
  await browser.close();
}
