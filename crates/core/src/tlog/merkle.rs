//! RFC 9162 (section 2.1) Merkle tree hashing, inclusion and consistency proofs, with SHA-256.
//!
//! The arithmetic is the `tlog_tiles` crate's: Cloudflare's port of Go's `golang.org/x/mod/sumdb/tlog`,
//! which the Go checksum database and Cloudflare's static CT logs run on. This module gives it
//! our error type, guards its preconditions (it asserts them), and adds the cases RFC 9162 leaves
//! to the caller (the empty tree, a proof between equal sizes).
//!
//! The log keeps every *stored hash* of its tree (leaf hashes and the hashes of complete
//! subtrees, `2n - popcount(n)` of them for `n` leaves), addressed by [`stored_hash_index`]; a
//! [`HashReader`] over them is all the proof builders need.

/// The error a [`HashReader`] returns (a store reports a failure as `IndexesNotInTree` or
/// `InvalidInput(message)`).
pub use tlog_tiles::Error as HashReaderError;
pub use tlog_tiles::{HashReader, stored_hash_count, stored_hash_index};

/// A SHA-256 node or leaf hash of the tree (`tlog_tiles`'s type: its `Display` is base64).
pub use tlog_tiles::Hash;

/// An inclusion proof (RFC 9162 section 2.1.3): the sibling hashes from the leaf upwards.
pub type InclusionProof = Vec<Hash>;

/// A consistency proof (RFC 9162 section 2.1.4), in the order of the RFC's `SUBPROOF`.
pub type ConsistencyProof = Vec<Hash>;

/// The largest proof accepted: a tree of at most 2^63 leaves never needs more hashes (and
/// c2sp.org/tlog-witness allows at most 63 consistency proof lines).
pub const MAX_PROOF_HASHES: usize = 63;

/// Why a proof could not be built or did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MerkleError {
    /// The leaf index is not below the tree size.
    #[error("leaf {index} is not in a tree of {size} leaves")]
    IndexOutOfRange {
        /// The leaf asked for.
        index: u64,
        /// The tree's size.
        size: u64,
    },
    /// A consistency proof was asked from a larger tree to a smaller one.
    #[error("the old size {old} is larger than the new size {new}")]
    OldSizeLarger {
        /// The old tree's size.
        old: u64,
        /// The new tree's size.
        new: u64,
    },
    /// The proof has more hashes than any tree needs.
    #[error("the proof has {0} hashes, more than any tree needs")]
    ProofTooLong(usize),
    /// The proof does not lead to the expected root hash(es).
    #[error("the proof does not verify")]
    InvalidProof,
    /// The empty tree's root is not SHA-256 of the empty string.
    #[error("the empty tree's root hash is not SHA-256(\"\")")]
    BadEmptyRoot,
    /// The stored hashes could not be read (the store's own message).
    #[error("reading the stored hashes failed: {0}")]
    Store(String),
}

/// The root hash of the empty tree: SHA-256 of the empty string (RFC 9162 section 2.1.1).
pub fn empty_root() -> Hash {
    tlog_tiles::EMPTY_HASH
}

/// The hash of a leaf: SHA-256(0x00 || data).
pub fn leaf_hash(data: &[u8]) -> Hash {
    tlog_tiles::record_hash(data)
}

/// The hash of an interior node: SHA-256(0x01 || left || right).
pub fn node_hash(left: Hash, right: Hash) -> Hash {
    tlog_tiles::node_hash(left, right)
}

/// The stored hashes that appending leaf `index` (whose hash is `leaf`) adds to a tree of `index`
/// leaves, in the order of their [`stored_hash_index`] starting at `stored_hash_index(0, index)`.
/// The log writes them in the same transaction as the entry.
pub fn stored_hashes_for_leaf(index: u64, leaf: Hash, reader: &impl HashReader) -> Result<Vec<Hash>, MerkleError> {
    tlog_tiles::stored_hashes_for_record_hash(index, leaf, &Checked(reader)).map_err(store_error)
}

/// The root hash of the tree of `size` leaves, from its stored hashes.
pub fn tree_hash(size: u64, reader: &impl HashReader) -> Result<Hash, MerkleError> {
    if size == 0 {
        return Ok(empty_root());
    }
    tlog_tiles::tree_hash(size, &Checked(reader)).map_err(store_error)
}

/// The inclusion proof of leaf `index` in the tree of `size` leaves, from its stored hashes.
pub fn prove_inclusion(size: u64, index: u64, reader: &impl HashReader) -> Result<InclusionProof, MerkleError> {
    if index >= size {
        return Err(MerkleError::IndexOutOfRange { index, size });
    }
    tlog_tiles::prove_record(size, index, &Checked(reader)).map_err(store_error)
}

/// The consistency proof from the tree of `old` leaves to the tree of `new` leaves, from the
/// stored hashes. Empty when `old` is 0 or equal to `new`.
pub fn prove_consistency(new: u64, old: u64, reader: &impl HashReader) -> Result<ConsistencyProof, MerkleError> {
    if old > new {
        return Err(MerkleError::OldSizeLarger { old, new });
    }
    if old == 0 || old == new {
        return Ok(Vec::new());
    }
    tlog_tiles::prove_tree(new, old, &Checked(reader)).map_err(store_error)
}

/// Checks that `proof` shows leaf `index`, of hash `leaf`, in the tree of `size` leaves whose
/// root is `root`.
pub fn verify_inclusion(proof: &[Hash], size: u64, root: Hash, index: u64, leaf: Hash) -> Result<(), MerkleError> {
    if index >= size {
        return Err(MerkleError::IndexOutOfRange { index, size });
    }
    if proof.len() > MAX_PROOF_HASHES {
        return Err(MerkleError::ProofTooLong(proof.len()));
    }
    tlog_tiles::check_record(&proof.to_vec(), size, root, index, leaf).map_err(|_| MerkleError::InvalidProof)
}

/// Checks that `proof` shows the tree of `old` leaves (root `old_root`) to be a prefix of the tree
/// of `new` leaves (root `new_root`).
///
/// From the empty tree the proof must be empty and `old_root` the empty root (the empty tree is a
/// prefix of every tree); between equal sizes the proof must be empty and the roots equal.
pub fn verify_consistency(
    proof: &[Hash],
    old: u64,
    old_root: Hash,
    new: u64,
    new_root: Hash,
) -> Result<(), MerkleError> {
    if old > new {
        return Err(MerkleError::OldSizeLarger { old, new });
    }
    if proof.len() > MAX_PROOF_HASHES {
        return Err(MerkleError::ProofTooLong(proof.len()));
    }
    if old == 0 {
        if old_root != empty_root() {
            return Err(MerkleError::BadEmptyRoot);
        }
        if new == 0 && new_root != empty_root() {
            return Err(MerkleError::BadEmptyRoot);
        }
        return if proof.is_empty() { Ok(()) } else { Err(MerkleError::InvalidProof) };
    }
    if old == new {
        return if proof.is_empty() && old_root == new_root { Ok(()) } else { Err(MerkleError::InvalidProof) };
    }
    tlog_tiles::check_tree(&proof.to_vec(), new, new_root, old, old_root).map_err(|_| MerkleError::InvalidProof)
}

/// The right edge of a tree: the roots of its complete subtrees, at most 64 hashes, enough to
/// append leaves and compute the new root. A reader that has checked a checkpoint's root from its
/// frontier checks the next checkpoint by appending the new entries and comparing roots: every new
/// entry is then authenticated, and the new tree extends the old one (no proof needed).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Frontier {
    size: u64,
    /// Stored-hash index to hash, only those of `sub_tree_index(0, size)`.
    hashes: std::collections::BTreeMap<u64, Hash>,
}

impl Frontier {
    /// The empty tree's.
    pub fn new() -> Frontier {
        Frontier::default()
    }

    /// The tree's size.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends a leaf.
    pub fn push(&mut self, leaf: Hash) -> Result<(), MerkleError> {
        let added = stored_hashes_for_leaf(self.size, leaf, self)?;
        let base = stored_hash_index(0, self.size);
        for (i, hash) in added.into_iter().enumerate() {
            self.hashes.insert(base + i as u64, hash);
        }
        self.size += 1;
        let keep = tlog_tiles::sub_tree_index(0, self.size, Vec::new());
        self.hashes.retain(|index, _| keep.contains(index));
        Ok(())
    }

    /// The root hash.
    pub fn root(&self) -> Result<Hash, MerkleError> {
        tree_hash(self.size, self)
    }

    /// The frontier's hashes with their stored-hash indexes, to keep between audits.
    pub fn hashes(&self) -> impl Iterator<Item = (u64, Hash)> + '_ {
        self.hashes.iter().map(|(i, h)| (*i, *h))
    }

    /// A frontier kept from [`Frontier::hashes`] for a tree of `size` leaves; its root is checked by
    /// the caller against the checkpoint it came with.
    pub fn from_parts(size: u64, hashes: impl IntoIterator<Item = (u64, Hash)>) -> Result<Frontier, MerkleError> {
        let frontier = Frontier { size, hashes: hashes.into_iter().collect() };
        let needed = tlog_tiles::sub_tree_index(0, size, Vec::new());
        if frontier.hashes.len() != needed.len() || !needed.iter().all(|i| frontier.hashes.contains_key(i)) {
            return Err(MerkleError::Store("the frontier does not match its size".into()));
        }
        Ok(frontier)
    }
}

impl HashReader for Frontier {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::Error> {
        indexes.iter().map(|i| self.hashes.get(i).copied().ok_or(tlog_tiles::Error::IndexesNotInTree)).collect()
    }
}

fn store_error(error: tlog_tiles::Error) -> MerkleError {
    MerkleError::Store(error.to_string())
}

/// A reader that answers with exactly as many hashes as asked for, or an error: `tlog_tiles`
/// asserts that count, and a faulty store must give an error, never a panic.
struct Checked<'a, R>(&'a R);

impl<R: HashReader> HashReader for Checked<'_, R> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::Error> {
        let hashes = self.0.read_hashes(indexes)?;
        if hashes.len() == indexes.len() { Ok(hashes) } else { Err(tlog_tiles::Error::IndexesNotInTree) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Stored hashes in a vector, indexed by [`stored_hash_index`].
    struct Memory(Vec<Hash>);

    impl HashReader for Memory {
        fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::Error> {
            indexes
                .iter()
                .map(|&i| self.0.get(i as usize).copied().ok_or(tlog_tiles::Error::IndexesNotInTree))
                .collect()
        }
    }

    fn tree(n: u64) -> Memory {
        let mut memory = Memory(Vec::new());
        for i in 0..n {
            let added = stored_hashes_for_leaf(i, leaf_hash(&i.to_be_bytes()), &memory).unwrap();
            memory.0.extend(added);
        }
        memory
    }

    #[test]
    fn empty_tree_and_equal_sizes() {
        let memory = tree(5);
        let root = tree_hash(5, &memory).unwrap();
        assert_eq!(tree_hash(0, &memory).unwrap(), empty_root());
        assert_eq!(verify_consistency(&[], 0, empty_root(), 5, root), Ok(()));
        assert_eq!(verify_consistency(&[root], 0, empty_root(), 5, root), Err(MerkleError::InvalidProof));
        assert_eq!(verify_consistency(&[], 0, root, 5, root), Err(MerkleError::BadEmptyRoot));
        assert_eq!(verify_consistency(&[], 5, root, 5, root), Ok(()));
        assert_eq!(verify_consistency(&[], 5, root, 5, empty_root()), Err(MerkleError::InvalidProof));
        assert_eq!(verify_consistency(&[], 6, root, 5, root), Err(MerkleError::OldSizeLarger { old: 6, new: 5 }));
        assert_eq!(verify_inclusion(&[], 5, root, 5, root), Err(MerkleError::IndexOutOfRange { index: 5, size: 5 }));
    }

    #[test]
    fn a_frontier_follows_the_full_tree() {
        let memory = tree(300);
        let mut frontier = Frontier::new();
        assert_eq!(frontier.root().unwrap(), empty_root());
        for i in 0..300u64 {
            frontier.push(leaf_hash(&i.to_be_bytes())).unwrap();
            assert_eq!(frontier.root().unwrap(), tree_hash(i + 1, &memory).unwrap(), "size {}", i + 1);
            assert!(frontier.hashes().count() <= 64);
        }
        let kept = Frontier::from_parts(300, frontier.hashes()).unwrap();
        assert_eq!(kept.root(), frontier.root());
        assert!(Frontier::from_parts(301, frontier.hashes()).is_err());
    }

    #[test]
    fn a_short_store_is_an_error_not_a_panic() {
        let memory = tree(7);
        let short = Memory(memory.0[..3].to_vec());
        assert!(matches!(prove_inclusion(7, 2, &short), Err(MerkleError::Store(_))));
        assert!(matches!(prove_consistency(7, 3, &short), Err(MerkleError::Store(_))));
    }

    #[test]
    fn refuses_overlong_proofs() {
        let long = vec![empty_root(); 64];
        assert_eq!(verify_inclusion(&long, 2, empty_root(), 0, empty_root()), Err(MerkleError::ProofTooLong(64)));
        assert_eq!(verify_consistency(&long, 1, empty_root(), 2, empty_root()), Err(MerkleError::ProofTooLong(64)));
    }
}
