//! The vault's storage in the browser: [`souverain_core::vault::Storage`] over IndexedDB, and the
//! browser's persistent-storage state.
//!
//! One database (`souverain-vault` unless named otherwise) with two object stores: `entries`
//! (string key → bytes, as the session lays them out) and `meta` (the write generation, a number).
//! Each [`Batch`] is one `readwrite` transaction over both stores: the generation is read and
//! checked, the writes issued and the generation bumped inside it, and the batch counts as done
//! only on the transaction's `complete` event. So a batch is all or nothing (a tab closed before
//! `complete` leaves the previous state), and two tabs cannot both write from the same generation:
//! IndexedDB runs overlapping `readwrite` transactions one after the other, and the second finds
//! the generation moved and answers [`StoreError::Conflict`].

use std::cell::Cell;
use std::rc::Rc;

use js_sys::{Array, Uint8Array};
use souverain_core::vault::{Batch, Op, Snapshot, Storage, StoreError};
use wasm_bindgen::{JsCast as _, JsValue, closure::Closure};
use wasm_bindgen_futures::JsFuture;
use web_sys::{IdbKeyRange, IdbObjectStore, IdbTransaction, IdbTransactionMode};

use crate::idb::{Database, IdbError, committed, refused, settle};

/// The wallet's database name.
pub const DATABASE: &str = "souverain-vault";
/// Schema version of the database (object stores below).
const VERSION: u32 = 1;
/// Object store of the vault's entries.
const ENTRIES: &str = "entries";
/// Object store of the write generation.
const META: &str = "meta";
/// Key of the generation in [`META`].
const GENERATION: &str = "generation";

fn store_error(e: IdbError) -> StoreError {
    match e {
        IdbError::Unavailable | IdbError::Blocked => StoreError::Unavailable,
        IdbError::NotBytes => StoreError::Damaged,
        IdbError::Refused(name) => match name.as_str() {
            "QuotaExceededError" => StoreError::QuotaExceeded,
            "AbortError" => StoreError::Interrupted,
            // The connection was closed (the database is being deleted elsewhere).
            "InvalidStateError" => StoreError::Unavailable,
            _ => StoreError::Backend { name },
        },
    }
}

fn js_error(e: JsValue) -> StoreError {
    store_error(refused(e.dyn_into().ok()))
}

struct Inner {
    db: Database,
    /// Closes this connection when another wants to delete or upgrade the database, so that it is
    /// not blocked forever; later operations then fail as [`StoreError::Unavailable`].
    _on_version_change: Closure<dyn FnMut(web_sys::Event)>,
    /// Test fault: abort the next batch's transaction after this many writes.
    interrupt_after: Cell<Option<usize>>,
    name: String,
}

/// An IndexedDB connection holding a vault. Clones share the connection; open another to act as
/// a second tab.
#[derive(Clone)]
pub struct IdbStore {
    inner: Rc<Inner>,
}

impl IdbStore {
    /// Opens (creating if needed) the wallet's database.
    pub async fn open() -> Result<IdbStore, StoreError> {
        IdbStore::open_named(DATABASE).await
    }

    /// Opens (creating if needed) database `name` (tests use their own names).
    pub async fn open_named(name: &str) -> Result<IdbStore, StoreError> {
        let db = Database::open(name, VERSION, &[ENTRIES, META]).await.map_err(store_error)?;
        let raw = db.raw().clone();
        let on_version_change = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| raw.close());
        db.raw().set_onversionchange(Some(on_version_change.as_ref().unchecked_ref()));
        let inner = Inner {
            db,
            _on_version_change: on_version_change,
            interrupt_after: Cell::new(None),
            name: name.to_owned(),
        };
        Ok(IdbStore { inner: Rc::new(inner) })
    }

    /// Deletes the wallet's database (the citizen erases the wallet).
    pub async fn delete() -> Result<(), StoreError> {
        IdbStore::delete_named(DATABASE).await
    }

    /// Deletes database `name`. Open connections in this page close themselves first.
    pub async fn delete_named(name: &str) -> Result<(), StoreError> {
        Database::delete(name).await.map_err(store_error)
    }

    /// The database name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// For tests: aborts the next batch's transaction after `ops` of its writes were issued, as a
    /// page closed in the middle of a write. The batch fails with [`StoreError::Interrupted`].
    pub fn interrupt_next_batch_after(&self, ops: usize) {
        self.inner.interrupt_after.set(Some(ops));
    }

    fn transaction(
        &self,
        mode: IdbTransactionMode,
    ) -> Result<(IdbTransaction, IdbObjectStore, IdbObjectStore), StoreError> {
        let names = Array::of2(&JsValue::from_str(ENTRIES), &JsValue::from_str(META));
        let tx = self.inner.db.raw().transaction_with_str_sequence_and_mode(&names, mode).map_err(js_error)?;
        let entries = tx.object_store(ENTRIES).map_err(js_error)?;
        let meta = tx.object_store(META).map_err(js_error)?;
        Ok((tx, entries, meta))
    }
}

/// Issues the read of the generation; await it with [`generation_of`].
fn request_generation(meta: &IdbObjectStore) -> Result<web_sys::IdbRequest, StoreError> {
    meta.get(&JsValue::from_str(GENERATION)).map_err(js_error)
}

async fn generation_of(request: &web_sys::IdbRequest) -> Result<u64, StoreError> {
    let value = settle(request).await.map_err(store_error)?;
    if value.is_undefined() {
        return Ok(0);
    }
    match value.as_f64() {
        // Generations stay far below 2^53, where a JS number is exact.
        Some(v) if v.is_finite() && v >= 0.0 && v.fract() == 0.0 => Ok(v as u64),
        _ => Err(StoreError::Damaged),
    }
}

fn bytes_of(value: JsValue) -> Result<Vec<u8>, StoreError> {
    value.dyn_into::<Uint8Array>().map(|b| b.to_vec()).map_err(|_| StoreError::Damaged)
}

impl Storage for IdbStore {
    async fn read(&self, keys: &[&str]) -> Result<Snapshot<Vec<Option<Vec<u8>>>>, StoreError> {
        let (_tx, entries, meta) = self.transaction(IdbTransactionMode::Readonly)?;
        // Every request is issued before the first await, so all run in this one transaction.
        let generation = request_generation(&meta)?;
        let requests =
            keys.iter().map(|k| entries.get(&JsValue::from_str(k)).map_err(js_error)).collect::<Result<Vec<_>, _>>()?;
        let generation = generation_of(&generation).await?;
        let mut value = Vec::with_capacity(requests.len());
        for request in &requests {
            let v = settle(request).await.map_err(store_error)?;
            value.push(if v.is_undefined() { None } else { Some(bytes_of(v)?) });
        }
        Ok(Snapshot { generation, value })
    }

    async fn scan(&self, prefix: &str) -> Result<Snapshot<Vec<(String, Vec<u8>)>>, StoreError> {
        let (_tx, entries, meta) = self.transaction(IdbTransactionMode::Readonly)?;
        let generation = request_generation(&meta)?;
        let (keys, values) = if prefix.is_empty() {
            (entries.get_all_keys(), entries.get_all())
        } else {
            // Every string starting with `prefix` sorts between it and `prefix` + U+FFFF.
            let upper = format!("{prefix}\u{ffff}");
            let range = IdbKeyRange::bound(&JsValue::from_str(prefix), &JsValue::from_str(&upper)).map_err(js_error)?;
            (entries.get_all_keys_with_key(&range), entries.get_all_with_key(&range))
        };
        let (keys, values) = (keys.map_err(js_error)?, values.map_err(js_error)?);
        let generation = generation_of(&generation).await?;
        let keys: Array = settle(&keys).await.map_err(store_error)?.dyn_into().map_err(|_| StoreError::Damaged)?;
        let values: Array = settle(&values).await.map_err(store_error)?.dyn_into().map_err(|_| StoreError::Damaged)?;
        if keys.length() != values.length() {
            return Err(StoreError::Damaged);
        }
        let mut value = Vec::with_capacity(keys.length() as usize);
        for (k, v) in keys.iter().zip(values.iter()) {
            let k = k.as_string().ok_or(StoreError::Damaged)?;
            if k.starts_with(prefix) {
                value.push((k, bytes_of(v)?));
            }
        }
        Ok(Snapshot { generation, value })
    }

    async fn generation(&self) -> Result<u64, StoreError> {
        let (_tx, _, meta) = self.transaction(IdbTransactionMode::Readonly)?;
        generation_of(&request_generation(&meta)?).await
    }

    async fn apply(&self, batch: Batch) -> Result<u64, StoreError> {
        let interrupt_after = self.inner.interrupt_after.take();
        let (tx, entries, meta) = self.transaction(IdbTransactionMode::Readwrite)?;
        // Any early return aborts the transaction, so nothing of this batch is ever committed.
        let abort = |error: StoreError| {
            let _ = tx.abort();
            Err(error)
        };
        // Read inside this readwrite transaction: no other writer can run between this check and
        // the commit (the transaction stays active while its request callbacks chain).
        let found = match request_generation(&meta) {
            Ok(request) => match generation_of(&request).await {
                Ok(found) => found,
                Err(e) => return abort(e),
            },
            Err(e) => return abort(e),
        };
        let expected = batch.expected_generation();
        if found != expected {
            return abort(StoreError::Conflict { expected, found });
        }
        for (done, op) in batch.into_ops().into_iter().enumerate() {
            if interrupt_after == Some(done) {
                return abort(StoreError::Interrupted);
            }
            let issued = match op {
                Op::Put { key, value } => {
                    entries.put_with_key(&Uint8Array::from(value.as_slice()), &JsValue::from_str(&key))
                }
                Op::Delete { key } => entries.delete(&JsValue::from_str(&key)),
                Op::Clear => entries.clear(),
            };
            if let Err(e) = issued {
                return abort(js_error(e));
            }
        }
        if interrupt_after.is_some() {
            return abort(StoreError::Interrupted);
        }
        let next = found.saturating_add(1);
        #[allow(clippy::cast_precision_loss)] // exact below 2^53, far beyond any vault's life
        let next_js = JsValue::from_f64(next as f64);
        if let Err(e) = meta.put_with_key(&next_js, &JsValue::from_str(GENERATION)) {
            return abort(js_error(e));
        }
        committed(&tx).await.map_err(store_error)?;
        Ok(next)
    }
}

/// The browser's storage for this site: whether it is persistent (not evicted under pressure),
/// and bytes used and available.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StorageStatus {
    /// Whether the browser granted persistent storage.
    pub persisted: bool,
    /// Bytes used, if the browser says.
    pub usage: Option<u64>,
    /// Bytes this site may use, if the browser says.
    pub quota: Option<u64>,
}

fn storage_manager() -> Option<web_sys::StorageManager> {
    let navigator = web_sys::window()?.navigator();
    // `navigator.storage` is absent on insecure origins.
    let present = js_sys::Reflect::get(&navigator, &JsValue::from_str("storage")).ok()?;
    if present.is_undefined() { None } else { Some(navigator.storage()) }
}

async fn bool_of(promise: Result<js_sys::Promise, JsValue>) -> bool {
    match promise {
        Ok(p) => JsFuture::from(p).await.ok().and_then(|v| v.as_bool()).unwrap_or(false),
        Err(_) => false,
    }
}

fn bytes_count(v: Option<f64>) -> Option<u64> {
    v.filter(|v| v.is_finite() && *v >= 0.0).map(|v| v as u64)
}

async fn status_with(manager: &web_sys::StorageManager, persisted: bool) -> StorageStatus {
    let estimate = match manager.estimate() {
        Ok(p) => JsFuture::from(p).await.ok().map(web_sys::StorageEstimate::unchecked_from_js),
        Err(_) => None,
    };
    StorageStatus {
        persisted,
        usage: estimate.as_ref().and_then(|e| bytes_count(e.get_usage())),
        quota: estimate.as_ref().and_then(|e| bytes_count(e.get_quota())),
    }
}

/// Asks the browser for persistent storage (`navigator.storage.persist()`; browsers grant it
/// without a prompt or not at all, and asking again is harmless), then reports it with usage and
/// quota. Where the browser offers no storage manager, everything is unknown and not persistent.
pub async fn storage_status() -> StorageStatus {
    let Some(manager) = storage_manager() else { return StorageStatus::default() };
    let persisted = bool_of(manager.persist()).await;
    status_with(&manager, persisted).await
}

/// Reports persistence, usage and quota without asking for anything (`persisted()`).
pub async fn current_storage_status() -> StorageStatus {
    let Some(manager) = storage_manager() else { return StorageStatus::default() };
    let persisted = bool_of(manager.persisted()).await;
    status_with(&manager, persisted).await
}
