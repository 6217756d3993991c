//! The data-use log's costs in core, natively (issue 17): what an append computes (the leaf's
//! sealing and its stored hashes, without the database's durable commit), what a witness decides,
//! and a wallet's audit of one grant with 1,000 entries in the log (find by tag, prove each
//! entry with the tiles, open each event) with the proof bytes it checks.
//! Run with `cargo bench -p souverain-core --bench tlog`; the figures are in docs/data-use-log.md.
//! The browser's figure for the audit comes with the wallet's audit (a later part of issue 17).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::collections::BTreeSet;
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use souverain_core::data_use::{DataUseEvent, EventKey, EventKind, GrantKeys, GrantLogSecret, audit_grant, seal};
use souverain_core::testing::TestRng;
use souverain_core::tlog::checkpoint::Checkpoint;
use souverain_core::tlog::cosignature::Cosigner;
use souverain_core::tlog::merkle::{
    Frontier, Hash, HashReader, HashReaderError, leaf_hash, prove_consistency, prove_inclusion, stored_hashes_for_leaf,
    tree_hash,
};
use souverain_core::tlog::note::Ed25519NoteSigner;
use souverain_core::tlog::tiles::{Tiles, tile_data, tiles_for_size};
use souverain_core::tlog::witness::{AddCheckpoint, WitnessState, decide};

struct Store(Vec<Hash>);

impl HashReader for Store {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, HashReaderError> {
        indexes.iter().map(|&i| self.0.get(i as usize).copied().ok_or(HashReaderError::IndexesNotInTree)).collect()
    }
}

fn event(seq: u64) -> DataUseEvent {
    DataUseEvent {
        kind: EventKind::AgentRead { agent: "agent:camille.martin@beaulieu-sur-loire.example".into() },
        time: 1_780_000_000 + seq as i64,
        grant_id: "urn:souverain:consent:4f1c0b7a9e2d4c6b8a0f1e3d5c7b9a1f".into(),
        purpose: "https://w3id.org/dpv#ServiceProvision".into(),
        seq,
    }
}

fn bench(c: &mut Criterion) {
    let mut rng = TestRng::new(17);
    let secret = GrantLogSecret::generate(&mut rng);
    let key = EventKey::generate(&mut rng);
    let public = key.public_key();

    c.bench_function("seal_one_event", |b| b.iter(|| seal(black_box(&event(3)), &secret, &public, &mut rng).unwrap()));

    // 1,000 events of one grant, then the tree and its tiles.
    let mut store = Store(Vec::new());
    let mut entries = Vec::new();
    let mut sealed = Vec::new();
    for seq in 0..1000u64 {
        let s = seal(&event(seq), &secret, &public, &mut rng).unwrap();
        let added = stored_hashes_for_leaf(seq, leaf_hash(&s.leaf.to_bytes()), &store).unwrap();
        store.0.extend(added);
        entries.push(s.leaf.to_bytes().to_vec());
        sealed.push(s.sealed);
    }
    let (size, root) = (1000, tree_hash(1000, &store).unwrap());

    c.bench_function("append_1000_leaves_stored_hashes", |b| {
        b.iter(|| {
            let mut fresh = Store(Vec::with_capacity(2000));
            for (i, entry) in entries.iter().enumerate() {
                let added = stored_hashes_for_leaf(i as u64, leaf_hash(entry), &fresh).unwrap();
                fresh.0.extend(added);
            }
            black_box(tree_hash(1000, &fresh).unwrap())
        })
    });

    let keys =
        GrantKeys { grant_id: "urn:souverain:consent:4f1c0b7a9e2d4c6b8a0f1e3d5c7b9a1f", secret: &secret, key: &key };
    let listed: Vec<(u64, &[u8])> = entries.iter().enumerate().map(|(i, e)| (i as u64, e.as_slice())).collect();
    let audit = || {
        audit_grant(
            Frontier::new(),
            size,
            root,
            &listed,
            |i| sealed.get(i as usize).map(Vec::as_slice),
            &keys,
            &BTreeSet::new(),
        )
        .unwrap()
    };
    let result = audit();
    assert_eq!(result.entries.len(), 1000);
    assert!(result.entries.iter().all(|e| e.event.is_ok()) && result.missing.is_empty());
    println!(
        "audit of 1,000 entries: {} bytes of entry bundles, {} bytes of sealed events, no proof bytes (the \
         entries are hashed to the root); one inclusion proof in this tree would be {} bytes",
        entries.iter().map(|e| e.len() + 2).sum::<usize>(),
        sealed.iter().map(Vec::len).sum::<usize>(),
        prove_inclusion(size, 500, &store).unwrap().len() * 32,
    );
    c.bench_function("audit_grant_1000_entries", |b| b.iter(|| black_box(audit())));
    // The same without opening the events (hashing to the root, finding the tags): what an audit
    // costs when the grant has no new event, and what opening adds.
    c.bench_function("audit_grant_1000_entries_none_opened", |b| {
        b.iter(|| {
            black_box(audit_grant(Frontier::new(), size, root, &listed, |_| None, &keys, &BTreeSet::new()).unwrap())
        })
    });

    // The tiles way, for one entry (a journalist checking one leaf without the whole log).
    let mut tiles = Tiles::new();
    for coord in tiles_for_size(size) {
        tiles.insert(coord, tile_data(coord, &store).unwrap()).unwrap();
    }
    let leaf = leaf_hash(&entries[500]);
    c.bench_function("inclusion_proof_from_tiles", |b| {
        b.iter(|| black_box(tiles.inclusion_proof(size, root, 500, leaf).unwrap()))
    });

    // A witness's decision on growth from 500 to 1,000 leaves.
    let log = Ed25519NoteSigner::new("beaulieu-sur-loire.example/log", &[1; 32]).unwrap();
    let witness = Cosigner::new("departement.example/witness", &[2; 32]).unwrap();
    let old_root = tree_hash(500, &store).unwrap();
    let old = Checkpoint::new("beaulieu-sur-loire.example/log", 500, old_root).unwrap().sign(&log).unwrap();
    let state = WitnessState { size: 500, root: old_root, note: old };
    let new = Checkpoint::new("beaulieu-sur-loire.example/log", 1000, root).unwrap().sign(&log).unwrap();
    let body = AddCheckpoint::format(500, &prove_consistency(1000, 500, &store).unwrap(), &new);
    let verifier = log.verifier();
    c.bench_function("witness_add_checkpoint", |b| {
        b.iter(|| {
            let request = AddCheckpoint::parse(body.as_bytes()).unwrap();
            black_box(decide(&request, &verifier, Some(&state), &witness, 1_780_000_000).unwrap())
        })
    });
}

fn config() -> Criterion {
    Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(3))
}

criterion_group! { name = benches; config = config(); targets = bench }
criterion_main!(benches);
