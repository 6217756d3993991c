//! Several guichet processes on one database, played by two stores opened on it (each with its own
//! connections, as each process has) and threads released at once: the decisions that must hold
//! across processes (replay, transaction-code attempts, one credential per offer, free status
//! indexes, the erasure job) are taken by the database, on SQLite and on PostgreSQL.
//! `crates/cli/tests/shared_postgres.rs` runs two real `souverain serve` processes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::Barrier;

use souverain_core::data_use::EventKind;
use souverain_core::tlog::checkpoint::UnverifiedCheckpoint;
use souverain_core::tlog::merkle::{Frontier, leaf_hash};
use souverain_guichet::Database;
use souverain_guichet::data_log::{GrantLogKeys, LogEvent, LogSigner};
use souverain_guichet::store::{Exchange, MandateAct, Offer, Redeemed, RequestRow, Retention, Store};
use support::*;

/// Threads released at once, alternating between the two stores.
const THREADS: usize = 8;

/// Two stores on one database, as two guichet processes.
fn two_stores(backend: &Backend, name: &str) -> [Box<dyn Store>; 2] {
    let dir = backend.temp_dir(name);
    [backend.open_store(&dir), backend.open_store(&dir)]
}

/// Runs `f(store, i)` on [`THREADS`] threads released together, thread `i` on store `i % 2`.
fn race<T: Send>(stores: &[Box<dyn Store>; 2], f: impl Fn(&dyn Store, usize) -> T + Sync) -> Vec<T> {
    let barrier = Barrier::new(THREADS);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|i| {
                let (barrier, f, store) = (&barrier, &f, &*stores[i % 2]);
                s.spawn(move || {
                    barrier.wait();
                    f(store, i)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

fn request(id: &str) -> RequestRow {
    RequestRow {
        id: id.into(),
        service: "voirie".into(),
        purpose: "suivi".into(),
        nonce: format!("nonce-{id}"),
        state: format!("state-{id}"),
        jwt: "request.jwt".into(),
        iat: 1_000,
        exp: 1_600,
        grant_id: None,
    }
}

/// An answer to `request` under the grant `grant_id`, its claims due for erasure at `erasure_by`.
fn exchange(request: &RequestRow, grant_id: &str, erasure_by: i64) -> Exchange {
    Exchange {
        request_id: request.id.clone(),
        client_id: "decentralized_identifier:did:jwk:voirie".into(),
        nonce: request.nonce.clone(),
        grant_id: grant_id.into(),
        service: request.service.clone(),
        purposes: "[]".into(),
        grant_jwt: format!("grant-{grant_id}"),
        holder_jwk: "{}".into(),
        vp_token_sha256: format!("vp-{grant_id}"),
        valid_until: erasure_by,
        erasure_by,
        receipt_jwt: format!("receipt-{grant_id}"),
        now: 1_100,
        claims: vec![
            ("q0".into(), "urn:vct:residence".into(), format!("{{\"who\": \"{grant_id}\"}}")),
            ("q1".into(), "urn:vct:household".into(), "{}".into()),
        ],
        log_keys: GrantLogKeys::generate(None),
        mandate: None,
    }
}

/// The data-use log's key, the same in every "process".
fn signer() -> LogSigner {
    LogSigner::new("guichet.test/data-use-log", &[7; 32]).unwrap()
}

/// Checks the stored log: one leaf per index `0..size`, the latest checkpoint signed for `size`
/// with the root of those leaves.
fn check_log(store: &dyn Store, size: u64) {
    let entries = store.log_entries(0, size + 10).unwrap();
    assert_eq!(entries.len() as u64, size);
    let mut frontier = Frontier::new();
    for entry in &entries {
        frontier.push(leaf_hash(entry)).unwrap();
    }
    let latest = store.log_latest().unwrap().unwrap();
    assert_eq!(latest.size, size);
    let verified = UnverifiedCheckpoint::parse(latest.note.as_bytes()).unwrap().verify(&signer().verifier()).unwrap();
    assert_eq!(verified.checkpoint().size(), size);
    assert_eq!(verified.checkpoint().root(), frontier.root().unwrap());
}

fn offer(code: &str, tx_code_sha256: Option<&str>) -> Offer {
    Offer {
        code: code.into(),
        config_id: "residence".into(),
        claims: "{}".into(),
        label: "dossier".into(),
        tx_code_sha256: tx_code_sha256.map(Into::into),
        identity_acr: None,
        citizen_handle: None,
    }
}

fn a_response_is_recorded_once_whichever_process_gets_it(backend: &Backend) {
    let stores = two_stores(backend, "race-response");
    for round in 0..5 {
        let q = request(&format!("r{round}"));
        stores[0].create_request(&q).unwrap();
        // Every thread posts a different answer to the same request (same nonce).
        let recorded =
            race(&stores, |store, i| store.record_exchange(&exchange(&q, &format!("g{round}-{i}"), 5_000)).unwrap());
        let winners: Vec<usize> = (0..THREADS).filter(|&i| recorded[i]).collect();
        assert_eq!(winners.len(), 1, "round {round}: {recorded:?}");
        let winner = format!("g{round}-{}", winners[0]);
        for store in &stores {
            assert_eq!(store.request(&q.id).unwrap().unwrap().grant_id.as_deref(), Some(winner.as_str()));
            assert_eq!(store.claims(&winner).unwrap().len(), 2);
            for loser in (0..THREADS).filter(|&i| !recorded[i]) {
                assert!(store.grant(&format!("g{round}-{loser}")).unwrap().is_none());
            }
        }
    }
}

fn transaction_code_attempts_are_counted_across_processes(backend: &Backend) {
    let stores = two_stores(backend, "race-tx-code");
    stores[0].create_offer(&offer("coded", Some("right")), 1_000, 2_000).unwrap();
    // Eight wrong codes at once: five are counted as wrong, then the offer is burnt.
    let results = race(&stores, |store, i| {
        store.redeem_offer("coded", Some("wrong"), &format!("token-{i}"), 1_100, 1_700).unwrap()
    });
    let wrong = results.iter().filter(|r| **r == Redeemed::WrongTxCode).count();
    let unknown = results.iter().filter(|r| **r == Redeemed::Unknown).count();
    assert_eq!((wrong, unknown), (5, THREADS - 5), "{results:?}");
    assert_eq!(stores[1].redeem_offer("coded", Some("right"), "late", 1_100, 1_700).unwrap(), Redeemed::Unknown);

    // The right code eight times at once: one access token.
    stores[1].create_offer(&offer("twice", Some("right")), 1_000, 2_000).unwrap();
    let results =
        race(&stores, |store, i| store.redeem_offer("twice", Some("right"), &format!("t-{i}"), 1_100, 1_700).unwrap());
    assert_eq!(results.iter().filter(|r| **r == Redeemed::Done).count(), 1, "{results:?}");
    let tokens = (0..THREADS).filter(|i| stores[0].offer_for_token(&format!("t-{i}"), 1_200).unwrap().is_some());
    assert_eq!(tokens.count(), 1);
}

fn one_credential_per_offer_and_free_status_indexes_across_processes(backend: &Backend) {
    let stores = two_stores(backend, "race-credential");
    stores[0].create_offer(&offer("one", None), 1_000, 2_000).unwrap();
    assert_eq!(stores[0].redeem_offer("one", None, "tok", 1_100, 1_700).unwrap(), Redeemed::Done);
    let the_offer = stores[1].offer_for_token("tok", 1_100).unwrap().unwrap();
    // Eight proofs for one offer at once: one credential, fetched again with its proof only.
    let issued = race(&stores, |store, i| {
        let mut pick = || 100 + i as u64;
        let mut issue = |idx: u64| Ok(format!("vc-{idx}-{i}"));
        store
            .record_credential(&the_offer, "urn:vct", "holder", &format!("proof-{i}"), 1_100, &mut pick, &mut issue)
            .unwrap()
    });
    let winners: Vec<(usize, (u64, String))> =
        issued.into_iter().enumerate().filter_map(|(i, r)| r.map(|r| (i, r))).collect();
    assert_eq!(winners.len(), 1);
    let (i, (_, vc)) = &winners[0];
    for store in &stores {
        assert_eq!(store.reissue("tok", &format!("proof-{i}"), 1_200).unwrap().as_ref(), Some(vc));
        assert_eq!(store.reissue("tok", &format!("proof-{}", (i + 1) % THREADS), 1_200).unwrap(), None);
    }
    assert_eq!(
        stores[0]
            .credentials(&souverain_guichet::store::CredentialQuery { limit: 100, ..Default::default() })
            .unwrap()
            .len(),
        1
    );

    // Eight offers at once whose first pick is the same index: each gets its own index.
    for i in 0..THREADS {
        stores[i % 2].create_offer(&offer(&format!("o{i}"), None), 1_000, 2_000).unwrap();
        stores[i % 2].redeem_offer(&format!("o{i}"), None, &format!("tok{i}"), 1_100, 1_700).unwrap();
    }
    let issued = race(&stores, |store, i| {
        let o = store.offer_for_token(&format!("tok{i}"), 1_100).unwrap().unwrap();
        let mut picks = [7_u64, 1_000 + i as u64].into_iter().cycle();
        let mut pick = || picks.next().unwrap_or(0);
        let mut issue = |idx: u64| Ok(format!("vc-{idx}"));
        store.record_credential(&o, "urn:vct", "holder", "proof", 1_100, &mut pick, &mut issue).unwrap().unwrap().0
    });
    let mut indexes = issued.clone();
    indexes.sort_unstable();
    indexes.dedup();
    assert_eq!(indexes.len(), THREADS, "{issued:?}");
    assert!(indexes.contains(&7));
}

fn the_erasure_job_run_at_once_erases_and_records_each_item_once(backend: &Backend) {
    let stores = two_stores(backend, "race-erasure");
    const GRANTS: usize = 10;
    for g in 0..GRANTS {
        let q = request(&format!("q{g}"));
        stores[g % 2].create_request(&q).unwrap();
        assert!(stores[g % 2].record_exchange(&exchange(&q, &format!("grant{g}"), 3_000)).unwrap());
        stores[g % 2].create_offer(&offer(&format!("expired{g}"), None), 1_000, 1_500).unwrap();
    }
    let retention = Retention { proof_seconds: 1_000_000, credential_seconds: 1_000_000 };
    // Both processes run the job at once, a few times over, once everything is due.
    let mut erased = Vec::new();
    for _ in 0..3 {
        erased.extend(race(&stores, |store, _| store.erase_due(3_001, &retention, &signer()).unwrap()));
    }
    assert_eq!(erased.iter().map(|e| e.claims).sum::<usize>(), 2 * GRANTS, "{erased:?}");
    assert_eq!(erased.iter().map(|e| e.offers).sum::<usize>(), GRANTS, "{erased:?}");
    let records = stores[0].erasures(500).unwrap();
    for g in 0..GRANTS {
        let grant = format!("grant{g}");
        let mine: Vec<_> =
            records.iter().filter(|r| r.what == "claims" && r.grant_id.as_deref() == Some(&grant)).collect();
        assert_eq!(mine.len(), 1, "{grant}: {records:?}");
        assert_eq!(mine[0].rows, 2);
        assert!(stores[1].claims(&grant).unwrap().is_empty());
    }
    let offers: i64 = records.iter().filter(|r| r.what == "offers").map(|r| r.rows).sum();
    assert_eq!(offers, GRANTS as i64);
    // One erasure entry per grant in the data-use log, one tree.
    check_log(&*stores[1], GRANTS as u64);
}

/// An answer verified while its request expired and was erased, by another process's job, is
/// refused when it comes to be recorded: nothing of it is written, no grant without its request.
fn an_answer_to_a_request_erased_meanwhile_records_nothing(backend: &Backend) {
    let stores = two_stores(backend, "erased-meanwhile");
    let q = request("gone");
    stores[0].create_request(&q).unwrap();
    let retention = Retention { proof_seconds: 1_000_000, credential_seconds: 1_000_000 };
    assert_eq!(stores[1].erase_due(q.exp + 1, &retention, &signer()).unwrap().requests, 1);
    assert!(!stores[0].record_exchange(&exchange(&q, "g-gone", 5_000)).unwrap());
    assert!(stores[1].grant("g-gone").unwrap().is_none());
    assert!(stores[1].claims("g-gone").unwrap().is_empty());
    assert!(stores[1].request(&q.id).unwrap().is_none());
}

fn appends_from_two_processes_grow_one_tree(backend: &Backend) {
    let stores = two_stores(backend, "race-log");
    let q = request("q");
    stores[0].create_request(&q).unwrap();
    assert!(stores[0].record_exchange(&exchange(&q, "g", 9_000)).unwrap());
    const ROUNDS: usize = 4;
    let mut indexes = Vec::new();
    for round in 0..ROUNDS {
        let appended = race(&stores, |store, i| {
            let event = LogEvent {
                grant_id: "g".into(),
                kind: EventKind::AgentRead { agent: format!("agent {round}-{i}") },
                purpose: None,
                time: 2_000,
            };
            store.log_append(&event, &signer()).unwrap()
        });
        indexes.extend(appended.iter().map(|a| (a.index, a.seq)));
    }
    // Every append got its own leaf and its own number in the grant: no fork, no repeat.
    indexes.sort_unstable();
    let expected: Vec<(u64, u64)> = (0..(ROUNDS * THREADS) as u64).map(|i| (i, i)).collect();
    assert_eq!(indexes, expected);
    check_log(&*stores[0], (ROUNDS * THREADS) as u64);
}

fn reads_and_a_withdrawal_of_one_grant_at_once_all_commit(backend: &Backend) {
    let stores = two_stores(backend, "race-log-withdraw");
    for round in 0..4 {
        let q = request(&format!("q{round}"));
        let grant = format!("g{round}");
        stores[0].create_request(&q).unwrap();
        assert!(stores[0].record_exchange(&exchange(&q, &grant, 9_000)).unwrap());
        // One thread withdraws (erasing at once: two more entries) while the others log reads of
        // the same grant: every one commits, none deadlocks.
        let done = race(&stores, |store, i| {
            if i == 0 {
                store.withdraw(&grant, "w", "r", 2_000, 2_000, &signer()).unwrap()
            } else {
                let event = LogEvent {
                    grant_id: grant.clone(),
                    kind: EventKind::AgentRead { agent: format!("agent {i}") },
                    purpose: None,
                    time: 2_000,
                };
                store.log_append(&event, &signer()).is_ok()
            }
        });
        assert!(done.iter().all(|ok| *ok), "round {round}: {done:?}");
    }
    check_log(&*stores[1], 4 * (THREADS as u64 - 1 + 2));
}

/// Eight citizens' sign-ins finishing at once on one identity-required offer, through two
/// processes: one identity is bound, and only then can the code be redeemed.
fn one_identity_is_bound_per_offer_across_processes(backend: &Backend) {
    let stores = two_stores(backend, "race-identity");
    let mut row = offer("identified", None);
    row.identity_acr = Some("eidas1".into());
    row.citizen_handle = Some("handle".into());
    stores[0].create_offer(&row, 1_000, 2_000).unwrap();
    assert_eq!(stores[1].redeem_offer("identified", None, "early", 1_100, 1_700).unwrap(), Redeemed::IdentityRequired);
    let bound = race(&stores, |store, i| {
        store.bind_identity("handle", &format!("{{\"subject\": \"s{i}\"}}"), &format!("{{\"n\": {i}}}"), 1_100).unwrap()
    });
    assert_eq!(bound.iter().filter(|b| **b).count(), 1, "{bound:?}");
    let winner = bound.iter().position(|b| *b).unwrap();
    let seen = stores[1].citizen_offer("handle", 1_100).unwrap().unwrap();
    // The identity and the claims written together, by the same winner.
    assert_eq!(seen.identity.as_deref(), Some(format!("{{\"subject\": \"s{winner}\"}}").as_str()));
    assert_eq!(seen.claims, format!("{{\"n\": {winner}}}"));
    assert_eq!((seen.identity_acr.as_str(), seen.has_tx_code), ("eidas1", false));
    assert_eq!(stores[0].redeem_offer("identified", None, "tok", 1_100, 1_700).unwrap(), Redeemed::Done);
    // Redeemed, expired or unknown: no more sign-in page, no more binding.
    assert!(stores[0].citizen_offer("handle", 1_100).unwrap().is_none());
    assert!(!stores[1].bind_identity("handle", "{}", "{}", 1_100).unwrap());
    stores[0]
        .create_offer(&Offer { code: "late".into(), citizen_handle: Some("h2".into()), ..row }, 1_000, 1_050)
        .unwrap();
    assert!(stores[0].citizen_offer("h2", 1_100).unwrap().is_none());
    assert!(!stores[1].bind_identity("h2", "{}", "{}", 1_100).unwrap());
}

/// Exchanges recorded at once on one store (SQLite commits those waiting together: issue 22's
/// group commit) each keep their own outcome: a replay, a revoked mandate or a grant id already
/// taken fails alone, the others are recorded, and nothing of a failed one is left.
fn exchanges_committed_together_keep_their_own_outcomes(backend: &Backend) {
    let stores = two_stores(backend, "group-commit");
    let store = &stores[0];
    assert!(store.revoke_mandate("m-revoked", "person", "revocation.jwt", 1_050).unwrap());
    let requests: Vec<RequestRow> = (0..THREADS).map(|i| request(&format!("q{i}"))).collect();
    for q in &requests {
        store.create_request(q).unwrap();
    }
    let barrier = Barrier::new(THREADS * 2);
    let outcomes: Vec<(usize, String)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..THREADS * 2)
            .map(|t| {
                let (barrier, requests) = (&barrier, &requests);
                scope.spawn(move || {
                    let i = t % THREADS;
                    let mut e = exchange(&requests[i], &format!("g{t}"), 5_000);
                    match (i, t >= THREADS) {
                        // Thread 0 answers under a revoked mandate; thread 1 reuses thread 2's grant id.
                        (0, false) => {
                            e.mandate = Some(MandateAct {
                                mandate_id: "m-revoked".into(),
                                principal: "person".into(),
                                representative: "carer".into(),
                            })
                        }
                        (1, false) => e.grant_id = "g2".into(),
                        _ => {}
                    }
                    barrier.wait();
                    (t, format!("{:?}", store.record_exchange(&e)))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (i, q) in requests.iter().enumerate() {
        // Each request answered once: by one of its two threads, never by a failed exchange.
        let answers: Vec<&(usize, String)> =
            outcomes.iter().filter(|(t, r)| t % THREADS == i && r == "Ok(true)").collect();
        assert_eq!(answers.len(), 1, "request {i}: {outcomes:?}");
        let grant = store.request(&q.id).unwrap().unwrap().grant_id.unwrap();
        let used = |t: usize| if t == 1 { "g2".to_owned() } else { format!("g{t}") };
        assert_eq!(grant, used(answers[0].0));
        assert_eq!(store.claims(&grant).unwrap().len(), 2);
    }
    let revoked = outcomes.iter().find(|(t, _)| *t == 0).unwrap();
    assert!(revoked.1 == "Err(MandateRevoked)" || revoked.1 == "Ok(false)", "{revoked:?}");
    assert!(store.grant("g0").unwrap().is_none(), "nothing of the refused exchange is left");
}

/// Exchanges queued all at once to the store's writer (SQLite: they wait while it commits the
/// first, then go in one transaction; PostgreSQL has no writer and records each in turn) get the
/// outcomes they would get one after the other, whatever the batches: the first answer to a
/// request wins, the second is a replay; a revoked mandate is refused without spending the nonce;
/// a grant id already taken fails alone (the batch is undone and recorded one by one).
fn exchanges_queued_at_once_get_the_outcomes_of_their_order(backend: &Backend) {
    let dir = backend.temp_dir("queued");
    let store = &backend.open_store(&dir);
    assert!(store.revoke_mandate("m-revoked", "person", "revocation.jwt", 1_050).unwrap());
    let requests: Vec<RequestRow> = (0..THREADS).map(|i| request(&format!("q{i}"))).collect();
    for q in &requests {
        store.create_request(q).unwrap();
    }
    // SQLite: another connection holds the write lock while they are queued, so that all but the
    // first wait together and go in one batch, the one where a grant id is taken twice.
    let lock = match backend.database(&dir) {
        Database::Sqlite(file) => {
            let other = rusqlite::Connection::open(file).unwrap();
            other.execute_batch("BEGIN IMMEDIATE").unwrap();
            Some(other)
        }
        Database::Postgres(_) => None,
    };
    let queued: Vec<_> = (0..THREADS * 2)
        .map(|t| {
            let mut e = exchange(&requests[t % THREADS], &format!("g{t}"), 5_000);
            match t {
                0 => {
                    e.mandate = Some(MandateAct {
                        mandate_id: "m-revoked".into(),
                        principal: "person".into(),
                        representative: "carer".into(),
                    })
                }
                // Request 1 is answered under grant id g2, which request 2's first answer then reuses.
                1 => e.grant_id = "g2".into(),
                _ => {}
            }
            let (reply, outcome) = tokio::sync::oneshot::channel();
            let on_recorded = Box::new(move |recorded| {
                let _ = reply.send(recorded);
            });
            match store.queue_exchange(Box::new(e), on_recorded) {
                Ok(()) => Err(outcome),
                Err((e, _)) => Ok(store.record_exchange(&e)),
            }
        })
        .collect();
    if let Some(other) = lock {
        other.execute_batch("COMMIT").unwrap();
    }
    let outcomes: Vec<String> = queued
        .into_iter()
        .map(|q| format!("{:?}", q.unwrap_or_else(|outcome| outcome.blocking_recv().unwrap())))
        .collect();
    for (t, outcome) in outcomes.iter().enumerate() {
        let expected: &[&str] = match t {
            0 => &["Err(MandateRevoked)"],
            // The database's own refusal of a second row with that id.
            2 => &["Err(Sqlite(", "Err(Postgres("],
            // Request 0's second answer wins: the refused first one spent nothing.
            t if t <= THREADS || t == THREADS + 2 => &["Ok(true)"],
            _ => &["Ok(false)"],
        };
        assert!(expected.iter().any(|e| outcome.starts_with(e)), "exchange {t}: {outcome} ({outcomes:?})");
    }
    let answered_by = |i: usize| store.request(&requests[i].id).unwrap().unwrap().grant_id.unwrap();
    assert_eq!(answered_by(0), format!("g{THREADS}"));
    assert_eq!(answered_by(1), "g2");
    assert_eq!(answered_by(2), format!("g{}", THREADS + 2));
    assert_eq!(store.grant("g2").unwrap().unwrap().request_id, requests[1].id);
    assert!(store.grant("g0").unwrap().is_none(), "nothing of the refused exchange is left");
    for i in 0..THREADS {
        assert_eq!(store.claims(&answered_by(i)).unwrap().len(), 2, "request {i}");
    }
}

/// SQLite: a recorded exchange's pages are copied from the write-ahead log into the database file
/// by the background checkpoint soon after the commit, long before the log reaches the writer's
/// own automatic checkpoint (4000 pages; this exchange writes a few dozen).
#[test]
fn recorded_exchanges_reach_the_database_file_without_waiting_for_the_log_to_fill() {
    let dir = temp_dir("checkpointed");
    let file = dir.join("guichet.sqlite3");
    let store = souverain_guichet::store::SqliteStore::open(&file).unwrap();
    let q = request("checkpointed");
    store.create_request(&q).unwrap();
    let marker = "g-copied-by-the-background-checkpoint";
    assert!(store.record_exchange(&exchange(&q, marker, 5_000)).unwrap());
    let in_file = || {
        let bytes = std::fs::read(&file).unwrap();
        bytes.windows(marker.len()).any(|w| w == marker.as_bytes())
    };
    // Polled for at most ten seconds: the copy follows the commit by one checkpoint pause (25 ms).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !in_file() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(in_file(), "the exchange is still only in the write-ahead log");
    // Still readable, once, through the store.
    assert_eq!(store.request(&q.id).unwrap().unwrap().grant_id.as_deref(), Some(marker));
}

support::on_both_backends!(blocking:
    an_answer_to_a_request_erased_meanwhile_records_nothing,
    exchanges_queued_at_once_get_the_outcomes_of_their_order,
    exchanges_committed_together_keep_their_own_outcomes,
    one_identity_is_bound_per_offer_across_processes,
    a_response_is_recorded_once_whichever_process_gets_it,
    transaction_code_attempts_are_counted_across_processes,
    one_credential_per_offer_and_free_status_indexes_across_processes,
    the_erasure_job_run_at_once_erases_and_records_each_item_once,
    appends_from_two_processes_grow_one_tree,
    reads_and_a_withdrawal_of_one_grant_at_once_all_commit,
);
