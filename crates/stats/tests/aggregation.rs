#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The protocol's steps end to end in one process (the two servers' HTTP is tested in the
//! guichet's and the CLI's tests): exact totals through both aggregators, shares that say nothing
//! alone, replays, deadlines and the minimum batch refused.

use souverain_core::jose::SigningKey;
use souverain_core::openid4vp::request::{LocalizedText, Purpose};
use souverain_core::testing::TestRng;
use souverain_stats::aggregate::{
    self, AggregateError, BatchTally, collect, finish_job, helper_aggregate_share, helper_init, start_job,
};
use souverain_stats::dap::janus_messages::{PrepareError, Report, Role};
use souverain_stats::dap::{self, HpkeKeyPair};
use souverain_stats::report::{ReportError, check_upload, make_report, open_input_share};
use souverain_stats::study::{
    AggregatorInfo, DataSource, Derivation, DeriveError, Measure, Noise, Study, StudyError, StudyResult, StudyUse,
    UnverifiedStudy, VerifiedStudy, derive_measurement,
};
use souverain_stats::token::{Token, TokenError, TokenRequest, TokenSigningKey, nonce_of};
use souverain_stats::vdaf::{Measurement, VERIFY_KEY_LEN};

const OPENS: i64 = 1_800_000_000; // a multiple of the studies' hour
const CLOSES: i64 = OPENS + 14 * 24 * 3600;

fn text(fr: &str, en: &str) -> LocalizedText {
    LocalizedText { fr: fr.into(), en: en.into() }
}

struct Parties {
    commune: SigningKey,
    token_key: String,
    leader: HpkeKeyPair,
    helper: HpkeKeyPair,
    collector: HpkeKeyPair,
    verify_key: [u8; VERIFY_KEY_LEN],
}

fn parties(seed: u64) -> Parties {
    let mut rng = TestRng::new(seed);
    Parties {
        commune: SigningKey::generate_ed25519(&mut rng),
        token_key: shared_token_key().public_key().unwrap(),
        leader: HpkeKeyPair::generate(1, &mut rng),
        helper: HpkeKeyPair::generate(7, &mut rng),
        collector: HpkeKeyPair::generate(3, &mut rng),
        verify_key: [9; VERIFY_KEY_LEN],
    }
}

/// One token key for the whole test binary (RSA key generation takes a while).
fn shared_token_key() -> &'static TokenSigningKey {
    static KEY: std::sync::OnceLock<TokenSigningKey> = std::sync::OnceLock::new();
    KEY.get_or_init(|| TokenSigningKey::generate(&mut TestRng::new(77)).unwrap())
}

fn study_of(p: &Parties, measure: Measure, min_batch: u64, noise: Option<Noise>) -> Study {
    Study {
        iss: p.commune.public_key().did_jwk(),
        task_id: souverain_core::b64::encode([5u8; 32]),
        iat: OPENS - 3600,
        title: text("Jours de cantine", "Canteen days"),
        question: text(
            "Combien de jours par semaine vos enfants déjeunent-ils à la cantine ?",
            "How many days a week do your children eat at the canteen?",
        ),
        purpose: Purpose {
            dpv: "https://w3id.org/dpv#ServiceOptimisation".into(),
            text: text("Prévoir les repas", "Plan the meals"),
        },
        eligibility_vct: "urn:souverain:vct:residence:1".into(),
        computed_from: vec![DataSource {
            vct: "urn:souverain:canteen-enrolment:1".into(),
            paths: vec![serde_json::json!(["days"])],
        }],
        computation: text("Le nombre de jours d'inscription", "The number of days enrolled"),
        derivation: derivation_for(&measure),
        measure,
        leader: AggregatorInfo {
            name: text("Mairie", "Town hall"),
            url: "http://127.0.0.1:1000/dap/".into(),
            hpke_config: dap::encode_config(&p.leader.config()),
        },
        helper: AggregatorInfo {
            name: text("Département", "Département"),
            url: "http://127.0.0.1:2000/".into(),
            hpke_config: dap::encode_config(&p.helper.config()),
        },
        collector_hpke_config: dap::encode_config(&p.collector.config()),
        token_key: p.token_key.clone(),
        min_batch,
        noise,
        time_precision: 3600,
        opens_at: OPENS,
        closes_at: CLOSES,
        use_of_results: text("Ajuster les commandes de repas", "Adjust the meal orders"),
    }
}

/// A derivation that fits each measure.
fn derivation_for(measure: &Measure) -> Derivation {
    let household = "urn:souverain:vct:household:1".to_owned();
    match measure {
        Measure::Count => Derivation::Holds { vct: household },
        Measure::Sum { .. } => Derivation::ArrayLength { vct: household, path: vec!["children".into()] },
        Measure::Histogram { .. } => Derivation::Choice,
        Measure::SumVec { entries, .. } => {
            Derivation::NumbersAt { vct: household, paths: (0..entries.len()).map(|i| vec![format!("n{i}")]).collect() }
        }
    }
}

fn buckets(n: usize) -> Measure {
    Measure::Histogram { buckets: (0..n).map(|i| text(&format!("{i} jours"), &format!("{i} days"))).collect() }
}

fn signed(p: &Parties, study: &Study) -> VerifiedStudy {
    let compact = study.sign(&p.commune).unwrap();
    UnverifiedStudy::parse(&compact).verify(&p.commune.public_key()).unwrap()
}

/// Both aggregators' state for one study, as their stores keep it.
#[derive(Default)]
struct Aggregators {
    leader_share: Option<Vec<u8>>,
    leader_tally: BatchTally,
    helper_share: Option<Vec<u8>>,
    helper_tally: BatchTally,
    helper_seen: Vec<[u8; 16]>,
}

impl Aggregators {
    /// Runs one aggregation job over `reports`; returns what the helper refused.
    fn run_job(&mut self, p: &Parties, study: &VerifiedStudy, reports: &[Vec<u8>]) -> Vec<([u8; 16], PrepareError)> {
        let (job, request) = start_job(study, &p.leader, &p.verify_key, reports).unwrap();
        let seen = self.helper_seen.clone();
        let helper = helper_init(study, &p.helper, &p.verify_key, &request, |id| seen.contains(id)).unwrap();
        self.helper_share =
            Some(aggregate::accumulate(study, self.helper_share.as_deref(), &helper.output_shares).unwrap());
        self.helper_tally = self.helper_tally.with(&helper.aggregated);
        self.helper_seen.extend(&helper.aggregated);
        let outcome = finish_job(study, job, &helper.answer).unwrap();
        self.leader_share =
            Some(aggregate::accumulate(study, self.leader_share.as_deref(), &outcome.output_shares).unwrap());
        self.leader_tally = self.leader_tally.with(&outcome.aggregated);
        outcome.refused
    }

    fn collect(&self, p: &Parties, study: &VerifiedStudy, now: i64) -> Result<Vec<i64>, AggregateError> {
        let request = aggregate::aggregate_share_req(study, self.leader_tally).unwrap();
        let mut rng = TestRng::new(99);
        let answer = helper_aggregate_share(
            study,
            &request,
            self.helper_tally,
            self.helper_share.as_deref().unwrap_or_default(),
            now,
            &mut rng,
        )?;
        collect(study, &p.collector, self.leader_tally, self.leader_share.as_deref().unwrap_or_default(), &answer, now)
    }
}

fn reports(p: &Parties, study: &VerifiedStudy, answers: &[Measurement], seed: u64) -> Vec<Vec<u8>> {
    let mut rng = TestRng::new(seed);
    answers
        .iter()
        .enumerate()
        .map(|(i, answer)| {
            let body = make_report(study, answer, OPENS + 60 * i as i64, &mut rng).unwrap();
            check_upload(study, &p.leader, &p.verify_key, &body, OPENS + 60 * i as i64 + 5).unwrap().encoded
        })
        .collect()
}

#[test]
fn two_hundred_answers_through_both_aggregators_give_the_exact_histogram() {
    let p = parties(1);
    let study = signed(&p, &study_of(&p, buckets(6), 100, None));
    let answers: Vec<Measurement> = (0..200).map(|i| Measurement::Bucket((i * 7 + i / 3) % 6)).collect();
    let mut expected = vec![0i64; 6];
    for answer in &answers {
        if let Measurement::Bucket(b) = answer {
            expected[*b] += 1;
        }
    }
    let reports = reports(&p, &study, &answers, 2);
    let mut aggregators = Aggregators::default();
    for chunk in reports.chunks(64) {
        assert!(aggregators.run_job(&p, &study, chunk).is_empty());
    }
    assert_eq!(aggregators.leader_tally, aggregators.helper_tally);
    assert_eq!(aggregators.leader_tally.count, 200);
    assert_eq!(aggregators.collect(&p, &study, CLOSES).unwrap(), expected);
}

#[test]
fn counts_sums_and_vectors_are_exact_too() {
    let p = parties(3);
    let yes: Vec<Measurement> = (0..30).map(|i| Measurement::Yes(i % 3 == 0)).collect();
    let numbers: Vec<Measurement> = (0..30).map(|i| Measurement::Number(i * 11 % 200)).collect();
    let vectors: Vec<Measurement> = (0..30u64).map(|i| Measurement::Vector(vec![i % 4, 3 - i % 4, 1])).collect();
    let entries = vec![text("a", "a"), text("b", "b"), text("c", "c")];
    let cases = [
        (Measure::Count, yes, vec![10]),
        (Measure::Sum { bits: 8 }, numbers, vec![(0..30).map(|i| i * 11 % 200).sum()]),
        (
            Measure::SumVec { entries, bits: 3 },
            vectors,
            vec![(0..30).map(|i| i % 4).sum(), (0..30).map(|i| 3 - i % 4).sum(), 30],
        ),
    ];
    for (measure, answers, expected) in cases {
        let study = signed(&p, &study_of(&p, measure.clone(), 10, None));
        let mut aggregators = Aggregators::default();
        assert!(aggregators.run_job(&p, &study, &reports(&p, &study, &answers, 4)).is_empty());
        assert_eq!(aggregators.collect(&p, &study, CLOSES).unwrap(), expected, "{measure:?}");
    }
}

#[test]
fn noise_moves_the_result_a_little_and_only_when_promised() {
    let p = parties(5);
    let study = signed(&p, &study_of(&p, buckets(4), 10, Some(Noise { epsilon_numerator: 1, epsilon_denominator: 1 })));
    let answers: Vec<Measurement> = (0..40).map(|i| Measurement::Bucket(i % 4)).collect();
    let mut aggregators = Aggregators::default();
    aggregators.run_job(&p, &study, &reports(&p, &study, &answers, 6));
    let result = aggregators.collect(&p, &study, CLOSES).unwrap();
    // Two discrete Laplace draws of scale 1/ε = 1 per bucket: |noise| ≤ 40 fails with
    // probability below 1e-15.
    for value in &result {
        assert!((value - 10).abs() <= 40, "{result:?}");
    }
    // Noise where prio has none is refused when the study is signed.
    let counted = study_of(&p, Measure::Count, 10, Some(Noise { epsilon_numerator: 1, epsilon_denominator: 1 }));
    assert_eq!(counted.sign(&p.commune), Err(StudyError::BadNoise));
}

#[test]
fn a_share_alone_is_no_answer() {
    use prio::codec::{Decode, ParameterizedDecode};
    use prio::field::Field128;
    use prio::vdaf::prio3::{Prio3, Prio3InputShare};
    let p = parties(7);
    let study = signed(&p, &study_of(&p, buckets(6), 10, None));
    let answers: Vec<Measurement> = (0..50).map(|i| Measurement::Bucket(i % 6)).collect();
    let vdaf = Prio3::new_histogram(2, 6, prio::vdaf::prio3::optimal_chunk_length(6)).unwrap();
    for encoded in reports(&p, &study, &answers, 8) {
        let report: Report = dap::decode(&encoded, "Report").unwrap();
        // The leader opens its own share; what it holds are field elements, not a one-hot answer.
        let share = open_input_share(
            &study,
            &p.leader,
            Role::Leader,
            report.metadata(),
            report.public_share(),
            report.leader_encrypted_input_share(),
        )
        .unwrap();
        Prio3InputShare::get_decoded_with_param(&(&vdaf, 0), &share).unwrap();
        // The leader's share starts with its share of the one-hot vector: six field elements.
        let elements: Vec<u128> =
            share.chunks(16).take(6).map(|chunk| u128::from(Field128::get_decoded(chunk).unwrap())).collect();
        let zeros_and_ones = elements.iter().filter(|e| **e <= 1).count();
        assert_eq!(zeros_and_ones, 0, "a leader share that reads as an answer");
        // The helper's share cannot be opened with the leader's key, nor the leader's with the helper's.
        assert!(
            open_input_share(
                &study,
                &p.leader,
                Role::Helper,
                report.metadata(),
                report.public_share(),
                report.helper_encrypted_input_share()
            )
            .is_err()
        );
        assert!(
            open_input_share(
                &study,
                &p.helper,
                Role::Leader,
                report.metadata(),
                report.public_share(),
                report.leader_encrypted_input_share()
            )
            .is_err()
        );
    }
}

#[test]
fn a_replayed_report_is_refused_by_the_helper_and_counted_once() {
    let p = parties(9);
    let study = signed(&p, &study_of(&p, buckets(3), 10, None));
    let answers: Vec<Measurement> = (0..12).map(|i| Measurement::Bucket(i % 3)).collect();
    let reports = reports(&p, &study, &answers, 10);
    let mut aggregators = Aggregators::default();
    assert!(aggregators.run_job(&p, &study, &reports).is_empty());
    let refused = aggregators.run_job(&p, &study, &reports[..2]);
    assert_eq!(refused.iter().map(|(_, e)| *e).collect::<Vec<_>>(), vec![PrepareError::ReportReplayed; 2]);
    // Twice in one job: the second is refused.
    let mut fresh = Aggregators::default();
    let refused = fresh.run_job(&p, &study, &[reports[0].clone(), reports[0].clone()]);
    assert_eq!(refused.len(), 1);
    assert_eq!(fresh.helper_tally.count, 1);
    assert_eq!(aggregators.leader_tally.count, 12);
    assert_eq!(aggregators.collect(&p, &study, CLOSES).unwrap(), vec![4, 4, 4]);
}

#[test]
fn reports_outside_the_window_or_after_the_deadline_are_refused() {
    let p = parties(11);
    let study = signed(&p, &study_of(&p, buckets(3), 10, None));
    let mut rng = TestRng::new(12);
    let answer = Measurement::Bucket(1);
    assert!(matches!(make_report(&study, &answer, OPENS - 1, &mut rng), Err(ReportError::OutsideWindow { .. })));
    assert!(matches!(make_report(&study, &answer, CLOSES, &mut rng), Err(ReportError::OutsideWindow { .. })));
    let body = make_report(&study, &answer, CLOSES - 10, &mut rng).unwrap();
    // Received after the close: the batch is being collected.
    assert_eq!(
        check_upload(&study, &p.leader, &p.verify_key, &body, CLOSES),
        Err(ReportError::Closed { closes_at: CLOSES })
    );
    // A time ahead of the leader's clock.
    let early = make_report(&study, &answer, OPENS + 7200, &mut rng).unwrap();
    assert_eq!(check_upload(&study, &p.leader, &p.verify_key, &early, OPENS + 60), Err(ReportError::FromTheFuture));
    // A report of a longer study with the same task id, dated after this one's close, is dropped
    // by the helper (the leader's own check would refuse it first).
    let mut longer = study_of(&p, buckets(3), 10, None);
    longer.closes_at = CLOSES + 3600 * 24;
    let longer = signed(&p, &longer);
    let late = make_report(&longer, &answer, CLOSES + 3600, &mut rng).unwrap();
    let mut aggregators = Aggregators::default();
    let refused = aggregators.run_job(&p, &study, &[late]);
    assert_eq!(refused.iter().map(|(_, e)| *e).collect::<Vec<_>>(), vec![PrepareError::ReportDropped]);
    // Garbage is a clear error.
    assert!(matches!(
        check_upload(&study, &p.leader, &p.verify_key, b"not a report", OPENS + 60),
        Err(ReportError::Dap(_))
    ));
}

#[test]
fn a_tampered_report_is_refused_and_not_counted() {
    let p = parties(13);
    let study = signed(&p, &study_of(&p, buckets(3), 10, None));
    let mut reports = reports(&p, &study, &[Measurement::Bucket(0), Measurement::Bucket(2)], 14);
    // Flip a byte of the helper's ciphertext (at the end of the encoding).
    let last = reports[1].len() - 1;
    reports[1][last] ^= 1;
    let mut aggregators = Aggregators::default();
    let refused = aggregators.run_job(&p, &study, &reports);
    assert_eq!(refused.iter().map(|(_, e)| *e).collect::<Vec<_>>(), vec![PrepareError::HpkeDecryptError]);
    assert_eq!((aggregators.leader_tally, aggregators.helper_tally.count), (aggregators.helper_tally, 1));
}

#[test]
fn no_result_below_the_minimum_batch_nor_before_the_close_nor_on_mismatched_counts() {
    let p = parties(15);
    let study = signed(&p, &study_of(&p, buckets(3), 100, None));
    let answers: Vec<Measurement> = (0..99).map(|i| Measurement::Bucket(i % 3)).collect();
    let reports = reports(&p, &study, &answers, 16);
    let mut aggregators = Aggregators::default();
    aggregators.run_job(&p, &study, &reports);
    assert_eq!(
        aggregators.collect(&p, &study, CLOSES),
        Err(AggregateError::BelowMinBatch { count: 99, min_batch: 100 })
    );
    let one_more = self::reports(&p, &study, &[Measurement::Bucket(0)], 17);
    aggregators.run_job(&p, &study, &one_more);
    assert_eq!(aggregators.collect(&p, &study, CLOSES - 1), Err(AggregateError::StillOpen));
    assert_eq!(aggregators.collect(&p, &study, CLOSES).unwrap(), vec![34, 33, 33]);
    // A leader claiming another count gets nothing.
    let mut lying = aggregators;
    lying.leader_tally.count += 1;
    assert_eq!(lying.collect(&p, &study, CLOSES), Err(AggregateError::BatchMismatch));
}

#[test]
fn studies_that_would_show_an_answer_are_refused_and_results_are_checked() {
    let p = parties(17);
    assert_eq!(study_of(&p, buckets(3), 5, None).sign(&p.commune), Err(StudyError::MinBatchTooSmall(5)));
    let mut same = study_of(&p, buckets(3), 100, None);
    same.helper.url = "http://127.0.0.1:1000/other/".into();
    assert_eq!(same.sign(&p.commune), Err(StudyError::SameAggregator));
    assert_eq!(study_of(&p, buckets(1), 100, None).sign(&p.commune), Err(StudyError::BadMeasure));
    let mut dates = study_of(&p, buckets(3), 100, None);
    dates.closes_at = dates.opens_at + 10;
    assert_eq!(dates.sign(&p.commune), Err(StudyError::BadDates));
    // Another commune's signature.
    let other = parties(18);
    let compact = study_of(&p, buckets(3), 100, None).sign(&p.commune).unwrap();
    assert!(matches!(UnverifiedStudy::parse(&compact).verify(&other.commune.public_key()), Err(StudyError::Jws(_))));

    let study = signed(&p, &study_of(&p, buckets(3), 100, None));
    let result = StudyResult {
        iss: study.study().iss.clone(),
        task_id: study.study().task_id.clone(),
        iat: CLOSES + 60,
        contributions: 120,
        values: vec![40, 50, 30],
        noise: None,
        interval: [OPENS, CLOSES],
    };
    let compact = result.sign(&study, &p.commune).unwrap();
    assert_eq!(StudyResult::verify(&compact, &study, &p.commune.public_key()).unwrap(), result);
    let few = StudyResult { contributions: 99, ..result.clone() };
    assert_eq!(few.sign(&study, &p.commune), Err(StudyError::BelowMinBatch { contributions: 99, min_batch: 100 }));
    let shape = StudyResult { values: vec![1, 2], ..result };
    assert_eq!(shape.sign(&study, &p.commune), Err(StudyError::ResultShape));
    let statement = StudyUse {
        iss: study.study().iss.clone(),
        task_id: study.study().task_id.clone(),
        iat: CLOSES + 86400,
        decision: text("Deux services le mercredi", "Two sittings on Wednesdays"),
    };
    let compact = statement.sign(&study, &p.commune).unwrap();
    assert_eq!(StudyUse::verify(&compact, &study, &p.commune.public_key()).unwrap(), statement);
}

#[test]
fn a_token_is_unlinkable_to_its_signing_and_good_for_its_study_only() {
    let p = parties(19);
    let study = signed(&p, &study_of(&p, buckets(3), 10, None));
    let task = study.study().task_id_bytes().unwrap();
    let key = shared_token_key();
    let mut rng = TestRng::new(20);
    let request = TokenRequest::new(&task, &study.study().token_key, &mut rng).unwrap();
    assert_eq!(request.nonce(), nonce_of(request.blinded()));
    let blind_signature = key.sign_blinded(request.blinded(), &mut rng).unwrap();
    let blinded = request.blinded().to_vec();
    let token = request.finalize(&study.study().token_key, &blind_signature).unwrap();
    let encoded = token.encode();
    // What the leader saw at signing (the blinded message, its signature) appears nowhere in the token.
    let raw = souverain_core::b64::decode(&encoded).unwrap();
    assert!(!raw.windows(32).any(|w| blinded.windows(32).any(|b| b == w)));
    assert!(!raw.windows(32).any(|w| blind_signature.windows(32).any(|b| b == w)));
    let spent = Token::decode(&encoded).unwrap().verify(&task, &study.study().token_key).unwrap();
    // Two tokens have different spent-set entries.
    let again = TokenRequest::new(&task, &study.study().token_key, &mut rng).unwrap();
    let signed_again = key.sign_blinded(again.blinded(), &mut rng).unwrap();
    let second = again.finalize(&study.study().token_key, &signed_again).unwrap();
    assert_ne!(second.verify(&task, &study.study().token_key).unwrap(), spent);
    // Another study, a forged or truncated token, another key: refused.
    assert_eq!(token.verify(&[6; 32], &study.study().token_key), Err(TokenError::OtherStudy));
    let mut forged = raw.clone();
    let last = forged.len() - 1;
    forged[last] ^= 1;
    let forged = Token::decode(&souverain_core::b64::encode(&forged)).unwrap();
    assert_eq!(forged.verify(&task, &study.study().token_key), Err(TokenError::BadSignature));
    assert_eq!(Token::decode(&souverain_core::b64::encode(&raw[..100])).err(), Some(TokenError::Malformed));
    // The key survives its stored form; a blinded message of the wrong size is refused.
    let stored = TokenSigningKey::from_der(&key.to_der().unwrap()).unwrap();
    assert_eq!(stored.public_key().unwrap(), study.study().token_key);
    assert_eq!(key.sign_blinded(b"short", &mut rng), Err(TokenError::Malformed));
}

#[test]
fn the_wallet_derives_the_measurement_from_the_vault_as_the_study_says() {
    let p = parties(21);
    let household = serde_json::json!({"children": [{"given_name": "Léa"}, {"given_name": "Noé"}], "bracket": "B", "n0": 3, "n1": 900});
    let held = |vct: &str| (vct == "urn:souverain:vct:household:1").then(|| household.as_object().unwrap().clone());
    let none = |_: &str| None;
    // Count: holds the credential.
    let count = study_of(&p, Measure::Count, 10, None);
    assert_eq!(derive_measurement(&count, held, None), Ok(Measurement::Yes(true)));
    assert_eq!(derive_measurement(&count, none, None), Ok(Measurement::Yes(false)));
    // Histogram of the number of children, the last bucket taking larger numbers.
    let mut children = study_of(&p, buckets(4), 10, None);
    children.derivation =
        Derivation::ArrayLength { vct: "urn:souverain:vct:household:1".into(), path: vec!["children".into()] };
    assert_eq!(derive_measurement(&children, held, None), Ok(Measurement::Bucket(2)));
    let mut two = study_of(&p, buckets(2), 10, None);
    two.derivation = children.derivation.clone();
    assert_eq!(derive_measurement(&two, held, None), Ok(Measurement::Bucket(1)));
    assert_eq!(
        derive_measurement(&children, none, None),
        Err(DeriveError::NoCredential("urn:souverain:vct:household:1".into()))
    );
    // The index of a value; a value the study does not list.
    let mut bracket = study_of(&p, buckets(3), 10, None);
    bracket.derivation = Derivation::ValueIndex {
        vct: "urn:souverain:vct:household:1".into(),
        path: vec!["bracket".into()],
        values: vec![serde_json::json!("A"), serde_json::json!("B"), serde_json::json!("C")],
    };
    assert_eq!(derive_measurement(&bracket, held, None), Ok(Measurement::Bucket(1)));
    let other = serde_json::json!({"bracket": "Z"});
    assert_eq!(
        derive_measurement(&bracket, |_| Some(other.as_object().unwrap().clone()), None),
        Err(DeriveError::UnknownValue)
    );
    // Numbers per entry, capped at the measure's largest value.
    let vector = study_of(&p, Measure::SumVec { entries: vec![text("a", "a"), text("b", "b")], bits: 4 }, 10, None);
    assert_eq!(derive_measurement(&vector, held, None), Ok(Measurement::Vector(vec![3, 15])));
    // A choice, in range.
    let choice = study_of(&p, buckets(3), 10, None);
    assert_eq!(derive_measurement(&choice, none, Some(2)), Ok(Measurement::Bucket(2)));
    assert_eq!(derive_measurement(&choice, none, Some(3)), Err(DeriveError::NoChoice));
    assert_eq!(derive_measurement(&choice, none, None), Err(DeriveError::NoChoice));
    // A derivation that does not fit the measure is refused when the study is signed.
    let mut unfit = study_of(&p, Measure::Count, 10, None);
    unfit.derivation = Derivation::Choice;
    assert_eq!(unfit.sign(&p.commune), Err(StudyError::BadMeasure));
}
