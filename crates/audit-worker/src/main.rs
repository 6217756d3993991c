//! The wallet's worker: started when the citizen asks what the commune did with their data, or
//! opens the QR code for an agent, or opens the studies page (the wallet's first load does not carry this module). It says
//! `ready`, then answers each request (a [`souverain_audit_worker::QrRequest`] or an
//! [`souverain_audit_worker::AuditRequest`], as JSON) with JSON.

#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
mod worker {
    use souverain_audit_worker::mandates::{self, MandatesRequest, Net};
    use souverain_audit_worker::passkeys::{self, PasskeysRequest};
    use souverain_audit_worker::status::{self, StatusRequest};
    use souverain_audit_worker::text::Lang;
    use souverain_audit_worker::{
        AuditRequest, CATALOG_REQUEST, Files, QrRequest, audit, cards, english_catalog, keep_cards, render,
    };
    use wasm_bindgen::JsCast;
    use wasm_bindgen::prelude::*;
    use wasm_bindgen_futures::JsFuture;
    use web_sys::{DedicatedWorkerGlobalScope, MessageEvent, RequestCache, RequestInit, Response};

    fn scope() -> DedicatedWorkerGlobalScope {
        js_sys::global().unchecked_into()
    }

    /// The log's files, fetched from the worker (same origin as the wallet, under its CSP).
    struct Fetched;

    impl Files for Fetched {
        async fn get(&self, url: &str) -> Result<Option<Vec<u8>>, String> {
            let init = RequestInit::new();
            // The checkpoint changes: always asked again (full tiles are cached by the browser anyway).
            init.set_cache(RequestCache::NoCache);
            let answer = JsFuture::from(scope().fetch_with_str_and_init(url, &init))
                .await
                .map_err(|_| format!("{url}: unreachable"))?;
            let answer: Response = answer.dyn_into().map_err(|_| format!("{url}: no response"))?;
            match answer.status() {
                200 => {
                    let buffer = answer.array_buffer().map_err(|_| format!("{url}: unreadable"))?;
                    let buffer = JsFuture::from(buffer).await.map_err(|_| format!("{url}: unreadable"))?;
                    Ok(Some(js_sys::Uint8Array::new(&buffer).to_vec()))
                }
                404 | 410 => Ok(None),
                status => Err(format!("{url}: HTTP {status}")),
            }
        }
    }

    /// The guichet, for the mandates page (same origin as the wallet, under its CSP).
    impl Net for Fetched {
        async fn get(&self, url: &str) -> Result<Vec<u8>, String> {
            send(url, None).await
        }
        async fn post(&self, url: &str, content_type: &str, body: &str) -> Result<Vec<u8>, String> {
            send(url, Some((content_type, body))).await
        }
        async fn put(&self, url: &str, headers: &[(&str, &str)], body: &[u8]) -> Result<(), String> {
            let init = RequestInit::new();
            init.set_method("PUT");
            init.set_cache(RequestCache::NoCache);
            init.set_body(&js_sys::Uint8Array::from(body));
            let set = web_sys::Headers::new().map_err(|_| "headers".to_owned())?;
            for (name, value) in headers {
                set.set(name, value).map_err(|_| "headers".to_owned())?;
            }
            init.set_headers(&set);
            let answer = JsFuture::from(scope().fetch_with_str_and_init(url, &init))
                .await
                .map_err(|_| format!("{url}: unreachable"))?;
            let answer: Response = answer.dyn_into().map_err(|_| format!("{url}: no response"))?;
            if answer.ok() { Ok(()) } else { Err(format!("{url}: HTTP {}", answer.status())) }
        }
    }

    async fn send(url: &str, body: Option<(&str, &str)>) -> Result<Vec<u8>, String> {
        let init = RequestInit::new();
        init.set_cache(RequestCache::NoCache);
        if let Some((content_type, body)) = body {
            init.set_method("POST");
            init.set_body(&JsValue::from_str(body));
            let headers = web_sys::Headers::new().map_err(|_| "headers".to_owned())?;
            headers.set("content-type", content_type).map_err(|_| "headers".to_owned())?;
            init.set_headers(&headers);
        }
        let answer = JsFuture::from(scope().fetch_with_str_and_init(url, &init))
            .await
            .map_err(|_| format!("{url}: unreachable"))?;
        let answer: Response = answer.dyn_into().map_err(|_| format!("{url}: no response"))?;
        if !answer.ok() {
            return Err(format!("{url}: HTTP {}", answer.status()));
        }
        let buffer = answer.array_buffer().map_err(|_| format!("{url}: unreadable"))?;
        let buffer = JsFuture::from(buffer).await.map_err(|_| format!("{url}: unreadable"))?;
        Ok(js_sys::Uint8Array::new(&buffer).to_vec())
    }

    fn date_in(lang: Lang) -> impl Fn(i64) -> String {
        let locale = if lang == Lang::En { "en-GB" } else { "fr-FR" };
        move |unix: i64| -> String {
            let date = js_sys::Date::new(&JsValue::from_f64(unix as f64 * 1000.0));
            date.to_locale_string(locale, &JsValue::UNDEFINED).into()
        }
    }

    async fn answer(text: String) -> String {
        if text == CATALOG_REQUEST {
            return english_catalog();
        }
        if let Ok(qr) = serde_json::from_str::<QrRequest>(&text) {
            return qr.answer();
        }
        if let Ok(request) = serde_json::from_str::<PasskeysRequest>(&text) {
            return passkeys::draw(&request.passkeys, &date_in(request.passkeys.lang));
        }
        if let Ok(request) = serde_json::from_str::<StatusRequest>(&text) {
            return status::credential_status(&request.status, &Fetched).await.to_owned();
        }
        if let Ok(request) = serde_json::from_str::<MandatesRequest>(&text) {
            let mut ask = request.mandates;
            // The wallet's address (its page is beside this module): the base of a mandate's link.
            let here = scope().location().href();
            ask.base = here[..here.rfind('/').map_or(0, |i| i + 1)].to_owned();
            let answer = mandates::answer(&ask, &Fetched, &date_in(ask.lang)).await;
            return serde_json::to_string(&answer).unwrap_or_else(|_| r#"{"error":"answer"}"#.to_owned());
        }
        match serde_json::from_str::<AuditRequest>(&text) {
            Ok(mut request) => {
                request.read_records();
                let mut report = audit(&request, &Fetched).await;
                render(request.lang, &mut report, &request.grants, &date_in(request.lang));
                // The cards in both languages: the purposes' words of each, read again.
                let other_lang = if request.lang == Lang::Fr { Lang::En } else { Lang::Fr };
                let mut other_grants = Vec::new();
                if let Ok(mut other) = serde_json::from_str::<AuditRequest>(&text) {
                    other.lang = other_lang;
                    other.read_records();
                    other_grants = other.grants;
                }
                let mine = cards(request.lang, &report.state, &request.grants, &date_in(request.lang));
                let theirs = cards(other_lang, &report.state, &other_grants, &date_in(other_lang));
                let (fr, en) = if request.lang == Lang::Fr { (mine, theirs) } else { (theirs, mine) };
                keep_cards(&mut report, request.state.as_ref(), fr, en);
                serde_json::to_string(&report).unwrap_or_else(|_| r#"{"error":"report"}"#.to_owned())
            }
            Err(_) => r#"{"error":"request"}"#.to_owned(),
        }
    }

    pub fn start() {
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(|event: MessageEvent| {
            let text = event.data().as_string().unwrap_or_default();
            wasm_bindgen_futures::spawn_local(async move {
                let _ = scope().post_message(&JsValue::from_str(&answer(text).await));
            });
        });
        scope().set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        // The handler lives as long as the worker.
        on_message.forget();
        // Messages posted while the module was loading would have found no handler: the wallet
        // waits for this before it posts its request.
        let _ = scope().post_message(&JsValue::from_str("ready"));
    }
}

fn main() {
    #[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
    worker::start();
    #[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
    eprintln!("souverain-audit-worker runs in the wallet's browser, as a Web Worker");
}
