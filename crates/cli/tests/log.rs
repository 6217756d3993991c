//! `souverain log verify --dir`: a copy of the log's static files (checkpoint, entry bundles, hash
//! tiles, laid out as c2sp.org/tlog-tiles says) verified whole; an entry removed from a bundle, an
//! entry changed, or a tile altered is found.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use souverain_core::tlog::checkpoint::Checkpoint;
use souverain_core::tlog::merkle::{Hash, HashReader, HashReaderError, leaf_hash, stored_hashes_for_leaf, tree_hash};
use souverain_core::tlog::note::Ed25519NoteSigner;
use souverain_core::tlog::tiles::{bundles_to_publish, encode_bundle, tile_data, tiles_for_size};

struct Store(Vec<Hash>);

impl HashReader for Store {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, HashReaderError> {
        indexes.iter().map(|&i| self.0.get(i as usize).copied().ok_or(HashReaderError::IndexesNotInTree)).collect()
    }
}

/// Writes a log of `n` entries as static files; returns its verifier key.
fn publish(dir: &Path, n: u64) -> String {
    let key = Ed25519NoteSigner::new("beaulieu-sur-loire.example/log", &[5; 32]).unwrap();
    let entries: Vec<Vec<u8>> = (0..n).map(|i| format!("entry {i}").into_bytes()).collect();
    let mut store = Store(Vec::new());
    for (i, entry) in entries.iter().enumerate() {
        let added = stored_hashes_for_leaf(i as u64, leaf_hash(entry), &store).unwrap();
        store.0.extend(added);
    }
    let write = |path: &str, bytes: &[u8]| {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    };
    for coord in bundles_to_publish(0, n) {
        let start = (coord.index * 256) as usize;
        let bundle = encode_bundle(entries[start..start + usize::from(coord.width)].iter().map(Vec::as_slice)).unwrap();
        write(&coord.entries_path(), &bundle);
    }
    for coord in tiles_for_size(n) {
        write(&coord.tile_path(), &tile_data(coord, &store).unwrap());
    }
    let checkpoint = Checkpoint::new(key.name(), n, tree_hash(n, &store).unwrap()).unwrap();
    write("checkpoint", checkpoint.sign(&key).unwrap().as_bytes());
    key.verifier().to_vkey()
}

fn verify(dir: &Path, vkey: &str) -> (i32, serde_json::Value) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_souverain"))
        .args(["log", "verify", "--log-key", vkey, "--dir"])
        .arg(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"").unwrap();
    let out = child.wait_with_output().unwrap();
    (out.status.code().unwrap(), serde_json::from_slice(&out.stdout).unwrap())
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("souverain-log-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn a_published_log_verifies_and_every_alteration_is_found() {
    let dir = temp_dir("ok");
    let vkey = publish(&dir, 600);
    let (code, out) = verify(&dir, &vkey);
    assert_eq!((code, out["entries"].as_u64(), out["tiles"].as_u64()), (0, Some(600), Some(4)), "{out}");

    // An entry removed from a bundle (the bundle re-encoded without it): the width no longer holds.
    let bundle = dir.join("tile/entries/001");
    let original = std::fs::read(&bundle).unwrap();
    let entries = souverain_core::tlog::tiles::decode_bundle(&original, 256).unwrap();
    let fewer = encode_bundle(entries.iter().skip(1).map(Vec::as_slice)).unwrap();
    std::fs::write(&bundle, &fewer).unwrap();
    let (code, out) = verify(&dir, &vkey);
    assert_eq!((code, out["error"].as_str()), (1, Some("malformed_tile")), "{out}");

    // An entry replaced by another of the same length: the entries no longer hash to the root.
    let mut replaced = entries.clone();
    replaced[3] = b"entry 999".to_vec();
    std::fs::write(&bundle, encode_bundle(replaced.iter().map(Vec::as_slice)).unwrap()).unwrap();
    let (code, out) = verify(&dir, &vkey);
    assert_eq!((code, out["error"].as_str()), (1, Some("log_mismatch")), "{out}");
    std::fs::write(&bundle, &original).unwrap();

    // A hash tile altered: found.
    let tile = dir.join("tile/0/001");
    let mut bytes = std::fs::read(&tile).unwrap();
    bytes[0] ^= 1;
    std::fs::write(&tile, &bytes).unwrap();
    let (code, out) = verify(&dir, &vkey);
    assert_eq!((code, out["error"].as_str()), (1, Some("log_mismatch")), "{out}");
    bytes[0] ^= 1;
    std::fs::write(&tile, &bytes).unwrap();
    assert_eq!(verify(&dir, &vkey).0, 0);

    // A missing bundle is an I/O error naming it.
    std::fs::remove_file(dir.join("tile/entries/002.p/88")).unwrap();
    let (code, out) = verify(&dir, &vkey);
    assert_eq!((code, out["error"].as_str()), (2, Some("io_error")), "{out}");
    let _ = std::fs::remove_dir_all(dir);
}
