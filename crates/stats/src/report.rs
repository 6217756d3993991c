//! A citizen's report: the answer split into two shares, each sealed to its aggregator (the
//! wallet's side), and the leader's check of a report it receives.
//!
//! Neither aggregator can read an answer: each opens only its own share, and a share alone is
//! uniformly random in the field (the helper's is the seed of such a share).

use janus_messages::{
    HpkeCiphertext, InputShareAad, PlaintextInputShare, Report, ReportId, ReportMetadata, Role, TaskId, Time,
};
use rand_core::{CryptoRng, RngCore};

use crate::dap::{self, DapError, HpkeKeyPair, Label};
use crate::study::VerifiedStudy;
use crate::vdaf::{Measurement, Vdaf, VdafError};

/// Why a report could not be made or was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// The study does not take contributions at this time.
    #[error("the study takes no contributions at {time} (open from {opens_at} to {closes_at})")]
    OutsideWindow {
        /// The report's time.
        time: i64,
        /// The study's opening.
        opens_at: i64,
        /// The study's closing.
        closes_at: i64,
    },
    /// The study closed: its batch is being collected and takes no more reports.
    #[error("the study closed at {closes_at}")]
    Closed {
        /// The study's closing.
        closes_at: i64,
    },
    /// The report claims a time ahead of the receiver's clock.
    #[error("the report's time is in the future")]
    FromTheFuture,
    /// The report is for another study.
    #[error("the report is for another study")]
    OtherStudy,
    /// The measurement or a share does not fit the study's VDAF.
    #[error(transparent)]
    Vdaf(#[from] VdafError),
    /// A message or a seal.
    #[error(transparent)]
    Dap(#[from] DapError),
}

/// The time a report carries: `now` rounded down to the study's precision (so that the time
/// says no more than the batch it falls in).
pub fn report_time(study: &VerifiedStudy, now: i64) -> i64 {
    let precision = i64::try_from(study.study().time_precision).unwrap_or(i64::MAX).max(1);
    now - now.rem_euclid(precision)
}

fn check_window(study: &VerifiedStudy, time: i64) -> Result<(), ReportError> {
    let s = study.study();
    if !study.is_open(time) {
        return Err(ReportError::OutsideWindow { time, opens_at: s.opens_at, closes_at: s.closes_at });
    }
    Ok(())
}

fn seconds(time: i64) -> Time {
    Time::from_seconds_since_epoch(u64::try_from(time).unwrap_or(0))
}

fn task_id(study: &VerifiedStudy) -> Result<TaskId, ReportError> {
    study.study().task_id_bytes().map(TaskId::from).map_err(|_| ReportError::OtherStudy)
}

/// Makes the report of `measurement` for `study` at `now` (the wallet's side): DAP-09's encoded
/// `Report`, ready for `PUT {leader}tasks/{task_id}/reports`.
pub fn make_report(
    study: &VerifiedStudy,
    measurement: &Measurement,
    now: i64,
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<Vec<u8>, ReportError> {
    let time = report_time(study, now);
    check_window(study, time)?;
    let s = study.study();
    let vdaf = Vdaf::for_measure(&s.measure)?;
    let mut id = [0u8; 16];
    rng.fill_bytes(&mut id);
    let shares = vdaf.shard(measurement, &id)?;
    let metadata = ReportMetadata::new(ReportId::from(id), seconds(time));
    let aad = dap::encode(&InputShareAad::new(task_id(study)?, metadata.clone(), shares.public.clone()));
    let seal_to = |config: &str, role: Role, share: Vec<u8>, rng: &mut _| -> Result<HpkeCiphertext, ReportError> {
        let config = dap::decode_config(config)?;
        let plaintext = dap::encode(&PlaintextInputShare::new(Vec::new(), share));
        Ok(dap::seal(&config, Label::InputShare, Role::Client, role, &plaintext, &aad, rng)?)
    };
    let leader = seal_to(&s.leader.hpke_config, Role::Leader, shares.leader, rng)?;
    let helper = seal_to(&s.helper.hpke_config, Role::Helper, shares.helper, rng)?;
    Ok(dap::encode(&Report::new(metadata, shares.public, leader, helper)))
}

/// A report the leader accepted for storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcceptedReport {
    /// Its id (DAP's nonce).
    pub id: [u8; 16],
    /// Its time (rounded).
    pub time: i64,
    /// The report as received, to aggregate later.
    pub encoded: Vec<u8>,
}

/// Opens an aggregator's input share of a report (`role` is [`Role::Leader`] or
/// [`Role::Helper`]).
pub fn open_input_share(
    study: &VerifiedStudy,
    key: &HpkeKeyPair,
    role: Role,
    metadata: &ReportMetadata,
    public_share: &[u8],
    ciphertext: &HpkeCiphertext,
) -> Result<Vec<u8>, ReportError> {
    let aad = dap::encode(&InputShareAad::new(task_id(study)?, metadata.clone(), public_share.to_vec()));
    let plaintext = dap::open(key, Label::InputShare, Role::Client, role, ciphertext, &aad)?;
    let share: PlaintextInputShare = dap::decode(&plaintext, "PlaintextInputShare")?;
    Ok(share.payload().to_vec())
}

/// The leader's check of an uploaded report at `now`: a DAP-09 report of this study, within its
/// window, received before the study closed and not from the future, whose leader share opens
/// and prepares. Replays are the
/// store's to refuse (by id).
pub fn check_upload(
    study: &VerifiedStudy,
    leader_key: &HpkeKeyPair,
    verify_key: &[u8; crate::vdaf::VERIFY_KEY_LEN],
    body: &[u8],
    now: i64,
) -> Result<AcceptedReport, ReportError> {
    if now >= study.study().closes_at {
        return Err(ReportError::Closed { closes_at: study.study().closes_at });
    }
    let report: Report = dap::decode(body, "Report")?;
    let metadata = report.metadata();
    let time = i64::try_from(metadata.time().as_seconds_since_epoch()).map_err(|_| ReportError::FromTheFuture)?;
    if time > now {
        return Err(ReportError::FromTheFuture);
    }
    check_window(study, time)?;
    let share = open_input_share(
        study,
        leader_key,
        Role::Leader,
        metadata,
        report.public_share(),
        report.leader_encrypted_input_share(),
    )?;
    let vdaf = Vdaf::for_measure(&study.study().measure)?;
    let id: [u8; 16] = *metadata.id().as_ref();
    vdaf.leader_init(verify_key, &id, report.public_share(), &share)?;
    Ok(AcceptedReport { id, time, encoded: body.to_vec() })
}
