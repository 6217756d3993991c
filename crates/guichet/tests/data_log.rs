//! The data-use log through the guichet's HTTP API, on SQLite and PostgreSQL: an agent's read is
//! appended before the data is shown (and refused when it cannot be), withdrawals and erasures
//! are appended, the served checkpoint, tiles, bundles and sealed events let the citizen audit
//! the grant with the keys returned beside the receipt, and an erasure leaves the leaves (the
//! tree still verifies) while the sealed events of the reads go.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{Value, json};
use souverain_core::data_use::{DataUseError, EventKey, EventKind, GrantAudit, GrantKeys, GrantLogSecret, audit_grant};
use souverain_core::jose::{Jwk, SigningKey};
use souverain_core::tlog::checkpoint::UnverifiedCheckpoint;
use souverain_core::tlog::merkle::{Frontier, leaf_hash};
use souverain_core::tlog::note::Ed25519Verifier;
use souverain_core::tlog::tiles::{self, TilePath, bundles_to_publish, tiles_for_size};
use souverain_guichet::data_log::LogSigner;
use support::*;

const ORIGIN: &str = "guichet.test/data-use-log";

/// The log's verifier key, from the key file the guichet created.
fn log_key(server: &Server) -> Ed25519Verifier {
    let jwk = Jwk::from_json(&std::fs::read_to_string(server.dir.join("keys/log.jwk")).unwrap()).unwrap();
    let seed = souverain_guichet::keys::ed25519_seed(&SigningKey::from_jwk(&jwk).unwrap()).unwrap();
    LogSigner::new(ORIGIN, &seed).unwrap().verifier()
}

/// What the wallet keeps from the answer to its presentation.
struct WalletKeys {
    grant_id: String,
    secret: GrantLogSecret,
    key: EventKey,
}

fn wallet_keys(answer: &Value, grant_id: &str) -> WalletKeys {
    let log = &answer["data_use_log"];
    assert_eq!(log["origin"], ORIGIN);
    let bytes = |name: &str| -> [u8; 32] {
        souverain_core::b64::decode(log[name].as_str().unwrap()).unwrap().try_into().unwrap()
    };
    WalletKeys {
        grant_id: grant_id.to_owned(),
        secret: GrantLogSecret::from_bytes(bytes("log_secret")),
        key: EventKey::from_seed(bytes("event_key_seed")),
    }
}

/// Audits a grant as a wallet does, from scratch: the served checkpoint verified with the log's
/// key, every entry bundle, the sealed events (`None` when 410), then `audit_grant`.
async fn audit(server: &Server, keys: &WalletKeys) -> (u64, GrantAudit) {
    let r = server.get("/log/checkpoint").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("cache-control"), Some("public, max-age=5"));
    let checkpoint = UnverifiedCheckpoint::parse(r.body.as_bytes()).unwrap().verify(&log_key(server)).unwrap();
    let (size, root) = (checkpoint.checkpoint().size(), checkpoint.checkpoint().root());
    let mut entries: Vec<Vec<u8>> = Vec::new();
    for coord in bundles_to_publish(0, size) {
        let r = server.get(&format!("/log/{}", coord.entries_path())).await;
        assert_eq!(r.status, 200, "{}", coord.entries_path());
        let cache = if coord.is_full() { "public, max-age=31536000, immutable" } else { "public, max-age=5" };
        assert_eq!(r.header("cache-control"), Some(cache));
        entries.extend(tiles::decode_bundle(&r.raw_body, coord.width).unwrap());
    }
    let mut sealed: Vec<Option<Vec<u8>>> = Vec::new();
    for index in 0..size {
        let r = server.get(&format!("/log/events/{index}")).await;
        match r.status {
            200 => sealed.push(Some(r.raw_body.clone())),
            410 => sealed.push(None),
            other => panic!("event {index}: {other}"),
        }
    }
    let listed: Vec<(u64, &[u8])> = entries.iter().enumerate().map(|(i, e)| (i as u64, e.as_slice())).collect();
    let grant = GrantKeys { grant_id: &keys.grant_id, secret: &keys.secret, key: &keys.key };
    let audited =
        audit_grant(Frontier::new(), size, root, &listed, |i| sealed[i as usize].as_deref(), &grant, &BTreeSet::new())
            .unwrap();
    (size, audited)
}

/// The hash tiles the guichet serves for its current size equal those built from its entries.
async fn tiles_match_entries(server: &Server, size: u64) {
    let mut entries = Vec::new();
    for coord in bundles_to_publish(0, size) {
        let r = server.get(&format!("/log/{}", coord.entries_path())).await;
        entries.extend(tiles::decode_bundle(&r.raw_body, coord.width).unwrap());
    }
    let leaf_tile: Vec<u8> = entries.iter().flat_map(|e| leaf_hash(e).0).collect();
    for coord in tiles_for_size(size) {
        let r = server.get(&format!("/log/{}", coord.tile_path())).await;
        assert_eq!(r.status, 200, "{}", coord.tile_path());
        if coord.level == 0 {
            let start = usize::try_from(coord.index * 256 * 32).unwrap();
            assert_eq!(r.raw_body, leaf_tile[start..start + usize::from(coord.width) * 32]);
        }
    }
    // Beyond the tree, or not canonical: 404.
    let one_more = tiles::TileCoord::new(0, size / 256, u16::try_from(size % 256 + 1).unwrap()).unwrap();
    let past = TilePath::Entries(one_more).to_path();
    assert_eq!(server.get(&format!("/log/{past}")).await.status, 404);
    assert_eq!(server.get("/log/tile/0/1").await.status, 404);
    assert_eq!(server.get(&format!("/log/events/{size}")).await.status, 404);
    assert_eq!(server.get("/log/events/01").await.status, 404);
}

fn kinds(audited: &GrantAudit) -> Vec<Result<EventKind, DataUseError>> {
    audited.entries.iter().map(|e| e.event.clone().map(|ev| ev.kind)).collect()
}

async fn erasures_until(server: &Server, grant_id: &str) {
    for _ in 0..200 {
        let e = server.get("/api/agent/erasures").await.json()["erasures"].as_array().unwrap().clone();
        if e.iter().any(|r| r["what"] == "claims" && r["grant_id"] == grant_id) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the erasure job did not erase the claims in 10 s");
}

async fn an_agents_read_is_logged_and_its_event_erased_with_the_data(backend: &Backend) {
    let dir = backend.temp_dir("log-read");
    let server = Server::start_erasing(backend, dir, None, None, Duration::from_millis(100)).await;
    // An empty log serves the empty tree's checkpoint.
    let r = server.get("/log/checkpoint").await;
    let empty = UnverifiedCheckpoint::parse(r.body.as_bytes()).unwrap().verify(&log_key(&server)).unwrap();
    assert_eq!(empty.checkpoint().size(), 0);

    // The signed trust list names the log's key, where it is served, and (none here) its witnesses;
    // core's reader, the wallet's, still accepts it.
    let list = server.get("/.well-known/souverain-trust-list").await.body;
    let verified = souverain_core::trust_list::UnverifiedTrustList::parse(&list).unwrap();
    verified.verify(&server.commune_key(), now()).unwrap();
    let payload = souverain_core::b64::decode(list.split('.').nth(1).unwrap()).unwrap();
    let payload: Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(payload["data_use_log"]["log_key"], log_key(&server).to_vkey());
    assert_eq!(payload["data_use_log"]["url"], "https://guichet.test/log");
    assert_eq!(
        (payload["data_use_log"]["witnesses"].clone(), payload["data_use_log"]["quorum"].clone()),
        (json!([]), json!(0))
    );

    let mut holder = Holder::new();
    holder.redeem(&server, &server.offer("residence", residence()).await).await;
    let fetched = new_request(&server, "voirie", "suivi").await;
    let a = answer_sharing(&holder, &fetched.request, &holder.key, true);
    let r = server.post_form(&fetched.request.response_uri, &a.form).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let keys = wallet_keys(&r.json(), &a.grant_id);
    // The same answer posted again (lost) gets the same keys.
    let again = server.post_form(&fetched.request.response_uri, &a.form).await.json();
    assert_eq!(again["data_use_log"], r.json()["data_use_log"]);

    // Nothing read yet: nothing logged.
    assert!(audit(&server, &keys).await.1.entries.is_empty());
    // Two reads by the agent (API, then page): two events, numbered, each shown only after it.
    let result = format!("/api/agent/requests/{}", fetched.id);
    assert!(server.get(&result).await.body.contains("Tilleuls"));
    assert!(server.get(&format!("/guichet/demandes/{}", fetched.id)).await.body.contains("Tilleuls"));
    let (size, audited) = audit(&server, &keys).await;
    assert_eq!(size, 2);
    assert!(audited.missing.is_empty() && audited.repeated.is_empty());
    let first = audited.entries[0].event.clone().unwrap();
    assert_eq!(first.kind, EventKind::AgentRead { agent: "loopback".into() });
    assert_eq!((first.grant_id.as_str(), first.seq), (a.grant_id.as_str(), 0));
    assert_eq!(first.purpose, "https://w3id.org/dpv#CommunicationForCustomerCare");
    assert!((first.time - now()).abs() < 60);
    assert_eq!(audited.entries[1].seq, 1);
    tiles_match_entries(&server, size).await;

    // Past the signed erasure date the job erases the claims and logs it; the reads' sealed
    // events go with the data, their leaves stay and the tree still verifies.
    let receipt = r.json()["receipt"].as_str().unwrap().split('.').nth(1).unwrap().to_owned();
    let receipt: Value = serde_json::from_slice(&souverain_core::b64::decode(receipt).unwrap()).unwrap();
    server.clock.advance(receipt["erasure_by"].as_i64().unwrap() - now() + 1);
    erasures_until(&server, &a.grant_id).await;
    assert_eq!(server.get("/log/events/0").await.status, 410);
    assert_eq!(server.get("/log/events/0").await.error(), "log_event_erased");
    let (size, audited) = audit(&server, &keys).await;
    assert_eq!(size, 3);
    assert_eq!(kinds(&audited), [Err(DataUseError::Erased), Err(DataUseError::Erased), Ok(EventKind::Erasure)]);
    tiles_match_entries(&server, size).await;
    // Another agent's look at the (now empty) result is logged too.
    assert_eq!(server.get(&result).await.json()["claims"], json!([]));
    assert_eq!(audit(&server, &keys).await.0, 4);
    std::fs::remove_dir_all(server.stop().await).unwrap();
}

async fn a_withdrawal_is_logged_with_the_erasure_it_causes(backend: &Backend) {
    use souverain_core::consent::{ExchangeBinding, UnverifiedGrant, Withdrawal, vp_token_hash};
    let dir = backend.temp_dir("log-withdrawal");
    let server = Server::start(backend, dir.file_name().unwrap().to_str().unwrap()).await;
    let mut holder = Holder::new();
    holder.redeem(&server, &server.offer("residence", residence()).await).await;
    let fetched = new_request(&server, "voirie", "suivi").await;
    let a = answer(&holder, &fetched.request, &holder.key);
    // This wallet gives its own event key with its answer (a value that is not a key is refused);
    // the guichet then returns no seed, and seals the events to that key.
    let bad = format!("{}&data_use_event_key=AAAA", a.form);
    let r = server.post_form(&fetched.request.response_uri, &bad).await;
    assert_eq!((r.status, r.error()), (400, "invalid_presentation".to_owned()), "{}", r.body);
    let own = EventKey::generate(&mut rand_core::OsRng);
    let form = format!("{}&data_use_event_key={}", a.form, souverain_core::b64::encode(own.public_key().0));
    let r = server.post_form(&fetched.request.response_uri, &form).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.json()["data_use_log"].get("event_key_seed").is_none());
    let secret = souverain_core::b64::decode(r.json()["data_use_log"]["log_secret"].as_str().unwrap()).unwrap();
    let keys = WalletKeys {
        grant_id: a.grant_id.clone(),
        secret: GrantLogSecret::from_bytes(secret.try_into().unwrap()),
        key: own,
    };
    assert_eq!(server.get(&format!("/api/agent/requests/{}", fetched.id)).await.status, 200);
    let binding = ExchangeBinding {
        client_id: fetched.request.client_id.clone(),
        nonce: fetched.request.nonce.clone(),
        vp_token_sha256: vp_token_hash(&a.vp_token),
    };
    let grant = UnverifiedGrant::parse(&a.grant).unwrap().verify(&binding, &holder.key.public_key()).unwrap();
    let w = Withdrawal::new(grant.grant(), now(), &mut rand_core::OsRng).sign(&holder.key).unwrap();
    let r = server.post_json("/api/consents/withdrawals", &json!({ "withdrawal": w })).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // The same withdrawal again: answered from the record, logged once.
    assert_eq!(server.post_json("/api/consents/withdrawals", &json!({ "withdrawal": w })).await.status, 200);
    let (_, audited) = audit(&server, &keys).await;
    let processed = audited.entries[1].event.clone().unwrap();
    assert_eq!(processed.purpose, "https://w3id.org/dpv#CommunicationForCustomerCare");
    // The public-road service erases at once: processed, then erased; the read's event is gone.
    assert_eq!(
        kinds(&audited),
        [Err(DataUseError::Erased), Ok(EventKind::WithdrawalProcessed), Ok(EventKind::Erasure)]
    );
    std::fs::remove_dir_all(server.stop().await).unwrap();
}

/// Makes the log's entries table refuse inserts (a real failure of the store, from outside the
/// guichet, as a full disk or a revoked grant would), or lifts that.
fn refuse_log_appends(backend: &Backend, dir: &std::path::Path, refuse: bool) {
    match backend {
        Backend::Sqlite => {
            let c = rusqlite::Connection::open(dir.join("guichet.sqlite3")).unwrap();
            c.busy_timeout(Duration::from_secs(5)).unwrap();
            let sql = if refuse {
                "CREATE TRIGGER refuse_log BEFORE INSERT ON log_entries BEGIN SELECT RAISE(ABORT, 'refused'); END;"
            } else {
                "DROP TRIGGER refuse_log;"
            };
            c.execute_batch(sql).unwrap();
        }
        Backend::Postgres { .. } => {
            let url = backend.url().unwrap();
            let sql = if refuse {
                "CREATE FUNCTION refuse_log() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$;
                 CREATE TRIGGER refuse_log BEFORE INSERT ON log_entries FOR EACH ROW EXECUTE FUNCTION refuse_log();"
            } else {
                "DROP TRIGGER refuse_log ON log_entries; DROP FUNCTION refuse_log();"
            };
            // The blocking client cannot run on the test's runtime thread.
            std::thread::spawn(move || {
                ::postgres::Client::connect(&url, ::postgres::NoTls).unwrap().batch_execute(sql).unwrap();
            })
            .join()
            .unwrap();
        }
    }
}

async fn an_agents_view_with_the_log_store_failing_is_refused(backend: &Backend) {
    let dir = backend.temp_dir("log-failing");
    let server = Server::start_erasing(backend, dir.clone(), None, None, Duration::from_millis(100)).await;
    let mut holder = Holder::new();
    holder.redeem(&server, &server.offer("residence", residence()).await).await;
    let fetched = new_request(&server, "voirie", "suivi").await;
    let a = answer(&holder, &fetched.request, &holder.key);
    let r = server.post_form(&fetched.request.response_uri, &a.form).await;
    let keys = wallet_keys(&r.json(), &a.grant_id);
    let result = format!("/api/agent/requests/{}", fetched.id);
    assert!(server.get(&result).await.body.contains("Beaulieu"));

    refuse_log_appends(backend, &dir, true);
    // Neither the API nor the page shows anything: 503, and not a word of the citizen's data.
    for path in [result.clone(), format!("/guichet/demandes/{}", fetched.id)] {
        let r = server.get(&path).await;
        assert_eq!(r.status, 503, "{path}: {}", r.body);
        assert_eq!(r.error(), "log_unavailable");
        assert!(!r.body.contains("Beaulieu") && !r.body.contains("Tilleuls"), "{}", r.body);
    }
    // The log did not move: one entry, the read that was shown.
    assert_eq!(audit(&server, &keys).await.0, 1);

    refuse_log_appends(backend, &dir, false);
    assert!(server.get(&result).await.body.contains("Beaulieu"));
    let (size, audited) = audit(&server, &keys).await;
    assert_eq!(size, 2);
    assert_eq!(audited.entries.iter().map(|e| e.seq).collect::<Vec<_>>(), [0, 1]);

    // Past the erasure date with the log refusing: the claims' erasure waits for its entry, the
    // other erasures (the redeemed offer) go ahead.
    refuse_log_appends(backend, &dir, true);
    let receipt = r.json()["receipt"].as_str().unwrap().split('.').nth(1).unwrap().to_owned();
    let receipt: Value = serde_json::from_slice(&souverain_core::b64::decode(receipt).unwrap()).unwrap();
    server.clock.advance(receipt["erasure_by"].as_i64().unwrap() - now() + 1);
    let erased = |what: &'static str, grant: Option<String>| {
        let server = &server;
        async move {
            let e = server.get("/api/agent/erasures").await.json()["erasures"].as_array().unwrap().clone();
            e.iter().any(|r| r["what"] == what && grant.as_deref().is_none_or(|g| r["grant_id"] == g))
        }
    };
    for _ in 0..200 {
        if erased("offers", None).await {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(erased("offers", None).await, "the offer was not erased");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!erased("claims", Some(a.grant_id.clone())).await, "claims erased without their entry");
    assert_eq!(audit(&server, &keys).await.0, 2);
    // Once the log takes appends again, the erasure is done and logged.
    refuse_log_appends(backend, &dir, false);
    erasures_until(&server, &a.grant_id).await;
    let (size, audited) = audit(&server, &keys).await;
    assert_eq!(size, 3);
    assert_eq!(kinds(&audited), [Err(DataUseError::Erased), Err(DataUseError::Erased), Ok(EventKind::Erasure)]);
    std::fs::remove_dir_all(server.stop().await).unwrap();
}

async fn full_tiles_are_served_as_immutable_and_partial_ones_as_short_lived(backend: &Backend) {
    let dir = backend.temp_dir("log-tiles");
    let server = Server::start(backend, dir.file_name().unwrap().to_str().unwrap()).await;
    let mut holder = Holder::new();
    holder.redeem(&server, &server.offer("residence", residence()).await).await;
    let fetched = new_request(&server, "voirie", "suivi").await;
    let a = answer(&holder, &fetched.request, &holder.key);
    let r = server.post_form(&fetched.request.response_uri, &a.form).await;
    let keys = wallet_keys(&r.json(), &a.grant_id);
    // 300 reads appended through a second store on the same database, as another guichet process.
    let seed = {
        let jwk = Jwk::from_json(&std::fs::read_to_string(server.dir.join("keys/log.jwk")).unwrap()).unwrap();
        *souverain_guichet::keys::ed25519_seed(&SigningKey::from_jwk(&jwk).unwrap()).unwrap()
    };
    let (grant_id, db_dir) = (a.grant_id.clone(), server.dir.clone());
    let store_backend = match backend {
        Backend::Sqlite => None,
        Backend::Postgres { .. } => backend.url(),
    };
    std::thread::spawn(move || {
        let store: Box<dyn souverain_guichet::store::Store> = match store_backend {
            None => Box::new(souverain_guichet::store::SqliteStore::open(&db_dir.join("guichet.sqlite3")).unwrap()),
            Some(url) => Box::new(souverain_guichet::store::PgStore::open(&url).unwrap()),
        };
        let signer = LogSigner::new(ORIGIN, &seed).unwrap();
        for i in 0..300 {
            let event = souverain_guichet::data_log::LogEvent {
                grant_id: grant_id.clone(),
                kind: EventKind::AgentRead { agent: format!("agent {i}") },
                purpose: None,
                time: now(),
            };
            store.log_append(&event, &signer).unwrap();
        }
    })
    .join()
    .unwrap();
    let immutable = "public, max-age=31536000, immutable";
    for (path, cache, len) in [
        ("/log/tile/0/000", immutable, 256 * 32),
        ("/log/tile/0/001.p/44", "public, max-age=5", 44 * 32),
        ("/log/tile/1/000.p/1", "public, max-age=5", 32),
    ] {
        let r = server.get(path).await;
        assert_eq!((r.status, r.header("cache-control"), r.raw_body.len()), (200, Some(cache), len), "{path}");
    }
    // The level-1 hash is the root of the first 256 leaves.
    let bundle = server.get("/log/tile/entries/000").await;
    assert_eq!(bundle.header("cache-control"), Some(immutable));
    let mut first = Frontier::new();
    for entry in tiles::decode_bundle(&bundle.raw_body, 256).unwrap() {
        first.push(leaf_hash(&entry)).unwrap();
    }
    assert_eq!(server.get("/log/tile/1/000.p/1").await.raw_body, first.root().unwrap().0);
    tiles_match_entries(&server, 300).await;
    // The wallet finds its 300 events, numbered 0 to 299, without a gap.
    let (size, audited) = audit(&server, &keys).await;
    assert_eq!(size, 300);
    assert_eq!(audited.entries.iter().map(|e| e.seq).collect::<Vec<_>>(), (0..300).collect::<Vec<u64>>());
    assert!(audited.missing.is_empty() && audited.entries.iter().all(|e| e.event.is_ok()));
    std::fs::remove_dir_all(server.stop().await).unwrap();
}

support::on_both_backends!(
    an_agents_read_is_logged_and_its_event_erased_with_the_data,
    a_withdrawal_is_logged_with_the_erasure_it_causes,
    an_agents_view_with_the_log_store_failing_is_refused,
    full_tiles_are_served_as_immutable_and_partial_ones_as_short_lived,
);
