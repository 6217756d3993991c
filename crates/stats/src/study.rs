//! The study the commune publishes and signs, and what it signs afterwards: the result and the
//! use it made of it.
//!
//! ```text
//! commune:  Study ──sign(commune key)──▶ study+jwt ──▶ wallet: UnverifiedStudy::parse ──verify──▶ VerifiedStudy
//! commune:  StudyResult ──sign──▶ study-result+jwt ;  StudyUse ──sign──▶ study-use+jwt
//! ```
//!
//! A study is refused when it would let anyone see an answer: fewer than [`MIN_BATCH_FLOOR`]
//! contributions before a result, the same server as leader and helper, or noise on a measure
//! prio cannot noise.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::Digest as _;
use souverain_core::jose::{JwsError, PublicKey, SigningKey, UnverifiedJws, sign_compact};
use souverain_core::openid4vp::request::{LocalizedText, Purpose};

use crate::dap::{self, DapError};

/// JOSE `typ` of a study (ours).
pub const STUDY_TYP: &str = "study+jwt";
/// JOSE `typ` of a study's published result (ours).
pub const RESULT_TYP: &str = "study-result+jwt";
/// JOSE `typ` of the commune's statement of what it did with a result (ours).
pub const USE_TYP: &str = "study-use+jwt";

/// No study may publish a result from fewer contributions than this, whatever it says.
pub const MIN_BATCH_FLOOR: u64 = 10;
/// The minimum batch a commune's study has unless its configuration says more.
pub const DEFAULT_MIN_BATCH: u64 = 100;
/// At most this many buckets or entries (the report's size grows with them).
pub const MAX_LENGTH: usize = 64;

/// Why a study, a result or a use record was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StudyError {
    /// The JWS is malformed, or its signature or `typ` is wrong.
    #[error("study JWS: {0}")]
    Jws(#[from] JwsError),
    /// The payload is not the record it should be.
    #[error("study payload is malformed")]
    Malformed,
    /// The task id is not 32 bytes of base64url.
    #[error("the study's task id is not 32 bytes")]
    BadTaskId,
    /// The minimum batch is below [`MIN_BATCH_FLOOR`].
    #[error("minimum batch {0} is below {MIN_BATCH_FLOOR}")]
    MinBatchTooSmall(u64),
    /// The dates are out of order or not on the time precision.
    #[error("the study's dates are out of order or not multiples of its time precision")]
    BadDates,
    /// The measure has no bucket, too many, or a bit width out of range.
    #[error("the study's measure is out of range")]
    BadMeasure,
    /// Noise is asked for a measure prio cannot noise, or with a zero epsilon.
    #[error("differential-privacy noise is only for histograms and vectors, with epsilon > 0")]
    BadNoise,
    /// The leader and the helper are the same server: one party would hold both shares.
    #[error("the leader and the helper must be different servers")]
    SameAggregator,
    /// The token key is not an RSA-2048 public key.
    #[error("the study's token key: {0}")]
    TokenKey(#[from] crate::token::TokenError),
    /// An aggregator's or the collector's HPKE configuration.
    #[error("HPKE configuration: {0}")]
    Hpke(#[from] DapError),
    /// The result or use record names another study.
    #[error("the record is about another study")]
    OtherStudy,
    /// The result counts fewer contributions than the study's minimum batch.
    #[error("the result counts {contributions} contributions, below the study's {min_batch}")]
    BelowMinBatch {
        /// Contributions the result counts.
        contributions: u64,
        /// The study's minimum batch.
        min_batch: u64,
    },
    /// The result's values do not match the measure (one per bucket or entry).
    #[error("the result does not have one value per bucket or entry")]
    ResultShape,
}

/// What a citizen's report measures, and so which Prio3 computes it ([`crate::vdaf`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Measure {
    /// Yes or no; the result is how many said yes.
    Count,
    /// An integer below 2^bits; the result is the total.
    Sum {
        /// Bit width of the integer (1 to 32).
        bits: u8,
    },
    /// One answer among buckets; the result is the count of each.
    Histogram {
        /// The buckets, as the citizen reads them.
        buckets: Vec<LocalizedText>,
    },
    /// One integer below 2^bits per entry; the result is each entry's total.
    SumVec {
        /// The entries, as the citizen reads them.
        entries: Vec<LocalizedText>,
        /// Bit width of each integer (1 to 16).
        bits: u8,
    },
}

impl Measure {
    /// How many values a result has: one per bucket or entry, one for a count or a sum.
    pub fn result_length(&self) -> usize {
        match self {
            Measure::Count | Measure::Sum { .. } => 1,
            Measure::Histogram { buckets } => buckets.len(),
            Measure::SumVec { entries, .. } => entries.len(),
        }
    }
}

/// Differential-privacy noise each aggregator adds to its aggregate share: discrete Laplace
/// calibrated for pure ε-DP with ε = numerator / denominator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Noise {
    /// ε's numerator.
    pub epsilon_numerator: u32,
    /// ε's denominator.
    pub epsilon_denominator: u32,
}

/// How the wallet computes the measurement from the vault, which the citizen can check against
/// [`Study::computed_from`] and [`Study::computation`]'s words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Derivation {
    /// Whether the citizen holds a current credential of type `vct` (for `count`).
    Holds {
        /// The credential type.
        vct: String,
    },
    /// The number of elements of the array at `path` (e.g. the household's children): the bucket
    /// of that number for `histogram` (the last bucket takes every larger number), the number for
    /// `sum`.
    ArrayLength {
        /// The credential type.
        vct: String,
        /// The claim's path from the credential's root (object members).
        path: Vec<String>,
    },
    /// The index of the claim's value among `values` (e.g. the family-quotient bracket), for
    /// `histogram`.
    ValueIndex {
        /// The credential type.
        vct: String,
        /// The claim's path.
        path: Vec<String>,
        /// The values, one per bucket.
        values: Vec<Value>,
    },
    /// The integer claims at `paths`, one per entry (for `sum_vec`), each capped at the measure's
    /// largest value.
    NumbersAt {
        /// The credential type.
        vct: String,
        /// One claim path per entry.
        paths: Vec<Vec<String>>,
    },
    /// The citizen's own answer among the buckets, chosen in the wallet (for `histogram`): no
    /// vault data leaves, not even into the computation.
    Choice,
}

/// Why the wallet could not compute a measurement.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DeriveError {
    /// The wallet holds no credential of the type the study reads.
    #[error("no credential of type {0}")]
    NoCredential(String),
    /// The credential lacks the claim, or it has another shape.
    #[error("the credential has no usable claim at {0}")]
    NoClaim(String),
    /// The value is none of the study's values.
    #[error("the value is none of the study's")]
    UnknownValue,
    /// The derivation does not fit the measure (e.g. a choice for a sum).
    #[error("the study's derivation does not fit its measure")]
    Mismatch,
    /// A choice was needed and none, or one out of range, was given.
    #[error("a choice among the buckets is needed")]
    NoChoice,
}

impl Derivation {
    /// The credential type read, if any.
    pub fn vct(&self) -> Option<&str> {
        match self {
            Derivation::Holds { vct }
            | Derivation::ArrayLength { vct, .. }
            | Derivation::ValueIndex { vct, .. }
            | Derivation::NumbersAt { vct, .. } => Some(vct),
            Derivation::Choice => None,
        }
    }
}

fn claim_at<'a>(claims: &'a Map<String, Value>, path: &[String]) -> Option<&'a Value> {
    let (first, rest) = path.split_first()?;
    rest.iter().try_fold(claims.get(first)?, |value, member| value.get(member))
}

/// Computes the citizen's measurement for `study` (the wallet's side): `claims_of` gives the
/// claims of the citizen's current credential of a type (`None`: none held); `choice` is the
/// bucket the citizen chose, for [`Derivation::Choice`].
pub fn derive_measurement(
    study: &Study,
    claims_of: impl Fn(&str) -> Option<Map<String, Value>>,
    choice: Option<usize>,
) -> Result<crate::vdaf::Measurement, DeriveError> {
    use crate::vdaf::Measurement;
    let claims = |vct: &str| claims_of(vct).ok_or_else(|| DeriveError::NoCredential(vct.to_owned()));
    let buckets = match &study.measure {
        Measure::Histogram { buckets } => Some(buckets.len()),
        _ => None,
    };
    match (&study.derivation, &study.measure) {
        (Derivation::Holds { vct }, Measure::Count) => Ok(Measurement::Yes(claims_of(vct).is_some())),
        (Derivation::ArrayLength { vct, path }, Measure::Histogram { .. } | Measure::Sum { .. }) => {
            let claims = claims(vct)?;
            let length = claim_at(&claims, path)
                .and_then(Value::as_array)
                .map(Vec::len)
                .ok_or_else(|| DeriveError::NoClaim(path.join("/")))?;
            Ok(match (buckets, &study.measure) {
                (Some(n), _) => Measurement::Bucket(length.min(n - 1)),
                (None, Measure::Sum { bits }) => {
                    Measurement::Number((length as u64).min((1u64 << bits).saturating_sub(1)))
                }
                _ => return Err(DeriveError::Mismatch),
            })
        }
        (Derivation::ValueIndex { vct, path, values }, Measure::Histogram { buckets })
            if values.len() == buckets.len() =>
        {
            let claims = claims(vct)?;
            let value = claim_at(&claims, path).ok_or_else(|| DeriveError::NoClaim(path.join("/")))?;
            values.iter().position(|v| v == value).map(Measurement::Bucket).ok_or(DeriveError::UnknownValue)
        }
        (Derivation::NumbersAt { vct, paths }, Measure::SumVec { entries, bits }) if paths.len() == entries.len() => {
            let claims = claims(vct)?;
            let largest = (1u64 << bits).saturating_sub(1);
            let numbers = paths
                .iter()
                .map(|path| {
                    claim_at(&claims, path)
                        .and_then(Value::as_u64)
                        .map(|n| n.min(largest))
                        .ok_or_else(|| DeriveError::NoClaim(path.join("/")))
                })
                .collect::<Result<Vec<u64>, _>>()?;
            Ok(Measurement::Vector(numbers))
        }
        (Derivation::Choice, Measure::Histogram { buckets }) => match choice {
            Some(c) if c < buckets.len() => Ok(Measurement::Bucket(c)),
            _ => Err(DeriveError::NoChoice),
        },
        _ => Err(DeriveError::Mismatch),
    }
}

/// Which of the citizen's data a measurement is computed from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataSource {
    /// The credential type.
    pub vct: String,
    /// The claims read (DCQL claims path pointers).
    pub paths: Vec<Value>,
}

/// One of the two aggregators.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AggregatorInfo {
    /// Who runs it, as the citizen reads it.
    pub name: LocalizedText,
    /// Its DAP endpoint (the `{aggregator}` of the draft's URLs), ending with `/`.
    pub url: String,
    /// Its HPKE configuration ([`dap::encode_config`]).
    pub hpke_config: String,
}

/// A study: what the commune asks, how it computes it, and what it promises.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Study {
    /// The commune.
    pub iss: String,
    /// The DAP task id (base64url of 32 bytes), which also names the study.
    pub task_id: String,
    /// Signed at (Unix seconds).
    pub iat: i64,
    /// A short title.
    pub title: LocalizedText,
    /// The question, as the citizen reads it.
    pub question: LocalizedText,
    /// Why (a DPV purpose and its words).
    pub purpose: Purpose,
    /// Who may contribute: holders of a credential of this type from the commune, presented once
    /// to get a contribution token (e.g. the proof of residence).
    pub eligibility_vct: String,
    /// Which of the citizen's data the answer is computed from.
    pub computed_from: Vec<DataSource>,
    /// How the wallet computes the answer from them, in words.
    pub computation: LocalizedText,
    /// How the wallet computes it, for the wallet.
    pub derivation: Derivation,
    /// What is measured.
    pub measure: Measure,
    /// The commune's aggregator.
    pub leader: AggregatorInfo,
    /// The independent aggregator.
    pub helper: AggregatorInfo,
    /// The collector's (the commune's) HPKE configuration, which the aggregate shares are sealed to.
    pub collector_hpke_config: String,
    /// The leader's RSA-2048 key for contribution tokens ([`crate::token`]; base64url of its
    /// SubjectPublicKeyInfo): one key for every citizen, so that a token says nothing of whom
    /// it was given to.
    pub token_key: String,
    /// No result from fewer contributions.
    pub min_batch: u64,
    /// Noise added by each aggregator, if any.
    pub noise: Option<Noise>,
    /// Report times are rounded down to this many seconds.
    pub time_precision: u64,
    /// Contributions open (Unix seconds, a multiple of `time_precision`).
    pub opens_at: i64,
    /// Contributions close; the result comes after (Unix seconds, a multiple of `time_precision`).
    pub closes_at: i64,
    /// What the commune will do with the result.
    pub use_of_results: LocalizedText,
}

impl Study {
    /// Checks the study keeps its promises of privacy (see the module's documentation).
    pub fn check(&self) -> Result<(), StudyError> {
        self.task_id_bytes()?;
        if self.min_batch < MIN_BATCH_FLOOR {
            return Err(StudyError::MinBatchTooSmall(self.min_batch));
        }
        let precision = i64::try_from(self.time_precision).map_err(|_| StudyError::BadDates)?;
        if precision <= 0
            || self.closes_at <= self.opens_at
            || self.opens_at % precision != 0
            || self.closes_at % precision != 0
        {
            return Err(StudyError::BadDates);
        }
        let fits = |length: usize| (2..=MAX_LENGTH).contains(&length);
        let measure_ok = match &self.measure {
            Measure::Count => true,
            Measure::Sum { bits } => (1..=32).contains(bits),
            Measure::Histogram { buckets } => fits(buckets.len()),
            Measure::SumVec { entries, bits } => (1..=MAX_LENGTH).contains(&entries.len()) && (1..=16).contains(bits),
        };
        if !measure_ok {
            return Err(StudyError::BadMeasure);
        }
        if let Some(noise) = &self.noise {
            let noisable = matches!(self.measure, Measure::Histogram { .. } | Measure::SumVec { .. });
            if !noisable || noise.epsilon_numerator == 0 || noise.epsilon_denominator == 0 {
                return Err(StudyError::BadNoise);
            }
        }
        if !derivation_fits(&self.derivation, &self.measure) {
            return Err(StudyError::BadMeasure);
        }
        if souverain_core::trust_list::origin(&self.leader.url) == souverain_core::trust_list::origin(&self.helper.url)
        {
            return Err(StudyError::SameAggregator);
        }
        dap::decode_config(&self.leader.hpke_config)?;
        dap::decode_config(&self.helper.hpke_config)?;
        dap::decode_config(&self.collector_hpke_config)?;
        crate::token::check_public_key(&self.token_key)?;
        Ok(())
    }

    /// The task id's 32 bytes.
    pub fn task_id_bytes(&self) -> Result<[u8; 32], StudyError> {
        souverain_core::b64::decode(&self.task_id)
            .ok()
            .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
            .ok_or(StudyError::BadTaskId)
    }

    /// Checks and signs the study with the commune's key.
    pub fn sign(&self, commune: &SigningKey) -> Result<String, StudyError> {
        self.check()?;
        sign(commune, STUDY_TYP, self)
    }
}

fn derivation_fits(derivation: &Derivation, measure: &Measure) -> bool {
    match (derivation, measure) {
        (Derivation::Holds { .. }, Measure::Count) => true,
        (Derivation::ArrayLength { .. }, Measure::Histogram { .. } | Measure::Sum { .. }) => true,
        (Derivation::ValueIndex { values, .. }, Measure::Histogram { buckets }) => values.len() == buckets.len(),
        (Derivation::NumbersAt { paths, .. }, Measure::SumVec { entries, .. }) => paths.len() == entries.len(),
        (Derivation::Choice, Measure::Histogram { .. }) => true,
        _ => false,
    }
}

fn sign(key: &SigningKey, typ: &str, payload: &impl Serialize) -> Result<String, StudyError> {
    let payload = serde_json::to_vec(payload).map_err(|_| StudyError::Malformed)?;
    Ok(sign_compact(key, key.default_alg(), typ, Map::new(), &payload)?)
}

fn verify<T: for<'de> Deserialize<'de>>(compact: &str, commune: &PublicKey, typ: &str) -> Result<T, StudyError> {
    let jws = UnverifiedJws::parse(compact)?;
    let verified = jws.verify(commune, typ)?;
    serde_json::from_slice(verified.payload()).map_err(|_| StudyError::Malformed)
}

/// A study as received: not yet checked.
#[derive(Debug, Clone)]
pub struct UnverifiedStudy(String);

impl UnverifiedStudy {
    /// Keeps the compact JWS for verification.
    pub fn parse(compact: &str) -> UnverifiedStudy {
        UnverifiedStudy(compact.trim().to_owned())
    }

    /// Verifies the commune's signature and the study's promises.
    pub fn verify(self, commune: &PublicKey) -> Result<VerifiedStudy, StudyError> {
        let study: Study = verify(&self.0, commune, STUDY_TYP)?;
        study.check()?;
        Ok(VerifiedStudy { study, compact: self.0 })
    }
}

/// A study signed by the commune and keeping its promises.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedStudy {
    study: Study,
    compact: String,
}

impl VerifiedStudy {
    /// The study.
    pub fn study(&self) -> &Study {
        &self.study
    }

    /// The signed study as published.
    pub fn compact(&self) -> &str {
        &self.compact
    }

    /// How the commune's trust list names this study: base64url of the SHA-256 of the signed
    /// study as published. A study the wallet finds at the leader is offered only if the signed
    /// list names it by this digest, so that withdrawing it from the list withdraws it.
    pub fn digest(&self) -> String {
        souverain_core::b64::encode(sha2::Sha256::digest(self.compact.as_bytes()))
    }

    /// Whether contributions are open at `now`.
    pub fn is_open(&self, now: i64) -> bool {
        (self.study.opens_at..self.study.closes_at).contains(&now)
    }
}

/// The result the commune publishes once the study closed with enough contributions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StudyResult {
    /// The commune.
    pub iss: String,
    /// The study's task id.
    pub task_id: String,
    /// Signed at.
    pub iat: i64,
    /// How many reports both aggregators counted.
    pub contributions: u64,
    /// One value per bucket or entry (one for a count or a sum), noise included.
    pub values: Vec<i64>,
    /// The noise added, as the study promised.
    pub noise: Option<Noise>,
    /// The collection's interval: `[opens_at, closes_at)` of the study.
    pub interval: [i64; 2],
}

impl StudyResult {
    /// Signs the result with the commune's key, after checking it fits the study.
    pub fn sign(&self, study: &VerifiedStudy, commune: &SigningKey) -> Result<String, StudyError> {
        self.check(study)?;
        sign(commune, RESULT_TYP, self)
    }

    fn check(&self, study: &VerifiedStudy) -> Result<(), StudyError> {
        let s = study.study();
        if self.task_id != s.task_id || self.iss != s.iss || self.noise != s.noise {
            return Err(StudyError::OtherStudy);
        }
        if self.contributions < s.min_batch {
            return Err(StudyError::BelowMinBatch { contributions: self.contributions, min_batch: s.min_batch });
        }
        if self.values.len() != s.measure.result_length() {
            return Err(StudyError::ResultShape);
        }
        Ok(())
    }

    /// Verifies a published result of `study`.
    pub fn verify(compact: &str, study: &VerifiedStudy, commune: &PublicKey) -> Result<StudyResult, StudyError> {
        let result: StudyResult = verify(compact, commune, RESULT_TYP)?;
        result.check(study)?;
        Ok(result)
    }
}

/// What the commune decided from a result, signed so the citizen can hold it to its word.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StudyUse {
    /// The commune.
    pub iss: String,
    /// The study's task id.
    pub task_id: String,
    /// Signed at.
    pub iat: i64,
    /// What it decided, in words.
    pub decision: LocalizedText,
}

impl StudyUse {
    /// Signs the statement with the commune's key.
    pub fn sign(&self, study: &VerifiedStudy, commune: &SigningKey) -> Result<String, StudyError> {
        if self.task_id != study.study().task_id || self.iss != study.study().iss {
            return Err(StudyError::OtherStudy);
        }
        sign(commune, USE_TYP, self)
    }

    /// Verifies a published statement about `study`.
    pub fn verify(compact: &str, study: &VerifiedStudy, commune: &PublicKey) -> Result<StudyUse, StudyError> {
        let statement: StudyUse = verify(compact, commune, USE_TYP)?;
        if statement.task_id != study.study().task_id || statement.iss != study.study().iss {
            return Err(StudyError::OtherStudy);
        }
        Ok(statement)
    }
}
