#![allow(clippy::unwrap_used)] // helpers outside #[test] functions build the trees the tests use
//! The data-use log's Merkle tree against an independent reading of RFC 9162 section 2.1.
//!
//! `reference` below is written from the RFC's definitions alone (MTH, PATH, PROOF/SUBPROOF, and
//! the verification algorithms of 2.1.3.2 and 2.1.4.2), recursive and naive, sharing no code with
//! `tlog_tiles`. The tests compare roots and proofs hash for hash, check the crate's proofs with
//! the RFC's verifiers and the reverse, and refuse every tampered proof.
//!
//! No published RFC 9162 or C2SP vectors for these are in `../shared/vectors` (the C2SP examples
//! omit the keys or the old roots they would need), so none is read here.

use proptest::prelude::*;
use sha2::{Digest, Sha256};
use souverain_core::tlog::merkle::{
    Hash, HashReader, HashReaderError, MerkleError, leaf_hash, prove_consistency, prove_inclusion,
    stored_hashes_for_leaf, tree_hash, verify_consistency, verify_inclusion,
};
use souverain_core::tlog::tiles::{TileCoord, Tiles, tile_data, tiles_for_size};

mod reference {
    use super::*;

    fn h(bytes: &[&[u8]]) -> [u8; 32] {
        let mut hasher = Sha256::new();
        for b in bytes {
            hasher.update(b);
        }
        hasher.finalize().into()
    }

    fn node(l: [u8; 32], r: [u8; 32]) -> [u8; 32] {
        h(&[&[1], &l, &r])
    }

    /// Largest power of two strictly below `n` (n > 1).
    fn k(n: usize) -> usize {
        let mut k = 1;
        while k * 2 < n {
            k *= 2;
        }
        k
    }

    pub fn mth(d: &[Vec<u8>]) -> [u8; 32] {
        match d.len() {
            0 => h(&[]),
            1 => h(&[&[0], &d[0]]),
            n => node(mth(&d[..k(n)]), mth(&d[k(n)..])),
        }
    }

    pub fn path(m: usize, d: &[Vec<u8>]) -> Vec<[u8; 32]> {
        let n = d.len();
        if n == 1 {
            return vec![];
        }
        let k = k(n);
        if m < k {
            let mut p = path(m, &d[..k]);
            p.push(mth(&d[k..]));
            p
        } else {
            let mut p = path(m - k, &d[k..]);
            p.push(mth(&d[..k]));
            p
        }
    }

    pub fn proof(m: usize, d: &[Vec<u8>]) -> Vec<[u8; 32]> {
        subproof(m, d, true)
    }

    fn subproof(m: usize, d: &[Vec<u8>], b: bool) -> Vec<[u8; 32]> {
        let n = d.len();
        if m == n {
            return if b { vec![] } else { vec![mth(d)] };
        }
        let k = k(n);
        if m <= k {
            let mut p = subproof(m, &d[..k], b);
            p.push(mth(&d[k..]));
            p
        } else {
            let mut p = subproof(m - k, &d[k..], false);
            p.push(mth(&d[..k]));
            p
        }
    }

    /// RFC 9162 section 2.1.3.2.
    pub fn verify_inclusion(index: u64, size: u64, leaf: [u8; 32], path: &[[u8; 32]], root: [u8; 32]) -> bool {
        if index >= size {
            return false;
        }
        let (mut f, mut s, mut r) = (index, size - 1, leaf);
        for p in path {
            if s == 0 {
                return false;
            }
            if f & 1 == 1 || f == s {
                r = node(*p, r);
                if f & 1 == 0 {
                    while f & 1 == 0 && f != 0 {
                        f >>= 1;
                        s >>= 1;
                    }
                }
            } else {
                r = node(r, *p);
            }
            f >>= 1;
            s >>= 1;
        }
        s == 0 && r == root
    }

    /// RFC 9162 section 2.1.4.2 (for 0 < first < second).
    pub fn verify_consistency(
        first: u64,
        second: u64,
        first_hash: [u8; 32],
        second_hash: [u8; 32],
        proof: &[[u8; 32]],
    ) -> bool {
        if first == 0 || first >= second || proof.is_empty() {
            return false;
        }
        let mut path = proof.to_vec();
        if first.is_power_of_two() {
            path.insert(0, first_hash);
        }
        let (mut f, mut s) = (first - 1, second - 1);
        while f & 1 == 1 {
            f >>= 1;
            s >>= 1;
        }
        let (mut fr, mut sr) = (path[0], path[0]);
        for c in &path[1..] {
            if s == 0 {
                return false;
            }
            if f & 1 == 1 || f == s {
                fr = node(*c, fr);
                sr = node(*c, sr);
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            } else {
                sr = node(sr, *c);
            }
            f >>= 1;
            s >>= 1;
        }
        fr == first_hash && sr == second_hash && s == 0
    }
}

/// The log's stored hashes in memory.
struct Store(Vec<Hash>);

impl HashReader for Store {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, HashReaderError> {
        indexes.iter().map(|&i| self.0.get(i as usize).copied().ok_or(HashReaderError::IndexesNotInTree)).collect()
    }
}

fn data(n: usize) -> Vec<Vec<u8>> {
    (0..n).map(|i| format!("event {i}").into_bytes()).collect()
}

fn store(d: &[Vec<u8>]) -> Store {
    let mut store = Store(Vec::new());
    for (i, entry) in d.iter().enumerate() {
        let added = stored_hashes_for_leaf(i as u64, leaf_hash(entry), &store).unwrap();
        store.0.extend(added);
    }
    store
}

fn raw(proof: &[Hash]) -> Vec<[u8; 32]> {
    proof.iter().map(|h| h.0).collect()
}

#[test]
fn roots_and_proofs_equal_the_rfc_definitions() {
    let d = data(70);
    let s = store(&d);
    for n in 0..=d.len() {
        let root = tree_hash(n as u64, &s).unwrap();
        assert_eq!(root.0, reference::mth(&d[..n]), "root of {n}");
        for m in 0..n {
            let proof = prove_inclusion(n as u64, m as u64, &s).unwrap();
            assert_eq!(raw(&proof), reference::path(m, &d[..n]), "PATH({m}, D[{n}])");
            let leaf = leaf_hash(&d[m]);
            assert!(reference::verify_inclusion(m as u64, n as u64, leaf.0, &raw(&proof), root.0));
            assert_eq!(verify_inclusion(&proof, n as u64, root, m as u64, leaf), Ok(()));
        }
        for m in 1..n {
            let proof = prove_consistency(n as u64, m as u64, &s).unwrap();
            assert_eq!(raw(&proof), reference::proof(m, &d[..n]), "PROOF({m}, D[{n}])");
            let old = tree_hash(m as u64, &s).unwrap();
            assert!(reference::verify_consistency(m as u64, n as u64, old.0, root.0, &raw(&proof)));
            assert_eq!(verify_consistency(&proof, m as u64, old, n as u64, root), Ok(()));
        }
    }
}

/// A proof changed in one of the ways an attacker could: a flipped bit, a hash dropped, added,
/// swapped or replaced.
fn tamper(proof: &[Hash], how: u8, at: usize, bit: u8) -> Option<Vec<Hash>> {
    let mut p = proof.to_vec();
    match how % 4 {
        0 if !p.is_empty() => {
            let i = at % p.len();
            p[i].0[(bit as usize) % 32] ^= 1 << (bit % 8);
        }
        1 if !p.is_empty() => {
            p.remove(at % p.len());
        }
        2 => p.insert(at % (p.len() + 1), Hash([bit; 32])),
        3 if p.len() >= 2 && p[at % p.len()] != p[(at + 1) % p.len()] => {
            let len = p.len();
            p.swap(at % len, (at + 1) % len);
        }
        _ => return None,
    }
    Some(p)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn inclusion_round_trips_and_refuses_tampering(n in 1usize..600, m in any::<usize>(), how in any::<u8>(), at in any::<usize>(), bit in any::<u8>()) {
        let d = data(n);
        let s = store(&d);
        let m = m % n;
        let root = tree_hash(n as u64, &s).unwrap();
        let leaf = leaf_hash(&d[m]);
        let proof = prove_inclusion(n as u64, m as u64, &s).unwrap();
        prop_assert_eq!(verify_inclusion(&proof, n as u64, root, m as u64, leaf), Ok(()));
        if let Some(bad) = tamper(&proof, how, at, bit) {
            prop_assert!(verify_inclusion(&bad, n as u64, root, m as u64, leaf).is_err());
            prop_assert!(!reference::verify_inclusion(m as u64, n as u64, leaf.0, &raw(&bad), root.0));
        }
        // Another leaf, another index or another size does not verify with this proof.
        prop_assert!(verify_inclusion(&proof, n as u64, root, m as u64, leaf_hash(b"forged")).is_err());
        if n > 1 {
            prop_assert!(verify_inclusion(&proof, n as u64, root, ((m + 1) % n) as u64, leaf).is_err());
        }
    }

    #[test]
    fn consistency_round_trips_and_refuses_tampering(n in 2usize..600, m in any::<usize>(), how in any::<u8>(), at in any::<usize>(), bit in any::<u8>()) {
        let d = data(n);
        let s = store(&d);
        let m = 1 + m % (n - 1);
        let (old, new) = (tree_hash(m as u64, &s).unwrap(), tree_hash(n as u64, &s).unwrap());
        let proof = prove_consistency(n as u64, m as u64, &s).unwrap();
        prop_assert_eq!(verify_consistency(&proof, m as u64, old, n as u64, new), Ok(()));
        if let Some(bad) = tamper(&proof, how, at, bit) {
            prop_assert_eq!(verify_consistency(&bad, m as u64, old, n as u64, new), Err(MerkleError::InvalidProof));
            prop_assert!(!reference::verify_consistency(m as u64, n as u64, old.0, new.0, &raw(&bad)));
        }
        // A forked old tree (same size, another last leaf) is not consistent with the new one.
        let mut forked = d[..m].to_vec();
        forked[m - 1] = b"rewritten".to_vec();
        let forked_root = Hash(reference::mth(&forked));
        prop_assert!(verify_consistency(&proof, m as u64, forked_root, n as u64, new).is_err());
    }
}

#[test]
fn tiles_authenticate_against_the_root() {
    let d = data(1000);
    let s = store(&d);
    let size = d.len() as u64;
    let root = tree_hash(size, &s).unwrap();
    let mut tiles = Tiles::new();
    let coords = tiles_for_size(size);
    for coord in &coords {
        tiles.insert(*coord, tile_data(*coord, &s).unwrap()).unwrap();
    }
    // A reader with only the tiles proves any leaf, and the proof is the log's.
    for m in [0u64, 255, 256, 700, 999] {
        let proof = tiles.inclusion_proof(size, root, m, leaf_hash(&d[m as usize])).unwrap();
        assert_eq!(proof, prove_inclusion(size, m, &s).unwrap());
    }
    let old = tree_hash(300, &s).unwrap();
    assert_eq!(tiles.consistency_proof(size, root, 300, old).unwrap(), prove_consistency(size, 300, &s).unwrap());
    // One altered hash in a leaf tile: nothing is proven from it (tlog_tiles's reader alone let
    // this one through; the proof's verification catches it).
    let first = coords[0];
    assert_eq!(first, TileCoord::new(0, 0, 256).unwrap());
    let mut altered = tile_data(first, &s).unwrap();
    altered[5] ^= 1;
    let mut bad = tiles.clone();
    bad.insert(first, altered).unwrap();
    assert!(bad.inclusion_proof(size, root, 3, leaf_hash(&d[3])).is_err());
    assert!(bad.consistency_proof(size, root, 3, tree_hash(3, &s).unwrap()).is_err());
    // Against another root, even the honest tiles prove nothing.
    assert!(tiles.inclusion_proof(size, leaf_hash(b"x"), 3, leaf_hash(&d[3])).is_err());
    // A missing tile is an error, not a panic; a tile of the wrong length is refused on insert.
    assert!(Tiles::new().inclusion_proof(size, root, 3, leaf_hash(&d[3])).is_err());
    assert!(tiles.insert(TileCoord::new(0, 0, 256).unwrap(), vec![0; 31]).is_err());
}
