//! Reading a QR code with the camera, where the browser offers `BarcodeDetector`.
//!
//! The reading itself is in `www/scan.js`, imported only when the citizen opens the camera: the
//! first load carries none of it (`BarcodeDetector` is no stable web-sys API anyway). The camera
//! is a shared resource and a privacy matter: a [`Scan`] stops every track of its stream on each
//! way out (value read, cancelled, page left, error), and again when the last handle to it is
//! dropped.

use std::rc::Rc;

use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::HtmlVideoElement;

/// Why the camera could not be used (pasting the link always remains possible).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanError {
    /// The citizen or the browser refused access to the camera.
    Denied,
    /// The device has no (suitable) camera.
    NoCamera,
    /// The camera is held by another application.
    Busy,
    /// Anything else: no detector after all, an unexpected browser answer, the reader not loaded.
    Failed,
}

#[wasm_bindgen(module = "/www/lazy.js")]
extern "C" {
    /// Resolves with whether this browser reads QR codes from a camera. (`catch`: a throw is an
    /// error here, and the call gets the glue shim every other import of `lazy.js` has, so the
    /// glue names that module once.)
    #[wasm_bindgen(js_name = scanAvailable, catch)]
    fn scan_available() -> Result<Promise, JsValue>;

    /// A scan under way in `www/scan.js`, loaded on demand.
    type ScanHandle;

    /// Opens the camera into `video` and starts reading.
    #[wasm_bindgen(js_name = startScan, catch)]
    fn start_scan(video: &HtmlVideoElement) -> Result<ScanHandle, JsValue>;

    /// Resolves with the text read, or null once stopped; rejects with the reason's name.
    #[wasm_bindgen(method, getter)]
    fn done(this: &ScanHandle) -> Promise;

    /// Stops the camera: every track, at any moment, more than once.
    #[wasm_bindgen(method)]
    fn stop(this: &ScanHandle);
}

/// Whether scanning can be offered: the browser has `BarcodeDetector`, it reads QR codes, and
/// the page may ask for a camera. Chromium on Linux, for one, has no `BarcodeDetector`.
pub async fn available() -> bool {
    let Ok(asked) = scan_available() else { return false };
    JsFuture::from(asked).await.is_ok_and(|yes| yes.is_truthy())
}

/// Stops the camera when the last handle to a scan goes, whatever happened to the others.
/// `None`: the reader could not even start.
struct Inner(Option<ScanHandle>);

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(scan) = &self.0 {
            scan.stop();
        }
    }
}

/// One use of the camera. Clones share it: the page keeps one to stop it, the reading task the
/// other.
#[derive(Clone)]
pub struct Scan(Rc<Inner>);

impl Scan {
    /// Opens the back camera into `video` and starts looking for a QR code.
    pub fn start(video: &HtmlVideoElement) -> Scan {
        Scan(Rc::new(Inner(start_scan(video).ok())))
    }

    /// The text of the first QR code read (`Ok(Some(text))`), or `Ok(None)` once [`Scan::stop`]
    /// was called. The camera is stopped whatever the outcome.
    pub async fn finish(&self) -> Result<Option<String>, ScanError> {
        let Some(scan) = &self.0.0 else { return Err(ScanError::Failed) };
        match JsFuture::from(scan.done()).await {
            Ok(text) => Ok(text.as_string()),
            Err(reason) => Err(match reason.as_string().as_deref() {
                Some("denied") => ScanError::Denied,
                Some("no-camera") => ScanError::NoCamera,
                Some("busy") => ScanError::Busy,
                _ => ScanError::Failed,
            }),
        }
    }

    /// Whether `other` is a handle to this same scan.
    pub fn same(&self, other: &Scan) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }

    /// Stops the camera (every track) and detaches it from the video. Safe at any moment and
    /// more than once; a scan still asking for the camera stops as soon as it gets it.
    pub fn stop(&self) {
        if let Some(scan) = &self.0.0 {
            scan.stop();
        }
    }
}
