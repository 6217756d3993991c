//! `cargo xtask bench size`: where the wallet's served bytes are, by family of functions.
//!
//! A function's share of a compressed file is not its raw size: gzip absorbs code that repeats
//! nearby. So each family is measured by what the served wasm loses when the family's function
//! bodies are emptied (`unreachable`), everything else the same, through the build's own ordering
//! and Zopfli. The figures overlap a little and do not add up to the total: a family's code also
//! serves as context for its neighbours.

use std::path::Path;

use crate::bench::{HEADER, splice};
use crate::paths;

/// The BENCHMARKS.md section this command owns.
const SECTION: &str = "wallet-size";

/// The families, in the order a function is matched against them (the first that claims it wins).
const FAMILIES: &[&str] = &[
    "views (`html!` in pages and components)",
    "hooks, callbacks and async handlers of pages and components",
    "drop glue",
    "Yew, indexmap, hashbrown, gloo",
    "souverain-core, with the serde code of its types",
    "the wallet's services, store and other own code",
    "serde, serde_json",
    "cryptography",
    "wasm-bindgen, js-sys, web-sys",
    "Rust's standard library and allocator",
    "other (qrcode, miniz_oxide, base64…)",
];

const CRYPTO: &[&str] = &[
    "curve25519_dalek",
    "ed25519_dalek",
    "ed25519",
    "sha2",
    "p256",
    "primeorder",
    "elliptic_curve",
    "crypto_bigint",
    "blake2",
    "argon2",
    "chacha20",
    "chacha20poly1305",
    "poly1305",
    "digest",
    "cipher",
    "ecdsa",
    "signature",
    "sec1",
    "der",
    "pkcs8",
    "spki",
    "universal_hash",
    "block_buffer",
    "rfc6979",
    "hmac",
    "subtle",
    "zeroize",
    "password_hash",
    "base64ct",
    "ff",
    "group",
    "const_oid",
    "getrandom",
    "rand_core",
];

/// Types whose methods are the standard library's (`<char>::escape_debug_ext`).
const PRIMITIVES: &[&str] = &[
    "bool", "char", "str", "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128", "isize",
    "f32", "f64",
];

/// The crate a function belongs to: that of its path, or of its type in `<Type as Trait>::method`,
/// or of the trait when the type is generic or primitive (`<T as core::fmt::Debug>::fmt`). Names
/// from the precompiled standard library carry the crate's hash (`core[c5930c85a12de822]`): dropped.
fn crate_of(name: &str) -> &str {
    let subject = name.trim_start_matches(['<', '&', '*', '[']).trim_start_matches("mut ").trim_start_matches("const ");
    let first = subject.split("::").next().unwrap_or_default();
    let first = match name.find(" as ") {
        Some(at) if first.contains(' ') => name[at + 4..].split("::").next().unwrap_or_default(),
        _ => first,
    };
    first.split('[').next().unwrap_or_default().trim_end_matches('>')
}

/// The family (an index into [`FAMILIES`]) of a function, from its demangled name.
fn family_of(name: &str) -> usize {
    if name.contains(" as yew::html::component::lifecycle::Stateful>::view") {
        return 0;
    }
    if name.contains(" as yew::functional::FunctionProvider>::run") {
        return 1;
    }
    if name.starts_with("core::ptr::drop_in_place") {
        return 2;
    }
    match crate_of(name) {
        "yew" | "implicit_clone" | "indexmap" | "hashbrown" | "gloo" | "gloo_events" | "gloo_timers" | "gloo_utils"
        | "slab" => 3,
        "souverain_core" => 4,
        "souverain_wallet" => 5,
        "serde" | "serde_core" | "serde_json" | "ryu" | "itoa" | "zmij" => 6,
        c if CRYPTO.contains(&c) => 7,
        "wasm_bindgen" | "js_sys" | "web_sys" | "wasm_bindgen_futures" => 8,
        "core" | "alloc" | "std" | "dlmalloc" | "__rustc" => 9,
        primitive if PRIMITIVES.contains(&primitive) => 9,
        _ => 10,
    }
}

/// The served size (Zopfli gzip) of a wasm with function names once the build has ordered it.
fn served(wasm: &[u8]) -> Result<usize, String> {
    let ordered = crate::wallet::ordered(wasm, &paths::wallet_named_wasm())?;
    Ok(crate::wallet::gzip(&ordered)?.len())
}

/// Prints what the functions whose demangled names contain any of `patterns` weigh in the last
/// release build's wasm (raw code, and served bytes lost when their bodies are emptied), with the
/// ten largest of them: the figure to look at before cutting them.
pub fn print_matching(patterns: &[&str]) -> Result<(), String> {
    let named_path = paths::wallet_named_wasm();
    let named = std::fs::read(&named_path)
        .map_err(|err| format!("{}: {err} (build the wallet first: cargo xtask bench size)", named_path.display()))?;
    let matches = |name: &str| patterns.iter().any(|p| name.contains(p));
    let total = served(&named)?;
    let functions = crate::wasm_order::read_functions(&named)?;
    let mut members: Vec<(&str, usize)> =
        functions.defined.iter().filter(|(name, _)| matches(name)).map(|(name, body)| (*name, body.len())).collect();
    members.sort_by_key(|&(_, len)| std::cmp::Reverse(len));
    let raw: usize = members.iter().map(|&(_, len)| len).sum();
    let emptied = crate::wasm_order::without_bodies(&named, matches)?;
    let saved = total.saturating_sub(served(&emptied)?);
    println!("{} functions, {raw} bytes raw, {saved} bytes served (of {total})", members.len());
    for (name, len) in members.iter().take(20) {
        println!("{len:>8}  {name}");
    }
    Ok(())
}

/// Builds the release wallet, measures each family and rewrites the section of `file`.
pub fn write_section(file: &Path) -> Result<(), String> {
    crate::tools::ensure(crate::tools::Need::Build)?;
    crate::wallet::build_release()?;
    let named_path = paths::wallet_named_wasm();
    let named = std::fs::read(&named_path).map_err(|err| format!("{}: {err}", named_path.display()))?;
    let total = served(&named)?;
    let functions = crate::wasm_order::read_functions(&named)?;
    let mut rows = String::new();
    for (family, label) in FAMILIES.iter().enumerate() {
        let members: Vec<&[u8]> =
            functions.defined.iter().filter(|(name, _)| family_of(name) == family).map(|(_, body)| *body).collect();
        let raw: usize = members.iter().map(|body| body.len()).sum();
        let emptied = crate::wasm_order::without_bodies(&named, |name| family_of(name) == family)?;
        let saved = total.saturating_sub(served(&emptied)?);
        rows.push_str(&format!(
            "| {label} | {} | {:.1} kB | {:.1} kB |\n",
            members.len(),
            raw as f64 / 1000.0,
            saved as f64 / 1000.0
        ));
        println!("{label}: {} functions, {raw} bytes raw, {saved} bytes served", members.len());
    }
    let md = format!(
        "<!-- {SECTION}:start -->\n## Wallet: where the served bytes of the wasm are\n\n\
         Each family of functions (by demangled name) measured by what the served wasm (Zopfli gzip, \
         functions ordered as the build orders them, import names not yet shortened: {:.1} kB) loses when \
         their bodies are emptied. The figures overlap and do not add up: gzip reads each function \
         in the context of its neighbours. The data section (both catalogs, tables, strings) holds no \
         function and is not in the table.\n\n\
         | family | functions | raw code | served bytes it accounts for |\n|---|---:|---:|---:|\n{rows}\n\
         - Date: {}\n\
         - Reproduce: `cargo xtask bench size` (builds the release wallet first).\n\
         - Source: `xtask/src/bench_size.rs`.\n\
         <!-- {SECTION}:end -->\n",
        total as f64 / 1000.0,
        crate::bench::today()
    );
    let existing = std::fs::read_to_string(file).unwrap_or_else(|_| HEADER.to_owned());
    std::fs::write(file, splice(&existing, SECTION, &md)).map_err(|err| format!("{}: {err}", file.display()))?;
    println!("\n{md}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_from_names() {
        let view = "<yew::html::component::lifecycle::CompStateInner<COMP> as yew::html::component::lifecycle::Stateful>::view::h0123";
        assert_eq!(FAMILIES[family_of(view)], FAMILIES[0]);
        let handler = "<souverain_wallet::pages::request::Request as yew::functional::FunctionProvider>::run::request::{{closure}}::h1";
        assert_eq!(family_of(handler), 1);
        assert_eq!(family_of("core::ptr::drop_in_place<souverain_core::consent::Grant>::h2"), 2);
        assert_eq!(family_of("<souverain_core::consent::Grant as serde_core::de::Deserialize>::deserialize::h3"), 4);
        assert_eq!(family_of("sha2::sha256::compress256::h4"), 7);
        assert_eq!(family_of("alloc::vec::Vec<T,A>::push::h5"), 9);
        assert_eq!(family_of("qrcode::canvas::Canvas::apply_mask::h6"), 10);
        assert_eq!(family_of(""), 10);
        // Generic and primitive types take the trait's crate; the standard library's hashes are dropped.
        assert_eq!(crate_of("<T as core::slice::cmp::SliceContains>::slice_contains::h1"), "core");
        assert_eq!(
            crate_of("<&mut serde_json::de::Deserializer<R> as serde_core::de::Deserializer>::deserialize_seq"),
            "serde_json"
        );
        assert_eq!(crate_of("<core[c5930c85a12de822]::str::pattern::StrSearcher>::new"), "core");
        assert_eq!(crate_of("alloc[3ca501edff3f0c7c]::fmt::format::format_inner"), "alloc");
        assert_eq!(crate_of("<[Z; N] as zeroize::Zeroize>::zeroize::h7"), "zeroize");
        assert_eq!(crate_of("<char>::escape_debug_ext"), "char");
        assert_eq!(family_of("<usize as core[c5930c85a12de822]::str::traits::FromStr>::from_str"), 9);
    }
}
