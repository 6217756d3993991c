//! What the command line's tests share: a real `souverain serve` child process, and a PostgreSQL
//! schema of the test's own when a test database is given.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::ffi::OsStr;
use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};

pub mod wallet;

/// Starts `souverain serve` on `addr` with the database `db`; returns the child and the address it
/// printed once listening (a port 0 resolved).
pub fn spawn_serve(addr: &str, db: &Path) -> (Child, SocketAddr) {
    let mut child = start_serve(addr, &[OsStr::new("--db"), db.as_os_str()]);
    let addr = listening(&mut child);
    (child, addr)
}

/// Starts `souverain serve --addr addr` with more arguments, without waiting for it.
pub fn start_serve(addr: &str, args: &[&OsStr]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_souverain"))
        .args(["serve", "--addr", addr])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

/// Waits for the `listening on` line of a child from [`start_serve`]; the address it gives.
pub fn listening(child: &mut Child) -> SocketAddr {
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    line.trim().strip_prefix("listening on http://").unwrap_or_else(|| panic!("{line:?}")).parse().unwrap()
}

/// The environment variable naming the PostgreSQL database the tests may use (`cargo xtask test`
/// starts a throwaway cluster and sets it).
pub const TEST_PG: &str = "SOUVERAIN_TEST_PG";

/// A schema of the test's own in the PostgreSQL test database, dropped at the end.
pub struct PgSchema {
    base: String,
    schema: String,
}

impl PgSchema {
    /// A fresh schema for `test`; `None` (said on stderr) when no test database is given. Under
    /// CI, where `cargo xtask test` always gives one, its absence fails.
    pub fn new(test: &str) -> Option<PgSchema> {
        let Ok(base) = std::env::var(TEST_PG) else {
            assert!(std::env::var_os("CI").is_none(), "{TEST_PG} is not set: CI must run the PostgreSQL tests");
            // Straight to stderr: the test harness would swallow a print of a passing test.
            use std::io::Write as _;
            let _ = writeln!(std::io::stderr(), "skipped on PostgreSQL: {test} ({TEST_PG} is not set)");
            return None;
        };
        let schema = format!("cli{}_{test}", std::process::id());
        let sql = format!("DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}");
        postgres::Client::connect(&base, postgres::NoTls).unwrap().batch_execute(&sql).unwrap();
        Some(PgSchema { base, schema })
    }

    /// The URL a guichet is given: the test database with this schema as search path.
    pub fn url(&self) -> String {
        let sep = if self.base.contains('?') { '&' } else { '?' };
        format!("{}{sep}options=-c%20search_path%3D{}", self.base, self.schema)
    }

    /// A client on the schema, for the test's own queries.
    pub fn client(&self) -> postgres::Client {
        postgres::Client::connect(&self.url(), postgres::NoTls).unwrap()
    }
}

impl Drop for PgSchema {
    // Best effort: a developer's own test database does not fill with schemas.
    fn drop(&mut self) {
        if let Ok(mut c) = postgres::Client::connect(&self.base, postgres::NoTls) {
            let _ = c.batch_execute(&format!("SET lock_timeout = '2s'; DROP SCHEMA IF EXISTS {} CASCADE", self.schema));
        }
    }
}
