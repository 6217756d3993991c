//! Durable appends per second to the data-use log, through the guichet's stores: each append is
//! one committed transaction (leaf, stored hashes, sealed event, signed checkpoint), fsynced
//! (SQLite WAL with `synchronous=FULL`; PostgreSQL with `synchronous_commit=on`), as the guichet
//! does before an agent sees a citizen's data.
//!
//! ```sh
//! cargo run --release -p souverain-guichet --example log_appends -- [APPENDS] [postgres://…]
//! ```
//!
//! Without a PostgreSQL URL (argument, or `SOUVERAIN_TEST_PG`), SQLite only. On PostgreSQL the
//! run gets a schema of its own, dropped at the end. Prints one line of text and one JSON line per
//! backend (`{"bench":"log_appends","backend":…,"sequential_per_s":…,"concurrent_per_s":…}`), which
//! `cargo xtask bench` reads. Figures: docs/data-use-log.md, BENCHMARKS.md.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::time::Instant;

use souverain_core::data_use::EventKind;
use souverain_guichet::data_log::{GrantLogKeys, LogEvent, LogSigner};
use souverain_guichet::store::{Exchange, PgStore, RequestRow, SqliteStore, Store};

/// Threads appending at once in the concurrent run.
const THREADS: usize = 4;

fn prepare(store: &dyn Store) {
    let request = RequestRow {
        id: "r".into(),
        service: "voirie".into(),
        purpose: "suivi".into(),
        nonce: "n".into(),
        state: "s".into(),
        jwt: "j".into(),
        iat: 1,
        exp: i64::MAX / 2,
        grant_id: None,
    };
    store.create_request(&request).unwrap();
    let exchange = Exchange {
        request_id: "r".into(),
        client_id: "c".into(),
        nonce: "n".into(),
        grant_id: "g".into(),
        service: "voirie".into(),
        purposes: "[\"https://w3id.org/dpv#CommunicationForCustomerCare\"]".into(),
        grant_jwt: "g".into(),
        holder_jwk: "{}".into(),
        vp_token_sha256: "v".into(),
        valid_until: i64::MAX / 2,
        erasure_by: i64::MAX / 2,
        receipt_jwt: "r".into(),
        now: 1,
        claims: Vec::new(),
        log_keys: GrantLogKeys::generate(None),
        mandate: None,
    };
    assert!(store.record_exchange(&exchange).unwrap());
}

fn event(i: usize) -> LogEvent {
    LogEvent {
        grant_id: "g".into(),
        kind: EventKind::AgentRead { agent: format!("Agent {i} (sub-{i} at https://auth.example)") },
        purpose: None,
        time: 1_780_000_000,
    }
}

/// Appends per second: `appends` one after the other, then as many from [`THREADS`] threads.
fn run(name: &str, backend: &str, store: &dyn Store, appends: usize) {
    let signer = LogSigner::new("guichet.example/data-use-log", &[7; 32]).unwrap();
    prepare(store);
    let start = Instant::now();
    for i in 0..appends {
        store.log_append(&event(i), &signer).unwrap();
    }
    let sequential = appends as f64 / start.elapsed().as_secs_f64();
    let start = Instant::now();
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let (store, signer) = (&*store, &signer);
            s.spawn(move || {
                for i in 0..appends / THREADS {
                    store.log_append(&event(t * appends + i), signer).unwrap();
                }
            });
        }
    });
    let concurrent = (appends / THREADS * THREADS) as f64 / start.elapsed().as_secs_f64();
    let size = store.log_latest().unwrap().unwrap().size;
    println!(
        "{name}: {sequential:.0} appends/s one at a time, {concurrent:.0} appends/s from {THREADS} threads ({size} leaves)"
    );
    let line = serde_json::json!({
        "bench": "log_appends",
        "backend": backend,
        "appends": appends,
        "threads": THREADS,
        "sequential_per_s": (sequential * 10.0).round() / 10.0,
        "concurrent_per_s": (concurrent * 10.0).round() / 10.0,
    });
    println!("{line}");
}

fn main() {
    let mut args = std::env::args().skip(1);
    let appends: usize = args.next().map_or(1_000, |a| a.parse().expect("APPENDS is a number"));
    let pg = args.next().or_else(|| std::env::var("SOUVERAIN_TEST_PG").ok());

    let dir = std::env::temp_dir().join(format!("souverain-log-appends-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let sqlite = SqliteStore::open(&dir.join("guichet.sqlite3")).unwrap();
    run("SQLite (WAL, synchronous=FULL)", "sqlite", &sqlite, appends);
    drop(sqlite);
    let _ = std::fs::remove_dir_all(&dir);

    if let Some(base) = pg {
        let schema = format!("log_appends_{}", std::process::id());
        let mut admin = postgres::Client::connect(&base, postgres::NoTls).unwrap();
        admin.batch_execute(&format!("CREATE SCHEMA {schema}")).unwrap();
        let sep = if base.contains('?') { '&' } else { '?' };
        let store = PgStore::open(&format!("{base}{sep}options=-c%20search_path%3D{schema}")).unwrap();
        run("PostgreSQL (synchronous_commit=on)", "postgres", &store, appends);
        drop(store);
        admin.batch_execute(&format!("DROP SCHEMA {schema} CASCADE")).unwrap();
    }
}
