//! Where things are: the repository, its build outputs, the shared vectors beside it.

use std::path::PathBuf;

/// The repository root (the parent of `xtask/`).
pub fn root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map_or(manifest.clone(), PathBuf::from)
}

/// Cargo's target directory: `$CARGO_TARGET_DIR` (relative to the repository when relative), else
/// `target/`. Binaries that xtask builds are run from there.
pub fn target_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), PathBuf::from);
    if target.is_relative() { root().join(target) } else { target }
}

/// The guichet's database and keys for `cargo xtask demo`. The tests never use it: a newcomer who
/// runs the demo after the tests sees the demo commune, not test leftovers.
pub fn demo_guichet_data() -> PathBuf {
    target_dir().join("guichet-data")
}

/// The guichet's database and keys for the end-to-end tests and the browser benchmarks, emptied
/// before each run.
pub fn test_guichet_data() -> PathBuf {
    target_dir().join("guichet-test-data")
}

/// The `souverain` binary of the dev profile, as `cargo build -p souverain` leaves it.
pub fn souverain_debug() -> PathBuf {
    target_dir().join("debug/souverain")
}

/// Trunk's output: the wallet's release build.
pub fn wallet_dist() -> PathBuf {
    root().join("target/wallet/dist")
}

/// The release wasm as Trunk leaves it, function names included, kept by the build for
/// `cargo xtask bench size` (the served one has none).
pub fn wallet_named_wasm() -> PathBuf {
    root().join("target/wallet/souverain-wallet.named.wasm")
}

/// Screenshots and reports of the end-to-end tests.
pub fn e2e_out() -> PathBuf {
    root().join("target/e2e")
}

/// The Python virtual environment of the interoperability tests.
pub fn python_venv() -> PathBuf {
    root().join("target/interop/venv")
}

/// The published test vectors, beside the repository.
pub fn vectors() -> PathBuf {
    root().join("../shared/vectors")
}

/// The cargo binary directory, where `cargo install` puts trunk and wasm-bindgen.
pub fn cargo_bin() -> PathBuf {
    if let Some(home) = std::env::var_os("CARGO_HOME") {
        return PathBuf::from(home).join("bin");
    }
    let home = std::env::var_os("HOME").unwrap_or_default();
    PathBuf::from(home).join(".cargo/bin")
}

/// PATH for every child: the pinned npm tools (wasm-opt) first, then cargo's binaries.
pub fn tool_path() -> std::ffi::OsString {
    let mut dirs = vec![root().join("tools/node_modules/.bin"), cargo_bin()];
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    std::env::join_paths(dirs).unwrap_or_default()
}
