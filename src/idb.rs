//! A thin, promise-based layer over IndexedDB: open a database with its object stores, and read
//! and write byte values in transactions that are awaited until committed.
//!
//! Each write waits for the transaction's `complete` event, not just the request's `success`: only
//! then has the browser committed it, so an acknowledged write survives a closed tab.

use js_sys::{Promise, Uint8Array};
use wasm_bindgen::{JsCast as _, JsValue, closure::Closure};
use wasm_bindgen_futures::JsFuture;
use web_sys::{IdbDatabase, IdbRequest, IdbTransaction, IdbTransactionMode};

/// Why an IndexedDB operation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum IdbError {
    /// The browser offers no IndexedDB (private mode in some browsers, or no window).
    Unavailable,
    /// Another tab holds an older version of the database open and did not close it.
    Blocked,
    /// The browser refused the operation; the DOMException name (`QuotaExceededError`, ...).
    Refused(String),
    /// A stored value was not a byte array: written by something else than this layer.
    NotBytes,
}

impl core::fmt::Display for IdbError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            IdbError::Unavailable => f.write_str("IndexedDB is not available"),
            IdbError::Blocked => f.write_str("the database is held open by another tab"),
            IdbError::Refused(name) => write!(f, "IndexedDB refused the operation: {name}"),
            IdbError::NotBytes => f.write_str("a stored value is not a byte array"),
        }
    }
}

impl std::error::Error for IdbError {}

/// The DOMException name carried by a failed request or transaction, or a generic one.
pub(crate) fn refused(error: Option<web_sys::DomException>) -> IdbError {
    IdbError::Refused(error.map_or_else(|| "UnknownError".to_owned(), |e| e.name()))
}

/// Awaits a request's `success` (resolved) or `error` (rejected) event.
pub(crate) async fn settle(request: &IdbRequest) -> Result<JsValue, IdbError> {
    let done = Promise::new(&mut |resolve, reject| {
        request.set_onsuccess(Some(&resolve));
        request.set_onerror(Some(&reject));
    });
    let outcome = JsFuture::from(done).await;
    request.set_onsuccess(None);
    request.set_onerror(None);
    match outcome {
        Ok(_) => request.result().map_err(|_| refused(request.error().ok().flatten())),
        Err(_) => Err(refused(request.error().ok().flatten())),
    }
}

/// Awaits a transaction's `complete` event; `error` and `abort` reject.
pub(crate) async fn committed(tx: &IdbTransaction) -> Result<(), IdbError> {
    let done = Promise::new(&mut |resolve, reject| {
        tx.set_oncomplete(Some(&resolve));
        tx.set_onerror(Some(&reject));
        tx.set_onabort(Some(&reject));
    });
    let outcome = JsFuture::from(done).await;
    tx.set_oncomplete(None);
    tx.set_onerror(None);
    tx.set_onabort(None);
    outcome.map(|_| ()).map_err(|_| refused(tx.error()))
}

/// An open IndexedDB database. Closed when dropped.
pub struct Database {
    db: IdbDatabase,
}

impl Database {
    /// The underlying IndexedDB connection, for the vault store's multi-store transactions.
    pub(crate) fn raw(&self) -> &IdbDatabase {
        &self.db
    }

    /// Opens (creating if needed) database `name` at `version`, creating any of `stores` that do
    /// not exist yet during the upgrade.
    pub async fn open(name: &str, version: u32, stores: &[&str]) -> Result<Database, IdbError> {
        let factory = web_sys::window().and_then(|w| w.indexed_db().ok().flatten()).ok_or(IdbError::Unavailable)?;
        let request = factory.open_with_u32(name, version).map_err(|_| IdbError::Unavailable)?;
        let wanted: Vec<String> = stores.iter().map(|s| (*s).to_owned()).collect();
        let upgrade_request = request.clone();
        let on_upgrade = Closure::<dyn FnMut(web_sys::IdbVersionChangeEvent)>::new(move |_| {
            let Ok(result) = upgrade_request.result() else { return };
            let db: IdbDatabase = result.unchecked_into();
            let existing = db.object_store_names();
            for store in &wanted {
                if !existing.contains(store) {
                    // A failure aborts the upgrade, which then rejects the open request below.
                    let _ = db.create_object_store(store);
                }
            }
        });
        request.set_onupgradeneeded(Some(on_upgrade.as_ref().unchecked_ref()));
        let blocked = Promise::new(&mut |resolve, _| request.set_onblocked(Some(&resolve)));
        let opened = settle(&request);
        let outcome = futures_select(opened, JsFuture::from(blocked)).await;
        request.set_onupgradeneeded(None);
        request.set_onblocked(None);
        drop(on_upgrade);
        match outcome {
            Some(result) => Ok(Database { db: result?.unchecked_into() }),
            None => Err(IdbError::Blocked),
        }
    }

    /// Writes `value` under `key` in `store` and returns once the transaction is committed.
    pub async fn put(&self, store: &str, key: &str, value: &[u8]) -> Result<(), IdbError> {
        let tx = self
            .db
            .transaction_with_str_and_mode(store, IdbTransactionMode::Readwrite)
            .map_err(|e| refused(e.dyn_into().ok()))?;
        let object_store = tx.object_store(store).map_err(|e| refused(e.dyn_into().ok()))?;
        let bytes = Uint8Array::from(value);
        object_store.put_with_key(&bytes, &JsValue::from_str(key)).map_err(|e| refused(e.dyn_into().ok()))?;
        committed(&tx).await
    }

    /// Reads the value under `key` in `store`, `None` when absent.
    pub async fn get(&self, store: &str, key: &str) -> Result<Option<Vec<u8>>, IdbError> {
        let tx = self.db.transaction_with_str(store).map_err(|e| refused(e.dyn_into().ok()))?;
        let object_store = tx.object_store(store).map_err(|e| refused(e.dyn_into().ok()))?;
        let request = object_store.get(&JsValue::from_str(key)).map_err(|e| refused(e.dyn_into().ok()))?;
        let value = settle(&request).await?;
        if value.is_undefined() {
            return Ok(None);
        }
        let bytes: Uint8Array = value.dyn_into().map_err(|_| IdbError::NotBytes)?;
        Ok(Some(bytes.to_vec()))
    }

    /// Deletes database `name` entirely (used when the citizen deletes the wallet, and by tests).
    pub async fn delete(name: &str) -> Result<(), IdbError> {
        let factory = web_sys::window().and_then(|w| w.indexed_db().ok().flatten()).ok_or(IdbError::Unavailable)?;
        let request = factory.delete_database(name).map_err(|e| refused(e.dyn_into().ok()))?;
        settle(&request).await.map(|_| ())
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        self.db.close();
    }
}

/// Awaits whichever of the open request or the `blocked` event comes first: `None` when blocked.
async fn futures_select<A, B>(opened: A, blocked: B) -> Option<Result<JsValue, IdbError>>
where
    A: core::future::Future<Output = Result<JsValue, IdbError>>,
    B: core::future::Future<Output = Result<JsValue, JsValue>>,
{
    use core::pin::pin;
    use core::task::Poll;
    let mut opened = pin!(opened);
    let mut blocked = pin!(blocked);
    core::future::poll_fn(|cx| {
        if let Poll::Ready(result) = opened.as_mut().poll(cx) {
            return Poll::Ready(Some(result));
        }
        if blocked.as_mut().poll(cx).is_ready() {
            return Poll::Ready(None);
        }
        Poll::Pending
    })
    .await
}
