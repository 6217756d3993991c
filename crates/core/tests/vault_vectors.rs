//! Published vectors for the vault's primitives: RFC 9106 Argon2id (PHC known answer) and every
//! Wycheproof XChaCha20-Poly1305 case with its expected verdict.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;
mod vault_support;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use souverain_core::vault::KdfParams;
use souverain_core::vault::kdf::argon2id;
use vault_support::hex;

/// The value after `label` on the line that starts with it (e.g. "Salt[16]: 02 02 ...").
fn field<'a>(text: &'a str, label: &str) -> &'a str {
    let line = text.lines().find(|l| l.starts_with(label)).expect("label line present");
    line.split_once(':').unwrap().1.trim()
}

/// The number before `unit` in the "Memory: 32 KiB, Iterations: 3, ..." line.
fn number(line: &str, label: &str) -> u32 {
    let part = line.split(',').find(|p| p.trim().starts_with(label)).unwrap();
    part.split_once(':').unwrap().1.split_whitespace().next().unwrap().parse().unwrap()
}

#[test]
fn rfc9106_argon2id_known_answer() {
    let Some(dir) = support::vectors("argon2") else { return };
    let text = support::read(&dir.join("phc-kats-argon2id"));
    assert!(text.contains("Argon2id version number 19"));
    let costs = text.lines().find(|l| l.starts_with("Memory:")).unwrap();
    let (m, t, p, len) = (
        number(costs, "Memory"),
        number(costs, "Iterations"),
        number(costs, "Parallelism"),
        number(costs, "Tag length"),
    );
    let params = KdfParams::insecure_for_tests(m, t, p).unwrap();
    let password = hex(field(&text, "Password["));
    let salt = hex(field(&text, "Salt["));
    let secret = hex(field(&text, "Secret["));
    let ad = hex(field(&text, "Associated data["));
    let tag = hex(field(&text, "Tag"));
    assert_eq!(tag.len(), len as usize);
    let mut out = vec![0u8; tag.len()];
    argon2id(&password, &salt, Some(&secret), Some(&ad), &params, &mut out).unwrap();
    assert_eq!(out, tag, "RFC 9106 section 5.3 tag");
    // Without the secret the tag must differ: the secret is really used.
    argon2id(&password, &salt, None, Some(&ad), &params, &mut out).unwrap();
    assert_ne!(out, tag);
}

#[test]
fn wycheproof_xchacha20_poly1305() {
    let Some(dir) = support::vectors("wycheproof") else { return };
    let json: serde_json::Value =
        serde_json::from_str(&support::read(&dir.join("xchacha20_poly1305_test.json"))).unwrap();
    let mut checked = 0;
    for group in json["testGroups"].as_array().unwrap() {
        for case in group["tests"].as_array().unwrap() {
            let id = case["tcId"].as_u64().unwrap();
            let get = |k: &str| hex(case[k].as_str().unwrap());
            let (key, iv, aad, msg, ct, tag) = (get("key"), get("iv"), get("aad"), get("msg"), get("ct"), get("tag"));
            let valid = match case["result"].as_str().unwrap() {
                "valid" => true,
                "invalid" => false,
                other => unreachable!("case {id}: unexpected verdict {other}"),
            };
            // XNonce::from_slice panics on other lengths: such a nonce is itself a rejection.
            let outcome = if iv.len() == 24 && key.len() == 32 {
                let cipher = XChaCha20Poly1305::new_from_slice(&key).unwrap();
                let nonce = XNonce::from_slice(&iv);
                let mut sealed = ct.clone();
                sealed.extend_from_slice(&tag);
                let opened = cipher.decrypt(nonce, Payload { msg: &sealed, aad: &aad });
                if valid {
                    // Encryption must reproduce the ciphertext and tag too.
                    assert_eq!(cipher.encrypt(nonce, Payload { msg: &msg, aad: &aad }).unwrap(), sealed, "case {id}");
                }
                opened.map(|pt| pt == msg).unwrap_or(false)
            } else {
                false
            };
            assert_eq!(outcome, valid, "Wycheproof case {id} ({})", case["comment"]);
            checked += 1;
        }
    }
    assert_eq!(checked, json["numberOfTests"].as_u64().unwrap());
}
