//! The browser benchmarks of `cargo xtask bench`: the vault in headless Chromium (issue 5,
//! `tests/bench_vault.rs`), the data-use log's audit there (issue 17,
//! `crates/audit-worker/tests/bench_audit.rs`) and the wallet's load (issue 7, `e2e/bench/load.mjs` plus the gzipped
//! size of the release build). Each returns its BENCHMARKS.md section, markers included.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::Stdio;

use crate::bench::{HEADER, cpu_model, json_number, load_average, splice, today};
use crate::demo::Server;
use crate::paths;
use crate::run::{cmd, describe, probe};
use crate::tools::{self, CHROMEDRIVER, CHROMIUM, Need};

/// The BENCHMARKS.md section of the vault timings.
pub const VAULT_SECTION: &str = "browser-vault";
/// The BENCHMARKS.md section of the audit timings.
pub const AUDIT_SECTION: &str = "browser-audit";
/// The BENCHMARKS.md section of the wallet load.
pub const WALLET_SECTION: &str = "wallet-load";
/// The BENCHMARKS.md section of the studies' reports made in the browser (issue 18).
pub const STUDIES_SECTION: &str = "browser-studies";

/// The cargo arguments of a browser benchmark: `package`'s test `test`, in release (the wallet
/// ships optimised code, and Argon2 unoptimised would time the compiler, not the vault), built
/// with the `browser-bench` feature that CI's browser tests leave out.
fn bench_args<'a>(package: &'a str, test: &'a str) -> [&'a str; 13] {
    [
        "test",
        "--release",
        "--locked",
        "--target",
        "wasm32-unknown-unknown",
        "-p",
        package,
        "--features",
        "browser-bench",
        "--test",
        test,
        "--",
        "--nocapture",
    ]
}

/// Issue 7: the whole wallet (wasm, JS, CSS), gzipped, at most this many bytes.
const SIZE_TARGET: u64 = 350 * 1000;
/// Modules the wallet loads only on demand (`www/index.html`, `data-type="worker"`): outside the
/// first load the target bounds, their sizes printed apart.
const LAZY_MODULES: &[&str] = &["souverain-audit-worker", "passkey.js", "scan.js"];

/// Runs the browser benchmarks and writes their sections of `file` (BENCHMARKS.md), each as
/// soon as it is measured.
pub fn write_sections(file: &Path) -> Result<(), String> {
    // The vault benchmark needs the wasm target and ChromeDriver, the load one Node and Chromium:
    // on a fresh machine neither is there before this.
    tools::ensure(Need::Test)?;
    for (name, section) in [
        (VAULT_SECTION, vault_section as fn() -> Result<String, String>),
        (AUDIT_SECTION, audit_section),
        (STUDIES_SECTION, studies_section),
        (WALLET_SECTION, wallet_section),
    ] {
        write_section(file, name, &section()?)?;
    }
    Ok(())
}

/// Runs the audit benchmark alone and writes its section of `file` (BENCHMARKS.md).
pub fn write_audit_section(file: &Path) -> Result<(), String> {
    tools::ensure(Need::Test)?;
    write_section(file, AUDIT_SECTION, &audit_section()?)
}

/// Runs the studies' report benchmark alone and writes its section of `file` (BENCHMARKS.md).
pub fn write_studies_section(file: &Path) -> Result<(), String> {
    tools::ensure(Need::Test)?;
    write_section(file, STUDIES_SECTION, &studies_section()?)
}

/// Replaces the section `name` of `file` with `md` and prints it.
fn write_section(file: &Path, name: &str, md: &str) -> Result<(), String> {
    let existing = std::fs::read_to_string(file).unwrap_or_else(|_| HEADER.to_owned());
    std::fs::write(file, splice(&existing, name, md)).map_err(|err| format!("{}: {err}", file.display()))?;
    println!("\n{md}");
    Ok(())
}

/// `BENCH name=value` lines, wherever the runner puts them in its output.
pub fn bench_figures(output: &str) -> Vec<(String, f64)> {
    output
        .lines()
        .filter_map(|line| {
            let rest = &line[line.find("BENCH ")? + "BENCH ".len()..];
            let (name, value) = rest.trim().split_once('=')?;
            let value = value.split_whitespace().next()?.parse::<f64>().ok()?;
            Some((name.trim().to_owned(), value))
        })
        .collect()
}

fn figure(figures: &[(String, f64)], name: &str) -> Result<f64, String> {
    figures
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| *v)
        .ok_or_else(|| format!("the benchmark printed no `BENCH {name}=` line"))
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "NOT met" }
}

/// Runs a wasm-bindgen-test benchmark in headless Chromium, its output printed as it comes, and
/// returns its `BENCH` figures.
fn browser_figures(args: &[&str]) -> Result<Vec<(String, f64)>, String> {
    let mut command = cmd("cargo", args);
    // The vault's set-up writes a 10,000-entry journal: far longer than the runner's default 20 s.
    command.env("CHROMEDRIVER", CHROMEDRIVER).env("WASM_BINDGEN_TEST_TIMEOUT", "900");
    let text = describe(&command);
    println!("$ {text}");
    let mut child = command.stdout(Stdio::piped()).spawn().map_err(|err| format!("`{text}` could not start: {err}"))?;
    let mut output = String::new();
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            println!("{line}");
            output.push_str(&line);
            output.push('\n');
        }
    }
    let status = child.wait().map_err(|err| format!("`{text}`: {err}"))?;
    if !status.success() {
        return Err(format!("`{text}` failed ({status})"));
    }
    Ok(bench_figures(&output))
}

/// Runs the vault benchmark in headless Chromium and returns its section.
pub fn vault_section() -> Result<String, String> {
    let args = bench_args("souverain-wallet", "bench_vault");
    let figures = browser_figures(&args)?;
    let get = |name: &str| figure(&figures, name);
    let (unlock, kdf, open, append) = (get("unlock_ms")?, get("kdf_ms")?, get("open_after_key_ms")?, get("append_ms")?);
    let (export, import, kib) = (get("export_ms")?, get("import_ms")?, get("backup_kib")?);
    let (build, entries, verify) = (get("build_ms")?, get("journal_entries")?, get("verify_journal_ms")?);
    let command = format!("CHROMEDRIVER=/usr/bin/chromedriver WASM_BINDGEN_TEST_TIMEOUT=900 cargo {}", args.join(" "));
    Ok(format!(
        "<!-- {VAULT_SECTION}:start -->\n## Wallet: the vault in headless Chromium\n\n\
         The wallet's IndexedDB store and the core vault session (release wasm, Debian's Chromium through \
         wasm-bindgen-test), default key derivation (Argon2id, 64 MiB, t = 3, p = 1), a vault of 1,000 \
         records and {entries:.0} journal entries. Built through the session API in memory (one batch per \
         change) then restored into IndexedDB in one transaction: {build_s:.1} s. Unlock and open: median \
         of 5, each from a new connection; append: median of 50.\n\n\
         | figure | measured | target (issue 5) | met? |\n|---|---:|---:|---|\n\
         | Unlock with the passphrase: open, read the header, derive the key, read and decrypt the index, \
         holder key and journal head, first list ready | {unlock:.0} ms | ≤ 500 ms | {} |\n\
         | The key derivation alone (Argon2id and unwrapping the vault key), timed apart on the same header | {kdf:.0} ms | | |\n\
         | Open the 1,000-record vault until the first list is ready, once the key is derived (vault key \
         unwrapped with the recovery key, no Argon2) | {open:.1} ms | ≤ 300 ms | {} |\n\
         | Append one journal entry (sealed, head re-signed, one IndexedDB transaction) | {append:.2} ms | \
         ≤ 5 ms | {} |\n\
         | Backup export of that vault ({kib:.0} KiB file) | {export:.0} ms | none | |\n\
         | Backup import into a new database with the passphrase (one key derivation included) | {import:.0} \
         ms | none | |\n\
         | Read and verify the whole journal (informative) | {verify:.0} ms | none | |\n\n\
         - Machine: {} ({} logical CPUs, shared with other builds when the load average is above 2: then \
         the Argon2 timings vary by a third from run to run), load average at the end of the run: {}.\n\
         - Date: {}\n\
         - Reproduce: `cargo xtask bench` (`cargo xtask bench browser` for the browser sections only), which runs `{command}`.\n\
         - Source: `tests/bench_vault.rs` (built only with the `browser-bench` feature, so CI's browser \
         tests do not run it).\n<!-- {VAULT_SECTION}:end -->\n",
        verdict(unlock <= 500.0),
        verdict(open <= 300.0),
        verdict(append <= 5.0),
        cpu_model(),
        std::thread::available_parallelism().map_or(0, usize::from),
        load_average(),
        today(),
        build_s = build / 1000.0,
    ))
}

/// Runs the audit benchmark in headless Chromium and returns its section.
pub fn audit_section() -> Result<String, String> {
    let args = bench_args("souverain-audit-worker", "bench_audit");
    let figures = browser_figures(&args)?;
    let get = |name: &str| figure(&figures, name);
    let (entries, mine, first, first_bytes) =
        (get("audit_entries")?, get("audit_mine")?, get("audit_first_ms")?, get("audit_first_bytes")?);
    let (more, more_ms, more_bytes) = (get("audit_more")?, get("audit_more_ms")?, get("audit_more_bytes")?);
    let command = format!("CHROMEDRIVER=/usr/bin/chromedriver cargo {}", args.join(" "));
    Ok(format!(
        "<!-- {AUDIT_SECTION}:start -->\n## Wallet: the audit of the data-use log in headless Chromium\n\n\
         The wallet's audit (issue 17), release wasm, in Debian's Chromium through wasm-bindgen-test: a log \
         of {entries:.0} entries, {mine:.0} of them the citizen's grant's, checkpoints signed by the log key and \
         cosigned by two witnesses (quorum 2), files served from memory: the time is the audit's own work \
         after fetch (trust list, checkpoint and cosignatures verified, bundles decoded, the root rebuilt \
         from the frontier, the grant's tags found, its sealed events opened). Median of 5. It runs on the \
         page's thread here; the wallet runs the same code in its worker.\n\n\
         | audit | time | target (issue 17) | met? | bytes read (proof and events) |\n|---|---:|---:|---|---:|\n\
         | First audit of the grant: the whole log of {entries:.0} entries | {first:.1} ms | ≤ 200 ms | {} | {first_bytes:.0} |\n\
         | Next audit: {more:.0} entries appended since the kept checkpoint | {more_ms:.1} ms | | | {more_bytes:.0} |\n\n\
         - Bytes read: the trust list, the checkpoint, the entry bundles (65 bytes per entry; a partial \
         bundle is read again whole) and the grant's sealed events: what one audit downloads.\n\
         - Machine: {} ({} logical CPUs), load average at the end of the run: {}.\n\
         - Date: {}\n\
         - Reproduce: `cargo xtask bench` (`cargo xtask bench audit` for this section only), which runs `{command}`.\n\
         - Source: `crates/audit-worker/tests/bench_audit.rs` (built only with the `browser-bench` feature).\n\
         <!-- {AUDIT_SECTION}:end -->\n",
        verdict(first <= 200.0),
        cpu_model(),
        std::thread::available_parallelism().map_or(0, usize::from),
        load_average(),
        today(),
    ))
}

/// Runs the studies' report benchmark in headless Chromium and returns its section.
pub fn studies_section() -> Result<String, String> {
    let args = bench_args("souverain-audit-worker", "bench_studies");
    let figures = browser_figures(&args)?;
    let mut rows = String::new();
    for (name, what) in [
        ("count", "Prio3Count"),
        ("sum8", "Prio3Sum (8 bits)"),
        ("histogram6", "Prio3Histogram (6 buckets)"),
        ("histogram10", "Prio3Histogram (10 buckets)"),
        ("sumvec5x4", "Prio3SumVec (5 entries × 4 bits)"),
    ] {
        let ms = figure(&figures, &format!("report_{name}_ms"))?;
        let bytes = figure(&figures, &format!("report_{name}_bytes"))?;
        let target =
            if name == "histogram10" { format!("≤ 50 ms | {}", verdict(ms <= 50.0)) } else { " | ".to_owned() };
        rows.push_str(&format!("| {what} | {ms:.1} ms | {target} | {bytes:.0} B |\n"));
    }
    let command = format!("CHROMEDRIVER=/usr/bin/chromedriver cargo {}", args.join(" "));
    Ok(format!(
        "<!-- {STUDIES_SECTION}:start -->\n## Wallet: a study's report made in headless Chromium\n\n\
         What the wallet's worker does when a citizen contributes to a study (issue 18), release wasm, in \
         Debian's Chromium through wasm-bindgen-test: the answer split by Prio3 with its proof, both \
         shares sealed with HPKE, the DAP-09 report encoded (`souverain_stats::report::make_report`). \
         Median of 21.\n\n\
         | VDAF | report made in | target (issue 18) | met? | report size |\n|---|---:|---:|---|---:|\n{rows}\n\
         - Machine: {} ({} logical CPUs), load average at the end of the run: {}.\n\
         - Date: {}\n\
         - Reproduce: `cargo xtask bench` (`cargo xtask bench studies` for this section only), which runs `{command}`.\n\
         - Source: `crates/audit-worker/tests/bench_studies.rs` (built only with the `browser-bench` feature).\n\
         <!-- {STUDIES_SECTION}:end -->\n",
        cpu_model(),
        std::thread::available_parallelism().map_or(0, usize::from),
        load_average(),
        today(),
    ))
}

/// `"http://h/a","http://h/a","http://h/b"` as `` `/a` ×2, `/b` ``: the paths, each once with its count.
fn count_paths(list: &str) -> String {
    let mut counts: Vec<(String, usize)> = Vec::new();
    for url in list.split(',').map(|u| u.trim().trim_matches('"')).filter(|u| !u.is_empty()) {
        let path = url.split_once("://").and_then(|(_, rest)| rest.find('/').map(|at| &rest[at..])).unwrap_or(url);
        match counts.iter_mut().find(|(p, _)| p == path) {
            Some((_, n)) => *n += 1,
            None => counts.push((path.to_owned(), 1)),
        }
    }
    let parts: Vec<String> =
        counts.iter().map(|(p, n)| if *n > 1 { format!("`{p}` ×{n}") } else { format!("`{p}`") }).collect();
    parts.join(", ")
}

/// Every file under `dir` (recursively).
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in std::fs::read_dir(&current).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() { pending.push(path) } else { out.push(path) }
        }
    }
    out.sort();
    out
}

/// One file of the release build and its sizes in bytes.
struct FileSizes {
    name: String,
    raw: u64,
    /// `gzip -9`, the usual yardstick.
    gzip9: u64,
    /// The `.gz` twin the guichet sends to browsers (gzip format written by Zopfli).
    served: u64,
    /// Loaded on demand, not by the first load.
    lazy: bool,
}

/// The wasm, JS and CSS files of the release build, with their sizes.
fn transferred_sizes(dist: &Path) -> Result<Vec<FileSizes>, String> {
    let mut sizes = Vec::new();
    for path in files_under(dist) {
        let name = path.strip_prefix(dist).unwrap_or(&path).to_string_lossy().into_owned();
        if !(name.ends_with(".wasm") || name.ends_with(".js") || name.ends_with(".css")) {
            continue;
        }
        let len =
            |path: &Path| std::fs::metadata(path).map(|m| m.len()).map_err(|err| format!("{}: {err}", path.display()));
        let raw = len(&path)?;
        let served = len(&dist.join(format!("{name}.gz")))?;
        let script = format!("gzip -9 -c '{}' | wc -c", path.display());
        let gzip9 = probe(cmd("sh", &["-c", &script]))
            .and_then(|s| s.parse::<u64>().ok())
            .ok_or_else(|| format!("cannot gzip {}", path.display()))?;
        let lazy = LAZY_MODULES.iter().any(|module| name.starts_with(module));
        sizes.push(FileSizes { name, raw, gzip9, served, lazy });
    }
    if !sizes.iter().any(|file| file.name.ends_with(".wasm")) {
        return Err(format!("no .wasm in {}", dist.display()));
    }
    Ok(sizes)
}

/// `cargo xtask build`: builds the release wallet and prints what a browser downloads of it,
/// file by file, against the target (the figure to check after a change, without a browser).
pub fn build_and_print_sizes() -> Result<(), String> {
    tools::ensure(Need::Build)?;
    crate::wallet::build_release()?;
    let sizes = transferred_sizes(&paths::wallet_dist())?;
    for file in &sizes {
        let when = if file.lazy { "  (on demand)" } else { "" };
        println!("{:>9} raw {:>8} gzip -9 {:>8} served  {}{when}", file.raw, file.gzip9, file.served, file.name);
    }
    let served: u64 = sizes.iter().filter(|file| !file.lazy).map(|file| file.served).sum();
    let lazy: u64 = sizes.iter().filter(|file| file.lazy).map(|file| file.served).sum();
    println!(
        "first load, wasm + JS + CSS: {served} bytes served, target {SIZE_TARGET}: {}; on demand: {lazy} bytes",
        verdict(served <= SIZE_TARGET)
    );
    Ok(())
}

/// Builds the release wallet, serves it, runs the load script and returns its section.
pub fn wallet_section() -> Result<String, String> {
    crate::wallet::build_release()?;
    let sizes = transferred_sizes(&paths::wallet_dist())?;
    let server = Server::start("127.0.0.1:0", &crate::test::fresh_test_data()?)?;
    let mut node = cmd("node", &["bench/load.mjs"]);
    node.current_dir(paths::root().join("e2e"))
        .env("WALLET_URL", &server.url)
        .env("CHROMIUM", CHROMIUM)
        // createWallet saves a screenshot: kept apart from the end-to-end suite's.
        .env("E2E_OUT", paths::e2e_out().join("bench"));
    let text = describe(&node);
    println!("$ (in e2e/) {text}");
    let output = node.output().map_err(|err| format!("`{text}` could not start: {err}"));
    server.stop();
    let output = output?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout.lines().rev().find(|l| l.trim_start().starts_with('{')).unwrap_or_default();
    if !output.status.success() || line.is_empty() {
        return Err(format!("`{text}` failed: {}", String::from_utf8_lossy(&output.stderr).trim()));
    }
    println!("{line}");
    let get = |key: &str| json_number(line, key).ok_or_else(|| format!("the load script printed no {key:?}"));
    let (cold, cold_max, cold_requests) = (get("cold_ms")?, get("cold_max_ms")?, get("cold_requests_per_open")?);
    let (warm, warm_max, runs) = (get("warm_ms")?, get("warm_max_ms")?, get("runs")?);
    let (warm_requests, network) = (get("warm_requests")?, get("warm_network_requests")?);
    let (received, decoded) = (get("cold_received_bytes")?, get("cold_decoded_bytes")?);
    let controlled = line.contains("\"sw_controlled\":true");
    let urls = line
        .find("\"warm_network_urls\":[")
        .and_then(|at| line.get(at + "\"warm_network_urls\":[".len()..))
        .and_then(|rest| rest.split_once(']'))
        .map(|(list, _)| count_paths(list))
        .unwrap_or_default();
    let total = |size: fn(&FileSizes) -> u64| sizes.iter().filter(|f| !f.lazy).map(size).sum::<u64>();
    let (total_raw, total_gzip9, total_served) = (total(|f| f.raw), total(|f| f.gzip9), total(|f| f.served));
    let kb = |bytes: u64| bytes as f64 / 1000.0;
    let mut files = String::new();
    for file in &sizes {
        files.push_str(&format!(
            "| `{}`{} | {:.1} kB | {:.1} kB | {:.1} kB |\n",
            file.name,
            if file.lazy { " (on demand, not in the first load)" } else { "" },
            kb(file.raw),
            kb(file.gzip9),
            kb(file.served)
        ));
    }
    let network_note = if urls.is_empty() { String::new() } else { format!(" (reached the network: {urls})") };
    Ok(format!(
        "<!-- {WALLET_SECTION}:start -->\n## Wallet: size and load\n\n\
         The release build as `cargo xtask` makes it (`trunk build --release`, profile `wasm-release`, \
         wasm-opt; then the functions ordered for gzip, short import names, terser, Zopfli twins) served by a local \
         `souverain serve`, opened in Debian's headless Chromium (Playwright core). Load time: from the \
         navigation start to an interactive unlock screen (its heading shown and the passphrase field \
         enabled, a wallet already created), read in the page with `performance.now()`, median of \
         {runs:.0} opens. Cold: no service worker (blocked in that context) and the HTTP cache cleared before \
         each open. Warm: the service worker installed and controlling the page, then navigated again.\n\n\
         | figure | measured | target (issue 7) | met? |\n|---|---:|---:|---|\n\
         | Transferred size of the first load: wasm + JS + CSS, gzipped as served (Zopfli; `gzip -9` gives {:.1} kB) | {:.1} kB \
         ({:.1} kB raw) | ≤ 350 kB | {} |\n\
         | Received by Chromium for wasm + JS + CSS on a cold open, as the guichet serves them (gzip) | \
         {:.1} kB for {:.1} kB decoded | | |\n\
         | Navigation to interactive unlock screen, cold | {cold:.0} ms (max {cold_max:.0} ms, \
         {cold_requests:.0} requests per open) | none | |\n\
         | Navigation to interactive unlock screen, warm (service worker) | {warm:.0} ms (max {warm_max:.0} \
         ms) | none | |\n\
         | Requests reaching the network on the {runs:.0} warm opens ({warm_requests:.0} requests in all, \
         service worker controlling: {controlled}) | {network:.0}{network_note} | 0 | {} |\n\n\
         | file | raw | gzip -9 | served (gzip by Zopfli) |\n|---|---:|---:|---:|\n{files}\n\
         - Machine: {} ({} logical CPUs, shared), load average at the end of the run: {}.\n\
         - Date: {}\n\
         - Reproduce: `cargo xtask bench` or `cargo xtask bench browser` (builds the release wallet, starts `souverain serve --addr \
         127.0.0.1:0`, then runs `node bench/load.mjs` in `e2e/` with `WALLET_URL` set to it).\n\
         - Source: `e2e/bench/load.mjs` (outside `e2e/tests`, so CI's end-to-end stage does not run it), \
         `xtask/src/bench_browser.rs`.\n<!-- {WALLET_SECTION}:end -->\n",
        kb(total_gzip9),
        kb(total_served),
        kb(total_raw),
        verdict(total_served <= SIZE_TARGET),
        received / 1000.0,
        decoded / 1000.0,
        verdict(network == 0.0 && controlled),
        cpu_model(),
        std::thread::available_parallelism().map_or(0, usize::from),
        load_average(),
        today(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_bench_lines_anywhere_in_the_output() {
        let out = "running 1 test\nBENCH unlock_ms=412.50\nlog: BENCH append_ms=1.25 extra\nBENCH bad=x\n";
        assert_eq!(bench_figures(out), vec![("unlock_ms".to_owned(), 412.5), ("append_ms".to_owned(), 1.25)]);
        assert!(figure(&bench_figures(out), "kdf_ms").is_err());
    }

    #[test]
    fn counts_the_paths_that_reached_the_network() {
        assert_eq!(count_paths(r#""http://h:1/a.wasm","http://h:1/a.wasm","http://h:1/b""#), "`/a.wasm` ×2, `/b`");
        assert_eq!(count_paths(""), "");
    }
}
