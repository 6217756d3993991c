//! `cargo xtask test`: every check in order; stops at the first failing stage, always prints what
//! ran, and ends with one `N passed, N failed` line over all stages.
//!
//! Test stages count their test cases; check stages (fmt, clippy, builds) count as one check each.

use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use crate::demo::Server;
use crate::paths;
use crate::run::{Counts, cmd, counted, describe};
use crate::tools::{self, CHROMEDRIVER, CHROMIUM, Need};
use crate::wallet;

/// One line of the final report.
struct Ran {
    name: &'static str,
    ok: bool,
    counts: Counts,
    took: Duration,
}

/// What a stage runs.
enum Step {
    /// A command whose success is the check.
    Check(Command),
    /// A test runner whose output carries counts.
    Tests(Command),
    /// In-process work (building the wallet, end-to-end with a server).
    Work(fn() -> Result<Counts, String>),
}

/// A cargo command for wasm32: `--target` goes before any `--`, which hands the rest to rustc.
fn wasm_target(args: &[&str]) -> Command {
    let mut all = args.to_vec();
    let at = all.iter().position(|arg| *arg == "--").unwrap_or(all.len());
    all.splice(at..at, ["--target", "wasm32-unknown-unknown"]);
    cmd("cargo", &all)
}

/// The packages built for wasm32: core, the wallet and its second module.
const WASM_PACKAGES: &[&str] = &["-p", "souverain-core", "-p", "souverain-wallet", "-p", "souverain-audit-worker"];

fn stages() -> Vec<(&'static str, Step)> {
    let mut browser_tests = wasm_target(&["test", "--locked", "-p", "souverain-wallet"]);
    browser_tests.env("CHROMEDRIVER", CHROMEDRIVER).env("WASM_BINDGEN_TEST_TIMEOUT", "60");
    vec![
        ("format", Step::Check(cmd("cargo", &["fmt", "--all", "--check"]))),
        (
            "clippy (native)",
            Step::Check(cmd("cargo", &["clippy", "--workspace", "--all-targets", "--locked", "--", "-D", "warnings"])),
        ),
        (
            "clippy (wasm32)",
            Step::Check(wasm_target(
                &[&["clippy", "--locked"], WASM_PACKAGES, &["--all-targets", "--", "-D", "warnings"]].concat(),
            )),
        ),
        ("native tests (SQLite and PostgreSQL)", Step::Work(native_tests)),
        ("interop (JS and Python SD-JWT)", Step::Work(interop)),
        ("wasm32 build", Step::Check(wasm_target(&[&["build", "--locked"], WASM_PACKAGES].concat()))),
        ("browser tests (Chromium)", Step::Tests(browser_tests)),
        ("wallet release build", Step::Work(|| wallet::build_release().map(|()| Counts { passed: 1, failed: 0 }))),
        ("end-to-end (Playwright)", Step::Work(end_to_end)),
    ]
}

/// Runs every `*.test.mjs` of `dir/tests` with node's test runner (TAP output, counted).
fn node_tests(dir: &std::path::Path, env: &[(&str, std::ffi::OsString)]) -> Result<Counts, String> {
    let mut files: Vec<String> = std::fs::read_dir(dir.join("tests"))
        .map_err(|err| format!("{}: {err}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.to_string_lossy().ends_with(".test.mjs"))
        .map(|path| path.to_string_lossy().into_owned())
        .collect();
    files.sort();
    let mut args = vec!["--test", "--test-reporter=tap", "--test-concurrency=1"];
    args.extend(files.iter().map(String::as_str));
    let mut node = cmd("node", &args);
    node.current_dir(dir);
    for (key, value) in env {
        node.env(key, value);
    }
    judged(counted(node)?)
}

/// A runner's verdict as counts: a failing exit or an empty run counts as a failure.
fn judged((ok, counts): (bool, Counts)) -> Result<Counts, String> {
    if counts.passed + counts.failed == 0 {
        return Err("the suite ran no test".to_owned());
    }
    if ok { Ok(counts) } else { Ok(Counts { failed: counts.failed.max(1), ..counts }) }
}

/// Every crate's tests, with a throwaway PostgreSQL cluster for the guichet's store tests (which
/// run on both backends); the cluster is stopped and removed however the tests end.
fn native_tests() -> Result<Counts, String> {
    let cluster = crate::pg::Cluster::start()?;
    let mut tests = cmd("cargo", &["test", "--workspace", "--locked"]);
    tests.env("SOUVERAIN_VECTORS", paths::vectors()).env(crate::pg::TEST_PG, &cluster.url);
    let (ok, counts) = counted(tests)?;
    drop(cluster);
    let ok = ok && counts.failed == 0;
    Ok(if ok { counts } else { Counts { failed: counts.failed.max(1), ..counts } })
}

/// Starts the guichet on a free port with the release wallet and runs the Playwright suite.
fn end_to_end() -> Result<Counts, String> {
    let server = Server::start("127.0.0.1:0", &fresh_test_data()?)?;
    std::fs::create_dir_all(paths::e2e_out()).map_err(|err| err.to_string())?;
    let outcome = node_tests(
        &paths::root().join("e2e"),
        &[
            ("WALLET_URL", server.url.clone().into()),
            ("CHROMIUM", CHROMIUM.into()),
            ("E2E_OUT", paths::e2e_out().into()),
            // The tests that play a misbehaving service sign with its key, from the guichet's files.
            ("GUICHET_DATA", paths::test_guichet_data().into()),
            ("SOUVERAIN_BIN", paths::souverain_debug().into()),
            // The update test serves a copy of the build, then changes it.
            ("WALLET_DIST", paths::wallet_dist().into()),
        ],
    );
    server.stop();
    outcome
}

/// The tests' guichet data directory, emptied: each run starts from a new commune, and the
/// demo's own directory is never touched.
pub fn fresh_test_data() -> Result<std::path::PathBuf, String> {
    let dir = paths::test_guichet_data();
    match std::fs::remove_dir_all(&dir) {
        Ok(()) => {}
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => return Err(format!("{}: {err}", dir.display())),
    }
    std::fs::create_dir_all(&dir).map_err(|err| format!("{}: {err}", dir.display()))?;
    Ok(dir)
}

/// The `souverain` command line against two independent SD-JWT VC implementations, both ways.
fn interop() -> Result<Counts, String> {
    crate::run::status(cmd("cargo", &["build", "--locked", "-p", "souverain"]))?;
    let binary: std::ffi::OsString = paths::souverain_debug().into();
    let mut counts = node_tests(&paths::root().join("interop"), &[("SOUVERAIN_BIN", binary.clone())])?;
    let python = paths::python_venv().join("bin/python");
    let mut pytest = cmd(&python.to_string_lossy(), &["-m", "pytest", "-q", "-p", "no:cacheprovider", "interop/tests"]);
    pytest.env("SOUVERAIN_BIN", binary);
    counts.add(judged(counted(pytest)?)?);
    Ok(counts)
}

fn report(ran: &[Ran], total: Counts) {
    println!();
    println!("== cargo xtask test: what ran ==");
    for stage in ran {
        println!(
            "{:<6} {:<28} {:>5} passed {:>4} failed  {:>7.1?}",
            if stage.ok { "ok" } else { "FAILED" },
            stage.name,
            stage.counts.passed,
            stage.counts.failed,
            stage.took
        );
    }
    println!("{} passed, {} failed", total.passed, total.failed);
}

/// Runs every stage; the exit code is 0 only if all ran and all passed.
pub fn run() -> ExitCode {
    let started = Instant::now();
    if let Err(err) = tools::ensure(Need::Test) {
        println!("setup failed: {err}");
        println!("0 passed, 1 failed");
        return ExitCode::FAILURE;
    }
    let vectors = paths::vectors();
    let vectors_note = if vectors.exists() {
        format!("conformance vectors: {}", vectors.display())
    } else {
        format!("conformance vectors ABSENT at {}: the vector tests skip (they do not pass)", vectors.display())
    };
    println!("{vectors_note}");
    let mut ran = Vec::new();
    let mut total = Counts::default();
    for (name, step) in stages() {
        println!("\n== {name} ==");
        let begun = Instant::now();
        let (ok, counts) = match step {
            Step::Check(command) => {
                let text = describe(&command);
                let ok = crate::run::status(command).is_ok();
                if !ok {
                    println!("check failed: {text}");
                }
                (ok, Counts { passed: u64::from(ok), failed: u64::from(!ok) })
            }
            Step::Tests(command) => match counted(command) {
                Ok((ok, counts)) => {
                    let ok = ok && counts.failed == 0;
                    (ok, if ok { counts } else { Counts { failed: counts.failed.max(1), ..counts } })
                }
                Err(err) => {
                    println!("{err}");
                    (false, Counts { passed: 0, failed: 1 })
                }
            },
            Step::Work(work) => match work() {
                Ok(counts) => (counts.failed == 0, counts),
                Err(err) => {
                    println!("{err}");
                    (false, Counts { passed: 0, failed: 1 })
                }
            },
        };
        total.add(counts);
        ran.push(Ran { name, ok, counts, took: begun.elapsed() });
        if !ok {
            println!("\nstopped at the first failing stage: {name} ({:.0?} in all)", started.elapsed());
            report(&ran, total);
            return ExitCode::FAILURE;
        }
    }
    if let Some((raw, gz, served)) = wallet::wasm_sizes() {
        println!("\nwallet .wasm: {raw} bytes raw, {gz} bytes gzip -9, {served} bytes as served (Zopfli)");
    }
    println!("{vectors_note}");
    println!("all stages passed in {:.0?}", started.elapsed());
    report(&ran, total);
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wasm_target_goes_to_cargo_not_to_rustc() {
        let command = wasm_target(&["clippy", "-p", "x", "--", "-D", "warnings"]);
        let args: Vec<String> = command.get_args().map(|a| a.to_string_lossy().into_owned()).collect();
        assert_eq!(args, ["clippy", "-p", "x", "--target", "wasm32-unknown-unknown", "--", "-D", "warnings"]);
        let command = wasm_target(&["build", "-p", "x"]);
        assert_eq!(command.get_args().count(), 5);
    }

    #[test]
    fn the_demo_and_the_tests_never_share_a_guichet() {
        let (demo, tests) = (paths::demo_guichet_data(), paths::test_guichet_data());
        assert!(!demo.starts_with(&tests) && !tests.starts_with(&demo), "{} / {}", demo.display(), tests.display());
    }
}
