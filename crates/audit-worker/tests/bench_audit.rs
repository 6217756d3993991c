//! The wallet's audit of the commune's data-use log timed in headless Chromium (issue 17: the
//! audit of 1,000 entries, target ≤ 200 ms after fetch), in release wasm. Built only with
//! `--features browser-bench`: `cargo xtask bench` runs it and writes the `browser-audit` section
//! of BENCHMARKS.md from the `BENCH name=value` lines it prints.
//!
//! The files are served from memory, so the timings are the audit's own work once fetched:
//! verifying the trust list, the checkpoint and its cosignatures, decoding the entry bundles,
//! rebuilding the tree's root from the kept frontier, finding the grant's tags and opening its
//! sealed events. It runs on the page's thread here; the wallet runs the same code in a worker.
#![cfg(all(target_arch = "wasm32", feature = "browser-bench"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use common::*;
use souverain_core::data_use::EventKind;
use wasm_bindgen_test::{console_log, wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

/// Entries in the log at the first audit.
const ENTRIES: usize = 1_000;
/// Of which the citizen's grant's.
const MINE: usize = 50;
/// Entries appended before the second, incremental audit (of which `MINE / 10` the grant's).
const MORE: usize = 100;
/// Repetitions (median reported).
const REPEAT: usize = 5;

fn now_ms() -> f64 {
    web_sys::window().expect("window").performance().expect("performance").now()
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn report(name: &str, value: f64) {
    console_log!("BENCH {name}={value:.2}");
}

/// Appends `count` entries, one in `every` of them the grant's, the rest another grant's.
fn fill(c: &mut Commune, mine: &mut Grant, other: &mut Grant, count: usize, every: usize) {
    for i in 0..count {
        let grant = if i % every == 0 { &mut *mine } else { &mut *other };
        c.log(grant, EventKind::AgentRead { agent: format!("agent-{}", i % 7) }, NOW - 1_000 + i as i64);
    }
    c.publish();
}

#[wasm_bindgen_test]
fn audit_of_a_thousand_entries() {
    // Two witnesses, both required: every checkpoint carries three signatures to verify.
    let mut c = Commune::new(2, 2);
    let (mut mine, mut other) = (c.grant("urn:uuid:mine"), c.grant("urn:uuid:other"));
    fill(&mut c, &mut mine, &mut other, ENTRIES, ENTRIES / MINE);

    let mut first = Vec::new();
    let mut state = None;
    let mut first_bytes = 0;
    for _ in 0..REPEAT {
        c.served.1.set(0);
        let start = now_ms();
        let audit = c.audit(&[&mine], None);
        first.push(now_ms() - start);
        first_bytes = c.served.1.get();
        assert_eq!(texts(&audit, &mine).len(), MINE, "every use of the grant found");
        assert!(audit.logs[0].alarms.is_empty() && audit.logs[0].problems.is_empty(), "{:?}", audit.logs);
        state = Some(audit.state);
    }
    let state = state.unwrap();

    fill(&mut c, &mut mine, &mut other, MORE, MORE / (MINE / 10));
    let mut second = Vec::new();
    let mut second_bytes = 0;
    for _ in 0..REPEAT {
        c.served.1.set(0);
        let start = now_ms();
        let audit = c.audit(&[&mine], Some(&state));
        second.push(now_ms() - start);
        second_bytes = c.served.1.get();
        assert_eq!(texts(&audit, &mine).len(), MINE + MINE / 10);
        assert!(audit.logs[0].alarms.is_empty(), "{:?}", audit.logs);
    }

    report("audit_entries", ENTRIES as f64);
    report("audit_mine", MINE as f64);
    report("audit_first_ms", median(first));
    report("audit_first_bytes", first_bytes as f64);
    report("audit_more", MORE as f64);
    report("audit_more_ms", median(second));
    report("audit_more_bytes", second_bytes as f64);
}
