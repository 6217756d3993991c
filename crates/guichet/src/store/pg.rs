//! The PostgreSQL [`Store`]: several guichet processes share one database.
//!
//! Same schema steps and semantics as [`SqliteStore`](super::SqliteStore), made safe for
//! concurrent processes by PostgreSQL itself rather than by one mutex:
//!
//! - each connection runs with `synchronous_commit = on`: a commit returns once its WAL is flushed,
//!   so every write is durable before the method returns (and before the HTTP answer);
//! - replays are decided by unique constraints (`INSERT ... ON CONFLICT DO NOTHING` on the spent
//!   nonce, in the exchange's one transaction): a second process inserting the same nonce waits for
//!   the first to commit, then inserts nothing;
//! - the offer's row is locked (`SELECT ... FOR UPDATE`) while its transaction code is checked and
//!   counted, and while its credential is recorded: one credential per offer, a counter that never
//!   loses an attempt;
//! - the erasure job runs under a transaction-level advisory lock taken without waiting: when two
//!   processes start it at once, one erases and records, the other finds the lock taken and skips
//!   that tick;
//! - migrations run under a waiting advisory lock, so two processes starting at once migrate once;
//! - appends to the data-use log lock its one `log_head` row (`FOR UPDATE`), then the grant's row:
//!   processes append one after the other to one tree, never a fork (a withdrawal takes the head
//!   before its grant's row too, the same order, so the two cannot deadlock).
//!
//! Advisory locks are keyed on the current schema, so that guichets in different schemas of one
//! database (the tests) do not wait for each other.
//!
//! PostgreSQL has no `secure_delete`: a deleted row stays in its page as a dead tuple until
//! `VACUUM`, which the erasure job runs on the tables it erased from (docs/guichet.md says what
//! remains after that).

use std::time::Duration;

use postgres::{NoTls, Row, Transaction};
use r2d2_postgres::PostgresConnectionManager;

use super::{
    AgentSessionRow, CitizenOffer, CredentialQuery, Decided, EmergencyPlanRow, Erased, ErasedGrant, ErasureRow,
    Exchange, GrantRow, IssuedCredential, MAX_TX_CODE_ATTEMPTS, Objection, Offer, RectificationChoice,
    RectificationRow, Redeemed, RequestRow, Retention, Store, StoreError, StoredCheckpoint, bytes32, claim_names,
    constant_time_eq, to_i64,
};
use crate::data_log::{Appended, LogEvent, LogGrant, LogSigner, LogTx, append_in};

type Pool = r2d2::Pool<PostgresConnectionManager<NoTls>>;
type Client = r2d2::PooledConnection<PostgresConnectionManager<NoTls>>;

/// Connections kept at most per guichet process: enough for tokio's blocking threads to overlap
/// their round trips, few enough for several processes under PostgreSQL's default of 100.
const POOL_SIZE: u32 = 16;

/// The schema steps of [`super::MIGRATIONS`], in PostgreSQL's dialect (BIGINT for SQLite's
/// INTEGER, identity columns for AUTOINCREMENT, an explicit id where SQLite used its rowid).
/// The version applied is kept in `schema_version`.
const MIGRATIONS: &[&str] = &[
    r"
CREATE TABLE offers (
  code TEXT PRIMARY KEY, config_id TEXT NOT NULL, claims TEXT NOT NULL, label TEXT NOT NULL,
  created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL,
  access_token TEXT UNIQUE, token_expires_at BIGINT, credential_id BIGINT
);
CREATE TABLE c_nonces (nonce TEXT PRIMARY KEY, expires_at BIGINT NOT NULL);
CREATE TABLE credentials (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, status_idx BIGINT NOT NULL UNIQUE, vct TEXT NOT NULL,
  label TEXT NOT NULL, offer_code TEXT NOT NULL UNIQUE, holder TEXT NOT NULL,
  issued_at BIGINT NOT NULL, revoked_at BIGINT
);
CREATE TABLE requests (
  id TEXT PRIMARY KEY, service TEXT NOT NULL, purpose TEXT NOT NULL, nonce TEXT NOT NULL UNIQUE,
  state TEXT NOT NULL, jwt TEXT NOT NULL, iat BIGINT NOT NULL, exp BIGINT NOT NULL, grant_id TEXT
);
CREATE TABLE seen_nonces (
  client_id TEXT NOT NULL, nonce TEXT NOT NULL, used_at BIGINT NOT NULL, PRIMARY KEY (client_id, nonce)
);
CREATE TABLE grants (
  id TEXT PRIMARY KEY, service TEXT NOT NULL, request_id TEXT NOT NULL UNIQUE, purposes TEXT NOT NULL,
  grant_jwt TEXT NOT NULL, holder_jwk TEXT NOT NULL, client_id TEXT NOT NULL, nonce TEXT NOT NULL,
  vp_token_sha256 TEXT NOT NULL, valid_until BIGINT NOT NULL, state TEXT NOT NULL,
  received_at BIGINT NOT NULL, withdrawn_at BIGINT, withdrawal_jwt TEXT,
  receipt_jwt TEXT NOT NULL, withdrawal_receipt_jwt TEXT
);
CREATE INDEX grants_service ON grants (service, received_at);
CREATE TABLE received_claims (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  grant_id TEXT NOT NULL REFERENCES grants (id), query_id TEXT NOT NULL, vct TEXT NOT NULL,
  claims TEXT NOT NULL, erase_at BIGINT
);
CREATE INDEX received_claims_grant ON received_claims (grant_id);
",
    r"
ALTER TABLE offers ADD COLUMN tx_code_sha256 TEXT;
ALTER TABLE offers ADD COLUMN tx_attempts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE offers ADD COLUMN proof_sha256 TEXT;
ALTER TABLE offers ADD COLUMN credential TEXT;
ALTER TABLE grants ADD COLUMN erasure_by BIGINT;
-- Rows written before this migration: the grant's end of validity is the end of its retention.
UPDATE grants SET erasure_by = valid_until;
UPDATE received_claims SET erase_at = (SELECT g.erasure_by FROM grants g WHERE g.id = received_claims.grant_id)
  WHERE erase_at IS NULL;
CREATE INDEX received_claims_erase ON received_claims (erase_at);
CREATE TABLE erasures (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, at BIGINT NOT NULL, what TEXT NOT NULL, grant_id TEXT,
  rows BIGINT NOT NULL
);
",
    r"
CREATE TABLE agent_sessions (
  id_sha256 TEXT PRIMARY KEY, issuer TEXT NOT NULL, subject TEXT NOT NULL, display_name TEXT NOT NULL,
  claims TEXT NOT NULL, id_token TEXT NOT NULL, created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL,
  idle_until BIGINT NOT NULL
);
",
    // The data-use log; `log_head`'s one row is locked (`FOR UPDATE`) by every append, so that
    // guichet processes sharing the database append one after the other to one tree.
    r"
ALTER TABLE grants ADD COLUMN log_secret BYTEA;
ALTER TABLE grants ADD COLUMN event_key BYTEA;
ALTER TABLE grants ADD COLUMN event_seed BYTEA;
ALTER TABLE grants ADD COLUMN log_next_seq BIGINT NOT NULL DEFAULT 0;
CREATE TABLE log_head (id BIGINT PRIMARY KEY CHECK (id = 1), size BIGINT NOT NULL);
INSERT INTO log_head (id, size) VALUES (1, 0);
CREATE TABLE log_entries (idx BIGINT PRIMARY KEY, entry BYTEA NOT NULL);
CREATE TABLE log_hashes (idx BIGINT PRIMARY KEY, hash BYTEA NOT NULL);
CREATE TABLE log_events (
  idx BIGINT PRIMARY KEY, grant_id TEXT, kind TEXT NOT NULL, sealed BYTEA, erased_at BIGINT
);
CREATE INDEX log_events_grant ON log_events (grant_id);
CREATE TABLE log_checkpoints (size BIGINT PRIMARY KEY, note TEXT NOT NULL, created_at BIGINT NOT NULL);
CREATE TABLE log_cosignatures (
  size BIGINT NOT NULL, witness TEXT NOT NULL, line TEXT NOT NULL, received_at BIGINT NOT NULL,
  PRIMARY KEY (size, witness)
);
CREATE TABLE log_alarms (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, at BIGINT NOT NULL, witness TEXT NOT NULL,
  status INTEGER NOT NULL, body TEXT NOT NULL
);
",
    r"
ALTER TABLE offers ADD COLUMN identity_acr TEXT;
ALTER TABLE offers ADD COLUMN citizen_handle TEXT;
ALTER TABLE offers ADD COLUMN identity TEXT;
CREATE UNIQUE INDEX offers_citizen_handle ON offers (citizen_handle);
",
    r"
ALTER TABLE grants ADD COLUMN mandate_id TEXT;
ALTER TABLE grants ADD COLUMN representative TEXT;
CREATE INDEX grants_mandate ON grants (mandate_id);
CREATE TABLE mandate_revocations (
  mandate_id TEXT NOT NULL, principal TEXT NOT NULL, revocation_jwt TEXT NOT NULL, revoked_at BIGINT NOT NULL,
  PRIMARY KEY (mandate_id, principal)
);
",
    r"
CREATE TABLE emergency_plans (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, service TEXT NOT NULL, reference TEXT NOT NULL,
  declared_by TEXT NOT NULL, declared_at BIGINT NOT NULL, ends_at BIGINT NOT NULL,
  lifted_at BIGINT, lifted_by TEXT
);
CREATE INDEX emergency_plans_service ON emergency_plans (service, declared_at);
",
    r"
ALTER TABLE grants ADD COLUMN erased_at BIGINT;
ALTER TABLE grants ADD COLUMN erased_claims TEXT;
ALTER TABLE grants ADD COLUMN erasure_request_jwt TEXT;
",
    r"
ALTER TABLE grants ADD COLUMN objected_at BIGINT;
ALTER TABLE grants ADD COLUMN objection_request_jwt TEXT;
",
    r"
CREATE TABLE rectifications (
  id TEXT PRIMARY KEY, grant_id TEXT NOT NULL, service TEXT NOT NULL, request_jwt TEXT, vct TEXT NOT NULL,
  claim TEXT NOT NULL, received_at BIGINT NOT NULL, decision TEXT, reason TEXT, decided_at BIGINT,
  decided_by TEXT
);
CREATE INDEX rectifications_pending ON rectifications (service, received_at) WHERE decision IS NULL;
CREATE INDEX rectifications_grant ON rectifications (grant_id);
",
    // As SQLite's: the request, marked answered only if it was not, decides a replay.
    "DROP TABLE seen_nonces;",
];

/// The advisory lock keys (`pg_advisory_xact_lock(int, int)`): one per job, then the schema.
const MIGRATE_LOCK: &str = "hashtext('souverain.migrate'), hashtext(current_schema())";
const ERASE_LOCK: &str = "hashtext('souverain.erase_due'), hashtext(current_schema())";

/// Sets up each new connection: durable commits whatever the server's default.
#[derive(Debug)]
struct Session;

impl r2d2::CustomizeConnection<postgres::Client, postgres::Error> for Session {
    fn on_acquire(&self, conn: &mut postgres::Client) -> Result<(), postgres::Error> {
        conn.batch_execute("SET synchronous_commit = on")
    }
}

/// The pool's connection failures go to the guichet's log (r2d2 would write them to `log`).
#[derive(Debug)]
struct LogErrors;

impl r2d2::HandleError<postgres::Error> for LogErrors {
    fn handle_error(&self, error: postgres::Error) {
        tracing::error!(%error, "PostgreSQL connection");
    }
}

/// PostgreSQL through a small pool of blocking connections.
pub struct PgStore {
    /// `None` only while dropping (see [`Drop`]).
    pool: Option<Pool>,
}

impl std::fmt::Debug for PgStore {
    // The URL may carry a password: nothing of the connection is shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PgStore")
    }
}

impl PgStore {
    /// Connects to `url` (`postgres://user[:password]@host[:port]/database[?options]`, or the
    /// key=value form) and applies pending migrations.
    pub fn open(url: &str) -> Result<PgStore, StoreError> {
        let config: postgres::Config = url.parse()?;
        let manager = PostgresConnectionManager::new(config, NoTls);
        let pool = r2d2::Pool::builder()
            .max_size(POOL_SIZE)
            .min_idle(Some(1))
            .connection_timeout(Duration::from_secs(10))
            .connection_customizer(Box::new(Session))
            .error_handler(Box::new(LogErrors))
            .build(manager)?;
        let store = PgStore { pool: Some(pool) };
        store.migrate()?;
        Ok(store)
    }

    fn migrate(&self) -> Result<(), StoreError> {
        let mut c = self.client()?;
        let mut tx = c.transaction()?;
        tx.query_one(&format!("SELECT pg_advisory_xact_lock({MIGRATE_LOCK})::text"), &[])?;
        tx.batch_execute("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)")?;
        let version: i64 = match tx.query_opt("SELECT version FROM schema_version", &[])? {
            Some(row) => row.try_get(0)?,
            None => {
                tx.execute("INSERT INTO schema_version (version) VALUES (0)", &[])?;
                0
            }
        };
        let known = i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX);
        if version > known {
            return Err(StoreError::TooNew(version));
        }
        // One transaction for every pending step: all applied, or none.
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(usize::try_from(version).unwrap_or(0)) {
            tx.batch_execute(sql)?;
            tx.execute("UPDATE schema_version SET version = $1", &[&to_i64(i as u64 + 1)])?;
        }
        tx.commit()?;
        Ok(())
    }

    fn client(&self) -> Result<Client, StoreError> {
        match &self.pool {
            Some(pool) => Ok(pool.get()?),
            None => Err(StoreError::Closed),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut Client) -> Result<T, postgres::Error>) -> Result<T, StoreError> {
        let mut c = self.client()?;
        Ok(f(&mut c)?)
    }

    fn with_log<T>(&self, f: impl FnOnce(&mut Client) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let mut c = self.client()?;
        f(&mut c)
    }

    /// Reclaims the dead rows an erasure left in `tables` (outside any transaction, as VACUUM
    /// must be). The erasure is committed already: a failure here is logged, not returned.
    fn vacuum(&self, tables: &[&str]) {
        if tables.is_empty() {
            return;
        }
        let sql = format!("VACUUM {}", tables.join(", "));
        if let Err(error) = self.client().and_then(|mut c| Ok(c.batch_execute(&sql)?)) {
            tracing::warn!(%error, "VACUUM after an erasure failed; PostgreSQL's autovacuum will reclaim the rows later");
        }
    }
}

impl Drop for PgStore {
    // Each blocking client closes by running its own small runtime, which tokio forbids on an
    // async worker, where the last handle to the store may well be dropped: close them on a
    // plain thread instead.
    fn drop(&mut self) {
        if let Some(pool) = self.pool.take() {
            let _ = std::thread::Builder::new().name("pg-close".into()).spawn(move || drop(pool));
        }
    }
}

fn offset(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

fn grant_row(r: &Row) -> Result<GrantRow, postgres::Error> {
    Ok(GrantRow {
        id: r.try_get(0)?,
        service: r.try_get(1)?,
        request_id: r.try_get(2)?,
        purposes: r.try_get(3)?,
        grant_jwt: r.try_get(4)?,
        holder_jwk: r.try_get(5)?,
        client_id: r.try_get(6)?,
        nonce: r.try_get(7)?,
        vp_token_sha256: r.try_get(8)?,
        valid_until: r.try_get(9)?,
        state: r.try_get(10)?,
        received_at: r.try_get(11)?,
        withdrawn_at: r.try_get(12)?,
        receipt_jwt: r.try_get(13)?,
        withdrawal_receipt_jwt: r.try_get(14)?,
        withdrawal_jwt: r.try_get(15)?,
        erasure_by: r.try_get(16)?,
        log_secret: r.try_get(17)?,
        event_seed: r.try_get(18)?,
        mandate_id: r.try_get(19)?,
        representative: r.try_get(20)?,
        erased_at: r.try_get(21)?,
        erased_claims: r.try_get(22)?,
        objected_at: r.try_get(23)?,
    })
}

fn request_row(r: &Row) -> Result<RequestRow, postgres::Error> {
    Ok(RequestRow {
        id: r.try_get(0)?,
        service: r.try_get(1)?,
        purpose: r.try_get(2)?,
        nonce: r.try_get(3)?,
        state: r.try_get(4)?,
        jwt: r.try_get(5)?,
        iat: r.try_get(6)?,
        exp: r.try_get(7)?,
        grant_id: r.try_get(8)?,
    })
}

fn record_erasure(
    tx: &mut Transaction<'_>,
    now: i64,
    what: &str,
    grant_id: Option<&str>,
    rows: u64,
) -> Result<(), postgres::Error> {
    if rows > 0 {
        tx.execute(
            "INSERT INTO erasures (at, what, grant_id, rows) VALUES ($1, $2, $3, $4)",
            &[&now, &what, &grant_id, &to_i64(rows)],
        )?;
    }
    Ok(())
}

impl Store for PgStore {
    fn create_offer(&self, offer: &Offer, now: i64, expires_at: i64) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO offers (code, config_id, claims, label, created_at, expires_at, tx_code_sha256,
                   identity_acr, citizen_handle)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                &[
                    &offer.code,
                    &offer.config_id,
                    &offer.claims,
                    &offer.label,
                    &now,
                    &expires_at,
                    &offer.tx_code_sha256,
                    &offer.identity_acr,
                    &offer.citizen_handle,
                ],
            )
            .map(drop)
        })
    }

    fn redeem_offer(
        &self,
        code: &str,
        tx_code_sha256: Option<&str>,
        token: &str,
        now: i64,
        token_expires_at: i64,
    ) -> Result<Redeemed, StoreError> {
        self.with(|c| {
            let mut tx = c.transaction()?;
            // The row stays locked until commit: a concurrent attempt waits, then sees the count
            // (or the token) this one wrote.
            let expected = tx.query_opt(
                "SELECT tx_code_sha256, identity_acr IS NOT NULL AND identity IS NULL FROM offers
                 WHERE code = $1 AND access_token IS NULL AND expires_at > $2 AND tx_attempts < $3 FOR UPDATE",
                &[&code, &now, &MAX_TX_CODE_ATTEMPTS],
            )?;
            let Some(expected) = expected else { return Ok(Redeemed::Unknown) };
            let unidentified: bool = expected.try_get(1)?;
            if unidentified {
                return Ok(Redeemed::IdentityRequired);
            }
            let expected: Option<String> = expected.try_get(0)?;
            if let Some(expected) = expected
                && !tx_code_sha256.is_some_and(|given| constant_time_eq(given.as_bytes(), expected.as_bytes()))
            {
                tx.execute("UPDATE offers SET tx_attempts = tx_attempts + 1 WHERE code = $1", &[&code])?;
                tx.commit()?;
                return Ok(Redeemed::WrongTxCode);
            }
            tx.execute(
                "UPDATE offers SET access_token = $2, token_expires_at = $3 WHERE code = $1",
                &[&code, &token, &token_expires_at],
            )?;
            tx.commit()?;
            Ok(Redeemed::Done)
        })
    }

    fn offer_for_token(&self, token: &str, now: i64) -> Result<Option<Offer>, StoreError> {
        self.with(|c| {
            let row = c.query_opt(
                "SELECT code, config_id, claims, label FROM offers
                 WHERE access_token = $1 AND token_expires_at > $2 AND credential_id IS NULL",
                &[&token, &now],
            )?;
            row.map(|r| {
                Ok(Offer {
                    code: r.try_get(0)?,
                    config_id: r.try_get(1)?,
                    claims: r.try_get(2)?,
                    label: r.try_get(3)?,
                    tx_code_sha256: None,
                    identity_acr: None,
                    citizen_handle: None,
                })
            })
            .transpose()
        })
    }

    fn citizen_offer(&self, handle: &str, now: i64) -> Result<Option<CitizenOffer>, StoreError> {
        self.with(|c| {
            let row = c.query_opt(
                "SELECT code, config_id, claims, identity_acr, tx_code_sha256 IS NOT NULL, identity FROM offers
                 WHERE citizen_handle = $1 AND identity_acr IS NOT NULL AND access_token IS NULL AND expires_at > $2
                   AND tx_attempts < $3",
                &[&handle, &now, &MAX_TX_CODE_ATTEMPTS],
            )?;
            row.map(|r| {
                Ok(CitizenOffer {
                    code: r.try_get(0)?,
                    config_id: r.try_get(1)?,
                    claims: r.try_get(2)?,
                    identity_acr: r.try_get(3)?,
                    has_tx_code: r.try_get(4)?,
                    identity: r.try_get(5)?,
                })
            })
            .transpose()
        })
    }

    fn bind_identity(&self, handle: &str, identity: &str, claims: &str, now: i64) -> Result<bool, StoreError> {
        self.with(|c| {
            // One UPDATE with the conditions in its WHERE: of two processes binding at once, the
            // second finds `identity` set (PostgreSQL re-checks the row after the first commits).
            let n = c.execute(
                "UPDATE offers SET identity = $2, claims = $3
                 WHERE citizen_handle = $1 AND identity_acr IS NOT NULL AND identity IS NULL
                   AND access_token IS NULL AND expires_at > $4",
                &[&handle, &identity, &claims, &now],
            )?;
            Ok(n == 1)
        })
    }

    fn create_c_nonce(&self, nonce: &str, expires_at: i64) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute("INSERT INTO c_nonces (nonce, expires_at) VALUES ($1, $2)", &[&nonce, &expires_at]).map(drop)
        })
    }

    fn consume_c_nonce(&self, nonce: &str, now: i64) -> Result<bool, StoreError> {
        self.with(|c| {
            // Expired nonces go as well, so the table does not grow.
            c.execute("DELETE FROM c_nonces WHERE expires_at <= $1 AND nonce <> $2", &[&now, &nonce])?;
            // Two processes deleting the same nonce: the second waits for the first's row lock,
            // then finds the row gone.
            let n = c.execute("DELETE FROM c_nonces WHERE nonce = $1 AND expires_at > $2", &[&nonce, &now])?;
            Ok(n == 1)
        })
    }

    fn record_credential(
        &self,
        offer: &Offer,
        vct: &str,
        holder: &str,
        proof_sha256: &str,
        now: i64,
        pick: &mut dyn FnMut() -> u64,
        issue: &mut dyn FnMut(u64) -> Result<String, String>,
    ) -> Result<Option<(u64, String)>, StoreError> {
        let mut failure = None;
        let recorded = self.with(|c| {
            let mut tx = c.transaction()?;
            // The offer's row lock makes a concurrent request for the same offer wait, then find
            // the credential recorded: one credential per offer.
            let taken = tx.query_opt("SELECT credential_id FROM offers WHERE code = $1 FOR UPDATE", &[&offer.code])?;
            let free = match taken {
                Some(row) => row.try_get::<_, Option<i64>>(0)?.is_none(),
                None => false,
            };
            if !free {
                return Ok(None);
            }
            // A free index, decided by the unique constraint (another process may be taking the
            // same one right now).
            let mut inserted = None;
            for _ in 0..64 {
                let idx = pick();
                let row = tx.query_opt(
                    "INSERT INTO credentials (status_idx, vct, label, offer_code, holder, issued_at)
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (status_idx) DO NOTHING RETURNING id",
                    &[&to_i64(idx), &vct, &offer.label, &offer.code, &holder, &now],
                )?;
                if let Some(row) = row {
                    inserted = Some((idx, row.try_get::<_, i64>(0)?));
                    break;
                }
            }
            let Some((idx, id)) = inserted else {
                failure = Some(StoreError::NoFreeStatusIndex);
                return Ok(None);
            };
            let credential = match issue(idx) {
                Ok(credential) => credential,
                Err(e) => {
                    failure = Some(StoreError::Issue(e));
                    return Ok(None); // dropped: rolled back
                }
            };
            tx.execute(
                "UPDATE offers SET credential_id = $2, proof_sha256 = $3, credential = $4 WHERE code = $1",
                &[&offer.code, &id, &proof_sha256, &credential],
            )?;
            tx.commit()?;
            Ok(Some((idx, credential)))
        })?;
        match failure {
            Some(e) => Err(e),
            None => Ok(recorded),
        }
    }

    fn reissue(&self, token: &str, proof_sha256: &str, now: i64) -> Result<Option<String>, StoreError> {
        self.with(|c| {
            let row = c.query_opt(
                "SELECT credential FROM offers WHERE access_token = $1 AND token_expires_at > $2
                   AND credential IS NOT NULL AND proof_sha256 = $3",
                &[&token, &now, &proof_sha256],
            )?;
            row.map(|r| r.try_get(0)).transpose()
        })
    }

    fn revoke(&self, status_idx: u64, now: i64) -> Result<bool, StoreError> {
        self.with(|c| {
            let n = c.execute(
                "UPDATE credentials SET revoked_at = $2 WHERE status_idx = $1 AND revoked_at IS NULL",
                &[&to_i64(status_idx), &now],
            )?;
            Ok(n == 1)
        })
    }

    fn revoked(&self) -> Result<Vec<u64>, StoreError> {
        self.with(|c| {
            let rows = c.query("SELECT status_idx FROM credentials WHERE revoked_at IS NOT NULL", &[])?;
            rows.iter().map(|r| r.try_get::<_, i64>(0).map(|v| u64::try_from(v).unwrap_or(0))).collect()
        })
    }

    fn is_revoked(&self, status_idx: u64) -> Result<Option<bool>, StoreError> {
        self.with(|c| {
            let row = c.query_opt(
                "SELECT revoked_at IS NOT NULL FROM credentials WHERE status_idx = $1",
                &[&to_i64(status_idx)],
            )?;
            row.map(|r| r.try_get(0)).transpose()
        })
    }

    fn credentials(&self, q: &CredentialQuery<'_>) -> Result<Vec<IssuedCredential>, StoreError> {
        let search = q.search.trim();
        self.with(|c| {
            // strpos, not LIKE: what the agent typed is matched as text, `%` and `_` included; lower
            // only on ASCII letters, as SQLite's, so both backends find the same rows.
            let rows = c.query(
                "SELECT id, status_idx, vct, label, issued_at, revoked_at FROM credentials
                 WHERE ($1::BIGINT IS NULL OR id < $1) AND ($2::TEXT IS NULL OR vct = $2)
                   AND ($3 = '' OR strpos(translate(label, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'),
                                          translate($3, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')) > 0
                        OR id::TEXT = $3 OR status_idx::TEXT = $3)
                 ORDER BY id DESC LIMIT $4",
                &[&q.before, &q.vct, &search, &i64::from(q.limit)],
            )?;
            rows.iter()
                .map(|r| {
                    Ok(IssuedCredential {
                        id: r.try_get(0)?,
                        status_idx: u64::try_from(r.try_get::<_, i64>(1)?).unwrap_or(0),
                        vct: r.try_get(2)?,
                        label: r.try_get(3)?,
                        issued_at: r.try_get(4)?,
                        revoked_at: r.try_get(5)?,
                    })
                })
                .collect()
        })
    }

    fn create_request(&self, q: &RequestRow) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO requests (id, service, purpose, nonce, state, jwt, iat, exp) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                &[&q.id, &q.service, &q.purpose, &q.nonce, &q.state, &q.jwt, &q.iat, &q.exp],
            )
            .map(drop)
        })
    }

    fn request(&self, id: &str) -> Result<Option<RequestRow>, StoreError> {
        self.with(|c| {
            let row = c.query_opt(
                "SELECT id, service, purpose, nonce, state, jwt, iat, exp, grant_id FROM requests WHERE id = $1",
                &[&id],
            )?;
            row.as_ref().map(request_row).transpose()
        })
    }

    fn record_exchange(&self, e: &Exchange) -> Result<bool, StoreError> {
        self.with(|c| {
            let mut tx = c.transaction()?;
            // The replay decision: the request is marked answered only if it was not. A concurrent
            // answer (from this process or another) waits for the row's lock, then finds the mark
            // and updates nothing (read committed evaluates the condition again on the new row).
            let first = tx.execute(
                "UPDATE requests SET grant_id = $2 WHERE id = $1 AND grant_id IS NULL",
                &[&e.request_id, &e.grant_id],
            )?;
            if first != 1 {
                return Ok(Ok(false));
            }
            if let Some(m) = &e.mandate {
                // A revocation committed before this check refuses the answer; one committing while
                // this transaction runs is ordered after it (the act was recorded first).
                let revoked = tx.query_opt(
                    "SELECT revoked_at FROM mandate_revocations WHERE mandate_id = $1 AND principal = $2",
                    &[&m.mandate_id, &m.principal],
                )?;
                if revoked.is_some() {
                    return Ok(Err(StoreError::MandateRevoked));
                }
            }
            tx.execute(
                "INSERT INTO grants (id, service, request_id, purposes, grant_jwt, holder_jwk, client_id, nonce,
                   vp_token_sha256, valid_until, state, received_at, receipt_jwt, erasure_by, log_secret, event_key,
                   event_seed, mandate_id, representative)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'given', $11, $12, $13, $14, $15, $16, $17, $18)",
                &[
                    &e.grant_id,
                    &e.service,
                    &e.request_id,
                    &e.purposes,
                    &e.grant_jwt,
                    &e.holder_jwk,
                    &e.client_id,
                    &e.nonce,
                    &e.vp_token_sha256,
                    &e.valid_until,
                    &e.now,
                    &e.receipt_jwt,
                    &e.erasure_by,
                    &&e.log_keys.secret[..],
                    &&e.log_keys.event_key[..],
                    &e.log_keys.event_seed.as_ref().map(|s| &s[..]),
                    &e.mandate.as_ref().map(|m| &m.mandate_id),
                    &e.mandate.as_ref().map(|m| &m.representative),
                ],
            )?;
            for (query, vct, claims) in &e.claims {
                tx.execute(
                    "INSERT INTO received_claims (grant_id, query_id, vct, claims, erase_at) VALUES ($1, $2, $3, $4, $5)",
                    &[&e.grant_id, query, vct, claims, &e.erasure_by],
                )?;
            }
            tx.commit()?;
            Ok(Ok(true))
        })?
    }

    fn grant(&self, id: &str) -> Result<Option<GrantRow>, StoreError> {
        self.with(|c| {
            let row = c.query_opt(&format!("SELECT {} FROM grants WHERE id = $1", super::GRANT_COLUMNS), &[&id])?;
            row.as_ref().map(grant_row).transpose()
        })
    }

    fn claims(&self, grant_id: &str) -> Result<Vec<(String, String, String)>, StoreError> {
        self.with(|c| {
            let rows = c.query(
                "SELECT query_id, vct, claims FROM received_claims WHERE grant_id = $1 ORDER BY id",
                &[&grant_id],
            )?;
            rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?))).collect()
        })
    }

    fn withdraw(
        &self,
        grant_id: &str,
        withdrawal_jwt: &str,
        receipt_jwt: &str,
        now: i64,
        erase_at: i64,
        log: &LogSigner,
    ) -> Result<bool, StoreError> {
        let erased_now = self.with_log(|c| {
            let mut tx = c.transaction()?;
            // The log's head first, then the grant's row, in the order every append takes them:
            // a read of this grant appending at the same time cannot deadlock with this withdrawal.
            tx.query_one("SELECT size FROM log_head WHERE id = 1 FOR UPDATE", &[])?;
            let n = tx.execute(
                "UPDATE grants SET state = 'withdrawn', withdrawn_at = $2, withdrawal_jwt = $3, withdrawal_receipt_jwt = $4,
                   erasure_by = $5
                 WHERE id = $1 AND state = 'given'",
                &[&grant_id, &now, &withdrawal_jwt, &receipt_jwt, &erase_at],
            )?;
            if n != 1 {
                return Ok(None);
            }
            append_in(&PgLog::new(&mut tx), &LogEvent::processed(grant_id, now), log)?;
            // Erased already at the citizen's request: nothing left, and its erasure is logged.
            let erased_at: Option<i64> =
                tx.query_one("SELECT erased_at FROM grants WHERE id = $1", &[&grant_id])?.try_get(0)?;
            let mut erased = 0;
            if erase_at <= now && erased_at.is_none() {
                erased = erase_claims_in(&mut tx, grant_id, now, log)?;
            } else if erased_at.is_none() {
                tx.execute("UPDATE received_claims SET erase_at = $2 WHERE grant_id = $1", &[&grant_id, &erase_at])?;
            }
            tx.commit()?;
            Ok(Some(erased))
        })?;
        match erased_now {
            None => Ok(false),
            Some(erased) => {
                if erased > 0 {
                    self.vacuum(&["received_claims"]);
                }
                Ok(true)
            }
        }
    }

    fn erase_now(
        &self,
        grant_id: &str,
        request_jwt: &str,
        now: i64,
        log: &LogSigner,
    ) -> Result<Option<ErasedGrant>, StoreError> {
        let erased = self.with_log(|c| {
            let mut tx = c.transaction()?;
            // The log's head first, then the grant's row, in the order every append takes them.
            tx.query_one("SELECT size FROM log_head WHERE id = 1 FOR UPDATE", &[])?;
            let Some(row) =
                tx.query_opt("SELECT erased_at, erased_claims FROM grants WHERE id = $1 FOR UPDATE", &[&grant_id])?
            else {
                return Ok(None);
            };
            if let Some(erased_at) = row.try_get::<_, Option<i64>>(0)? {
                let claims: Option<String> = row.try_get(1)?;
                return Ok(Some((ErasedGrant { erased_at, claims: claims.unwrap_or_else(|| "[]".into()) }, 0)));
            }
            let kept: Vec<(String, String)> = tx
                .query("SELECT vct, claims FROM received_claims WHERE grant_id = $1 ORDER BY id", &[&grant_id])?
                .iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
                .collect::<Result<_, postgres::Error>>()?;
            let claims = claim_names(&kept)?;
            let n = erase_claims_in(&mut tx, grant_id, now, log)?;
            tx.execute(
                "UPDATE grants SET erased_at = $2, erased_claims = $3, erasure_request_jwt = $4, erasure_by = $2
                 WHERE id = $1",
                &[&grant_id, &now, &claims, &request_jwt],
            )?;
            tx.commit()?;
            Ok(Some((ErasedGrant { erased_at: now, claims }, n)))
        })?;
        if let Some((_, n)) = &erased
            && *n > 0
        {
            self.vacuum(&["received_claims", "log_events"]);
        }
        Ok(erased.map(|(e, _)| e))
    }

    fn object(&self, grant_id: &str, request_jwt: &str, now: i64) -> Result<Option<Objection>, StoreError> {
        self.with(|c| {
            let mut tx = c.transaction()?;
            // The grant's row locked: of two objections at once, the second sees the first's.
            let Some(row) = tx.query_opt(
                "SELECT objected_at, objection_request_jwt, erasure_by FROM grants WHERE id = $1 FOR UPDATE",
                &[&grant_id],
            )?
            else {
                return Ok(None);
            };
            let erasure_by: i64 = row.try_get(2)?;
            // The first objection stands: a later one changes nothing.
            if let (Some(objected_at), Some(request_jwt)) =
                (row.try_get::<_, Option<i64>>(0)?, row.try_get::<_, Option<String>>(1)?)
            {
                return Ok(Some(Objection { objected_at, request_jwt, erasure_by }));
            }
            tx.execute(
                "UPDATE grants SET objected_at = $2, objection_request_jwt = $3 WHERE id = $1",
                &[&grant_id, &now, &request_jwt],
            )?;
            tx.commit()?;
            Ok(Some(Objection { objected_at: now, request_jwt: request_jwt.to_owned(), erasure_by }))
        })
    }

    fn request_rectification(&self, row: &RectificationRow) -> Result<RectificationRow, StoreError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO rectifications (id, grant_id, service, request_jwt, vct, claim, received_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING",
                &[&row.id, &row.grant_id, &row.service, &row.request_jwt, &row.vct, &row.claim, &row.received_at],
            )?;
            let kept = c.query_one(
                &format!("SELECT {} FROM rectifications WHERE id = $1", super::RECTIFICATION_COLUMNS),
                &[&row.id],
            )?;
            rectification_row(&kept)
        })
    }

    fn rectification(&self, id: &str) -> Result<Option<RectificationRow>, StoreError> {
        self.with(|c| {
            let row = c.query_opt(
                &format!("SELECT {} FROM rectifications WHERE id = $1", super::RECTIFICATION_COLUMNS),
                &[&id],
            )?;
            row.as_ref().map(rectification_row).transpose()
        })
    }

    fn pending_rectifications(&self, service: &str) -> Result<Vec<RectificationRow>, StoreError> {
        self.with(|c| {
            let rows = c.query(
                &format!(
                    "SELECT {} FROM rectifications WHERE service = $1 AND decision IS NULL
                     ORDER BY received_at, id LIMIT 200",
                    super::RECTIFICATION_COLUMNS
                ),
                &[&service],
            )?;
            rows.iter().map(rectification_row).collect()
        })
    }

    fn decided_rectifications(&self, service: &str) -> Result<Vec<RectificationRow>, StoreError> {
        self.with(|c| {
            let rows = c.query(
                &format!(
                    "SELECT {} FROM rectifications WHERE service = $1 AND decision IS NOT NULL
                     ORDER BY decided_at DESC, id LIMIT 200",
                    super::RECTIFICATION_COLUMNS
                ),
                &[&service],
            )?;
            rows.iter().map(rectification_row).collect()
        })
    }

    fn decide_rectification(
        &self,
        id: &str,
        choice: RectificationChoice<'_>,
        by: &str,
        now: i64,
        log: &LogSigner,
    ) -> Result<Decided, StoreError> {
        self.with_log(|c| {
            let mut tx = c.transaction()?;
            // The log's head first, then the rows, in the order every append takes them.
            tx.query_one("SELECT size FROM log_head WHERE id = 1 FOR UPDATE", &[])?;
            let select = format!("SELECT {} FROM rectifications WHERE id = $1 FOR UPDATE", super::RECTIFICATION_COLUMNS);
            let Some(row) = tx.query_opt(&select, &[&id])? else { return Ok(Decided::Unknown) };
            let row = rectification_row(&row)?;
            if row.decision.is_some() {
                return Ok(Decided::Already(row));
            }
            let (decision, reason) = match choice {
                RectificationChoice::Accept { value } => {
                    let rows: Vec<(i64, String)> = tx
                        .query(
                            "SELECT id, claims FROM received_claims WHERE grant_id = $1 AND vct = $2 ORDER BY id FOR UPDATE",
                            &[&row.grant_id, &row.vct],
                        )?
                        .iter()
                        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
                        .collect::<Result<_, postgres::Error>>()?;
                    let changed = super::rectified_rows(&rows, &row.claim, value)?;
                    if changed.is_empty() {
                        return Ok(Decided::ClaimNotHeld);
                    }
                    // Logged first, in the same transaction: the change and its entry commit together.
                    let event = LogEvent {
                        grant_id: row.grant_id.clone(),
                        kind: souverain_core::data_use::EventKind::AgentRectification { agent: by.to_owned() },
                        purpose: None,
                        time: now,
                    };
                    append_in(&PgLog::new(&mut tx), &event, log)?;
                    for (rowid, claims) in &changed {
                        tx.execute("UPDATE received_claims SET claims = $2 WHERE id = $1", &[rowid, claims])?;
                    }
                    ("accepted", None)
                }
                RectificationChoice::Refuse { reason } => ("refused", Some(reason)),
            };
            tx.execute(
                "UPDATE rectifications SET decision = $2, reason = $3, decided_at = $4, decided_by = $5 WHERE id = $1",
                &[&id, &decision, &reason, &now, &by],
            )?;
            let row = rectification_row(&tx.query_one(&select, &[&id])?)?;
            tx.commit()?;
            Ok(Decided::Done(row))
        })
    }

    fn erase_due(&self, now: i64, retention: &Retention, log: &LogSigner) -> Result<Erased, StoreError> {
        let erased = self.with_log(|c| {
            let mut tx = c.transaction()?;
            let mut erased = Erased::default();
            let locked: bool =
                tx.query_one(&format!("SELECT pg_try_advisory_xact_lock({ERASE_LOCK})"), &[])?.try_get(0)?;
            if !locked {
                // Another guichet process is running the job right now: it erases and records.
                return Ok(erased);
            }
            // Claims, one record per grant: the date signed in the grant's or the withdrawal's receipt.
            let due: Vec<String> = tx
                .query(
                    "SELECT DISTINCT grant_id FROM received_claims WHERE erase_at IS NOT NULL AND erase_at <= $1",
                    &[&now],
                )?
                .iter()
                .map(|r| r.try_get(0))
                .collect::<Result<_, _>>()?;
            let mut deferred: Vec<String> = Vec::new();
            for grant_id in &due {
                // Logged first, in the same transaction: the erasure and its entry commit together.
                // A grant whose entry cannot be appended waits for the next run (its savepoint
                // undone, which also clears the aborted state), and does not hold back the others.
                // (A grant's claims share one date: all of them are due.)
                tx.batch_execute("SAVEPOINT erase_grant")?;
                match erase_claims_in(&mut tx, grant_id, now, log) {
                    Ok(n) => {
                        tx.batch_execute("RELEASE SAVEPOINT erase_grant")?;
                        erased.claims += offset(n);
                    }
                    Err(error) => {
                        tx.batch_execute("ROLLBACK TO SAVEPOINT erase_grant; RELEASE SAVEPOINT erase_grant")?;
                        tracing::error!(%error, grant_id, "erasure deferred: it could not be appended to the data-use log");
                        erased.deferred += 1;
                        deferred.push(grant_id.clone());
                    }
                }
            }
            // Offers carry the citizen's claims: gone once redeemed and past the retry window (the
            // access token's life), or expired unredeemed.
            let n = tx.execute(
                "DELETE FROM offers WHERE (access_token IS NULL AND expires_at <= $1)
                   OR (access_token IS NOT NULL AND token_expires_at <= $1)",
                &[&now],
            )?;
            record_erasure(&mut tx, now, "offers", None, n)?;
            erased.offers = offset(n);
            let n = tx.execute("DELETE FROM c_nonces WHERE expires_at <= $1", &[&now])?;
            record_erasure(&mut tx, now, "c_nonces", None, n)?;
            erased.c_nonces = offset(n);
            // Grants past their proof retention (their claims went at `erasure_by`), then their requests.
            let old: Vec<String> = tx
                .query("SELECT id FROM grants WHERE erasure_by + $2 <= $1", &[&now, &retention.proof_seconds])?
                .iter()
                .map(|r| r.try_get(0))
                .collect::<Result<_, _>>()?;
            for grant_id in &old {
                if deferred.contains(grant_id) {
                    // Its claims wait for their erasure to be logged: so does the record.
                    continue;
                }
                tx.execute("DELETE FROM received_claims WHERE grant_id = $1", &[grant_id])?;
                tx.execute("DELETE FROM requests WHERE grant_id = $1", &[grant_id])?;
                tx.execute("DELETE FROM rectifications WHERE grant_id = $1", &[grant_id])?;
                // The grant's remaining sealed events (withdrawal, erasure) go with its record,
                // and nothing links its leaves to it any more.
                tx.execute(
                    "UPDATE log_events SET sealed = NULL, erased_at = COALESCE(erased_at, $2), grant_id = NULL
                     WHERE grant_id = $1",
                    &[grant_id, &now],
                )?;
                let n = tx.execute("DELETE FROM grants WHERE id = $1", &[grant_id])?;
                record_erasure(&mut tx, now, "grants", Some(grant_id), n)?;
                erased.grants += offset(n);
            }
            // Requests expired unanswered; a request's nonce can serve no replay once it expired.
            let n = tx.execute("DELETE FROM requests WHERE grant_id IS NULL AND exp <= $1", &[&now])?;
            record_erasure(&mut tx, now, "requests", None, n)?;
            erased.requests = offset(n);
            let n = tx.execute(
                "DELETE FROM credentials WHERE issued_at + $2 <= $1",
                &[&now, &retention.credential_seconds],
            )?;
            record_erasure(&mut tx, now, "credentials", None, n)?;
            erased.credentials = offset(n);
            let n = tx.execute("DELETE FROM agent_sessions WHERE expires_at <= $1 OR idle_until <= $1", &[&now])?;
            record_erasure(&mut tx, now, "agent_sessions", None, n)?;
            erased.agent_sessions = offset(n);
            tx.commit()?;
            Ok(erased)
        })?;
        // The tables that held personal data and lost rows in this run.
        let mut tables = Vec::new();
        if erased.claims > 0 || erased.grants > 0 {
            tables.push("received_claims");
        }
        if erased.offers > 0 {
            tables.push("offers");
        }
        if erased.grants > 0 {
            tables.push("grants");
        }
        if erased.credentials > 0 {
            tables.push("credentials");
        }
        if erased.claims > 0 || erased.grants > 0 {
            tables.push("log_events");
        }
        if erased.agent_sessions > 0 {
            tables.push("agent_sessions");
        }
        self.vacuum(&tables);
        Ok(erased)
    }

    fn erasures(&self, limit: u32) -> Result<Vec<ErasureRow>, StoreError> {
        self.with(|c| {
            let rows = c.query(
                "SELECT at, what, grant_id, rows FROM erasures ORDER BY id DESC LIMIT $1",
                &[&i64::from(limit)],
            )?;
            rows.iter()
                .map(|r| {
                    Ok(ErasureRow {
                        at: r.try_get(0)?,
                        what: r.try_get(1)?,
                        grant_id: r.try_get(2)?,
                        rows: r.try_get(3)?,
                    })
                })
                .collect()
        })
    }

    fn grants_of(&self, service: &str, before: Option<(i64, &str)>, limit: u32) -> Result<Vec<GrantRow>, StoreError> {
        let (at, id) = (before.map(|b| b.0), before.map(|b| b.1));
        self.with(|c| {
            // COLLATE "C": ids ordered by bytes, as SQLite orders them, so a page's cursor means the
            // same on both backends.
            let rows = c.query(
                &format!(
                    "SELECT {} FROM grants WHERE service = $1
                       AND ($2::BIGINT IS NULL OR (received_at, id COLLATE \"C\") < ($2, $3::TEXT COLLATE \"C\"))
                     ORDER BY received_at DESC, id COLLATE \"C\" DESC LIMIT $4",
                    super::GRANT_COLUMNS
                ),
                &[&service, &at, &id, &i64::from(limit)],
            )?;
            rows.iter().map(grant_row).collect()
        })
    }

    fn log_append(&self, event: &LogEvent, log: &LogSigner) -> Result<Appended, StoreError> {
        self.with_log(|c| {
            let mut tx = c.transaction()?;
            let appended = append_in(&PgLog::new(&mut tx), event, log)?;
            tx.commit()?;
            Ok(appended)
        })
    }

    fn log_latest(&self) -> Result<Option<StoredCheckpoint>, StoreError> {
        self.with(|c| {
            let row = c.query_opt("SELECT size, note FROM log_checkpoints ORDER BY size DESC LIMIT 1", &[])?;
            row.map(|r| pg_checkpoint(c, r.try_get(0)?, r.try_get(1)?)).transpose()
        })
    }

    fn log_witnessed(&self, quorum: usize) -> Result<Option<StoredCheckpoint>, StoreError> {
        self.with(|c| {
            let row = c.query_opt(
                "SELECT k.size, k.note FROM log_checkpoints k
                 WHERE (SELECT COUNT(*) FROM log_cosignatures s WHERE s.size = k.size) >= $1
                 ORDER BY k.size DESC LIMIT 1",
                &[&to_i64(quorum as u64)],
            )?;
            row.map(|r| pg_checkpoint(c, r.try_get(0)?, r.try_get(1)?)).transpose()
        })
    }

    fn log_hashes(&self, indexes: &[u64]) -> Result<Vec<[u8; 32]>, StoreError> {
        self.with_log(|c| read_hashes(&mut **c, indexes))
    }

    fn log_entries(&self, start: u64, count: u64) -> Result<Vec<Vec<u8>>, StoreError> {
        self.with(|c| {
            let rows = c.query(
                "SELECT entry FROM log_entries WHERE idx >= $1 AND idx < $2 ORDER BY idx",
                &[&to_i64(start), &to_i64(start.saturating_add(count))],
            )?;
            rows.iter().map(|r| r.try_get(0)).collect()
        })
    }

    fn log_sealed(&self, index: u64) -> Result<Option<Option<Vec<u8>>>, StoreError> {
        self.with(|c| {
            let row = c.query_opt("SELECT sealed FROM log_events WHERE idx = $1", &[&to_i64(index)])?;
            row.map(|r| r.try_get(0)).transpose()
        })
    }

    fn log_add_cosignature(&self, size: u64, witness: &str, line: &str, now: i64) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO log_cosignatures (size, witness, line, received_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT DO NOTHING",
                &[&to_i64(size), &witness, &line, &now],
            )
            .map(drop)
        })
    }

    fn log_witness_size(&self, witness: &str) -> Result<Option<u64>, StoreError> {
        self.with(|c| {
            let size: Option<i64> =
                c.query_one("SELECT MAX(size) FROM log_cosignatures WHERE witness = $1", &[&witness])?.try_get(0)?;
            Ok(size.map(|s| u64::try_from(s).unwrap_or(0)))
        })
    }

    fn log_alarm(&self, witness: &str, status: u16, body: &str, now: i64) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO log_alarms (at, witness, status, body) VALUES ($1, $2, $3, $4)",
                &[&now, &witness, &i32::from(status), &body],
            )
            .map(drop)
        })
    }

    fn log_alarms(&self, limit: u32) -> Result<Vec<(i64, String, u16, String)>, StoreError> {
        self.with(|c| {
            let rows = c.query(
                "SELECT at, witness, status, body FROM log_alarms ORDER BY id DESC LIMIT $1",
                &[&i64::from(limit)],
            )?;
            rows.iter()
                .map(|r| {
                    let status: i32 = r.try_get(2)?;
                    Ok((r.try_get(0)?, r.try_get(1)?, u16::try_from(status).unwrap_or(0), r.try_get(3)?))
                })
                .collect()
        })
    }

    fn create_agent_session(&self, a: &AgentSessionRow) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO agent_sessions (id_sha256, issuer, subject, display_name, claims, id_token, created_at,
                   expires_at, idle_until) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                &[
                    &a.id_sha256,
                    &a.issuer,
                    &a.subject,
                    &a.display_name,
                    &a.claims,
                    &a.id_token,
                    &a.created_at,
                    &a.expires_at,
                    &a.idle_until,
                ],
            )?;
            Ok(())
        })
    }

    fn agent_session(&self, id_sha256: &str, now: i64, idle_until: i64) -> Result<Option<AgentSessionRow>, StoreError> {
        self.with(|c| {
            // One statement: the idle end moves (at most one write a minute, as on SQLite) and the
            // row comes back only if the session is live, whichever process serves the request.
            let row = c.query_opt(
                "WITH live AS (SELECT * FROM agent_sessions WHERE id_sha256 = $1 AND expires_at > $2 AND idle_until > $2),
                      moved AS (UPDATE agent_sessions s SET idle_until = $3 FROM live
                                WHERE s.id_sha256 = live.id_sha256 AND $3 >= live.idle_until + 60
                                RETURNING s.idle_until)
                 SELECT id_sha256, issuer, subject, display_name, claims, id_token, created_at, expires_at,
                        COALESCE((SELECT idle_until FROM moved), live.idle_until)
                   FROM live",
                &[&id_sha256, &now, &idle_until],
            )?;
            row.as_ref().map(agent_session_row).transpose()
        })
    }

    fn end_agent_session(&self, id_sha256: &str) -> Result<Option<AgentSessionRow>, StoreError> {
        self.with(|c| {
            let row = c.query_opt(
                "DELETE FROM agent_sessions WHERE id_sha256 = $1 RETURNING id_sha256, issuer, subject, display_name,
                   claims, id_token, created_at, expires_at, idle_until",
                &[&id_sha256],
            )?;
            row.as_ref().map(agent_session_row).transpose()
        })
    }

    fn revoke_mandate(&self, mandate_id: &str, principal: &str, jwt: &str, now: i64) -> Result<bool, StoreError> {
        self.with(|c| {
            let n = c.execute(
                "INSERT INTO mandate_revocations (mandate_id, principal, revocation_jwt, revoked_at)
                 VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                &[&mandate_id, &principal, &jwt, &now],
            )?;
            Ok(n == 1)
        })
    }

    fn mandate_revoked(&self, mandate_id: &str, principal: &str) -> Result<Option<i64>, StoreError> {
        self.with(|c| {
            let row = c.query_opt(
                "SELECT revoked_at FROM mandate_revocations WHERE mandate_id = $1 AND principal = $2",
                &[&mandate_id, &principal],
            )?;
            row.map(|r| r.try_get(0)).transpose()
        })
    }

    fn declare_emergency(&self, p: &EmergencyPlanRow) -> Result<i64, StoreError> {
        self.with(|c| {
            let row = c.query_one(
                "INSERT INTO emergency_plans (service, reference, declared_by, declared_at, ends_at)
                 VALUES ($1, $2, $3, $4, $5) RETURNING id",
                &[&p.service, &p.reference, &p.declared_by, &p.declared_at, &p.ends_at],
            )?;
            row.try_get(0)
        })
    }

    fn lift_emergency(&self, service: &str, by: &str, now: i64) -> Result<usize, StoreError> {
        self.with(|c| {
            let n = c.execute(
                "UPDATE emergency_plans SET lifted_at = $3, lifted_by = $2
                 WHERE service = $1 AND lifted_at IS NULL AND declared_at <= $3 AND ends_at > $3",
                &[&service, &by, &now],
            )?;
            Ok(usize::try_from(n).unwrap_or(usize::MAX))
        })
    }

    fn emergency_plans(&self, service: &str) -> Result<Vec<EmergencyPlanRow>, StoreError> {
        self.with(|c| {
            let rows = c.query(
                "SELECT id, service, reference, declared_by, declared_at, ends_at, lifted_at, lifted_by
                 FROM emergency_plans WHERE service = $1 ORDER BY declared_at DESC, id DESC",
                &[&service],
            )?;
            rows.iter().map(emergency_row).collect()
        })
    }

    fn grants_under_mandate(&self, mandate_id: &str) -> Result<Vec<GrantRow>, StoreError> {
        self.with(|c| {
            let rows = c.query(
                &format!(
                    "SELECT {} FROM grants WHERE mandate_id = $1 ORDER BY received_at, id COLLATE \"C\"",
                    super::GRANT_COLUMNS
                ),
                &[&mandate_id],
            )?;
            rows.iter().map(grant_row).collect()
        })
    }
}

/// A stored checkpoint with its cosignatures.
fn pg_checkpoint(c: &mut Client, size: i64, note: String) -> Result<StoredCheckpoint, postgres::Error> {
    let rows = c.query("SELECT line FROM log_cosignatures WHERE size = $1 ORDER BY witness", &[&size])?;
    let cosignatures = rows.iter().map(|r| r.try_get(0)).collect::<Result<_, _>>()?;
    Ok(StoredCheckpoint { size: u64::try_from(size).unwrap_or(0), note, cosignatures })
}

/// Stored hashes by index, in the order asked.
fn read_hashes(c: &mut impl postgres::GenericClient, indexes: &[u64]) -> Result<Vec<[u8; 32]>, StoreError> {
    let wanted: Vec<i64> = indexes.iter().map(|&i| to_i64(i)).collect();
    let rows = c.query("SELECT idx, hash FROM log_hashes WHERE idx = ANY($1)", &[&wanted])?;
    let mut found = std::collections::HashMap::new();
    for row in rows {
        let idx: i64 = row.try_get(0)?;
        let hash: Vec<u8> = row.try_get(1)?;
        found.insert(idx, bytes32(&hash)?);
    }
    wanted.iter().map(|i| found.get(i).copied().ok_or(StoreError::LogCorrupt)).collect()
}

/// Erases the sealed events that describe uses of a grant's data (agents' reads, transfers),
/// with the data: their leaves and hashes stay, so the tree does not change.
fn erase_sealed_uses(tx: &mut Transaction<'_>, grant_id: &str, now: i64) -> Result<(), postgres::Error> {
    tx.execute(
        "UPDATE log_events SET sealed = NULL, erased_at = $2
         WHERE grant_id = $1 AND sealed IS NOT NULL AND kind IN ($3, $4)",
        &[&grant_id, &now, &crate::data_log::KIND_AGENT_READ, &crate::data_log::KIND_TRANSFER],
    )?;
    // The seed of a key the guichet made for the wallet is of no more use.
    tx.execute("UPDATE grants SET event_seed = NULL WHERE id = $1", &[&grant_id])?;
    Ok(())
}

/// Erases now every claim kept for `grant_id`, in the caller's transaction: the erasure appended
/// to the data-use log first (if it cannot be, nothing is erased and the error returned), the
/// claims deleted, the erasure recorded, the sealed events of their uses erased. The one erasure
/// path of claims: the job at their date, a withdrawal that erases at once, the citizen's request.
fn erase_claims_in(tx: &mut Transaction<'_>, grant_id: &str, now: i64, log: &LogSigner) -> Result<u64, StoreError> {
    append_in(&PgLog::new(tx), &LogEvent::erasure(grant_id, now), log)?;
    let n = tx.execute("DELETE FROM received_claims WHERE grant_id = $1", &[&grant_id])?;
    record_erasure(tx, now, "claims", Some(grant_id), n)?;
    erase_sealed_uses(tx, grant_id, now)?;
    // The corrected values asked for go with the claims (as in SQLite's store).
    tx.execute("DELETE FROM rectifications WHERE grant_id = $1 AND decision IS NULL", &[&grant_id])?;
    tx.execute("UPDATE rectifications SET request_jwt = NULL WHERE grant_id = $1", &[&grant_id])?;
    Ok(n)
}

fn rectification_row(r: &Row) -> Result<RectificationRow, postgres::Error> {
    Ok(RectificationRow {
        id: r.try_get(0)?,
        grant_id: r.try_get(1)?,
        service: r.try_get(2)?,
        request_jwt: r.try_get(3)?,
        vct: r.try_get(4)?,
        claim: r.try_get(5)?,
        received_at: r.try_get(6)?,
        decision: r.try_get(7)?,
        reason: r.try_get(8)?,
        decided_at: r.try_get(9)?,
        decided_by: r.try_get(10)?,
    })
}

/// A transaction seen by [`append_in`] (which reads through `&self`).
struct PgLog<'a, 'b>(std::cell::RefCell<&'a mut Transaction<'b>>);

impl<'a, 'b> PgLog<'a, 'b> {
    fn new(tx: &'a mut Transaction<'b>) -> PgLog<'a, 'b> {
        PgLog(std::cell::RefCell::new(tx))
    }
}

impl LogTx for PgLog<'_, '_> {
    fn lock_head(&self) -> Result<u64, StoreError> {
        // The head's row lock serializes appends across processes: a second one waits here until
        // the first commits, then reads the size it wrote. One tree, never a fork.
        let size: i64 =
            self.0.borrow_mut().query_one("SELECT size FROM log_head WHERE id = 1 FOR UPDATE", &[])?.try_get(0)?;
        Ok(u64::try_from(size).unwrap_or(0))
    }

    fn log_grant(&self, grant_id: &str) -> Result<Option<LogGrant>, StoreError> {
        let row = self.0.borrow_mut().query_opt(
            "SELECT log_secret, event_key, log_next_seq, purposes FROM grants WHERE id = $1 FOR UPDATE",
            &[&grant_id],
        )?;
        let Some(row) = row else { return Ok(None) };
        let secret: Option<Vec<u8>> = row.try_get(0)?;
        let key: Option<Vec<u8>> = row.try_get(1)?;
        let next_seq: i64 = row.try_get(2)?;
        let keys = match (secret, key) {
            (Some(secret), Some(key)) => Some((bytes32(&secret)?, bytes32(&key)?)),
            _ => None,
        };
        Ok(Some(LogGrant { keys, next_seq: u64::try_from(next_seq).unwrap_or(0), purposes: row.try_get(3)? }))
    }

    fn set_grant_keys(&self, grant_id: &str, secret: &[u8; 32], event_key: &[u8; 32]) -> Result<(), StoreError> {
        self.0.borrow_mut().execute(
            "UPDATE grants SET log_secret = $2, event_key = $3 WHERE id = $1",
            &[&grant_id, &&secret[..], &&event_key[..]],
        )?;
        Ok(())
    }

    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<[u8; 32]>, StoreError> {
        read_hashes(&mut **self.0.borrow_mut(), indexes)
    }

    fn write_append(
        &self,
        index: u64,
        entry: &[u8],
        first_hash: u64,
        hashes: &[[u8; 32]],
        grant_id: &str,
        kind: &str,
        sealed: &[u8],
        checkpoint: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.0.borrow_mut();
        let index = to_i64(index);
        tx.execute("INSERT INTO log_entries (idx, entry) VALUES ($1, $2)", &[&index, &entry])?;
        let idx: Vec<i64> = (0..hashes.len()).map(|i| to_i64(first_hash + i as u64)).collect();
        let values: Vec<&[u8]> = hashes.iter().map(|h| &h[..]).collect();
        tx.execute(
            "INSERT INTO log_hashes (idx, hash) SELECT * FROM UNNEST($1::BIGINT[], $2::BYTEA[])",
            &[&idx, &values],
        )?;
        tx.execute(
            "INSERT INTO log_events (idx, grant_id, kind, sealed) VALUES ($1, $2, $3, $4)",
            &[&index, &grant_id, &kind, &sealed],
        )?;
        tx.execute("UPDATE grants SET log_next_seq = log_next_seq + 1 WHERE id = $1", &[&grant_id])?;
        tx.execute(
            "INSERT INTO log_checkpoints (size, note, created_at) VALUES ($1, $2, $3)",
            &[&(index + 1), &checkpoint, &now],
        )?;
        tx.execute("UPDATE log_head SET size = $1 WHERE id = 1", &[&(index + 1)])?;
        Ok(())
    }
}

fn emergency_row(r: &Row) -> Result<EmergencyPlanRow, postgres::Error> {
    Ok(EmergencyPlanRow {
        id: r.try_get(0)?,
        service: r.try_get(1)?,
        reference: r.try_get(2)?,
        declared_by: r.try_get(3)?,
        declared_at: r.try_get(4)?,
        ends_at: r.try_get(5)?,
        lifted_at: r.try_get(6)?,
        lifted_by: r.try_get(7)?,
    })
}

fn agent_session_row(r: &Row) -> Result<AgentSessionRow, postgres::Error> {
    Ok(AgentSessionRow {
        id_sha256: r.try_get(0)?,
        issuer: r.try_get(1)?,
        subject: r.try_get(2)?,
        display_name: r.try_get(3)?,
        claims: r.try_get(4)?,
        id_token: r.try_get(5)?,
        created_at: r.try_get(6)?,
        expires_at: r.try_get(7)?,
        idle_until: r.try_get(8)?,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn both_backends_have_the_same_schema_steps() {
        assert_eq!(super::MIGRATIONS.len(), super::super::MIGRATIONS.len());
    }
}
