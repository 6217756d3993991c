//! Server-rendered pages for the commune's agents: French, plain forms, no external assets.

use axum::http::header;
use axum::response::{IntoResponse, Response};

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}\
h1{font-size:1.5rem}label{display:block;margin:.6rem 0 .2rem}input,select,textarea{font:inherit;padding:.3rem;width:100%;max-width:30rem}\
button{font:inherit;padding:.4rem 1rem;margin-top:.8rem}table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:.3rem .5rem;text-align:left}\
code,pre{word-break:break-all;white-space:pre-wrap;background:#f3f3f3}.qr svg{width:16rem;height:16rem}nav a{margin-right:1rem}";

/// A whole page.
pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"fr\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
<title>{t} — Guichet</title><style>{STYLE}</style></head><body><nav><a href=\"/guichet/agent\">Émission</a>\
<a href=\"/guichet/services\">Services</a><a href=\"/guichet/etudes\">Études</a><a href=\"/guichet/registre\">Registre des traitements</a><a href=\"/guichet/deconnexion\">Déconnexion</a></nav><h1>{t}</h1>{body}</body></html>",
        t = escape(title)
    )
}

/// A page as a response.
pub fn respond(title: &str, body: &str) -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], page(title, body)).into_response()
}

/// A Unix time as agents read it: `05/12/2026 14:03 UTC` (day first, as in France; UTC said,
/// since the guichet does not carry a time-zone database).
pub fn date_fr(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0)
        .map_or_else(|| unix.to_string(), |d| d.format("%d/%m/%Y %H:%M UTC").to_string())
}

/// A page for citizens (their identification before issuance): no agents' navigation.
pub fn citizen_respond(title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"fr\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
<title>{t} — Guichet</title><style>{STYLE}</style></head><body><main><h1>{t}</h1>{body}</main></body></html>",
        t = escape(title)
    );
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response()
}

/// A QR code of `data` as inline SVG; `None` if the data is too long for a QR code.
pub fn qr_svg(data: &str) -> Option<String> {
    let code = qrcode::QrCode::with_error_correction_level(data.as_bytes(), qrcode::EcLevel::L).ok()?;
    Some(code.render::<qrcode::render::svg::Color<'_>>().min_dimensions(256, 256).quiet_zone(true).build())
}

/// A link and its QR code.
pub fn link_block(label: &str, url: &str) -> String {
    link_block_with(label, url, "Ouvrir dans le portefeuille")
}

/// Like [`link_block`], the link reading `link_text`.
pub fn link_block_with(label: &str, url: &str, link_text: &str) -> String {
    let qr = qr_svg(url).map_or_else(
        || "<p>(lien trop long pour un QR code)</p>".to_owned(),
        |svg| {
            // The SVG's XML prolog is not allowed inside HTML.
            let start = svg.find("<svg").unwrap_or(0);
            format!("<div class=\"qr\">{}</div>", svg.get(start..).unwrap_or_default())
        },
    );
    format!(
        "<h2>{}</h2>{qr}<p><a href=\"{u}\">{}</a></p><pre>{u}</pre>",
        escape(label),
        escape(link_text),
        u = escape(url)
    )
}
