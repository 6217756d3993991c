//! Shared by the conformance tests: where the published vectors are.
//!
//! They live beside the repository in `../shared/vectors` (never copied into it);
//! `SOUVERAIN_VECTORS` overrides the path. When they are absent a test prints one line saying so
//! and returns; `cargo xtask test` also reports their absence in its summary.
#![allow(dead_code, clippy::panic)]

use std::path::PathBuf;

/// The vectors folder `sub` (e.g. `"wycheproof"`), or `None` after printing why the caller skips.
pub fn vectors(sub: &str) -> Option<PathBuf> {
    let base = std::env::var_os("SOUVERAIN_VECTORS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors"));
    let dir = base.join(sub);
    if dir.exists() {
        Some(dir)
    } else {
        println!("vectors absent: {} not found; this conformance test is skipped, not passed", dir.display());
        None
    }
}

/// Reads a vector file as text, panicking with the path (a test failure) when unreadable.
pub fn read(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
