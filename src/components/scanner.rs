//! The "scan a QR code" button and its camera view. Shown only where the browser can read QR
//! codes; the page's paste field stays beside it in every case. The camera plumbing is in
//! [`crate::services::scan`]; this holds only what the citizen sees.

use web_sys::HtmlVideoElement;
use yew::prelude::*;

use super::{Alert, AlertKind};
use crate::i18n::{Lang, Text};
use crate::services::scan::{self, Scan, ScanError};

/// Properties of [`Scanner`].
#[derive(Properties, PartialEq)]
pub struct ScannerProps {
    /// The page's language.
    pub lang: Lang,
    /// Called with the text read from the code (the same handler as a pasted link).
    pub onscan: Callback<String>,
}

fn error_text(e: ScanError) -> Text {
    match e {
        ScanError::Denied => Text::ErrCameraDenied,
        ScanError::NoCamera => Text::ErrNoCamera,
        ScanError::Busy => Text::ErrCameraBusy,
        ScanError::Failed => Text::ErrScanFailed,
    }
}

/// What the scanner shows.
#[derive(Clone, Copy, PartialEq)]
enum View {
    /// Nothing: this browser cannot read QR codes (or has not said yet).
    Unavailable,
    /// The button.
    Idle,
    /// The camera view and the button that stops it.
    Scanning,
    /// The button and why the last attempt failed.
    Failed(ScanError),
}

/// A button that opens the camera and reads a QR code; the same button stops it.
#[function_component(Scanner)]
pub fn scanner(props: &ScannerProps) -> Html {
    let l = props.lang;
    let view = use_state(|| View::Unavailable);
    let video = use_node_ref();
    let current = use_mut_ref(|| None::<Scan>);
    {
        let (view, current) = (view.clone(), current.clone());
        use_effect_with((), move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                if scan::available().await {
                    view.set(View::Idle);
                }
            });
            // Leaving the page (or locking) stops the camera.
            move || {
                if let Some(scan) = current.borrow_mut().take() {
                    scan.stop();
                }
            }
        });
    }
    let toggle = {
        let (view, video, current, onscan) = (view.clone(), video.clone(), current.clone(), props.onscan.clone());
        Callback::from(move |_: MouseEvent| {
            if let Some(running) = current.borrow_mut().take() {
                running.stop();
                view.set(View::Idle);
                return;
            }
            let Some(element) = video.cast::<HtmlVideoElement>() else { return };
            let running = Scan::start(&element);
            *current.borrow_mut() = Some(running.clone());
            view.set(View::Scanning);
            let (view, current, onscan) = (view.clone(), current.clone(), onscan.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let outcome = running.finish().await;
                // Only the current scan speaks: one stopped by the button or by leaving the
                // page has nothing more to say.
                let is_current = current.borrow().as_ref().is_some_and(|c| c.same(&running));
                if !is_current {
                    return;
                }
                *current.borrow_mut() = None;
                match outcome {
                    Ok(text) => {
                        view.set(View::Idle);
                        if let Some(text) = text {
                            onscan.emit(text);
                        }
                    }
                    Err(e) => view.set(View::Failed(e)),
                }
            });
        })
    };
    let scanning = *view == View::Scanning;
    if *view == View::Unavailable {
        return Html::default();
    }
    html! {
        <div class="scanner">
            <button type="button" class="button button-secondary" onclick={toggle} aria-expanded={scanning.to_string()}>
                { l.t(if scanning { Text::ScanStop } else { Text::ScanStart }) }
            </button>
            if let View::Failed(e) = *view {
                <Alert kind={AlertKind::Error} lang={l}>{ l.t(error_text(e)) }</Alert>
            }
            <div class="scanner-view" hidden={!scanning}>
                <video ref={video} aria-label={l.t(Text::ScanVideo)} muted=true autoplay=true playsinline=true />
                <p class="hint" role="status">{ if scanning { l.t(Text::ScanHint) } else { "" } }</p>
            </div>
        </div>
    }
}
