//! Installs what the build and the tests need, at pinned versions, and only when missing.
//!
//! Everything comes from the package registries (crates.io, npm, Debian): nothing is downloaded
//! from anywhere else. `../shared/TOOLCHAIN.md` records why these versions.

use std::path::Path;
use std::time::Instant;

use crate::paths;
use crate::run::{cmd, probe, status};

/// Pinned wasm-bindgen CLI: must equal the `wasm-bindgen` crate in Cargo.lock.
pub const WASM_BINDGEN: &str = "0.2.129";
/// Pinned Trunk (0.22 needs a newer rustc than this machine's).
pub const TRUNK: &str = "0.21.14";
/// Debian's Chromium and its driver, for wasm-bindgen-test and Playwright.
pub const CHROMIUM: &str = "/usr/bin/chromium";
/// Debian's ChromeDriver.
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Which tools a command needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Building and serving the wallet (`demo`).
    Build,
    /// Building plus browsers and end-to-end runners (`test`).
    Test,
}

/// Installs whatever `need` requires and is missing; prints what it did and how long it took.
pub fn ensure(need: Need) -> Result<(), String> {
    let started = Instant::now();
    let mut installed = Vec::new();
    if ensure_wasm_target()? {
        installed.push("rust target wasm32-unknown-unknown");
    }
    if ensure_cargo_tool("wasm-bindgen", "wasm-bindgen-cli", WASM_BINDGEN)? {
        installed.push("wasm-bindgen-cli");
    }
    if ensure_cargo_tool("trunk", "trunk", TRUNK)? {
        installed.push("trunk");
    }
    if ensure_npm(&paths::root().join("tools"))? {
        installed.push("npm tools (binaryen wasm-opt, terser)");
    }
    if need == Need::Test {
        if ensure_chromium()? {
            installed.push("chromium and chromium-driver");
        }
        if ensure_postgresql()? {
            installed.push("postgresql-15");
        }
        // The erasure e2e test moves a guichet's clock from outside the process (e2e/tests/erasure.test.mjs).
        if ensure_debian(FAKETIME, &["faketime"])? {
            installed.push("faketime");
        }
        // The erasure-now e2e test reads the guichet's tables itself (e2e/tests/erasure-now.test.mjs).
        if ensure_debian(SQLITE3, &["sqlite3"])? {
            installed.push("sqlite3");
        }
        if ensure_npm(&paths::root().join("e2e"))? {
            installed.push("npm e2e (playwright-core)");
        }
        if ensure_npm(&paths::root().join("interop"))? {
            installed.push("npm interop (@sd-jwt/sd-jwt-vc, jose)");
        }
        // The real OpenID provider the guichet's agent sign-in tests start (crates/guichet/tests/oidc.rs).
        if ensure_npm(&paths::root().join("tools/oidc-provider"))? {
            installed.push("npm OpenID provider for the tests (oidc-provider)");
        }
        if ensure_python_venv()? {
            installed.push("Python interop venv (sd-jwt)");
        }
    }
    if installed.is_empty() {
        println!("tools: everything present at the pinned versions, nothing installed");
    } else {
        println!("tools: installed {} in {:.0?}", installed.join(", "), started.elapsed());
    }
    Ok(())
}

fn ensure_wasm_target() -> Result<bool, String> {
    let installed = probe(cmd("rustup", &["target", "list", "--installed"])).unwrap_or_default();
    if installed.lines().any(|l| l.trim() == "wasm32-unknown-unknown") {
        return Ok(false);
    }
    status(cmd("rustup", &["target", "add", "wasm32-unknown-unknown"]))?;
    Ok(true)
}

/// `binary --version` must print `<binary> <version>`; otherwise `cargo install --locked`.
fn ensure_cargo_tool(binary: &str, package: &str, version: &str) -> Result<bool, String> {
    let found = probe(cmd(binary, &["--version"])).unwrap_or_default();
    if found.split_whitespace().nth(1) == Some(version) {
        return Ok(false);
    }
    println!("tools: {binary} {version} missing (found {found:?}); installing from crates.io");
    let spec = format!("{package}@{version}");
    status(cmd("cargo", &["install", "--locked", &spec]))?;
    Ok(true)
}

fn ensure_chromium() -> Result<bool, String> {
    if Path::new(CHROMEDRIVER).exists() {
        return ensure_debian(CHROMIUM, &["chromium"]);
    }
    ensure_debian(CHROMEDRIVER, &["chromium", "chromium-driver"])
}

/// Debian's libfaketime command: runs a program with its clock moved.
pub const FAKETIME: &str = "/usr/bin/faketime";

/// Debian's SQLite shell: the e2e tests read a guichet's database with it.
const SQLITE3: &str = "/usr/bin/sqlite3";

/// Installs Debian's `packages` unless `program` is already there; `true` when it installed them.
fn ensure_debian(program: &str, packages: &[&str]) -> Result<bool, String> {
    if Path::new(program).exists() {
        return Ok(false);
    }
    status(cmd("apt-get", &["update"]))?;
    let mut install = cmd("apt-get", &[&["install", "-y", "--no-install-recommends"], packages].concat());
    install.env("DEBIAN_FRONTEND", "noninteractive");
    status(install)?;
    Ok(true)
}

/// Debian 12's PostgreSQL server programs; the tests start a throwaway cluster with them (`pg.rs`).
pub const PG_BIN: &str = "/usr/lib/postgresql/15/bin";

fn ensure_postgresql() -> Result<bool, String> {
    ensure_debian(&format!("{PG_BIN}/initdb"), &["postgresql-15"])
}

/// A virtual environment under target/ with interop/requirements.txt installed (pinned, from PyPI).
fn ensure_python_venv() -> Result<bool, String> {
    let requirements_path = paths::root().join("interop/requirements.txt");
    let requirements =
        std::fs::read(&requirements_path).map_err(|err| format!("{}: {err}", requirements_path.display()))?;
    let venv = paths::python_venv();
    let stamp_path = venv.join(".souverain-requirements");
    if std::fs::read(&stamp_path).ok().as_deref() == Some(requirements.as_slice()) {
        return Ok(false);
    }
    status(cmd("python3", &["-m", "venv", &venv.to_string_lossy()]))?;
    let pip = venv.join("bin/pip");
    status(cmd(
        &pip.to_string_lossy(),
        &["install", "--quiet", "--disable-pip-version-check", "-r", &requirements_path.to_string_lossy()],
    ))?;
    std::fs::write(&stamp_path, &requirements).map_err(|err| format!("{}: {err}", stamp_path.display()))?;
    Ok(true)
}

/// `npm ci` in `dir` unless its node_modules was installed from the same package-lock.json.
fn ensure_npm(dir: &Path) -> Result<bool, String> {
    let lock = std::fs::read(dir.join("package-lock.json"))
        .map_err(|err| format!("{}: {err}", dir.join("package-lock.json").display()))?;
    let stamp_path = dir.join("node_modules/.souverain-lock");
    if std::fs::read(&stamp_path).ok().as_deref() == Some(lock.as_slice()) {
        return Ok(false);
    }
    let mut install = cmd("npm", &["ci", "--no-audit", "--no-fund"]);
    install.current_dir(dir);
    status(install)?;
    std::fs::write(&stamp_path, &lock).map_err(|err| format!("{}: {err}", stamp_path.display()))?;
    Ok(true)
}
