//! A commune's data-use log built with core's writer side, served from memory: what the audit
//! tests and the audit benchmark read.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs, dead_code)]

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::Future;
use std::task::{Context, Poll, Waker};

use serde_json::{Map, Value, json};
use souverain_audit_worker::{AuditReport, AuditRequest, AuditState, Files, audit};
use souverain_core::data_use::{DataUseEvent, EventKey, EventKind, GrantLogSecret, seal};
use souverain_core::jose::{SigningKey, sign_compact};
use souverain_core::testing::TestRng;
use souverain_core::tlog::checkpoint::Checkpoint;
use souverain_core::tlog::cosignature::Cosigner;
use souverain_core::tlog::merkle::{Frontier, leaf_hash};
use souverain_core::tlog::note::{Ed25519NoteSigner, format_note};
use souverain_core::tlog::tiles::{bundles_to_publish, encode_bundle};
use souverain_core::trust_list::{TRUST_LIST_TYP, TrustList};

pub const GUICHET: &str = "https://mairie.test";
pub const LOG: &str = "https://mairie.test/log";
pub const ORIGIN: &str = "mairie.test/log";
pub const NOW: i64 = 1_790_000_000;
pub const PURPOSE: &str = "https://w3id.org/dpv#ServiceProvision";

/// Polls a future that never waits (the files are in memory) to its end.
pub fn run<T>(future: impl Future<Output = T>) -> T {
    let mut future = std::pin::pin!(future);
    match future.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(value) => value,
        Poll::Pending => panic!("an in-memory audit never waits"),
    }
}

/// Files by URL; `None`: answered 404 or 410. Counts the bytes it serves.
#[derive(Default)]
pub struct Served(pub RefCell<HashMap<String, Option<Vec<u8>>>>, pub Cell<usize>);

impl Files for Served {
    async fn get(&self, url: &str) -> Result<Option<Vec<u8>>, String> {
        match self.0.borrow().get(url) {
            Some(file) => {
                self.1.set(self.1.get() + file.as_ref().map_or(0, Vec::len));
                Ok(file.clone())
            }
            None => Err(format!("{url}: unreachable")),
        }
    }
}

/// A grant's keys, as the guichet makes them.
pub struct Grant {
    pub id: String,
    pub secret: GrantLogSecret,
    pub key: EventKey,
    pub next_seq: u64,
}

/// The commune: its keys, its log, the witnesses.
pub struct Commune {
    pub rng: TestRng,
    pub commune: SigningKey,
    pub log_key: Ed25519NoteSigner,
    pub witnesses: Vec<Cosigner>,
    pub quorum: usize,
    pub entries: Vec<Vec<u8>>,
    pub sealed: HashMap<u64, Vec<u8>>,
    pub erased: Vec<u64>,
    pub served: Served,
}

impl Commune {
    pub fn new(witnesses: usize, quorum: usize) -> Commune {
        let mut rng = TestRng::new(7);
        let commune = SigningKey::generate_ed25519(&mut rng);
        let log_key = Ed25519NoteSigner::new(ORIGIN, &[3; 32]).unwrap();
        let witnesses =
            (0..witnesses).map(|i| Cosigner::new(&format!("witness-{i}.test"), &[10 + i as u8; 32]).unwrap()).collect();
        let mut c = Commune {
            rng,
            commune,
            log_key,
            witnesses,
            quorum,
            entries: Vec::new(),
            sealed: HashMap::new(),
            erased: Vec::new(),
            served: Served::default(),
        };
        c.publish();
        c
    }

    pub fn grant(&mut self, id: &str) -> Grant {
        Grant {
            id: id.to_owned(),
            secret: GrantLogSecret::generate(&mut self.rng),
            key: EventKey::generate(&mut self.rng),
            next_seq: 0,
        }
    }

    /// Appends the grant's next event (or skips its number, `hide`, to omit it).
    pub fn log(&mut self, grant: &mut Grant, kind: EventKind, time: i64) {
        let event =
            DataUseEvent { kind, time, grant_id: grant.id.clone(), purpose: PURPOSE.into(), seq: grant.next_seq };
        grant.next_seq += 1;
        let sealed = seal(&event, &grant.secret, &grant.key.public_key(), &mut self.rng).unwrap();
        self.sealed.insert(self.entries.len() as u64, sealed.sealed);
        self.entries.push(sealed.leaf.to_bytes().to_vec());
    }

    pub fn checkpoint_note(&self, entries: &[Vec<u8>]) -> String {
        let mut frontier = Frontier::new();
        for entry in entries {
            frontier.push(leaf_hash(entry)).unwrap();
        }
        let text = Checkpoint::new(ORIGIN, entries.len() as u64, frontier.root().unwrap()).unwrap().to_text();
        let mut signatures = vec![self.log_key.sign(&text)];
        for w in &self.witnesses {
            signatures.push(w.cosign(&text, NOW as u64).unwrap());
        }
        format_note(&text, &signatures)
    }

    /// Serves the trust list, the checkpoint, the bundles and the sealed events as they are now.
    pub fn publish(&mut self) {
        let entries = self.entries.clone();
        self.publish_as(&entries);
    }

    /// Serves `entries` as the log (a commune showing another history).
    pub fn publish_as(&mut self, entries: &[Vec<u8>]) {
        let list =
            TrustList { iss: self.commune.public_key().did_jwk(), iat: NOW - 10, exp: NOW + 86_400, services: vec![] };
        let mut payload = serde_json::to_value(&list).unwrap();
        payload["data_use_log"] = json!({
            "url": LOG,
            "log_key": self.log_key.verifier().to_vkey(),
            "witnesses": self.witnesses.iter().map(|w| json!({"key": w.verifier().to_vkey(), "url": "https://w.test"})).collect::<Vec<_>>(),
            "quorum": self.quorum,
        });
        let jwt = sign_compact(
            &self.commune,
            self.commune.default_alg(),
            TRUST_LIST_TYP,
            Map::new(),
            &serde_json::to_vec(&payload).unwrap(),
        )
        .unwrap();
        let mut files = self.served.0.borrow_mut();
        files.clear();
        files.insert(format!("{GUICHET}/.well-known/souverain-trust-list"), Some(jwt.into_bytes()));
        files.insert(format!("{LOG}/checkpoint"), Some(self.checkpoint_note(entries).into_bytes()));
        for coord in bundles_to_publish(0, entries.len() as u64) {
            let first = (coord.index * 256) as usize;
            let slice = &entries[first..first + coord.width as usize];
            let bundle = encode_bundle(slice.iter().map(Vec::as_slice)).unwrap();
            files.insert(format!("{LOG}/{}", coord.entries_path()), Some(bundle));
        }
        for (index, sealed) in &self.sealed {
            let erased = self.erased.contains(index);
            files.insert(format!("{LOG}/events/{index}"), (!erased).then(|| sealed.clone()));
        }
    }

    pub fn request(&self, grants: &[&Grant], state: Option<&AuditState>, withdrawn_at: Option<i64>) -> AuditRequest {
        let grants: Vec<Value> = grants
            .iter()
            .map(|g| {
                json!({
                    "id": g.id,
                    "purposes": {PURPOSE: "Inscrire vos enfants à la cantine"},
                    "withdrawn_at": withdrawn_at,
                    "keys": {
                        "guichet": GUICHET,
                        "origin": ORIGIN,
                        "log_secret": souverain_core::b64::encode(g.secret.as_bytes()),
                        "event_key_seed": souverain_core::b64::encode(g.key.seed()),
                    }
                })
            })
            .collect();
        let request = json!({
            "lang": "fr",
            "commune": self.commune.public_key().did_jwk(),
            "now": NOW,
            "state": state,
            "grants": grants,
        });
        serde_json::from_value(request).unwrap()
    }

    pub fn audit(&self, grants: &[&Grant], state: Option<&AuditState>) -> AuditReport {
        run(audit(&self.request(grants, state, None), &self.served))
    }
}

pub fn texts(report: &AuditReport, grant: &Grant) -> Vec<String> {
    report.grants[&grant.id].items.iter().map(|(_, t)| t.clone()).collect()
}

pub fn read(agent: &str) -> EventKind {
    EventKind::AgentRead { agent: agent.into() }
}
