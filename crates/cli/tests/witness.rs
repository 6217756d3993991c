//! Two real `souverain witness` processes, each with its own key (made by `souverain keygen`) and
//! state file, fed over HTTP by a log kept in this test: consistent growth is cosigned by both
//! (and the cosignatures make a quorum of two); a fork, two checkpoints of one size with different
//! roots, gets 409 (then 422) and the conflicting pair is kept in the witness's state file; a stale
//! or smaller checkpoint is refused; the state survives a restart.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use rand_core::OsRng;
use souverain_core::data_use::{DataUseEvent, EventKey, EventKind, GrantLogSecret, seal};
use souverain_core::tlog::checkpoint::Checkpoint;
use souverain_core::tlog::cosignature::{CosignatureVerifier, CosignedCheckpoint, WitnessPolicy};
use souverain_core::tlog::merkle::{
    Hash, HashReader, HashReaderError, leaf_hash, prove_consistency, stored_hashes_for_leaf, tree_hash,
};
use souverain_core::tlog::note::Ed25519NoteSigner;
use souverain_core::tlog::witness::AddCheckpoint;

const ORIGIN: &str = "beaulieu-sur-loire.example/data-use-log";

/// A `souverain witness` child, killed on drop.
struct Witness {
    child: Child,
    port: u16,
    vkey: String,
    db: PathBuf,
}

impl Drop for Witness {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn_witness(dir: &Path, name: &str, log_vkey: &str) -> Witness {
    let key = dir.join(format!("{}.jwk", name.replace('/', "_")));
    if !key.exists() {
        let out = Command::new(env!("CARGO_BIN_EXE_souverain")).arg("keygen").output().unwrap();
        assert!(out.status.success());
        std::fs::write(&key, out.stdout).unwrap();
    }
    let db = dir.join(format!("{}.sqlite3", name.replace('/', "_")));
    let mut child = Command::new(env!("CARGO_BIN_EXE_souverain"))
        .args(["witness", "--addr", "127.0.0.1:0", "--name", name, "--log", log_vkey, "--key"])
        .arg(&key)
        .arg("--db")
        .arg(&db)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let (mut first, mut second) = (String::new(), String::new());
    stdout.read_line(&mut first).unwrap();
    stdout.read_line(&mut second).unwrap();
    let port = first
        .trim()
        .strip_prefix("listening on http://127.0.0.1:")
        .unwrap_or_else(|| panic!("{first:?}"))
        .parse()
        .unwrap();
    let vkey = second.trim().strip_prefix("witness ").unwrap_or_else(|| panic!("{second:?}")).to_owned();
    Witness { child, port, vkey, db }
}

/// `(status, content type, body)` of `POST /add-checkpoint`.
fn add(witness: &Witness, body: &str) -> (u16, String, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", witness.port)).unwrap();
    let head = format!(
        "POST /add-checkpoint HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        witness.port,
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).unwrap();
    let status = raw.get(9..12).and_then(|s| s.parse().ok()).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let content_type = head
        .lines()
        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-type: ").map(str::to_owned))
        .unwrap_or_default();
    (status, content_type, body.to_owned())
}

#[derive(Clone)]
/// The log under test: its stored hashes in memory, its key, the leaves of real sealed events.
struct Log {
    key: std::sync::Arc<Ed25519NoteSigner>,
    hashes: Vec<Hash>,
    size: u64,
}

impl HashReader for Log {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, HashReaderError> {
        indexes.iter().map(|&i| self.hashes.get(i as usize).copied().ok_or(HashReaderError::IndexesNotInTree)).collect()
    }
}

impl Log {
    fn new(seed: [u8; 32]) -> Log {
        Log { key: std::sync::Arc::new(Ed25519NoteSigner::new(ORIGIN, &seed).unwrap()), hashes: Vec::new(), size: 0 }
    }

    fn append_events(&mut self, count: u64, agent: &str) {
        let rng = &mut OsRng;
        let secret = GrantLogSecret::generate(rng);
        let key = EventKey::generate(rng);
        for seq in 0..count {
            let event = DataUseEvent {
                kind: EventKind::AgentRead { agent: agent.to_owned() },
                time: 1_780_000_000 + seq as i64,
                grant_id: "urn:uuid:grant".to_owned(),
                purpose: "https://w3id.org/dpv#ServiceProvision".to_owned(),
                seq,
            };
            let sealed = seal(&event, &secret, &key.public_key(), rng).unwrap();
            let added = stored_hashes_for_leaf(self.size, leaf_hash(&sealed.leaf.to_bytes()), self).unwrap();
            self.hashes.extend(added);
            self.size += 1;
        }
    }

    fn signed(&self) -> String {
        Checkpoint::new(self.key.name(), self.size, tree_hash(self.size, self).unwrap())
            .unwrap()
            .sign(&self.key)
            .unwrap()
    }

    fn body(&self, old: u64) -> String {
        AddCheckpoint::format(old, &prove_consistency(self.size, old, self).unwrap(), &self.signed())
    }
}

/// Runs `souverain log verify` with `args` and `stdin`: (exit code, stdout as JSON).
fn log_verify(args: &[&str], stdin: &str) -> (i32, serde_json::Value) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_souverain"))
        .args(["log", "verify"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    (out.status.code().unwrap(), serde_json::from_slice(&out.stdout).unwrap())
}

fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("souverain-witness-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The evidence rows a witness kept: (kind, stored note, submitted note).
fn evidence(db: &Path) -> Vec<(String, String, String)> {
    let db = rusqlite::Connection::open(db).unwrap();
    let mut statement = db.prepare("SELECT kind, stored, submitted FROM evidence ORDER BY id").unwrap();
    statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?))).unwrap().map(Result::unwrap).collect()
}

#[test]
fn two_witnesses_cosign_growth_and_refuse_forks() {
    let dir = temp_dir();
    let mut log = Log::new([1; 32]);
    let log_vkey = log.key.verifier().to_vkey();
    let w1 = spawn_witness(&dir, "departement.example/witness", &log_vkey);
    let w2 = spawn_witness(&dir, "association.example/witness", &log_vkey);
    let policy = WitnessPolicy {
        witnesses: vec![
            CosignatureVerifier::from_vkey(&w1.vkey).unwrap(),
            CosignatureVerifier::from_vkey(&w2.vkey).unwrap(),
        ],
        quorum: 2,
    };

    // Growth: the empty tree, then 5 leaves (from 0), then 300 more (with a consistency proof).
    let mut cosigned_at = Vec::new();
    let mut at_5 = None;
    let mut last_note = String::new();
    for (grow, old) in [(0, 0), (5, 0), (300, 5)] {
        log.append_events(grow, "agent:martin");
        if log.size == 5 {
            at_5 = Some(log.clone());
        }
        let body = log.body(old);
        let (s1, _, c1) = add(&w1, &body);
        let (s2, _, c2) = add(&w2, &body);
        assert_eq!((s1, s2), (200, 200), "{c1} {c2}");
        // Each answer is one cosignature line; both appended to the checkpoint make the quorum.
        let note = format!("{}{c1}{c2}", log.signed());
        last_note = note.clone();
        let verified = CosignedCheckpoint::verify(note.as_bytes(), &log.key.verifier(), &policy).unwrap();
        assert_eq!(verified.checkpoint().checkpoint().size(), log.size);
        assert_eq!(verified.cosignatures().len(), 2);
        cosigned_at.push(log.size);
    }
    assert_eq!(cosigned_at, [0, 5, 305]);
    let cosigned_305 = last_note.clone();

    // `souverain log verify`: the quorum of both witnesses, and consistency from size 5.
    let at_5_note = dir.join("checkpoint-5");
    std::fs::write(&at_5_note, at_5.as_ref().unwrap().signed()).unwrap();
    let proof = dir.join("proof-5-305");
    let proof_lines: String = prove_consistency(305, 5, &log).unwrap().iter().map(|h| format!("{h}\n")).collect();
    std::fs::write(&proof, proof_lines).unwrap();
    let both = ["--log-key", &log_vkey, "--witness", &w1.vkey, "--witness", &w2.vkey];
    let (code, out) = log_verify(&both, &cosigned_305);
    assert_eq!(
        (code, out["size"].as_u64(), out["cosignatures"].as_array().map(Vec::len)),
        (0, Some(305), Some(2)),
        "{out}"
    );
    let with_previous =
        [&both[..], &["--previous", at_5_note.to_str().unwrap(), "--proof", proof.to_str().unwrap()]].concat();
    let (code, out) = log_verify(&with_previous, &cosigned_305);
    assert_eq!((code, out["consistent_with"]["size"].as_u64()), (0, Some(5)), "{out}");
    // The log's signature alone is below a quorum of two.
    let (code, out) = log_verify(&both, &log.signed());
    assert_eq!((code, out["error"].as_str()), (1, Some("below_quorum")), "{out}");

    // A fork: the same first 5 leaves, then 300 others; same size as the honest tree, other root.
    let at_5 = at_5.unwrap();
    let mut fork = at_5.clone();
    fork.append_events(300, "agent:dupont");
    assert_eq!(fork.size, log.size);
    assert_ne!(tree_hash(fork.size, &fork).unwrap(), tree_hash(log.size, &log).unwrap());
    // Sent as growth from 5 (what a forked guichet would do): 409 with the witness's size.
    let (status, content_type, body) = add(&w1, &fork.body(5));
    assert_eq!((status, content_type.as_str(), body.as_str()), (409, "text/x.tlog.size", "305\n"));
    // Sent from the witness's own size: 422, not cosigned.
    let (status, _, body) = add(&w1, &fork.body(305));
    assert_eq!(status, 422, "{body}");
    // Both submissions kept as proof: the honest checkpoint the witness cosigned and the fork's.
    let kept = evidence(&w1.db);
    assert_eq!(kept.len(), 2);
    for (kind, stored, submitted) in &kept {
        assert_eq!(kind, "same_size_different_root");
        assert_eq!(stored, &log.signed());
        assert_eq!(submitted, &fork.signed());
    }
    assert!(evidence(&w2.db).is_empty());
    // The same pair given to `log verify`: not consistent, exit 1.
    let honest_305 = dir.join("checkpoint-305");
    let empty_proof = dir.join("proof-empty");
    std::fs::write(&honest_305, log.signed()).unwrap();
    std::fs::write(&empty_proof, "").unwrap();
    let fork_check = [
        "--log-key",
        log_vkey.as_str(),
        "--previous",
        honest_305.to_str().unwrap(),
        "--proof",
        empty_proof.to_str().unwrap(),
    ];
    let (code, out) = log_verify(&fork_check, &fork.signed());
    assert_eq!((code, out["error"].as_str()), (1, Some("inconsistent_checkpoints")), "{out}");

    // A stale checkpoint (size 5 again, from 0): 409, the witness stays at 305.
    let stale = at_5;
    let (status, _, body) = add(&w2, &stale.body(0));
    assert_eq!((status, body.as_str()), (409, "305\n"));
    // The same smaller checkpoint claimed from the witness's size: 400 (old size above size).
    let (status, _, _) = add(&w2, &AddCheckpoint::format(305, &[], &stale.signed()));
    assert_eq!(status, 400);
    // Another log's checkpoint, or one not signed by the log's key.
    let mut other = Log::new([2; 32]);
    other.key = std::sync::Arc::new(Ed25519NoteSigner::new("other.example/log", &[2; 32]).unwrap());
    assert_eq!(add(&w2, &other.body(0)).0, 404);
    let mut impostor = log.clone();
    impostor.key = std::sync::Arc::new(Ed25519NoteSigner::new(ORIGIN, &[3; 32]).unwrap());
    assert_eq!(add(&w2, &impostor.body(305)).0, 403);
    // Garbage is a 400, not a crash.
    assert_eq!(add(&w2, "old x\n\nnot a checkpoint").0, 400);

    // The honest log goes on, cosigned by both.
    log.append_events(3, "agent:martin");
    assert_eq!(add(&w1, &log.body(305)).0, 200);
    assert_eq!(add(&w2, &log.body(305)).0, 200);

    // A restarted witness remembers: old 0 is answered with its size.
    let (db, port) = (w1.db.clone(), w1.port);
    drop(w1);
    let w1 = spawn_witness(&dir, "departement.example/witness", &log_vkey);
    assert_eq!(w1.db, db);
    assert_ne!(w1.port, 0);
    let _ = port;
    let (status, _, body) = add(&w1, &log.body(0));
    assert_eq!((status, body.as_str()), (409, "308\n"));
    drop((w1, w2));
    let _ = std::fs::remove_dir_all(dir);
}
