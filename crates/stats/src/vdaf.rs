//! The Prio3 VDAFs a study may use, behind one enum so that the rest of the crate passes bytes:
//! every share, preparation state and aggregate share crosses this module encoded as DAP carries
//! it, and only here is it typed.
//!
//! | measure | VDAF | what a citizen's report holds | result |
//! |---|---|---|---|
//! | `count` | Prio3Count | yes or no | how many said yes |
//! | `sum` | Prio3Sum | an integer below 2^bits | the total |
//! | `histogram` | Prio3Histogram | one bucket | the count of each bucket |
//! | `sum_vec` | Prio3SumVec | one integer below 2^bits per entry | the total of each entry |

use prio::codec::{Encode, ParameterizedDecode};
use prio::dp::distributions::PureDpDiscreteLaplace;
use prio::dp::{DifferentialPrivacyStrategy, PureDpBudget, Rational};
use prio::field::{Field64, Field128, FieldElementWithInteger};
use prio::flp::Type;
use prio::topology::ping_pong::{PingPongContinuedValue, PingPongMessage, PingPongState, PingPongTopology};
use prio::vdaf::prio3::{
    Prio3, Prio3Count, Prio3Histogram, Prio3InputShare, Prio3PrepareState, Prio3PublicShare, Prio3Sum, Prio3SumVec,
    optimal_chunk_length,
};
use prio::vdaf::xof::XofTurboShake128;
use prio::vdaf::{Aggregatable, AggregateShare, Aggregator, AggregatorWithNoise, Client, Collector, OutputShare};

use crate::study::{Measure, Noise};

/// Prio3's verify key length (its XOF's seed), shared by the two aggregators and no one else.
pub const VERIFY_KEY_LEN: usize = 16;
/// DAP-09's nonce is the 16-byte report id.
pub const NONCE_LEN: usize = 16;

type P3<T> = Prio3<T, XofTurboShake128, VERIFY_KEY_LEN>;

/// Why a measurement, a share or a preparation step was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VdafError {
    /// The measure's parameters do not make a VDAF (e.g. zero buckets).
    #[error("the measure's parameters make no Prio3 instance")]
    BadParameters,
    /// The measurement does not fit the measure (a bucket beyond the last, a number too large).
    #[error("the measurement does not fit the study's measure")]
    MeasurementOutOfRange,
    /// A share, state or aggregate share does not decode for this VDAF.
    #[error("a {0} does not decode for this study's VDAF")]
    Decode(&'static str),
    /// The report's proof did not verify: the two aggregators refuse it.
    #[error("the report's proof does not verify")]
    Invalid,
    /// The peer sent a preparation message out of turn.
    #[error("unexpected preparation message")]
    UnexpectedMessage,
    /// Differential-privacy noise could not be drawn with these parameters.
    #[error("noise could not be added")]
    Noise,
}

/// One citizen's answer, as the wallet computed it from the vault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Measurement {
    /// For `count`.
    Yes(bool),
    /// For `sum`.
    Number(u64),
    /// For `histogram`: the index of the bucket.
    Bucket(usize),
    /// For `sum_vec`: one number per entry.
    Vector(Vec<u64>),
}

/// A study's VDAF.
#[derive(Debug, Clone)]
pub enum Vdaf {
    /// Prio3Count.
    Count(Prio3Count),
    /// Prio3Sum.
    Sum(Prio3Sum),
    /// Prio3Histogram.
    Histogram(Prio3Histogram),
    /// Prio3SumVec.
    SumVec(Prio3SumVec),
}

/// Calls `$body` with `$v` bound to the typed VDAF, whatever the variant.
macro_rules! each {
    ($self:expr, $v:ident => $body:expr) => {
        match $self {
            Vdaf::Count($v) => $body,
            Vdaf::Sum($v) => $body,
            Vdaf::Histogram($v) => $body,
            Vdaf::SumVec($v) => $body,
        }
    };
}

/// A report's shares: the public share and one input share per aggregator, encoded.
#[derive(Debug, Clone)]
pub struct Shares {
    /// Prio3's public share (joint randomness parts).
    pub public: Vec<u8>,
    /// The leader's input share.
    pub leader: Vec<u8>,
    /// The helper's input share.
    pub helper: Vec<u8>,
}

impl Vdaf {
    /// The VDAF of a measure (two aggregators: the leader and the helper).
    pub fn for_measure(measure: &Measure) -> Result<Vdaf, VdafError> {
        let vdaf = match measure {
            Measure::Count => Vdaf::Count(Prio3::new_count(2).map_err(|_| VdafError::BadParameters)?),
            Measure::Sum { bits } => {
                Vdaf::Sum(Prio3::new_sum(2, usize::from(*bits)).map_err(|_| VdafError::BadParameters)?)
            }
            Measure::Histogram { buckets } => {
                let length = buckets.len();
                Vdaf::Histogram(
                    Prio3::new_histogram(2, length, optimal_chunk_length(length))
                        .map_err(|_| VdafError::BadParameters)?,
                )
            }
            Measure::SumVec { entries, bits } => {
                let (length, bits) = (entries.len(), usize::from(*bits));
                Vdaf::SumVec(
                    Prio3::new_sum_vec(2, bits, length, optimal_chunk_length(length * bits))
                        .map_err(|_| VdafError::BadParameters)?,
                )
            }
        };
        Ok(vdaf)
    }

    /// Splits a measurement into shares (the citizen's side). `nonce` is the report id; prio draws
    /// the sharding randomness from the operating system (the browser's `crypto.getRandomValues`).
    pub fn shard(&self, measurement: &Measurement, nonce: &[u8; NONCE_LEN]) -> Result<Shares, VdafError> {
        match (self, measurement) {
            (Vdaf::Count(v), Measurement::Yes(yes)) => shard(v, yes, nonce),
            (Vdaf::Sum(v), Measurement::Number(n)) => shard(v, &u128::from(*n), nonce),
            (Vdaf::Histogram(v), Measurement::Bucket(b)) => shard(v, b, nonce),
            (Vdaf::SumVec(v), Measurement::Vector(values)) => {
                let values: Vec<u128> = values.iter().map(|&n| u128::from(n)).collect();
                shard(v, &values, nonce)
            }
            _ => Err(VdafError::MeasurementOutOfRange),
        }
    }

    /// The leader's first step on one report: its preparation state (kept until the helper
    /// answers) and the message to send to the helper.
    pub fn leader_init(
        &self,
        verify_key: &[u8; VERIFY_KEY_LEN],
        nonce: &[u8; NONCE_LEN],
        public_share: &[u8],
        input_share: &[u8],
    ) -> Result<(Vec<u8>, PingPongMessage), VdafError> {
        each!(self, v => leader_init(v, verify_key, nonce, public_share, input_share))
    }

    /// The helper's only step on one report (Prio3 prepares in one round): its output share and
    /// the message to send back to the leader.
    pub fn helper_step(
        &self,
        verify_key: &[u8; VERIFY_KEY_LEN],
        nonce: &[u8; NONCE_LEN],
        public_share: &[u8],
        input_share: &[u8],
        inbound: &PingPongMessage,
    ) -> Result<(Vec<u8>, PingPongMessage), VdafError> {
        each!(self, v => helper_step(v, verify_key, nonce, public_share, input_share, inbound))
    }

    /// The leader's last step on one report, with the helper's message: its output share.
    pub fn leader_finish(&self, state: &[u8], inbound: &PingPongMessage) -> Result<Vec<u8>, VdafError> {
        each!(self, v => leader_finish(v, state, inbound))
    }

    /// Adds output shares to a stored aggregate share (none yet: a new one).
    pub fn accumulate(&self, stored: Option<&[u8]>, output_shares: &[Vec<u8>]) -> Result<Vec<u8>, VdafError> {
        each!(self, v => accumulate(v, stored, output_shares))
    }

    /// Adds this aggregator's differential-privacy noise to its aggregate share, before it leaves
    /// (each aggregator adds its own, so the result is private if either is honest). prio draws
    /// the noise from the operating system's generator.
    pub fn add_noise(&self, aggregate_share: &[u8], noise: &Noise, contributions: u64) -> Result<Vec<u8>, VdafError> {
        let budget = Rational::from_unsigned(noise.epsilon_numerator, noise.epsilon_denominator)
            .ok()
            .and_then(|epsilon| PureDpBudget::new(epsilon).ok())
            .ok_or(VdafError::Noise)?;
        let strategy = PureDpDiscreteLaplace::from_budget(budget);
        let count = usize::try_from(contributions).map_err(|_| VdafError::Noise)?;
        match self {
            Vdaf::Histogram(v) => add_noise(v, &strategy, aggregate_share, count),
            Vdaf::SumVec(v) => add_noise(v, &strategy, aggregate_share, count),
            // Studies with noise are histograms or vectors ([`crate::study::Study::check`]).
            Vdaf::Count(_) | Vdaf::Sum(_) => Err(VdafError::Noise),
        }
    }

    /// The result from the two aggregate shares (the collector's side): one signed integer per
    /// bucket or entry (one for `count` and `sum`); noise may make a small count negative.
    pub fn unshard(&self, leader: &[u8], helper: &[u8], contributions: u64) -> Result<Vec<i64>, VdafError> {
        let count = usize::try_from(contributions).map_err(|_| VdafError::Decode("aggregate share"))?;
        match self {
            Vdaf::Count(v) => {
                let total: u64 = unshard(v, leader, helper, count)?;
                Ok(vec![signed(u128::from(total), u128::from(Field64::modulus()))])
            }
            Vdaf::Sum(v) => {
                let total: u128 = unshard(v, leader, helper, count)?;
                Ok(vec![signed(total, Field128::modulus())])
            }
            Vdaf::Histogram(v) => {
                let counts: Vec<u128> = unshard(v, leader, helper, count)?;
                Ok(counts.into_iter().map(|c| signed(c, Field128::modulus())).collect())
            }
            Vdaf::SumVec(v) => {
                let totals: Vec<u128> = unshard(v, leader, helper, count)?;
                Ok(totals.into_iter().map(|t| signed(t, Field128::modulus())).collect())
            }
        }
    }
}

/// Maps a field element standing for a small signed number (a total, possibly with negative
/// noise) to that number; totals beyond `i64` saturate.
fn signed(value: u128, modulus: u128) -> i64 {
    if value > modulus / 2 {
        let negative = modulus - value;
        i64::try_from(negative).map_or(i64::MIN, |n| -n)
    } else {
        i64::try_from(value).unwrap_or(i64::MAX)
    }
}

fn shard<T: Type>(vdaf: &P3<T>, measurement: &T::Measurement, nonce: &[u8; NONCE_LEN]) -> Result<Shares, VdafError> {
    let (public, inputs) = vdaf.shard(measurement, nonce).map_err(|_| VdafError::MeasurementOutOfRange)?;
    let encoded = |share: &Prio3InputShare<T::Field, VERIFY_KEY_LEN>| {
        share.get_encoded().map_err(|_| VdafError::Decode("input share"))
    };
    let [leader, helper] = inputs.as_slice() else {
        return Err(VdafError::BadParameters);
    };
    Ok(Shares {
        public: public.get_encoded().map_err(|_| VdafError::Decode("public share"))?,
        leader: encoded(leader)?,
        helper: encoded(helper)?,
    })
}

fn decode_shares<T: Type>(
    vdaf: &P3<T>,
    aggregator: usize,
    public_share: &[u8],
    input_share: &[u8],
) -> Result<(Prio3PublicShare<VERIFY_KEY_LEN>, Prio3InputShare<T::Field, VERIFY_KEY_LEN>), VdafError> {
    let public =
        Prio3PublicShare::get_decoded_with_param(vdaf, public_share).map_err(|_| VdafError::Decode("public share"))?;
    let input = Prio3InputShare::get_decoded_with_param(&(vdaf, aggregator), input_share)
        .map_err(|_| VdafError::Decode("input share"))?;
    Ok((public, input))
}

fn leader_init<T: Type>(
    vdaf: &P3<T>,
    verify_key: &[u8; VERIFY_KEY_LEN],
    nonce: &[u8; NONCE_LEN],
    public_share: &[u8],
    input_share: &[u8],
) -> Result<(Vec<u8>, PingPongMessage), VdafError> {
    let (public, input) = decode_shares(vdaf, 0, public_share, input_share)?;
    let (state, message) =
        vdaf.leader_initialized(verify_key, &(), nonce, &public, &input).map_err(|_| VdafError::Invalid)?;
    let PingPongState::Continued(prepare_state) = state else {
        return Err(VdafError::UnexpectedMessage);
    };
    let state = prepare_state.get_encoded().map_err(|_| VdafError::Decode("preparation state"))?;
    Ok((state, message))
}

fn helper_step<T: Type>(
    vdaf: &P3<T>,
    verify_key: &[u8; VERIFY_KEY_LEN],
    nonce: &[u8; NONCE_LEN],
    public_share: &[u8],
    input_share: &[u8],
    inbound: &PingPongMessage,
) -> Result<(Vec<u8>, PingPongMessage), VdafError> {
    let (public, input) = decode_shares(vdaf, 1, public_share, input_share)?;
    let transition =
        vdaf.helper_initialized(verify_key, &(), nonce, &public, &input, inbound).map_err(|_| VdafError::Invalid)?;
    let (state, message) = transition.evaluate(vdaf).map_err(|_| VdafError::Invalid)?;
    let PingPongState::Finished(output) = state else {
        return Err(VdafError::UnexpectedMessage);
    };
    Ok((output.get_encoded().map_err(|_| VdafError::Decode("output share"))?, message))
}

fn leader_finish<T: Type>(vdaf: &P3<T>, state: &[u8], inbound: &PingPongMessage) -> Result<Vec<u8>, VdafError> {
    let prepare_state = Prio3PrepareState::get_decoded_with_param(&(vdaf, 0), state)
        .map_err(|_| VdafError::Decode("preparation state"))?;
    match vdaf.leader_continued(PingPongState::Continued(prepare_state), &(), inbound) {
        Ok(PingPongContinuedValue::FinishedNoMessage { output_share }) => {
            output_share.get_encoded().map_err(|_| VdafError::Decode("output share"))
        }
        Ok(PingPongContinuedValue::WithMessage { .. }) => Err(VdafError::UnexpectedMessage),
        Err(_) => Err(VdafError::Invalid),
    }
}

fn accumulate<T: Type>(vdaf: &P3<T>, stored: Option<&[u8]>, output_shares: &[Vec<u8>]) -> Result<Vec<u8>, VdafError> {
    let outputs = output_shares
        .iter()
        .map(|bytes| OutputShare::get_decoded_with_param(&(vdaf, &()), bytes))
        .collect::<Result<Vec<OutputShare<T::Field>>, _>>()
        .map_err(|_| VdafError::Decode("output share"))?;
    let mut total: AggregateShare<T::Field> = match stored {
        Some(bytes) => AggregateShare::get_decoded_with_param(&(vdaf, &()), bytes)
            .map_err(|_| VdafError::Decode("aggregate share"))?,
        None => vdaf.aggregate(&(), Vec::new()).map_err(|_| VdafError::BadParameters)?,
    };
    for output in &outputs {
        total.accumulate(output).map_err(|_| VdafError::Decode("output share"))?;
    }
    total.get_encoded().map_err(|_| VdafError::Decode("aggregate share"))
}

fn add_noise<T: Type + prio::flp::TypeWithNoise<PureDpDiscreteLaplace>>(
    vdaf: &P3<T>,
    strategy: &PureDpDiscreteLaplace,
    aggregate_share: &[u8],
    contributions: usize,
) -> Result<Vec<u8>, VdafError> {
    let mut share: AggregateShare<T::Field> = AggregateShare::get_decoded_with_param(&(vdaf, &()), aggregate_share)
        .map_err(|_| VdafError::Decode("aggregate share"))?;
    vdaf.add_noise_to_agg_share(strategy, &(), &mut share, contributions).map_err(|_| VdafError::Noise)?;
    share.get_encoded().map_err(|_| VdafError::Decode("aggregate share"))
}

fn unshard<T: Type>(
    vdaf: &P3<T>,
    leader: &[u8],
    helper: &[u8],
    contributions: usize,
) -> Result<T::AggregateResult, VdafError> {
    let decode = |bytes: &[u8]| {
        AggregateShare::<T::Field>::get_decoded_with_param(&(vdaf, &()), bytes)
            .map_err(|_| VdafError::Decode("aggregate share"))
    };
    vdaf.unshard(&(), [decode(leader)?, decode(helper)?], contributions)
        .map_err(|_| VdafError::Decode("aggregate share"))
}
