// Reading a QR code with the camera, where the browser offers BarcodeDetector. Imported on demand
// by lazy.js the first time the citizen opens the camera (src/services/scan.rs); copied beside
// the wallet's files by Trunk (index.html). The camera is a shared resource and a privacy matter:
// a scan stops every track of its stream on each way out (code read, stopped, page left, error).

// How often the video is searched for a code: often enough to feel instant, rarely enough to
// leave the phone's processor idle most of the time.
const EVERY_MS = 250;

// The browser's refusal, in the wallet's words.
const cameraError = (error) =>
  ({
    NotAllowedError: "denied",
    SecurityError: "denied",
    NotFoundError: "no-camera",
    OverconstrainedError: "no-camera",
    NotReadableError: "busy",
    AbortError: "busy",
  })[error && error.name] || "failed";

// The first non-blank text `detector` reads in `video` now, if any. A failed attempt (the video
// has no frame yet, for example) reads as nothing: the next one follows shortly.
const detectOnce = async (detector, video) => {
  try {
    const found = await detector.detect(video);
    const code = found.find((c) => typeof c.rawValue === "string" && c.rawValue.trim() !== "");
    return code ? code.rawValue : null;
  } catch {
    return null;
  }
};

/**
 * Opens the back camera into `video` and reads until a QR code is found. Returns at once
 * `{ done, stop }`: `done` resolves with the text read, or null once `stop` was called, and
 * rejects with "denied", "no-camera", "busy" or "failed"; the camera is stopped whatever the
 * outcome. `stop` is safe at any moment and more than once; a scan still asking for the camera
 * stops as soon as it gets it.
 */
export function start(video) {
  let stopped = false;
  let stream = null;
  const stop = () => {
    stopped = true;
    if (stream) {
      for (const track of stream.getTracks()) track.stop();
      stream = null;
    }
    video.srcObject = null;
  };
  const read = async () => {
    let detector;
    try {
      detector = new BarcodeDetector({ formats: ["qr_code"] });
    } catch {
      throw "failed";
    }
    if (!navigator.mediaDevices) throw "no-camera";
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
    } catch (error) {
      throw cameraError(error);
    }
    // Kept before anything else, so that `stop` (now or later) reaches its tracks.
    video.srcObject = stream;
    if (stopped) return null;
    // Muted and inline, the video may play without a gesture; if it does not, detection still
    // runs on whatever frame the element holds.
    try {
      await video.play();
    } catch {}
    for (;;) {
      if (stopped) return null;
      const found = await detectOnce(detector, video);
      if (stopped) return null;
      if (found !== null) return found;
      await new Promise((resolve) => setTimeout(resolve, EVERY_MS));
    }
  };
  const done = read().then(
    (text) => {
      stop();
      return text;
    },
    (error) => {
      stop();
      throw typeof error === "string" ? error : "failed";
    },
  );
  return { done, stop };
}
