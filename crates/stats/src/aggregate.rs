//! The two aggregators' work on stored reports (DAP-09 sections 4.5 and 4.6), as pure steps the
//! leader's and the helper's servers call around their storage and HTTP:
//!
//! ```text
//! leader: start_job(reports) ─ AggregationJobInitializeReq ─▶ helper: helper_init(req) → output shares
//! leader: finish_job(resp) → output shares ◀─ AggregationJobResp ─┘
//! leader: aggregate_share_req(count, checksum) ─ AggregateShareReq ─▶ helper: helper_aggregate_share(...)
//! collector: collect(leader share, helper's sealed share) → result ◀─ AggregateShare ─┘
//! ```
//!
//! Each aggregator adds its output shares to one stored aggregate share per study and keeps no
//! report's share once aggregated; the helper refuses a report id it has seen (a replay), a report
//! outside the study's window, and gives its aggregate share only for the study's whole interval,
//! for the same count and checksum the leader has, and at least the minimum batch.

use janus_messages::query_type::TimeInterval;
use janus_messages::{
    AggregateShare, AggregateShareAad, AggregateShareReq, AggregationJobInitializeReq, AggregationJobResp,
    BatchSelector, Duration, Interval, PartialBatchSelector, PrepareError, PrepareInit, PrepareResp, PrepareStepResult,
    Report, ReportId, ReportIdChecksum, ReportShare, Role, TaskId, Time,
};
use rand_core::{CryptoRng, RngCore};

use crate::dap::{self, DapError, HpkeKeyPair, Label};
use crate::report::open_input_share;
use crate::study::VerifiedStudy;
use crate::vdaf::{VERIFY_KEY_LEN, Vdaf, VdafError};

/// Why an aggregation step was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AggregateError {
    /// A message or a seal.
    #[error(transparent)]
    Dap(#[from] DapError),
    /// A share or an aggregate share.
    #[error(transparent)]
    Vdaf(#[from] VdafError),
    /// The request is about another interval than the study's.
    #[error("the request is not about the study's interval")]
    WrongBatch,
    /// Fewer reports than the study's minimum batch: no aggregate share leaves.
    #[error("{count} reports aggregated, the study needs {min_batch}")]
    BelowMinBatch {
        /// Reports aggregated.
        count: u64,
        /// The study's minimum batch.
        min_batch: u64,
    },
    /// The two aggregators did not aggregate the same reports.
    #[error("the leader's count or checksum differs from the helper's")]
    BatchMismatch,
    /// The helper answered about other reports than the job's.
    #[error("the helper's answer does not match the job")]
    AnswerMismatch,
    /// The study is not closed yet: no aggregate share before its end.
    #[error("the study is still open")]
    StillOpen,
}

/// The study's one batch: its whole window.
pub fn batch_interval(study: &VerifiedStudy) -> Result<Interval, AggregateError> {
    let s = study.study();
    let start = u64::try_from(s.opens_at).map_err(|_| AggregateError::WrongBatch)?;
    let length = u64::try_from(s.closes_at - s.opens_at).map_err(|_| AggregateError::WrongBatch)?;
    Interval::new(Time::from_seconds_since_epoch(start), Duration::from_seconds(length))
        .map_err(|_| AggregateError::WrongBatch)
}

fn task_id(study: &VerifiedStudy) -> Result<TaskId, AggregateError> {
    study.study().task_id_bytes().map(TaskId::from).map_err(|_| AggregateError::WrongBatch)
}

fn vdaf(study: &VerifiedStudy) -> Result<Vdaf, AggregateError> {
    Ok(Vdaf::for_measure(&study.study().measure)?)
}

/// A report the leader could not prepare (its share did not open or decode): left out of the job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dropped {
    /// The report.
    pub id: [u8; 16],
    /// Why.
    pub reason: String,
}

/// The leader's side of one aggregation job, between its request and the helper's answer.
pub struct LeaderJob {
    states: Vec<([u8; 16], Vec<u8>)>,
    /// Reports left out.
    pub dropped: Vec<Dropped>,
}

/// What the leader keeps from a job: the output shares of the reports both aggregators prepared.
#[derive(Debug, Clone, Default)]
pub struct JobOutcome {
    /// The reports aggregated.
    pub aggregated: Vec<[u8; 16]>,
    /// Their output shares (to add to the stored aggregate share).
    pub output_shares: Vec<Vec<u8>>,
    /// Reports the helper refused, with DAP's reason.
    pub refused: Vec<([u8; 16], PrepareError)>,
}

/// Starts an aggregation job on stored reports (the leader's side): the encoded
/// `AggregationJobInitializeReq` to `PUT` to the helper.
pub fn start_job(
    study: &VerifiedStudy,
    leader_key: &HpkeKeyPair,
    verify_key: &[u8; VERIFY_KEY_LEN],
    reports: &[Vec<u8>],
) -> Result<(LeaderJob, Vec<u8>), AggregateError> {
    let vdaf = vdaf(study)?;
    let mut job = LeaderJob { states: Vec::new(), dropped: Vec::new() };
    let mut inits = Vec::new();
    for encoded in reports {
        let report: Report = dap::decode(encoded, "Report")?;
        let metadata = report.metadata();
        let id: [u8; 16] = *metadata.id().as_ref();
        let prepared = open_input_share(
            study,
            leader_key,
            Role::Leader,
            metadata,
            report.public_share(),
            report.leader_encrypted_input_share(),
        )
        .map_err(|error| error.to_string())
        .and_then(|share| {
            vdaf.leader_init(verify_key, &id, report.public_share(), &share).map_err(|error| error.to_string())
        });
        match prepared {
            Ok((state, message)) => {
                job.states.push((id, state));
                let share = ReportShare::new(
                    metadata.clone(),
                    report.public_share().to_vec(),
                    report.helper_encrypted_input_share().clone(),
                );
                inits.push(PrepareInit::new(share, message));
            }
            Err(reason) => job.dropped.push(Dropped { id, reason }),
        }
    }
    let request = AggregationJobInitializeReq::new(Vec::new(), PartialBatchSelector::new_time_interval(), inits);
    Ok((job, dap::encode(&request)))
}

/// Finishes the job with the helper's encoded `AggregationJobResp` (the leader's side).
pub fn finish_job(study: &VerifiedStudy, job: LeaderJob, answer: &[u8]) -> Result<JobOutcome, AggregateError> {
    let vdaf = vdaf(study)?;
    let answer: AggregationJobResp = dap::decode(answer, "AggregationJobResp")?;
    if answer.prepare_resps().len() != job.states.len() {
        return Err(AggregateError::AnswerMismatch);
    }
    let mut outcome = JobOutcome::default();
    for ((id, state), response) in job.states.into_iter().zip(answer.prepare_resps()) {
        if response.report_id().as_ref() != &id {
            return Err(AggregateError::AnswerMismatch);
        }
        match response.result() {
            PrepareStepResult::Continue { message } => match vdaf.leader_finish(&state, message) {
                Ok(output) => {
                    outcome.aggregated.push(id);
                    outcome.output_shares.push(output);
                }
                // The helper accepted a report whose preparation fails here: both sides must drop it,
                // and the helper will not count it either once the counts are compared.
                Err(_) => outcome.refused.push((id, PrepareError::VdafPrepError)),
            },
            PrepareStepResult::Reject(error) => outcome.refused.push((id, *error)),
            PrepareStepResult::Finished => outcome.refused.push((id, PrepareError::InvalidMessage)),
        }
    }
    Ok(outcome)
}

/// What the helper keeps from a job it answered.
#[derive(Debug, Clone, Default)]
pub struct HelperOutcome {
    /// The encoded `AggregationJobResp` to send back.
    pub answer: Vec<u8>,
    /// The reports it prepared (their ids are now spent).
    pub aggregated: Vec<[u8; 16]>,
    /// Their output shares.
    pub output_shares: Vec<Vec<u8>>,
}

/// Answers the leader's encoded `AggregationJobInitializeReq` (the helper's side). `seen` says
/// whether a report id was already aggregated (the helper's store).
pub fn helper_init(
    study: &VerifiedStudy,
    helper_key: &HpkeKeyPair,
    verify_key: &[u8; VERIFY_KEY_LEN],
    request: &[u8],
    seen: impl Fn(&[u8; 16]) -> bool,
) -> Result<HelperOutcome, AggregateError> {
    let vdaf = vdaf(study)?;
    let request: AggregationJobInitializeReq<TimeInterval> = dap::decode(request, "AggregationJobInitializeReq")?;
    let mut outcome = HelperOutcome::default();
    let mut responses = Vec::new();
    for init in request.prepare_inits() {
        let share = init.report_share();
        let metadata = share.metadata();
        let id: [u8; 16] = *metadata.id().as_ref();
        let time = i64::try_from(metadata.time().as_seconds_since_epoch()).unwrap_or(i64::MAX);
        let result = if seen(&id) || outcome.aggregated.contains(&id) {
            PrepareStepResult::Reject(PrepareError::ReportReplayed)
        } else if !study.is_open(time) {
            PrepareStepResult::Reject(PrepareError::ReportDropped)
        } else {
            match open_input_share(
                study,
                helper_key,
                Role::Helper,
                metadata,
                share.public_share(),
                share.encrypted_input_share(),
            ) {
                Err(_) => PrepareStepResult::Reject(PrepareError::HpkeDecryptError),
                Ok(input) => match vdaf.helper_step(verify_key, &id, share.public_share(), &input, init.message()) {
                    Ok((output, message)) => {
                        outcome.aggregated.push(id);
                        outcome.output_shares.push(output);
                        PrepareStepResult::Continue { message }
                    }
                    Err(_) => PrepareStepResult::Reject(PrepareError::VdafPrepError),
                },
            }
        };
        responses.push(PrepareResp::new(ReportId::from(id), result));
    }
    outcome.answer = dap::encode(&AggregationJobResp::new(responses));
    Ok(outcome)
}

/// The running count and checksum of an aggregator's aggregated reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BatchTally {
    /// Reports aggregated.
    pub count: u64,
    /// DAP's checksum of their ids.
    pub checksum: [u8; 32],
}

impl BatchTally {
    /// The tally with `ids` added.
    pub fn with(self, ids: &[[u8; 16]]) -> BatchTally {
        let mut checksum = ReportIdChecksum::from(self.checksum);
        for id in ids {
            checksum = dap::checksum_with(checksum, &ReportId::from(*id));
        }
        let mut bytes = [0u8; 32];
        bytes.copy_from_slice(checksum.as_ref());
        BatchTally { count: self.count + ids.len() as u64, checksum: bytes }
    }
}

/// The leader's encoded `AggregateShareReq` for the study's batch.
pub fn aggregate_share_req(study: &VerifiedStudy, tally: BatchTally) -> Result<Vec<u8>, AggregateError> {
    let selector = BatchSelector::<TimeInterval>::new_time_interval(batch_interval(study)?);
    let request = AggregateShareReq::new(selector, Vec::new(), tally.count, ReportIdChecksum::from(tally.checksum));
    Ok(dap::encode(&request))
}

fn check_collectable(study: &VerifiedStudy, tally: BatchTally, now: i64) -> Result<(), AggregateError> {
    if now < study.study().closes_at {
        return Err(AggregateError::StillOpen);
    }
    if tally.count < study.study().min_batch {
        return Err(AggregateError::BelowMinBatch { count: tally.count, min_batch: study.study().min_batch });
    }
    Ok(())
}

/// An aggregator's aggregate share ready to leave: checked collectable and with its noise.
fn noised_share(study: &VerifiedStudy, tally: BatchTally, stored: &[u8], now: i64) -> Result<Vec<u8>, AggregateError> {
    check_collectable(study, tally, now)?;
    let vdaf = vdaf(study)?;
    Ok(match &study.study().noise {
        Some(noise) => vdaf.add_noise(stored, noise, tally.count)?,
        None => stored.to_vec(),
    })
}

/// Checks the leader's encoded `AggregateShareReq` is for the study's batch and the reports the
/// helper aggregated (count and checksum); returns the batch.
pub fn check_share_request(
    study: &VerifiedStudy,
    request: &[u8],
    tally: BatchTally,
) -> Result<BatchSelector<TimeInterval>, AggregateError> {
    let request: AggregateShareReq<TimeInterval> = dap::decode(request, "AggregateShareReq")?;
    let batch = BatchSelector::<TimeInterval>::new_time_interval(batch_interval(study)?);
    if *request.batch_selector() != batch || !request.aggregation_parameter().is_empty() {
        return Err(AggregateError::WrongBatch);
    }
    if request.report_count() != tally.count || request.checksum().as_ref() != tally.checksum {
        return Err(AggregateError::BatchMismatch);
    }
    Ok(batch)
}

/// Answers the leader's encoded `AggregateShareReq` (the helper's side): its aggregate share, with
/// its noise, sealed to the collector, once the study is closed, for the study's whole
/// interval, and only if the leader aggregated the same reports and at least the minimum batch.
pub fn helper_aggregate_share(
    study: &VerifiedStudy,
    request: &[u8],
    tally: BatchTally,
    stored: &[u8],
    now: i64,
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<Vec<u8>, AggregateError> {
    let batch = check_share_request(study, request, tally)?;
    let share = noised_share(study, tally, stored, now)?;
    let collector = dap::decode_config(&study.study().collector_hpke_config)?;
    let aad = dap::encode(&AggregateShareAad::new(task_id(study)?, Vec::new(), batch));
    let sealed = dap::seal(&collector, Label::AggregateShare, Role::Helper, Role::Collector, &share, &aad, rng)?;
    Ok(dap::encode(&AggregateShare::new(sealed)))
}

/// The result (the collector's side, which the commune's leader runs): its own aggregate share
/// with its noise, and the helper's encoded `AggregateShare` opened with the collector's key.
pub fn collect(
    study: &VerifiedStudy,
    collector_key: &HpkeKeyPair,
    tally: BatchTally,
    leader_stored: &[u8],
    helper_answer: &[u8],
    now: i64,
) -> Result<Vec<i64>, AggregateError> {
    let leader_share = noised_share(study, tally, leader_stored, now)?;
    let answer: AggregateShare = dap::decode(helper_answer, "AggregateShare")?;
    let batch = BatchSelector::<TimeInterval>::new_time_interval(batch_interval(study)?);
    let aad = dap::encode(&AggregateShareAad::new(task_id(study)?, Vec::new(), batch));
    let helper_share = dap::open(
        collector_key,
        Label::AggregateShare,
        Role::Helper,
        Role::Collector,
        answer.encrypted_aggregate_share(),
        &aad,
    )?;
    Ok(vdaf(study)?.unshard(&leader_share, &helper_share, tally.count)?)
}

/// Adds output shares to an aggregator's stored aggregate share.
pub fn accumulate(
    study: &VerifiedStudy,
    stored: Option<&[u8]>,
    output_shares: &[Vec<u8>],
) -> Result<Vec<u8>, AggregateError> {
    Ok(vdaf(study)?.accumulate(stored, output_shares)?)
}
