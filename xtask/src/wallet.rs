//! Builds the wallet in release with Trunk and completes its service worker's precache list.

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::paths;
use crate::run::{cmd, status};

/// `trunk build --release --offline`, then orders the wasm's functions and shortens its import
/// names, minifies the JavaScript glue, fills `sw.js` with the build's files and version.
pub fn build_release() -> Result<(), String> {
    let started = Instant::now();
    // Trunk copies wasm-bindgen's whole output directory, which keeps the JS snippets of earlier
    // builds: without this a removed snippet would still be served and precached.
    let bindgen_out = paths::root().join("target/wasm-bindgen");
    if bindgen_out.exists() {
        std::fs::remove_dir_all(&bindgen_out).map_err(|err| format!("{}: {err}", bindgen_out.display()))?;
    }
    status(cmd("trunk", &["build", "--release", "--offline", "--dist", &paths::wallet_dist().to_string_lossy()]))?;
    order_functions(&paths::wallet_dist())?;
    shorten_imports(&paths::wallet_dist())?;
    minify_glue(&paths::wallet_dist())?;
    let files = fill_service_worker(&paths::wallet_dist())?;
    minify_scripts(&paths::wallet_dist())?;
    let compressed = precompress(&paths::wallet_dist())?;
    println!("wallet: built in {:.1?}, {files} files precached, {compressed} precompressed", started.elapsed());
    Ok(())
}

/// The one built file named `souverain-wallet-*{suffix}`.
fn wallet_file(dist: &Path, suffix: &str) -> Result<PathBuf, String> {
    let found: Vec<String> =
        list_files(dist)?.into_iter().filter(|f| f.starts_with("souverain-wallet-") && f.ends_with(suffix)).collect();
    match found.as_slice() {
        [file] => Ok(dist.join(file)),
        _ => Err(format!("expected one souverain-wallet-*{suffix} in {}, found {found:?}", dist.display())),
    }
}

/// Orders the wasm's functions for gzip (see `wasm_order`) and strips every name and tooling
/// section, then updates the wasm's subresource integrity in `index.html`. The wasm with names is
/// kept beside the build for `cargo xtask bench size`.
fn order_functions(dist: &Path) -> Result<(), String> {
    let (path, index) = (wallet_file(dist, "_bg.wasm")?, dist.join("index.html"));
    let wasm = std::fs::read(&path).map_err(|err| format!("{}: {err}", path.display()))?;
    let after = ordered(&wasm, &path)?;
    let html = std::fs::read_to_string(&index).map_err(|err| format!("{}: {err}", index.display()))?;
    let html = replace_integrity(&html, &wasm, &after)?;
    let named = paths::wallet_named_wasm();
    std::fs::write(&named, &wasm).map_err(|err| format!("{}: {err}", named.display()))?;
    std::fs::write(&path, after).map_err(|err| format!("{}: {err}", path.display()))?;
    std::fs::write(&index, html).map_err(|err| format!("{}: {err}", index.display()))
}

/// `wasm` (with function names) as the build serves it: functions ranked, then moved and every
/// name stripped by `wasm-opt`, through two scratch files beside `beside`.
pub fn ordered(wasm: &[u8], beside: &Path) -> Result<Vec<u8>, String> {
    let ranked_path = beside.with_extension("ranked.wasm");
    let ordered_path = beside.with_extension("ordered.wasm");
    std::fs::write(&ranked_path, crate::wasm_order::rank_names(wasm)?)
        .map_err(|err| format!("{}: {err}", ranked_path.display()))?;
    let (ranked, ordered) = (ranked_path.to_string_lossy(), ordered_path.to_string_lossy());
    let sorted = status(cmd(
        "wasm-opt",
        &[
            &ranked,
            "--reorder-functions-by-name",
            "--strip-debug",
            "--strip-producers",
            "--strip-target-features",
            "-o",
            &ordered,
        ],
    ));
    let _ = std::fs::remove_file(&ranked_path);
    sorted?;
    let after = std::fs::read(&ordered_path).map_err(|err| format!("{}: {err}", ordered_path.display()));
    let _ = std::fs::remove_file(&ordered_path);
    after
}

/// Gives the wasm's imports short names, in the wasm and in its glue together (see
/// `wasm_imports`), and updates both subresource integrity values in `index.html`.
fn shorten_imports(dist: &Path) -> Result<(), String> {
    let (wasm_path, glue_path, index) =
        (wallet_file(dist, "_bg.wasm")?, wallet_file(dist, ".js")?, dist.join("index.html"));
    let wasm = std::fs::read(&wasm_path).map_err(|err| format!("{}: {err}", wasm_path.display()))?;
    let glue = std::fs::read_to_string(&glue_path).map_err(|err| format!("{}: {err}", glue_path.display()))?;
    let html = std::fs::read_to_string(&index).map_err(|err| format!("{}: {err}", index.display()))?;
    let short = crate::wasm_imports::shorten_imports(&wasm, &glue)?;
    // Every check passes before the first write: a refusal leaves Trunk's build as it was.
    let html = replace_integrity(&html, &wasm, &short.wasm)?;
    let html = replace_integrity(&html, glue.as_bytes(), short.glue.as_bytes())?;
    std::fs::write(&wasm_path, &short.wasm).map_err(|err| format!("{}: {err}", wasm_path.display()))?;
    std::fs::write(&glue_path, &short.glue).map_err(|err| format!("{}: {err}", glue_path.display()))?;
    std::fs::write(&index, html).map_err(|err| format!("{}: {err}", index.display()))?;
    println!("wallet: {} wasm imports renamed, {} → {} bytes", short.count, wasm.len(), short.wasm.len());
    Ok(())
}

/// Minifies wasm-bindgen's JavaScript glue with terser (Trunk's minifier stops at its `export
/// default`) and puts the new digest in `index.html`'s subresource integrity, which Trunk computed
/// on the unminified file: the browser would refuse the module otherwise.
fn minify_glue(dist: &Path) -> Result<(), String> {
    let path = wallet_file(dist, ".js")?;
    let before = std::fs::read(&path).map_err(|err| format!("{}: {err}", path.display()))?;
    let minified = path.with_extension("js.min");
    let (source, target) = (path.to_string_lossy(), minified.to_string_lossy());
    status(cmd("terser", &[&source, "--module", "--compress", "--mangle", "--output", &target]))?;
    let after = std::fs::read(&minified).map_err(|err| format!("{}: {err}", minified.display()))?;
    let index = dist.join("index.html");
    let html = std::fs::read_to_string(&index).map_err(|err| format!("{}: {err}", index.display()))?;
    let html = replace_integrity(&html, &before, &after)?;
    std::fs::rename(&minified, &path).map_err(|err| format!("{}: {err}", path.display()))?;
    std::fs::write(&index, html).map_err(|err| format!("{}: {err}", index.display()))
}

/// Minifies, in place, the scripts Trunk copies as they are (written to be read, with comments):
/// the boot script, the passkey ceremonies and the QR code reader (loaded on demand) and wasm-bindgen's snippets (modules). Trunk preloads the snippets with a
/// subresource integrity, updated in `index.html` like the glue's; the boot tag carries none.
fn minify_scripts(dist: &Path) -> Result<(), String> {
    let modules = list_files(dist)?.into_iter().filter(|f| {
        f == "boot.js" || f == "passkey.js" || f == "scan.js" || (f.starts_with("snippets/") && f.ends_with(".js"))
    });
    // The service worker stays as written: its `const VERSION = "…"` line is what a new build
    // changes, and the update test edits it the same way.
    let scripts = modules.map(|f| (f, true));
    for (file, module) in scripts {
        let path = dist.join(&file);
        let minified = path.with_extension("js.min");
        let (source, target) = (path.to_string_lossy(), minified.to_string_lossy());
        let mut args = vec![source.as_ref(), "--compress", "--mangle", "--output", target.as_ref()];
        if module {
            args.insert(1, "--module");
        }
        let before = std::fs::read(&path).map_err(|err| format!("{}: {err}", path.display()))?;
        status(cmd("terser", &args))?;
        if file.starts_with("snippets/") {
            let after = std::fs::read(&minified).map_err(|err| format!("{}: {err}", minified.display()))?;
            let index = dist.join("index.html");
            let html = std::fs::read_to_string(&index).map_err(|err| format!("{}: {err}", index.display()))?;
            let html = replace_integrity(&html, &before, &after)?;
            std::fs::write(&index, html).map_err(|err| format!("{}: {err}", index.display()))?;
        }
        std::fs::rename(&minified, &path).map_err(|err| format!("{}: {err}", path.display()))?;
    }
    Ok(())
}

/// `html` with the SHA-384 integrity value of `before` replaced by that of `after`; an error unless
/// the old value appears exactly once.
fn replace_integrity(html: &str, before: &[u8], after: &[u8]) -> Result<String, String> {
    use base64::Engine as _;
    use sha2::Digest as _;
    let integrity = |bytes: &[u8]| {
        format!("sha384-{}", base64::engine::general_purpose::STANDARD.encode(sha2::Sha384::digest(bytes)))
    };
    let old = integrity(before);
    match html.matches(&old).count() {
        1 => Ok(html.replace(&old, &integrity(after))),
        n => Err(format!("index.html names the integrity {old} {n} times, expected once")),
    }
}

/// Whether a built file is worth a `.gz` twin (PNG icons are compressed already).
fn compressible(name: &str) -> bool {
    [".wasm", ".js", ".css", ".html", ".webmanifest", ".svg", ".json"].iter().any(|ext| name.ends_with(ext))
}

/// Writes `FILE.gz` beside every compressible file, for the guichet to send to browsers that accept
/// gzip; returns how many. Zopfli writes ordinary gzip (RFC 1952, any browser inflates it) about 4 %
/// smaller than `gzip -9`: it spends seconds once per build for bytes saved on every citizen's first
/// visit. No name or time stamp in the header: the same build gives the same twins.
fn precompress(dist: &Path) -> Result<usize, String> {
    let files: Vec<String> = list_files(dist)?.into_iter().filter(|f| compressible(f)).collect();
    for file in &files {
        let source = dist.join(file);
        let bytes = std::fs::read(&source).map_err(|err| format!("{}: {err}", source.display()))?;
        let twin = dist.join(format!("{file}.gz"));
        std::fs::write(&twin, gzip(&bytes)?).map_err(|err| format!("{}: {err}", twin.display()))?;
    }
    Ok(files.len())
}

/// `bytes` in the gzip format, compressed by Zopfli with its default effort (15 iterations).
pub fn gzip(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(bytes.len() / 2);
    zopfli::compress(zopfli::Options::default(), zopfli::Format::Gzip, bytes, &mut out)
        .map_err(|err| format!("zopfli: {err}"))?;
    Ok(out)
}

/// Every file under `dir`, as paths relative to it with `/` separators, sorted.
fn list_files(dir: &Path) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut pending: Vec<PathBuf> = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        let entries = std::fs::read_dir(&current).map_err(|err| format!("{}: {err}", current.display()))?;
        for entry in entries {
            let path = entry.map_err(|err| err.to_string())?.path();
            if path.is_dir() {
                pending.push(path);
            } else if let Ok(relative) = path.strip_prefix(dir) {
                out.push(relative.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// FNV-1a over names and contents: a build version that changes whenever any file does.
fn fnv1a(hash: &mut u64, bytes: &[u8]) {
    for byte in bytes {
        *hash ^= u64::from(*byte);
        *hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
}

/// Replaces the `PRECACHE` and `VERSION` placeholders of `sw.js`; returns the number of files.
fn fill_service_worker(dist: &Path) -> Result<usize, String> {
    let sw_path = dist.join("sw.js");
    let template = std::fs::read_to_string(&sw_path).map_err(|err| format!("{}: {err}", sw_path.display()))?;
    // The `.gz` twins are the same files for the browser: never precached twice.
    let files: Vec<String> = list_files(dist)?.into_iter().filter(|f| f != "sw.js" && !f.ends_with(".gz")).collect();
    let mut hash = 0xcbf2_9ce4_8422_2325_u64;
    for file in &files {
        fnv1a(&mut hash, file.as_bytes());
        let bytes = std::fs::read(dist.join(file)).map_err(|err| format!("{file}: {err}"))?;
        fnv1a(&mut hash, &bytes);
    }
    let mut list: Vec<String> = vec!["\"./\"".to_owned()];
    list.extend(files.iter().map(|f| format!("\"{f}\"")));
    let precache = format!("[{}]", list.join(", "));
    let start = template.find("/*PRECACHE*/").ok_or("sw.js has no /*PRECACHE*/ marker")?;
    let end = template.find("/*END*/").ok_or("sw.js has no /*END*/ marker")?;
    let mut filled = format!("{}/*PRECACHE*/ {precache} {}", &template[..start], &template[end..]);
    filled = filled.replace("\"/*VERSION*/dev\"", &format!("\"{hash:016x}\""));
    std::fs::write(&sw_path, filled).map_err(|err| format!("{}: {err}", sw_path.display()))?;
    Ok(files.len())
}

/// The size of the release `.wasm`: raw, `gzip -9`, and its twin as the guichet serves it.
pub fn wasm_sizes() -> Option<(u64, u64, u64)> {
    let dist = paths::wallet_dist();
    let wasm = list_files(&dist).ok()?.into_iter().find(|f| f.ends_with(".wasm"))?;
    let path = dist.join(wasm);
    let raw = std::fs::metadata(&path).ok()?.len();
    let gz = crate::run::probe(cmd("sh", &["-c", &format!("gzip -9 -c '{}' | wc -c", path.display())]))?;
    let served = std::fs::metadata(format!("{}.gz", path.display())).ok()?.len();
    Some((raw, gz.parse().ok()?, served))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_glue_integrity_is_replaced_once_or_refused() {
        // Digests of "a" and "b" as `openssl dgst -sha384 -binary | base64` prints them.
        let (a, b) = (
            "sha384-VKWbnyKwuAiA2EJ+VIt8I6vYc0huHwNdzpzWl+hRdQM8qojm1XvDXvrgta/TFF8x",
            "sha384-mKkGGCzc+x6060cRdgD2iVji3dFAJItHmE9L3mWHuJyCFcPaiVozbpStGso5AVxA",
        );
        let html = format!(r#"<link rel="modulepreload" href="/g.js" integrity="{a}">"#);
        assert_eq!(
            replace_integrity(&html, b"a", b"b").unwrap(),
            format!(r#"<link rel="modulepreload" href="/g.js" integrity="{b}">"#)
        );
        assert!(replace_integrity(&html, b"c", b"b").is_err(), "an unknown digest is refused");
        assert!(replace_integrity(&format!("{html}{html}"), b"a", b"b").is_err(), "two tags are ambiguous");
    }

    #[test]
    fn zopfli_twins_are_gzip_and_no_larger_than_gzip_9() {
        // Text with the repetition of real code: Zopfli must find at least what gzip -9 finds.
        let text: String = (0..4_000)
            .map(|i| format!("fn item_{}(x: u32) -> u32 {{ x * {} + {} }}\n", i % 97, i % 13, i % 31))
            .collect();
        let twin = gzip(text.as_bytes()).unwrap();
        assert_eq!(&twin[..2], &[0x1f, 0x8b], "gzip magic");
        let mut gzip9 = std::process::Command::new("gzip")
            .args(["-9", "-c", "-n"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        std::io::Write::write_all(&mut gzip9.stdin.take().unwrap(), text.as_bytes()).unwrap();
        let gzip9 = gzip9.wait_with_output().unwrap().stdout;
        assert!(twin.len() <= gzip9.len(), "zopfli {} > gzip -9 {}", twin.len(), gzip9.len());
    }

    #[test]
    fn precompresses_text_files_only_and_they_decompress_to_the_same_bytes() {
        let dir = std::env::temp_dir().join(format!("xtask-gz-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("icons")).unwrap();
        let wasm: Vec<u8> = (0..50_000u32).map(|i| (i % 7) as u8).collect();
        std::fs::write(dir.join("app.wasm"), &wasm).unwrap();
        std::fs::write(dir.join("index.html"), "<!doctype html>").unwrap();
        std::fs::write(dir.join("icons/i.png"), "png").unwrap();
        assert_eq!(precompress(&dir).unwrap(), 2);
        assert!(!dir.join("icons/i.png.gz").exists());
        let gz = std::fs::metadata(dir.join("app.wasm.gz")).unwrap().len();
        assert!(gz < 5_000, "{gz} bytes");
        let back = std::process::Command::new("gzip").arg("-dc").arg(dir.join("app.wasm.gz")).output().unwrap();
        assert_eq!(back.stdout, wasm);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn fills_the_precache_list_and_a_content_version() {
        let dir = std::env::temp_dir().join(format!("xtask-sw-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("icons")).unwrap();
        std::fs::write(
            dir.join("sw.js"),
            "const PRECACHE = /*PRECACHE*/ [] /*END*/;\nconst VERSION = \"/*VERSION*/dev\";",
        )
        .unwrap();
        std::fs::write(dir.join("index.html"), "a").unwrap();
        std::fs::write(dir.join("icons/i.png"), "b").unwrap();
        std::fs::write(dir.join("index.html.gz"), "c").unwrap();
        assert_eq!(fill_service_worker(&dir).unwrap(), 2);
        let filled = std::fs::read_to_string(dir.join("sw.js")).unwrap();
        assert!(filled.contains(r#"/*PRECACHE*/ ["./", "icons/i.png", "index.html"] /*END*/"#), "{filled}");
        assert!(!filled.contains("/*VERSION*/dev"), "{filled}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
