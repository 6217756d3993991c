//! `cargo xtask`: the project's commands, in Rust so that they need nothing but cargo.
//!
//! - `cargo xtask demo [--addr HOST:PORT]`: installs what is missing, builds the wallet in release,
//!   serves it with the guichet and a demo commune until Ctrl-C.
//! - `cargo xtask build`: builds the release wallet and prints the bytes a browser downloads.
//! - `cargo xtask test`: every check, in order, then one `N passed, N failed` line.
//! - `cargo xtask bench [browser|size]`: core verification, guichet load and browser benchmarks (only
//!   the browser ones with `browser`), written to BENCHMARKS.md; `size`: where the wallet's served
//!   bytes are, by family of functions.
#![forbid(unsafe_code)]
#![allow(clippy::print_stdout, clippy::print_stderr, missing_docs)]

mod bench;
mod bench_browser;
mod bench_size;
mod demo;
mod paths;
mod pg;
mod run;
mod test;
mod tools;
mod wallet;
mod wasm_imports;
mod wasm_order;

use std::process::ExitCode;

fn usage() -> ExitCode {
    eprintln!(
        "usage: cargo xtask <command>\n\n  demo [--addr HOST:PORT]  build the wallet and serve it with the guichet (default 127.0.0.1:8080, env SOUVERAIN_ADDR)\n  build                    build the release wallet into target/wallet/dist and print its served sizes\n  test                     run every check: fmt, clippy, tests, wasm build, browser and end-to-end tests\n  bench [browser|size]     benchmark core verification, the guichet under load, the vault and wallet in Chromium (only those with `browser`); write BENCHMARKS.md; `size`: where the wallet's served bytes are"
    );
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("demo") => demo::run(&args[1..]),
        Some("build") if args.len() == 1 => bench_browser::build_and_print_sizes(),
        Some("bench") => bench::run(&args[1..]),
        Some("test") if args.len() == 1 => return test::run(),
        _ => return usage(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}
