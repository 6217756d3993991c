//! Where the vault lives: a storage trait whose writes are all-or-nothing batches, guarded by a
//! write-generation counter, and an in-memory backend for native tests.
//!
//! The wallet's IndexedDB backend implements the same trait (one IndexedDB transaction per batch).
//! Keys are strings, values opaque bytes (sealed records and the clear header); what goes under
//! which key is the session's business (see [`super::session`]).
//!
//! Two tabs or connections may hold the same store. Every batch names the generation its writer
//! last read; the backend checks it and bumps it inside the same transaction, so a writer that
//! missed another's write gets [`StoreError::Conflict`] and must reload: it never overwrites.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

/// One write inside a [`Batch`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// Sets `key` to `value`.
    Put {
        /// The key.
        key: String,
        /// The value.
        value: Vec<u8>,
    },
    /// Removes `key` (nothing happens if it is absent).
    Delete {
        /// The key.
        key: String,
    },
    /// Removes every key (a restore that replaces the vault starts with this).
    Clear,
}

/// Writes applied together or not at all, if the store is still at `expected_generation`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    expected_generation: u64,
    ops: Vec<Op>,
}

impl Batch {
    /// An empty batch for a writer that last read generation `expected_generation`.
    pub fn new(expected_generation: u64) -> Batch {
        Batch { expected_generation, ops: Vec::new() }
    }
    /// Adds a put.
    pub fn put(&mut self, key: impl Into<String>, value: Vec<u8>) -> &mut Batch {
        self.ops.push(Op::Put { key: key.into(), value });
        self
    }
    /// Adds a delete.
    pub fn delete(&mut self, key: impl Into<String>) -> &mut Batch {
        self.ops.push(Op::Delete { key: key.into() });
        self
    }
    /// Adds a clear of the whole store.
    pub fn clear(&mut self) -> &mut Batch {
        self.ops.push(Op::Clear);
        self
    }
    /// The generation the writer last read.
    pub fn expected_generation(&self) -> u64 {
        self.expected_generation
    }
    /// The writes, in order.
    pub fn ops(&self) -> &[Op] {
        &self.ops
    }
    /// The writes, by value.
    pub fn into_ops(self) -> Vec<Op> {
        self.ops
    }
}

/// A value read together with the store's generation at the time of reading (same transaction).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot<T> {
    /// The write generation when the value was read (0 for a store never written).
    pub generation: u64,
    /// What was read.
    pub value: T,
}

/// Why the store could not read or write. A failed write changed nothing.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// Another tab or connection wrote since this one last read: reload, then retry.
    #[error("the vault was changed elsewhere (generation {found}, expected {expected}): reload it")]
    Conflict {
        /// The generation this writer last read.
        expected: u64,
        /// The generation found in the store.
        found: u64,
    },
    /// The device or browser has no room left for this write.
    #[error("storage quota exceeded")]
    QuotaExceeded,
    /// The write was interrupted before it committed (transaction aborted, page closing).
    #[error("the write was interrupted and not applied")]
    Interrupted,
    /// The storage cannot be reached at all (no IndexedDB, database blocked by another tab).
    #[error("storage unavailable")]
    Unavailable,
    /// The backend refused the operation for another reason (the browser's error name).
    #[error("storage error: {name}")]
    Backend {
        /// The backend's name for the failure (e.g. a DOMException name).
        name: String,
    },
    /// A stored value is not of the shape the backend wrote (damaged storage).
    #[error("storage holds a damaged value")]
    Damaged,
}

/// A key-value store with all-or-nothing, generation-checked batches.
///
/// No `Send` bound: the browser backend holds JavaScript objects and runs on one thread.
#[allow(async_fn_in_trait)]
pub trait Storage {
    /// Reads `keys` (absent ones as `None`) and the generation, consistently.
    async fn read(&self, keys: &[&str]) -> Result<Snapshot<Vec<Option<Vec<u8>>>>, StoreError>;

    /// Reads every entry whose key starts with `prefix`, in key order, and the generation.
    async fn scan(&self, prefix: &str) -> Result<Snapshot<Vec<(String, Vec<u8>)>>, StoreError>;

    /// The current write generation (0 for a store never written).
    async fn generation(&self) -> Result<u64, StoreError>;

    /// Applies every op of `batch`, in order, and advances the generation by one, all in one
    /// transaction: or, on any error, nothing. Refused with [`StoreError::Conflict`] when the
    /// store's generation is not `batch.expected_generation()`. Returns the new generation.
    async fn apply(&self, batch: Batch) -> Result<u64, StoreError>;
}

/// A fault to inject into the next batch of a [`MemoryStore`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// Apply this many ops, then fail with [`StoreError::Interrupted`] (and roll back).
    InterruptAfter(usize),
}

#[derive(Debug, Default)]
struct MemoryState {
    entries: BTreeMap<String, Vec<u8>>,
    generation: u64,
    quota: Option<usize>,
    fault: Option<Fault>,
}

impl MemoryState {
    fn size(entries: &BTreeMap<String, Vec<u8>>) -> usize {
        entries.iter().map(|(k, v)| k.len().saturating_add(v.len())).fold(0, usize::saturating_add)
    }
}

/// An in-memory store for native tests. Clones share the same storage, like two tabs opening the
/// same database. Fault injection (interrupted batch, quota) and raw tampering exist for tests of
/// the faults the vault must survive.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    state: Rc<RefCell<MemoryState>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    /// Makes the next batch apply `ops` of its writes and then fail with
    /// [`StoreError::Interrupted`], as a page closed in the middle of a write; the partial writes
    /// are rolled back, as a browser does with an uncommitted transaction.
    pub fn interrupt_next_batch_after(&self, ops: usize) {
        self.state.borrow_mut().fault = Some(Fault::InterruptAfter(ops));
    }

    /// Limits the total size (keys plus values, in bytes); `None` removes the limit. A batch that
    /// would exceed it fails with [`StoreError::QuotaExceeded`] and changes nothing.
    pub fn set_quota(&self, bytes: Option<usize>) {
        self.state.borrow_mut().quota = bytes;
    }

    /// The bytes stored, keys plus values.
    pub fn used_bytes(&self) -> usize {
        MemoryState::size(&self.state.borrow().entries)
    }

    /// Reads one raw value, bypassing everything (for tests).
    pub fn raw_get(&self, key: &str) -> Option<Vec<u8>> {
        self.state.borrow().entries.get(key).cloned()
    }

    /// Overwrites (or with `None` removes) one raw value without touching the generation: damage
    /// from outside, as a disk error or a hostile extension would cause (for tests).
    pub fn tamper(&self, key: &str, value: Option<Vec<u8>>) {
        let mut state = self.state.borrow_mut();
        match value {
            Some(v) => state.entries.insert(key.to_owned(), v),
            None => state.entries.remove(key),
        };
    }

    /// Every key, in order (for tests).
    pub fn keys(&self) -> Vec<String> {
        self.state.borrow().entries.keys().cloned().collect()
    }
}

impl Storage for MemoryStore {
    async fn read(&self, keys: &[&str]) -> Result<Snapshot<Vec<Option<Vec<u8>>>>, StoreError> {
        let state = self.state.borrow();
        let value = keys.iter().map(|k| state.entries.get(*k).cloned()).collect();
        Ok(Snapshot { generation: state.generation, value })
    }

    async fn scan(&self, prefix: &str) -> Result<Snapshot<Vec<(String, Vec<u8>)>>, StoreError> {
        let state = self.state.borrow();
        let value = state
            .entries
            .range(prefix.to_owned()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        Ok(Snapshot { generation: state.generation, value })
    }

    async fn generation(&self) -> Result<u64, StoreError> {
        Ok(self.state.borrow().generation)
    }

    async fn apply(&self, batch: Batch) -> Result<u64, StoreError> {
        let mut state = self.state.borrow_mut();
        let fault = state.fault.take();
        if state.generation != batch.expected_generation {
            return Err(StoreError::Conflict { expected: batch.expected_generation, found: state.generation });
        }
        // Work on a copy, swapped in only at the end: the in-memory picture of a transaction.
        let mut work = state.entries.clone();
        for (done, op) in batch.ops.into_iter().enumerate() {
            if fault == Some(Fault::InterruptAfter(done)) {
                return Err(StoreError::Interrupted);
            }
            match op {
                Op::Put { key, value } => {
                    work.insert(key, value);
                }
                Op::Delete { key } => {
                    work.remove(&key);
                }
                Op::Clear => work.clear(),
            }
        }
        if matches!(fault, Some(Fault::InterruptAfter(_))) {
            // Interrupted after the last op but before the commit.
            return Err(StoreError::Interrupted);
        }
        if state.quota.is_some_and(|q| MemoryState::size(&work) > q) {
            return Err(StoreError::QuotaExceeded);
        }
        state.entries = work;
        state.generation = state.generation.saturating_add(1);
        Ok(state.generation)
    }
}

/// Runs a future that never waits (such as every [`MemoryStore`] operation) to completion.
/// Returns `None` if it would wait. For native tests and tools without an async runtime.
pub fn run_ready<F: core::future::Future>(future: F) -> Option<F::Output> {
    let mut future = core::pin::pin!(future);
    let mut cx = core::task::Context::from_waker(core::task::Waker::noop());
    match future.as_mut().poll(&mut cx) {
        core::task::Poll::Ready(out) => Some(out),
        core::task::Poll::Pending => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run<F: core::future::Future>(f: F) -> F::Output {
        run_ready(f).unwrap()
    }

    #[test]
    fn batches_apply_in_order_and_bump_the_generation() {
        let s = MemoryStore::new();
        let mut b = Batch::new(0);
        b.put("a/1", vec![1]).put("a/2", vec![2]).put("b/1", vec![3]).delete("a/2");
        assert_eq!(run(s.apply(b)), Ok(1));
        let scan = run(s.scan("a/")).unwrap();
        assert_eq!(scan.generation, 1);
        assert_eq!(scan.value, vec![("a/1".to_owned(), vec![1])]);
        let read = run(s.read(&["b/1", "zz"])).unwrap();
        assert_eq!(read.value, vec![Some(vec![3]), None]);
        let mut c = Batch::new(1);
        c.clear().put("c", vec![4]);
        assert_eq!(run(s.apply(c)), Ok(2));
        assert_eq!(s.keys(), vec!["c".to_owned()]);
    }

    #[test]
    fn a_stale_writer_gets_a_conflict_and_changes_nothing() {
        let tab1 = MemoryStore::new();
        let tab2 = tab1.clone();
        let mut b = Batch::new(0);
        b.put("k", vec![1]);
        run(tab1.apply(b)).unwrap();
        let mut stale = Batch::new(0);
        stale.put("k", vec![2]);
        assert_eq!(run(tab2.apply(stale)), Err(StoreError::Conflict { expected: 0, found: 1 }));
        assert_eq!(tab1.raw_get("k"), Some(vec![1]));
        assert_eq!(run(tab2.generation()), Ok(1));
    }

    #[test]
    fn interrupted_and_over_quota_batches_change_nothing() {
        let s = MemoryStore::new();
        let mut b = Batch::new(0);
        b.put("k", vec![0; 10]);
        run(s.apply(b)).unwrap();
        for after in [0, 1, 2] {
            s.interrupt_next_batch_after(after);
            let mut b = Batch::new(1);
            b.put("k", vec![1; 10]).put("j", vec![2]);
            assert_eq!(run(s.apply(b)), Err(StoreError::Interrupted));
            assert_eq!(s.keys(), vec!["k".to_owned()]);
            assert_eq!(s.raw_get("k"), Some(vec![0; 10]));
        }
        s.set_quota(Some(20));
        let mut big = Batch::new(1);
        big.put("j", vec![0; 50]);
        assert_eq!(run(s.apply(big)), Err(StoreError::QuotaExceeded));
        assert_eq!(run(s.generation()), Ok(1));
        assert_eq!(s.keys(), vec!["k".to_owned()]);
    }
}
