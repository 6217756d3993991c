// What the wallet loads outside its first load. The second wasm module (crates/audit-worker): the
// data-use log's audit, the agents' QR code and the mandates page; and two scripts, the passkey
// ceremonies and the QR code reader. Each request to the module starts it in a Web Worker, which
// says "ready" once loaded, answers the one request posted (JSON text) and is stopped. Imported
// by the wallet's glue (src/services/audit.rs, mandate.rs, passkey.rs, scan.rs).
function ask(request) {
  return new Promise((resolve, reject) => {
    const worker = new Worker("souverain-audit-worker_loader.js");
    worker.onerror = (event) => {
      worker.terminate();
      reject(event.message || "worker");
    };
    worker.onmessage = (event) => {
      if (event.data === "ready") {
        worker.postMessage(request);
        return;
      }
      worker.terminate();
      resolve(event.data);
    };
  });
}

// The passkey ceremonies (passkey.js, beside the wallet's files): imported the first time the
// citizen unlocks with a passkey or registers one, not by the first load.
const passkeys = () => import(new URL("passkey.js", document.baseURI).href);

/** WebAuthn `get` with the PRF extension for one of `list` (see passkey.js). */
export function getPasskey(list) {
  return passkeys().then((m) => m.getPasskey(list));
}

/** WebAuthn `create` with the PRF extension (see passkey.js). */
export function createPasskey(label, user, salt) {
  return passkeys().then((m) => m.createPasskey(label, user, salt));
}

// Reading a QR code (scan.js, beside the wallet's files): imported the first time the citizen
// opens the camera. Whether to offer it is decided here, without loading it.
const scans = () => import(new URL("scan.js", document.baseURI).href);

/** Whether this browser reads QR codes from a camera: a BarcodeDetector that knows QR codes. */
export async function scanAvailable() {
  const Detector = window.BarcodeDetector;
  if (typeof Detector !== "function" || !navigator.mediaDevices) return false;
  // Without the static query, trust the constructor: a detector that lacks QR codes then simply
  // reads nothing, and the citizen pastes the link.
  if (typeof Detector.getSupportedFormats !== "function") return true;
  try {
    return (await Detector.getSupportedFormats()).includes("qr_code");
  } catch {
    return false;
  }
}

/** Starts a scan into `video` (see scan.js): `{ done, stop }` at once, before scan.js is loaded. */
export function startScan(video) {
  let scan = null;
  let stopped = false;
  const done = scans().then((m) => {
    if (stopped) return null;
    scan = m.start(video);
    return scan.done;
  }, () => Promise.reject("failed"));
  const stop = () => {
    stopped = true;
    if (scan) scan.stop();
  };
  return { done, stop };
}

/** The data-use log's audit and the mandates page's work: resolves with the worker's answer (JSON text). */
export function askWorker(request) {
  return ask(request);
}

// The QR code for an agent is drawn when its <details> opens: the wallet renders the <svg> with
// its title and label (`data-qr` holds what it encodes), the worker computes the modules.
const SVG = "http://www.w3.org/2000/svg";
document.addEventListener(
  "toggle",
  (event) => {
    const details = event.target;
    const svg = details.open && details.querySelector && details.querySelector("svg[data-qr]");
    if (!svg || svg.querySelector("path")) return;
    ask(JSON.stringify({ qr: svg.dataset.qr })).then((text) => {
      const { side, path } = JSON.parse(text);
      if (!side || svg.querySelector("path")) return;
      svg.setAttribute("viewBox", `0 0 ${side} ${side}`);
      const rect = document.createElementNS(SVG, "rect");
      rect.setAttribute("width", side);
      rect.setAttribute("height", side);
      rect.setAttribute("fill", "#fff");
      const drawn = document.createElementNS(SVG, "path");
      drawn.setAttribute("d", path);
      drawn.setAttribute("fill", "#000");
      svg.append(rect, drawn);
    }, () => {});
  },
  true,
);
