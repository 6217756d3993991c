//! Small browser helpers: waiting, the clock, files in and out, erasing caches.

use js_sys::{Array, Promise, Uint8Array};
use wasm_bindgen::{JsCast as _, JsValue};
use wasm_bindgen_futures::JsFuture;

/// Waits `ms` milliseconds without blocking the page, so that the browser can paint (for
/// example the "deriving the key" message before the long Argon2id computation starts).
pub async fn sleep(ms: i32) {
    let promise = Promise::new(&mut |resolve, _| {
        if let Some(window) = web_sys::window() {
            // If the timer cannot be set the promise never settles; resolve at once instead.
            if window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms).is_err() {
                let _ = resolve.call0(&JsValue::NULL);
            }
        } else {
            let _ = resolve.call0(&JsValue::NULL);
        }
    });
    let _ = JsFuture::from(promise).await;
}

/// Now, in Unix seconds (the browser's clock).
pub fn now_unix() -> i64 {
    (js_sys::Date::now() / 1000.0) as i64
}

/// Now, in milliseconds, for inactivity timing.
pub fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// Formats Unix seconds as local date and time in the given language (`fr` or `en`).
pub fn format_time(unix: i64, lang_tag: &str) -> String {
    let date = js_sys::Date::new(&JsValue::from_f64(unix as f64 * 1000.0));
    let locale = if lang_tag == "en" { "en-GB" } else { "fr-FR" };
    date.to_locale_string(locale, &JsValue::UNDEFINED).into()
}

/// Why a file could not be saved or read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileError {
    /// The browser refused to create the file or the download.
    Refused,
    /// The file could not be read.
    Unreadable,
}

/// Offers `bytes` to the citizen as a downloaded file named `name`.
pub fn download(name: &str, mime: &str, bytes: &[u8]) -> Result<(), FileError> {
    let document = gloo::utils::document();
    let parts = Array::of1(&Uint8Array::from(bytes));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let blob =
        web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options).map_err(|_| FileError::Refused)?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(|_| FileError::Refused)?;
    let anchor: web_sys::HtmlAnchorElement =
        document.create_element("a").map_err(|_| FileError::Refused)?.dyn_into().map_err(|_| FileError::Refused)?;
    anchor.set_href(&url);
    anchor.set_download(name);
    anchor.set_hidden(true);
    let body = document.body().ok_or(FileError::Refused)?;
    body.append_child(&anchor).map_err(|_| FileError::Refused)?;
    anchor.click();
    anchor.remove();
    // The download has started from the URL; releasing it now frees the bytes.
    let _ = web_sys::Url::revoke_object_url(&url);
    Ok(())
}

/// Reads a file chosen by the citizen.
pub async fn read_file(file: &web_sys::File) -> Result<Vec<u8>, FileError> {
    let buffer = JsFuture::from(file.array_buffer()).await.map_err(|_| FileError::Unreadable)?;
    Ok(Uint8Array::new(&buffer).to_vec())
}

/// Deletes every cache of this origin and unregisters its service workers (deleting the wallet).
pub async fn erase_caches_and_workers() {
    let Some(window) = web_sys::window() else { return };
    if let Ok(caches) = window.caches()
        && let Ok(keys) = JsFuture::from(caches.keys()).await
    {
        for key in Array::from(&keys).iter() {
            if let Some(name) = key.as_string() {
                let _ = JsFuture::from(caches.delete(&name)).await;
            }
        }
    }
    let navigator = window.navigator();
    if js_sys::Reflect::has(&navigator, &"serviceWorker".into()).unwrap_or(false)
        && let Ok(registrations) = JsFuture::from(navigator.service_worker().get_registrations()).await
    {
        for registration in Array::from(&registrations).iter() {
            if let Ok(registration) = registration.dyn_into::<web_sys::ServiceWorkerRegistration>()
                && let Ok(promise) = registration.unregister()
            {
                let _ = JsFuture::from(promise).await;
            }
        }
    }
}
