//! QR codes in and out of the wallet: reading one with the camera where the browser offers
//! `BarcodeDetector`, and the consent-check address the wallet shows as a QR code to an agent.
//!
//! `BarcodeDetector` is called through `js_sys::Reflect`, because web-sys binds it only as an
//! unstable API. The camera is a shared resource and a privacy matter: a [`Scan`] stops every
//! track of its stream on each way out (value read, cancelled, page left, error), and again when
//! the last handle to it is dropped.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use js_sys::{Array, Function, Object, Promise, Reflect};
use wasm_bindgen::{JsCast as _, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{DomException, HtmlVideoElement, MediaStream, MediaStreamConstraints, MediaStreamTrack};

use super::platform::sleep;

/// How often the video is searched for a code, in milliseconds: often enough to feel instant,
/// rarely enough to leave the phone's processor idle most of the time.
const DETECT_EVERY_MS: i32 = 250;

/// Why the camera could not be used (pasting the link always remains possible).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanError {
    /// The citizen or the browser refused access to the camera.
    Denied,
    /// The device has no (suitable) camera.
    NoCamera,
    /// The camera is held by another application.
    Busy,
    /// Anything else: no detector after all, an unexpected browser answer.
    Failed,
}

fn barcode_detector() -> Option<Function> {
    let window = web_sys::window()?;
    Reflect::get(&window, &"BarcodeDetector".into()).ok()?.dyn_into::<Function>().ok()
}

/// Whether scanning can be offered: the browser has `BarcodeDetector`, it reads QR codes, and
/// the page may ask for a camera. Chromium on Linux, for one, has no `BarcodeDetector`.
pub async fn available() -> bool {
    let Some(window) = web_sys::window() else { return false };
    let navigator = window.navigator();
    let has_camera_api = Reflect::get(&navigator, &"mediaDevices".into()).is_ok_and(|v| !v.is_undefined());
    let Some(detector) = barcode_detector() else { return false };
    if !has_camera_api {
        return false;
    }
    let formats =
        Reflect::get(&detector, &"getSupportedFormats".into()).ok().and_then(|f| f.dyn_into::<Function>().ok());
    // Without the static query, trust the constructor: a detector that lacks QR codes then
    // simply reads nothing, and the citizen pastes the link.
    let Some(formats) = formats else { return true };
    let Some(promise) = formats.call0(&detector).ok().and_then(|p| p.dyn_into::<Promise>().ok()) else { return false };
    match JsFuture::from(promise).await {
        Ok(list) => Array::from(&list).includes(&"qr_code".into(), 0),
        Err(_) => false,
    }
}

fn camera_error(error: &JsValue) -> ScanError {
    match error.dyn_ref::<DomException>().map(DomException::name).as_deref() {
        Some("NotAllowedError" | "SecurityError") => ScanError::Denied,
        Some("NotFoundError" | "OverconstrainedError") => ScanError::NoCamera,
        Some("NotReadableError" | "AbortError") => ScanError::Busy,
        _ => ScanError::Failed,
    }
}

/// The text of the first QR code `detector` sees in `video` now, if any. A failed attempt (the
/// video has no frame yet, for example) reads as nothing: the next attempt follows shortly.
async fn detect_once(detector: &JsValue, video: &HtmlVideoElement) -> Option<String> {
    let detect = Reflect::get(detector, &"detect".into()).ok()?.dyn_into::<Function>().ok()?;
    let promise = detect.call1(detector, video).ok()?.dyn_into::<Promise>().ok()?;
    let found = JsFuture::from(promise).await.ok()?;
    Array::from(&found)
        .iter()
        .filter_map(|code| Reflect::get(&code, &"rawValue".into()).ok()?.as_string())
        .find(|text| !text.trim().is_empty())
}

#[derive(Default)]
struct Inner {
    stopped: Cell<bool>,
    stream: RefCell<Option<MediaStream>>,
    video: RefCell<Option<HtmlVideoElement>>,
}

impl Inner {
    fn stop(&self) {
        self.stopped.set(true);
        if let Some(stream) = self.stream.borrow_mut().take() {
            for track in stream.get_tracks().iter() {
                if let Ok(track) = track.dyn_into::<MediaStreamTrack>() {
                    track.stop();
                }
            }
        }
        if let Some(video) = self.video.borrow_mut().take() {
            video.set_src_object(None);
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One use of the camera. Clones share it: the page keeps one to stop it, the reading loop the
/// other.
#[derive(Clone, Default)]
pub struct Scan(Rc<Inner>);

impl Scan {
    /// A scan that has not opened the camera yet.
    pub fn new() -> Scan {
        Scan::default()
    }

    /// Opens the back camera into `video` and reads until a QR code's text is found
    /// (`Ok(Some(text))`) or [`Scan::stop`] is called (`Ok(None)`). The camera is stopped
    /// whatever the outcome.
    pub async fn run(&self, video: &HtmlVideoElement) -> Result<Option<String>, ScanError> {
        let outcome = self.read(video).await;
        self.stop();
        outcome
    }

    async fn read(&self, video: &HtmlVideoElement) -> Result<Option<String>, ScanError> {
        let window = web_sys::window().ok_or(ScanError::Failed)?;
        let options = Object::new();
        let formats = Array::of1(&"qr_code".into());
        Reflect::set(&options, &"formats".into(), &formats).map_err(|_| ScanError::Failed)?;
        let detector = barcode_detector()
            .and_then(|ctor| Reflect::construct(&ctor, &Array::of1(&options)).ok())
            .ok_or(ScanError::Failed)?;
        let devices = window.navigator().media_devices().map_err(|_| ScanError::NoCamera)?;
        let wanted = Object::new();
        Reflect::set(&wanted, &"facingMode".into(), &"environment".into()).map_err(|_| ScanError::Failed)?;
        let constraints = MediaStreamConstraints::new();
        constraints.set_video(&wanted);
        let asked = devices.get_user_media_with_constraints(&constraints).map_err(|e| camera_error(&e))?;
        let stream = JsFuture::from(asked).await.map_err(|e| camera_error(&e))?;
        let stream = stream.dyn_into::<MediaStream>().map_err(|_| ScanError::Failed)?;
        // Kept before anything else so that `stop` (now or later) reaches its tracks. Not
        // `stream.clone()`: web-sys binds that name to JS `MediaStream.clone()`, which would make
        // a second stream with tracks of its own, and stopping those would leave the camera on.
        video.set_src_object(Some(&stream));
        *self.0.stream.borrow_mut() = Some(stream);
        *self.0.video.borrow_mut() = Some(Clone::clone(video));
        if self.0.stopped.get() {
            return Ok(None);
        }
        // Muted and inline, the video may play without a gesture; if it does not, detection
        // still runs on whatever frame the element holds.
        if let Ok(playing) = video.play() {
            let _ = JsFuture::from(playing).await;
        }
        loop {
            if self.0.stopped.get() {
                return Ok(None);
            }
            let found = detect_once(&detector, video).await;
            if self.0.stopped.get() {
                return Ok(None);
            }
            if found.is_some() {
                return Ok(found);
            }
            sleep(DETECT_EVERY_MS).await;
        }
    }

    /// Whether `other` is a handle to this same scan.
    pub fn same(&self, other: &Scan) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }

    /// Stops the camera (every track) and detaches it from the video. Safe at any moment and
    /// more than once; a scan still asking for the camera stops as soon as it gets it.
    pub fn stop(&self) {
        self.0.stop();
    }
}
