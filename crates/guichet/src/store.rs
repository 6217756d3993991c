//! Storage: the [`Store`] trait the handlers use, and its SQLite implementation.
//!
//! The trait is synchronous and called from `spawn_blocking`, so that a PostgreSQL implementation
//! (through a blocking client or its own pool) can replace SQLite without touching the handlers.
//! Every method that writes commits before returning: the HTTP answer is sent after that.
//!
//! SQLite runs in WAL mode with `synchronous=FULL`: each commit is fsynced to the WAL, so an
//! answered exchange survives a crash of the process *and* of the machine (NORMAL would survive the
//! process only). Writes are serialized on one connection behind a mutex; the exchange's crypto is
//! verified before taking it.

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension as _, TransactionBehavior, params};

/// A storage failure. Its text never reaches HTTP clients.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// SQLite said no.
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A previous panic poisoned the connection's lock.
    #[error("database lock poisoned")]
    Poisoned,
    /// The database was written by a newer guichet.
    #[error("database schema version {0} is newer than this guichet's")]
    TooNew(i64),
}

/// An offer row.
#[derive(Debug, Clone)]
pub struct Offer {
    /// The pre-authorized code.
    pub code: String,
    /// Credential configuration id.
    pub config_id: String,
    /// The citizen's claims (JSON object text).
    pub claims: String,
    /// A label for the agent pages.
    pub label: String,
}

/// An issued credential, for the agent pages.
#[derive(Debug, Clone)]
pub struct IssuedCredential {
    /// Row id.
    pub id: i64,
    /// Status list index.
    pub status_idx: u64,
    /// Credential type.
    pub vct: String,
    /// Label.
    pub label: String,
    /// Issued at.
    pub issued_at: i64,
    /// Revoked at.
    pub revoked_at: Option<i64>,
}

/// A presentation request row.
#[derive(Debug, Clone)]
pub struct RequestRow {
    /// Id (in request_uri and response_uri).
    pub id: String,
    /// Service id.
    pub service: String,
    /// Purpose id.
    pub purpose: String,
    /// Nonce.
    pub nonce: String,
    /// State.
    pub state: String,
    /// The signed request object.
    pub jwt: String,
    /// Issued at.
    pub iat: i64,
    /// Expires at.
    pub exp: i64,
    /// The grant received, once verified.
    pub grant_id: Option<String>,
}

/// A verified exchange to record atomically.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// Request id.
    pub request_id: String,
    /// Verifier client_id.
    pub client_id: String,
    /// Request nonce.
    pub nonce: String,
    /// Grant record id.
    pub grant_id: String,
    /// Service id.
    pub service: String,
    /// Purposes (JSON array of DPV IRIs).
    pub purposes: String,
    /// The grant JWS.
    pub grant_jwt: String,
    /// The holder's public JWK (JSON).
    pub holder_jwk: String,
    /// SHA-256 of the vp_token.
    pub vp_token_sha256: String,
    /// Grant validity end.
    pub valid_until: i64,
    /// The service's receipt for the grant.
    pub receipt_jwt: String,
    /// Received at.
    pub now: i64,
    /// Verified claims: (query id, vct, claims JSON).
    pub claims: Vec<(String, String, String)>,
}

/// A grant row.
#[derive(Debug, Clone)]
pub struct GrantRow {
    /// Record id.
    pub id: String,
    /// Service id.
    pub service: String,
    /// Request id.
    pub request_id: String,
    /// Purposes (JSON array of DPV IRIs).
    pub purposes: String,
    /// The grant JWS.
    pub grant_jwt: String,
    /// Holder public JWK (JSON).
    pub holder_jwk: String,
    /// Client id it was given to.
    pub client_id: String,
    /// Exchange nonce.
    pub nonce: String,
    /// vp_token hash.
    pub vp_token_sha256: String,
    /// Validity end.
    pub valid_until: i64,
    /// `given` or `withdrawn`.
    pub state: String,
    /// Received at.
    pub received_at: i64,
    /// Withdrawn at.
    pub withdrawn_at: Option<i64>,
    /// Receipt of the grant.
    pub receipt_jwt: String,
    /// Receipt of the withdrawal.
    pub withdrawal_receipt_jwt: Option<String>,
}

/// The storage the guichet needs.
pub trait Store: Send + Sync {
    /// Stores a new offer.
    fn create_offer(&self, offer: &Offer, now: i64, expires_at: i64) -> Result<(), StoreError>;
    /// Redeems an unexpired, unredeemed offer code for `token`; `false` if there is none.
    fn redeem_offer(&self, code: &str, token: &str, now: i64, token_expires_at: i64) -> Result<bool, StoreError>;
    /// The offer behind a valid access token that has not yet received its credential.
    fn offer_for_token(&self, token: &str, now: i64) -> Result<Option<Offer>, StoreError>;
    /// Stores a fresh c_nonce.
    fn create_c_nonce(&self, nonce: &str, expires_at: i64) -> Result<(), StoreError>;
    /// Consumes an unexpired c_nonce; `false` if unknown, expired or used.
    fn consume_c_nonce(&self, nonce: &str, now: i64) -> Result<bool, StoreError>;
    /// Records the credential issued for `offer` (once per offer) at a free status index chosen by
    /// `pick` (retried on collision). `None` if the offer already got its credential.
    fn record_credential(
        &self,
        offer: &Offer,
        vct: &str,
        holder: &str,
        now: i64,
        pick: &mut dyn FnMut() -> u64,
    ) -> Result<Option<u64>, StoreError>;
    /// Marks the credential at `status_idx` revoked; `false` if unknown or already revoked.
    fn revoke(&self, status_idx: u64, now: i64) -> Result<bool, StoreError>;
    /// Status indexes of revoked credentials.
    fn revoked(&self) -> Result<Vec<u64>, StoreError>;
    /// Whether the credential at `status_idx` is revoked (`None`: unknown index).
    fn is_revoked(&self, status_idx: u64) -> Result<Option<bool>, StoreError>;
    /// Recent credentials, newest first.
    fn credentials(&self, limit: u32) -> Result<Vec<IssuedCredential>, StoreError>;
    /// Stores a new presentation request.
    fn create_request(&self, request: &RequestRow) -> Result<(), StoreError>;
    /// A request by id.
    fn request(&self, id: &str) -> Result<Option<RequestRow>, StoreError>;
    /// Whether the nonce was already used (read only; the atomic check is in `record_exchange`).
    fn nonce_used(&self, client_id: &str, nonce: &str) -> Result<bool, StoreError>;
    /// Records a verified exchange in one transaction; the nonce's first use is the atomic
    /// insert-if-absent. `false`: the nonce was already used (replay), nothing written.
    fn record_exchange(&self, exchange: &Exchange) -> Result<bool, StoreError>;
    /// A grant by record id.
    fn grant(&self, id: &str) -> Result<Option<GrantRow>, StoreError>;
    /// Claims received under a grant: (query id, vct, claims JSON).
    fn claims(&self, grant_id: &str) -> Result<Vec<(String, String, String)>, StoreError>;
    /// Marks a given grant withdrawn and schedules (or performs, when `erase_at <= now`) the
    /// erasure of its claims; `false` if it was not in state `given`.
    fn withdraw(
        &self,
        grant_id: &str,
        withdrawal_jwt: &str,
        receipt_jwt: &str,
        now: i64,
        erase_at: i64,
    ) -> Result<bool, StoreError>;
    /// Erases claims whose erasure date has come; returns how many.
    fn purge(&self, now: i64) -> Result<usize, StoreError>;
    /// Grants of a service, newest first.
    fn grants_of(&self, service: &str, limit: u32) -> Result<Vec<GrantRow>, StoreError>;
}

/// Schema migrations, applied in order; `PRAGMA user_version` is the number applied.
const MIGRATIONS: &[&str] = &[r"
CREATE TABLE offers (
  code TEXT PRIMARY KEY, config_id TEXT NOT NULL, claims TEXT NOT NULL, label TEXT NOT NULL,
  created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,
  access_token TEXT UNIQUE, token_expires_at INTEGER, credential_id INTEGER
);
CREATE TABLE c_nonces (nonce TEXT PRIMARY KEY, expires_at INTEGER NOT NULL);
CREATE TABLE credentials (
  id INTEGER PRIMARY KEY AUTOINCREMENT, status_idx INTEGER NOT NULL UNIQUE, vct TEXT NOT NULL,
  label TEXT NOT NULL, offer_code TEXT NOT NULL UNIQUE, holder TEXT NOT NULL,
  issued_at INTEGER NOT NULL, revoked_at INTEGER
);
CREATE TABLE requests (
  id TEXT PRIMARY KEY, service TEXT NOT NULL, purpose TEXT NOT NULL, nonce TEXT NOT NULL UNIQUE,
  state TEXT NOT NULL, jwt TEXT NOT NULL, iat INTEGER NOT NULL, exp INTEGER NOT NULL, grant_id TEXT
);
CREATE TABLE seen_nonces (
  client_id TEXT NOT NULL, nonce TEXT NOT NULL, used_at INTEGER NOT NULL, PRIMARY KEY (client_id, nonce)
);
CREATE TABLE grants (
  id TEXT PRIMARY KEY, service TEXT NOT NULL, request_id TEXT NOT NULL UNIQUE, purposes TEXT NOT NULL,
  grant_jwt TEXT NOT NULL, holder_jwk TEXT NOT NULL, client_id TEXT NOT NULL, nonce TEXT NOT NULL,
  vp_token_sha256 TEXT NOT NULL, valid_until INTEGER NOT NULL, state TEXT NOT NULL,
  received_at INTEGER NOT NULL, withdrawn_at INTEGER, withdrawal_jwt TEXT,
  receipt_jwt TEXT NOT NULL, withdrawal_receipt_jwt TEXT
);
CREATE INDEX grants_service ON grants (service, received_at);
CREATE TABLE received_claims (
  grant_id TEXT NOT NULL REFERENCES grants (id), query_id TEXT NOT NULL, vct TEXT NOT NULL,
  claims TEXT NOT NULL, erase_at INTEGER
);
CREATE INDEX received_claims_grant ON received_claims (grant_id);
"];

/// SQLite behind one mutex-guarded connection.
pub struct SqliteStore {
    conn: Mutex<Connection>,
}

fn pragmas(conn: &Connection) -> Result<(), rusqlite::Error> {
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(())
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and applies pending migrations.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let mut conn = Connection::open(path)?;
        pragmas(&conn)?;
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        let known = i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX);
        if version > known {
            return Err(StoreError::TooNew(version));
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(usize::try_from(version).unwrap_or(0)) {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", i + 1)?;
            tx.commit()?;
        }
        Ok(SqliteStore { conn: Mutex::new(conn) })
    }

    fn with<T>(&self, f: impl FnOnce(&mut Connection) -> Result<T, rusqlite::Error>) -> Result<T, StoreError> {
        let mut conn = self.conn.lock().map_err(|_| StoreError::Poisoned)?;
        Ok(f(&mut conn)?)
    }
}

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn grant_row(r: &rusqlite::Row<'_>) -> Result<GrantRow, rusqlite::Error> {
    Ok(GrantRow {
        id: r.get(0)?,
        service: r.get(1)?,
        request_id: r.get(2)?,
        purposes: r.get(3)?,
        grant_jwt: r.get(4)?,
        holder_jwk: r.get(5)?,
        client_id: r.get(6)?,
        nonce: r.get(7)?,
        vp_token_sha256: r.get(8)?,
        valid_until: r.get(9)?,
        state: r.get(10)?,
        received_at: r.get(11)?,
        withdrawn_at: r.get(12)?,
        receipt_jwt: r.get(13)?,
        withdrawal_receipt_jwt: r.get(14)?,
    })
}

const GRANT_COLUMNS: &str = "id, service, request_id, purposes, grant_jwt, holder_jwk, client_id, nonce, \
     vp_token_sha256, valid_until, state, received_at, withdrawn_at, receipt_jwt, withdrawal_receipt_jwt";

impl Store for SqliteStore {
    fn create_offer(&self, offer: &Offer, now: i64, expires_at: i64) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO offers (code, config_id, claims, label, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![offer.code, offer.config_id, offer.claims, offer.label, now, expires_at],
            )
            .map(drop)
        })
    }

    fn redeem_offer(&self, code: &str, token: &str, now: i64, token_expires_at: i64) -> Result<bool, StoreError> {
        self.with(|c| {
            let n = c.execute(
                "UPDATE offers SET access_token = ?2, token_expires_at = ?4
                 WHERE code = ?1 AND access_token IS NULL AND expires_at > ?3",
                params![code, token, now, token_expires_at],
            )?;
            Ok(n == 1)
        })
    }

    fn offer_for_token(&self, token: &str, now: i64) -> Result<Option<Offer>, StoreError> {
        self.with(|c| {
            c.query_row(
                "SELECT code, config_id, claims, label FROM offers
                 WHERE access_token = ?1 AND token_expires_at > ?2 AND credential_id IS NULL",
                params![token, now],
                |r| Ok(Offer { code: r.get(0)?, config_id: r.get(1)?, claims: r.get(2)?, label: r.get(3)? }),
            )
            .optional()
        })
    }

    fn create_c_nonce(&self, nonce: &str, expires_at: i64) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute("INSERT INTO c_nonces (nonce, expires_at) VALUES (?1, ?2)", params![nonce, expires_at]).map(drop)
        })
    }

    fn consume_c_nonce(&self, nonce: &str, now: i64) -> Result<bool, StoreError> {
        self.with(|c| {
            // Expired nonces go as well, so the table does not grow.
            c.execute("DELETE FROM c_nonces WHERE expires_at <= ?1 AND nonce <> ?2", params![now, nonce])?;
            let n = c.execute("DELETE FROM c_nonces WHERE nonce = ?1 AND expires_at > ?2", params![nonce, now])?;
            Ok(n == 1)
        })
    }

    fn record_credential(
        &self,
        offer: &Offer,
        vct: &str,
        holder: &str,
        now: i64,
        pick: &mut dyn FnMut() -> u64,
    ) -> Result<Option<u64>, StoreError> {
        self.with(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let taken: Option<Option<i64>> = tx
                .query_row("SELECT credential_id FROM offers WHERE code = ?1", params![offer.code], |r| r.get(0))
                .optional()?;
            if !matches!(taken, Some(None)) {
                return Ok(None);
            }
            let mut idx = pick();
            for _ in 0..64 {
                let used: bool = tx.query_row(
                    "SELECT EXISTS (SELECT 1 FROM credentials WHERE status_idx = ?1)",
                    params![to_i64(idx)],
                    |r| r.get(0),
                )?;
                if !used {
                    break;
                }
                idx = pick();
            }
            tx.execute(
                "INSERT INTO credentials (status_idx, vct, label, offer_code, holder, issued_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![to_i64(idx), vct, offer.label, offer.code, holder, now],
            )?;
            let id = tx.last_insert_rowid();
            tx.execute("UPDATE offers SET credential_id = ?2 WHERE code = ?1", params![offer.code, id])?;
            tx.commit()?;
            Ok(Some(idx))
        })
    }

    fn revoke(&self, status_idx: u64, now: i64) -> Result<bool, StoreError> {
        self.with(|c| {
            let n = c.execute(
                "UPDATE credentials SET revoked_at = ?2 WHERE status_idx = ?1 AND revoked_at IS NULL",
                params![to_i64(status_idx), now],
            )?;
            Ok(n == 1)
        })
    }

    fn revoked(&self) -> Result<Vec<u64>, StoreError> {
        self.with(|c| {
            let mut st = c.prepare_cached("SELECT status_idx FROM credentials WHERE revoked_at IS NOT NULL")?;
            let rows = st.query_map([], |r| r.get::<_, i64>(0))?;
            rows.map(|r| r.map(|v| u64::try_from(v).unwrap_or(0))).collect()
        })
    }

    fn is_revoked(&self, status_idx: u64) -> Result<Option<bool>, StoreError> {
        self.with(|c| {
            c.query_row(
                "SELECT revoked_at IS NOT NULL FROM credentials WHERE status_idx = ?1",
                params![to_i64(status_idx)],
                |r| r.get(0),
            )
            .optional()
        })
    }

    fn credentials(&self, limit: u32) -> Result<Vec<IssuedCredential>, StoreError> {
        self.with(|c| {
            let mut st = c.prepare_cached(
                "SELECT id, status_idx, vct, label, issued_at, revoked_at FROM credentials ORDER BY id DESC LIMIT ?1",
            )?;
            let rows = st.query_map(params![limit], |r| {
                Ok(IssuedCredential {
                    id: r.get(0)?,
                    status_idx: u64::try_from(r.get::<_, i64>(1)?).unwrap_or(0),
                    vct: r.get(2)?,
                    label: r.get(3)?,
                    issued_at: r.get(4)?,
                    revoked_at: r.get(5)?,
                })
            })?;
            rows.collect()
        })
    }

    fn create_request(&self, q: &RequestRow) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO requests (id, service, purpose, nonce, state, jwt, iat, exp) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![q.id, q.service, q.purpose, q.nonce, q.state, q.jwt, q.iat, q.exp],
            )
            .map(drop)
        })
    }

    fn request(&self, id: &str) -> Result<Option<RequestRow>, StoreError> {
        self.with(|c| {
            c.query_row(
                "SELECT id, service, purpose, nonce, state, jwt, iat, exp, grant_id FROM requests WHERE id = ?1",
                params![id],
                |r| {
                    Ok(RequestRow {
                        id: r.get(0)?,
                        service: r.get(1)?,
                        purpose: r.get(2)?,
                        nonce: r.get(3)?,
                        state: r.get(4)?,
                        jwt: r.get(5)?,
                        iat: r.get(6)?,
                        exp: r.get(7)?,
                        grant_id: r.get(8)?,
                    })
                },
            )
            .optional()
        })
    }

    fn nonce_used(&self, client_id: &str, nonce: &str) -> Result<bool, StoreError> {
        self.with(|c| {
            c.query_row(
                "SELECT EXISTS (SELECT 1 FROM seen_nonces WHERE client_id = ?1 AND nonce = ?2)",
                params![client_id, nonce],
                |r| r.get(0),
            )
        })
    }

    fn record_exchange(&self, e: &Exchange) -> Result<bool, StoreError> {
        self.with(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let first = tx.execute(
                "INSERT OR IGNORE INTO seen_nonces (client_id, nonce, used_at) VALUES (?1, ?2, ?3)",
                params![e.client_id, e.nonce, e.now],
            )?;
            if first != 1 {
                return Ok(false);
            }
            tx.execute(
                "INSERT INTO grants (id, service, request_id, purposes, grant_jwt, holder_jwk, client_id, nonce,
                   vp_token_sha256, valid_until, state, received_at, receipt_jwt)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 'given', ?11, ?12)",
                params![
                    e.grant_id,
                    e.service,
                    e.request_id,
                    e.purposes,
                    e.grant_jwt,
                    e.holder_jwk,
                    e.client_id,
                    e.nonce,
                    e.vp_token_sha256,
                    e.valid_until,
                    e.now,
                    e.receipt_jwt
                ],
            )?;
            for (query, vct, claims) in &e.claims {
                tx.execute(
                    "INSERT INTO received_claims (grant_id, query_id, vct, claims) VALUES (?1, ?2, ?3, ?4)",
                    params![e.grant_id, query, vct, claims],
                )?;
            }
            tx.execute("UPDATE requests SET grant_id = ?2 WHERE id = ?1", params![e.request_id, e.grant_id])?;
            tx.commit()?;
            Ok(true)
        })
    }

    fn grant(&self, id: &str) -> Result<Option<GrantRow>, StoreError> {
        self.with(|c| {
            c.query_row(&format!("SELECT {GRANT_COLUMNS} FROM grants WHERE id = ?1"), params![id], grant_row).optional()
        })
    }

    fn claims(&self, grant_id: &str) -> Result<Vec<(String, String, String)>, StoreError> {
        self.with(|c| {
            let mut st = c.prepare_cached(
                "SELECT query_id, vct, claims FROM received_claims WHERE grant_id = ?1 ORDER BY rowid",
            )?;
            let rows = st.query_map(params![grant_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            rows.collect()
        })
    }

    fn withdraw(
        &self,
        grant_id: &str,
        withdrawal_jwt: &str,
        receipt_jwt: &str,
        now: i64,
        erase_at: i64,
    ) -> Result<bool, StoreError> {
        self.with(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let n = tx.execute(
                "UPDATE grants SET state = 'withdrawn', withdrawn_at = ?2, withdrawal_jwt = ?3, withdrawal_receipt_jwt = ?4
                 WHERE id = ?1 AND state = 'given'",
                params![grant_id, now, withdrawal_jwt, receipt_jwt],
            )?;
            if n != 1 {
                return Ok(false);
            }
            if erase_at <= now {
                tx.execute("DELETE FROM received_claims WHERE grant_id = ?1", params![grant_id])?;
            } else {
                tx.execute("UPDATE received_claims SET erase_at = ?2 WHERE grant_id = ?1", params![grant_id, erase_at])?;
            }
            tx.commit()?;
            Ok(true)
        })
    }

    fn purge(&self, now: i64) -> Result<usize, StoreError> {
        self.with(|c| {
            c.execute("DELETE FROM received_claims WHERE erase_at IS NOT NULL AND erase_at <= ?1", params![now])
        })
    }

    fn grants_of(&self, service: &str, limit: u32) -> Result<Vec<GrantRow>, StoreError> {
        self.with(|c| {
            let mut st = c.prepare_cached(&format!(
                "SELECT {GRANT_COLUMNS} FROM grants WHERE service = ?1 ORDER BY received_at DESC LIMIT ?2"
            ))?;
            let rows = st.query_map(params![service, limit], grant_row)?;
            rows.collect()
        })
    }
}
