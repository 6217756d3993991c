//! The studies page (issue 18): citizens feed the commune's public-interest statistics without
//! anyone seeing their answer, and see the results. The wallet's first load only has the page's
//! heading and the container this module draws into (it posts `study` actions through the
//! mandates page's round trip, `services::mandate::run`).
//!
//! ```text
//! study (view) ─▶ GET <commune>/dap/studies, each study, result and statement of use verified
//!                 against the pinned commune key ─▶ drawn
//! study (contribute) ─▶ measurement computed here from the vault's credentials (or the citizen's
//!        choice) ─▶ token request blinded from a seed ─▶ to sign: the KB-JWT of the eligibility
//!        credential (nonce = the blinded message's hash, aud = the leader) and my consent
//! study_signed ─▶ the same token request made again from the seed ─▶ POST <leader>studies/{task}/tokens
//!        ─▶ token ─▶ Prio3 report ─▶ PUT <leader>tasks/{task}/reports ─▶ kept (record and journal)
//! study (decline) ─▶ kept
//! ```
//!
//! The consent to a study is signed by the holder's key and kept in the wallet only: sending it
//! with the report, or anywhere, would link the report to the citizen, which the blind token and
//! the split shares exist to prevent. Neither is the measurement kept: the record says the citizen
//! answered, never what.

use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore as _, SeedableRng as _};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sha2::Digest as _;
use souverain_core::consent::STUDY_CONSENT_TYP;
use souverain_core::jose::PublicKey;
use souverain_core::openid4vp::request::{LocalizedText, Purpose};
use souverain_core::sd_jwt::{ClaimPath, KB_JWT_TYP, SdJwt};
use souverain_stats::study::{
    DataSource, Derivation, DeriveError, Measure, StudyResult, StudyUse, UnverifiedStudy, VerifiedStudy,
    derive_measurement,
};
use souverain_stats::token::TokenRequest;

use crate::escape;
use crate::mandates::{Ask, MandatesAnswer, Net, ToSign, Write};
use crate::text::Lang;

/// Record ids of the studies answered (`access-study-<task id>`): under the prefix of the rights'
/// records, which the first load already writes as settings, so that it needs no prefix of its own.
pub const STUDY: &str = "access-study-";
/// Where a guichet lists its studies (its leader's routes, under `/dap/`).
pub const STUDIES_PATH: &str = "/dap/studies";
/// The DPV legal basis of a contribution.
const CONSENT_BASIS: &str = "https://w3id.org/dpv#Consent";
/// The schema of [`StudyConsent`].
pub const CONSENT_SCHEMA: &str = "souverain-study-consent/1";

/// Why a study action failed, each said on the page its own way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StudyFailure {
    /// No credential from a commune in the vault: no guichet to ask.
    NoCommune,
    /// The commune's list could not be had, or does not verify against the pinned key.
    NoTrustList,
    /// The guichet's studies could not be fetched or read.
    Unreachable,
    /// The form named no study the commune signed.
    UnknownStudy,
    /// The study is not open now.
    NotOpen,
    /// The citizen already contributed to or declined this study.
    AlreadyAnswered,
    /// The vault holds no current credential of the study's eligibility type.
    NotEligible(String),
    /// The measurement could not be computed (no credential, no claim, no choice).
    Measurement(DeriveError),
    /// The signatures the first load returned do not fit the step.
    BadStep,
    /// The leader refused the contribution token (or could not be reached).
    TokenRefused,
    /// The leader's blind signature does not verify: no token.
    BadToken,
    /// The report could not be made.
    Report,
    /// The report could not be sent once its token was given: it is kept to be sent again.
    UploadKept,
}

/// The citizen's consent to a study, signed with the holder's key (`study-consent+jwt`) and kept
/// in the wallet only. No value: only which data the answer is computed from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StudyConsent {
    /// Record identifier.
    pub jti: String,
    /// [`CONSENT_SCHEMA`].
    pub schema_version: String,
    /// The holder key's thumbprint.
    pub pii_principal: String,
    /// The commune that signed the study.
    pub controller: String,
    /// The study's DAP task id.
    pub task_id: String,
    /// The study's purpose.
    pub purposes: Vec<Purpose>,
    /// DPV legal basis: consent.
    pub legal_basis: String,
    /// The data categories the answer is computed from (the study's `computed_from`).
    pub data: Vec<DataSource>,
    /// The two aggregators that each receive one share (their DAP endpoints).
    pub recipients: Vec<String>,
    /// The language the citizen read the study in.
    pub language: String,
    /// When the citizen consented.
    pub iat: i64,
}

/// A study as the guichet lists it, verified, with what was published about it.
pub struct Listed {
    /// The study.
    pub study: VerifiedStudy,
    /// Its result, once published and verified.
    pub result: Option<StudyResult>,
    /// The commune's statement of use, once published and verified.
    pub statement: Option<StudyUse>,
}

/// What the citizen did with a study, from its record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answered {
    /// Contributed at this time.
    Contributed(i64),
    /// Declined at this time.
    Declined(i64),
    /// Answered at this time, the report kept to be sent again (the leader was not reached).
    Waiting(i64),
}

/// The studies answered, by task id, from the `access-study-…` records and those `out` writes.
pub fn answered(ask: &Ask, out: &MandatesAnswer) -> Vec<(String, Answered)> {
    let kept =
        ask.records.iter().filter(|(kind, id, _)| kind == "setting" && id.starts_with(STUDY)).map(|r| r.2.clone());
    let written =
        out.writes.iter().filter(|w| w.id.starts_with(STUDY)).filter_map(|w| serde_json::from_str(&w.data).ok());
    kept.chain(written)
        .filter_map(|record: Value| {
            let task = record.get("task_id")?.as_str()?.to_owned();
            let at = record.get("at").and_then(Value::as_i64).unwrap_or(0);
            let done = match record.get("decision")?.as_str()? {
                "contributed" => Answered::Contributed(at),
                "declined" => Answered::Declined(at),
                WAITING => Answered::Waiting(at),
                _ => return None,
            };
            Some((task, done))
        })
        .collect()
}

/// Reads the guichet's list (`{"studies": [{"study", "result", "use"}]}`): each study verified
/// against the commune's key; a result or statement that does not verify is left out, a study
/// that does not verify, or that the commune's trust list does not name (`named`: the digests
/// its `studies` member lists), is skipped (never shown as the commune's).
pub fn read_list(body: &[u8], commune: &PublicKey, named: &[&str]) -> Result<Vec<Listed>, StudyFailure> {
    let list: Value = serde_json::from_slice(body).map_err(|_| StudyFailure::Unreachable)?;
    let entries = list.get("studies").and_then(Value::as_array).ok_or(StudyFailure::Unreachable)?;
    let mut out = Vec::new();
    for entry in entries {
        let Some(jwt) = entry.get("study").and_then(Value::as_str) else { continue };
        let Ok(study) = UnverifiedStudy::parse(jwt).verify(commune) else { continue };
        if !named.contains(&study.digest().as_str()) {
            continue;
        }
        let signed = |name: &str| entry.get(name).and_then(Value::as_str);
        let result = signed("result").and_then(|r| StudyResult::verify(r, &study, commune).ok());
        let statement = signed("use").and_then(|u| StudyUse::verify(u, &study, commune).ok());
        out.push(Listed { study, result, statement });
    }
    Ok(out)
}

/// The claims of the citizen's current credential of type `vct`, with its record (JSON).
fn credential<'a>(
    ask: &Ask,
    credentials: &'a [(Value, souverain_core::sd_jwt_vc::VerifiedVc)],
    vct: &str,
) -> Option<&'a (Value, souverain_core::sd_jwt_vc::VerifiedVc)> {
    credentials.iter().find(|(_, vc)| vc.vct == vct && vc.exp.is_none_or(|exp| exp > ask.now))
}

fn claims_of<'a>(
    ask: &'a Ask,
    credentials: &'a [(Value, souverain_core::sd_jwt_vc::VerifiedVc)],
) -> impl Fn(&str) -> Option<Map<String, Value>> + 'a {
    move |vct| credential(ask, credentials, vct).map(|(_, vc)| vc.claims.clone())
}

/// The bucket the citizen chose, for a `choice` study.
fn choice(ask: &Ask) -> Option<usize> {
    ask.fields.get("choice").and_then(|c| c.trim().parse().ok())
}

/// First step of a contribution: the measurement computed, the token request blinded from a
/// fresh seed, the eligibility credential's key binding and the consent to sign.
pub fn contribute(
    ask: &Ask,
    listed: &Listed,
    credentials: &[(Value, souverain_core::sd_jwt_vc::VerifiedVc)],
    out: &mut MandatesAnswer,
) -> Result<(), StudyFailure> {
    let study = listed.study.study();
    if !listed.study.is_open(ask.now) {
        return Err(StudyFailure::NotOpen);
    }
    if answered(ask, out).iter().any(|(task, _)| *task == study.task_id) {
        return Err(StudyFailure::AlreadyAnswered);
    }
    // Computed now only to refuse early: it is computed again, the same, when the report is made.
    derive_measurement(study, claims_of(ask, credentials), choice(ask)).map_err(StudyFailure::Measurement)?;
    let (record, _) = credential(ask, credentials, &study.eligibility_vct)
        .ok_or_else(|| StudyFailure::NotEligible(study.eligibility_vct.clone()))?;
    let mut seed = [0u8; 32];
    rand_core::OsRng.fill_bytes(&mut seed);
    let request = token_request(study, &seed)?;
    // Nothing disclosed: the leader learns only that the credential is the commune's and current.
    let text = record.get("credential").and_then(Value::as_str).unwrap_or_default();
    let sd = SdJwt::parse(text)
        .ok()
        .and_then(|c| c.present_without_key_binding(&[]).ok())
        .ok_or_else(|| StudyFailure::NotEligible(study.eligibility_vct.clone()))?;
    let sd_hash = souverain_core::b64::encode(sha2::Sha256::digest(sd.as_bytes()));
    let binding = json!({"iat": ask.now, "aud": study.leader.url, "nonce": request.nonce(), "sd_hash": sd_hash});
    let consent = StudyConsent {
        jti: format!("urn:souverain:study-consent:{}", crate::mandates::random()),
        schema_version: CONSENT_SCHEMA.into(),
        pii_principal: ask.me.clone(),
        controller: study.iss.clone(),
        task_id: study.task_id.clone(),
        purposes: vec![study.purpose.clone()],
        legal_basis: CONSENT_BASIS.into(),
        data: study.computed_from.clone(),
        recipients: vec![study.leader.url.clone(), study.helper.url.clone()],
        language: if ask.lang == Lang::En { "en" } else { "fr" }.into(),
        iat: ask.now,
    };
    out.sign = vec![
        ToSign { typ: KB_JWT_TYP, payload: binding.to_string() },
        ToSign { typ: STUDY_CONSENT_TYP, payload: serde_json::to_string(&consent).unwrap_or_default() },
    ];
    // The seed crosses the first load's memory between the two rounds, never its storage: the
    // worker is stopped after each answer, and the blinding must be the same when the leader's
    // signature comes back.
    out.next = Some(json!({
        "study": listed.study.compact(), "seed": souverain_core::b64::encode(seed), "sd": sd,
        "choice": ask.fields.get("choice"),
    }));
    Ok(())
}

/// The token request of `study` from `seed`: the same blinded message each time.
fn token_request(study: &souverain_stats::study::Study, seed: &[u8; 32]) -> Result<TokenRequest, StudyFailure> {
    let task = study.task_id_bytes().map_err(|_| StudyFailure::BadToken)?;
    TokenRequest::new(&task, &study.token_key, &mut ChaCha20Rng::from_seed(*seed)).map_err(|_| StudyFailure::BadToken)
}

/// Second step: with the key binding and the consent signed, the token asked for, the report made
/// and uploaded, the study kept as answered (with the consent) and journaled as a disclosure
/// without values: which data the answer came from, to whom its two shares went.
pub async fn contribute_signed(
    ask: &Ask,
    commune: &PublicKey,
    credentials: &[(Value, souverain_core::sd_jwt_vc::VerifiedVc)],
    net: &impl Net,
    out: &mut MandatesAnswer,
) -> Result<String, StudyFailure> {
    let next = ask.next.clone().unwrap_or_default();
    let text = |name: &str| next.get(name).and_then(Value::as_str).unwrap_or_default().to_owned();
    let study = UnverifiedStudy::parse(&text("study")).verify(commune).map_err(|_| StudyFailure::UnknownStudy)?;
    let s = study.study();
    let seed: [u8; 32] =
        souverain_core::b64::decode(text("seed")).ok().and_then(|b| b.try_into().ok()).ok_or(StudyFailure::BadStep)?;
    let [binding, consent] = ask.signatures.as_slice() else { return Err(StudyFailure::BadStep) };
    let mut fields = ask.fields.clone();
    if let Some(c) = next.get("choice").and_then(Value::as_str) {
        fields.insert("choice".into(), c.to_owned());
    }
    let measurement =
        derive_measurement(s, claims_of(ask, credentials), fields.get("choice").and_then(|c| c.parse().ok()))
            .map_err(StudyFailure::Measurement)?;
    let request = token_request(s, &seed)?;
    let body = json!({
        "presentation": format!("{}{binding}", text("sd")),
        "blinded": souverain_core::b64::encode(request.blinded()),
    });
    let url = format!("{}studies/{}/tokens", s.leader.url, s.task_id);
    let reply = net.post(&url, "application/json", &body.to_string()).await.map_err(|_| StudyFailure::TokenRefused)?;
    let reply: Value = serde_json::from_slice(&reply).map_err(|_| StudyFailure::TokenRefused)?;
    let signature = reply
        .get("blind_signature")
        .and_then(Value::as_str)
        .and_then(|b| souverain_core::b64::decode(b).ok())
        .ok_or(StudyFailure::TokenRefused)?;
    let token = request.finalize(&s.token_key, &signature).map_err(|_| StudyFailure::BadToken)?;
    let report = souverain_stats::report::make_report(&study, &measurement, ask.now, &mut rand_core::OsRng)
        .map_err(|_| StudyFailure::Report)?;
    let token = token.encode();
    if upload(s, net, &token, &report).await.is_err() {
        // The leader gave this credential its one token: lost with the report, the citizen could
        // never answer again. Both are kept (the report is the two sealed shares, not the answer)
        // and sent again each time the studies are opened, while the study is open.
        out.writes.push(Write {
            id: format!("{STUDY}{}", s.task_id),
            kind: "setting",
            data: json!({"task_id": s.task_id, "study": study.compact(), "decision": WAITING, "at": ask.now,
                         "consent": consent, "token": token, "report": souverain_core::b64::encode(&report)})
            .to_string(),
            journal: "data_change",
            counterpart: s.iss.clone(),
            purpose: "study-upload-pending".into(),
            claims: vec![],
        });
        return Err(StudyFailure::UploadKept);
    }
    out.writes.push(contributed(ask.lang, &study, consent, ask.now));
    Ok(s.task_id.clone())
}

/// The decision of a contribution whose report waits to be sent again.
const WAITING: &str = "upload_pending";

/// Sends a report with its contribution token.
async fn upload(s: &souverain_stats::study::Study, net: &impl Net, token: &str, report: &[u8]) -> Result<(), String> {
    let url = format!("{}tasks/{}/reports", s.leader.url, s.task_id);
    let headers = [("content-type", "application/dap-report"), ("souverain-contribution-token", token)];
    net.put(&url, &headers, report).await
}

/// The study kept as answered (with the consent) and journaled as a disclosure without values:
/// which data the answer came from, to whom its two shares went.
fn contributed(lang: Lang, study: &VerifiedStudy, consent: &str, at: i64) -> Write {
    let s = study.study();
    let pick = |t: &LocalizedText| if lang == Lang::En { t.en.clone() } else { t.fr.clone() };
    Write {
        id: format!("{STUDY}{}", s.task_id),
        kind: "setting",
        data: json!({"task_id": s.task_id, "study": study.compact(), "decision": "contributed", "at": at,
                     "consent": consent})
        .to_string(),
        journal: "disclosure",
        counterpart: format!("{} + {}", pick(&s.leader.name), pick(&s.helper.name)),
        purpose: s.purpose.dpv.clone(),
        claims: pointers(&s.computed_from),
    }
}

/// Sends again the reports kept when the leader could not be reached, for the listed studies still
/// open; each one the leader now takes is kept as contributed. One that fails again stays kept.
pub async fn send_waiting(ask: &Ask, listed: &[Listed], net: &impl Net, out: &mut MandatesAnswer) {
    let waiting = ask.records.iter().filter(|(kind, id, r)| {
        kind == "setting" && id.starts_with(STUDY) && r.get("decision").and_then(Value::as_str) == Some(WAITING)
    });
    for (_, _, record) in waiting {
        let text = |name: &str| record.get(name).and_then(Value::as_str).unwrap_or_default();
        let Some(l) = listed.iter().find(|l| l.study.study().task_id == text("task_id")) else { continue };
        let Ok(report) = souverain_core::b64::decode(text("report")) else { continue };
        if !l.study.is_open(ask.now) || upload(l.study.study(), net, text("token"), &report).await.is_err() {
            continue;
        }
        let at = record.get("at").and_then(Value::as_i64).unwrap_or(ask.now);
        out.writes.push(contributed(ask.lang, &l.study, text("consent"), at));
    }
}

/// The claims a study reads, as the journal names them (JSON pointers).
fn pointers(sources: &[DataSource]) -> Vec<String> {
    let steps = |p: &Value| p.as_array()?.iter().map(|s| s.as_str().map(str::to_owned)).collect::<Option<Vec<_>>>();
    sources
        .iter()
        .flat_map(|d| d.paths.iter().filter_map(steps))
        .map(|s| ClaimPath::from_segments(s).to_string())
        .collect()
}

/// The decline kept: the study is not offered again.
pub fn decline(ask: &Ask, listed: &Listed, out: &mut MandatesAnswer) -> Result<(), StudyFailure> {
    let s = listed.study.study();
    if answered(ask, out).iter().any(|(task, _)| *task == s.task_id) {
        return Err(StudyFailure::AlreadyAnswered);
    }
    out.writes.push(Write {
        id: format!("{STUDY}{}", s.task_id),
        kind: "setting",
        data: json!({"task_id": s.task_id, "study": listed.study.compact(), "decision": "declined", "at": ask.now})
            .to_string(),
        journal: "data_change",
        counterpart: s.iss.clone(),
        purpose: "study-declined".into(),
        claims: vec![],
    });
    Ok(())
}

/// The page's sentences.
fn say(lang: Lang, key: &str) -> &'static str {
    let fr = lang == Lang::Fr;
    match key {
        "intro" if fr => {
            "La commune vous demande de contribuer à des statistiques d'intérêt public. Votre portefeuille calcule votre réponse ici, la coupe en deux parts chiffrées, une pour chacun de deux organismes indépendants : aucun des deux ne peut lire votre réponse, seul le total de toutes les réponses est publié."
        }
        "intro" => {
            "The commune asks you to contribute to public-interest statistics. Your wallet computes your answer here and splits it into two encrypted shares, one for each of two independent bodies: neither can read your answer, only the total of all answers is published."
        }
        "none" if fr => "Aucune étude en cours.",
        "none" => "No study at the moment.",
        "question" if fr => "Question",
        "question" => "Question",
        "why" if fr => "Pourquoi",
        "why" => "Why",
        "from" if fr => "Calculé à partir de",
        "from" => "Computed from",
        "no_data" if fr => "Aucune donnée de votre portefeuille : seulement votre choix.",
        "no_data" => "No data from your wallet: only your choice.",
        "how" if fr => "Comment",
        "how" => "How",
        "sent" if fr => "Ce que votre portefeuille envoie",
        "sent" => "What your wallet sends",
        "who" if fr => "Qui calcule le total",
        "who" => "Who computes the total",
        "guarantee" if fr => "Garanties",
        "guarantee" => "Guarantees",
        "dates" if fr => "Dates",
        "dates" => "Dates",
        "use" if fr => "Ce que la commune fera du résultat",
        "use" => "What the commune will do with the result",
        "token" if fr => {
            " Avec elle, un jeton à usage unique signé à l'aveugle prouve que vous pouvez participer sans dire qui vous êtes."
        }
        "token" => " With it, a single-use token signed blind proves you may take part without saying who you are.",
        "neither" if fr => "ne voit votre réponse : chacun ne reçoit qu'une part chiffrée, qui seule ne dit rien.",
        "neither" => "sees your answer: each receives one encrypted share only, which alone says nothing.",
        "neither_prefix" if fr => "Ni",
        "neither_prefix" => "Neither",
        "nor" if fr => "ni",
        "nor" => "nor",
        "min_batch" if fr => "Aucun résultat n'est publié en dessous de",
        "min_batch" => "No result is published below",
        "contributions" if fr => "contributions",
        "contributions" => "contributions",
        "noise" if fr => {
            "Chaque organisme ajoute un bruit aléatoire au total (confidentialité différentielle) : le résultat publié est approché, et ne permet pas de déduire une réponse."
        }
        "noise" => {
            "Each body adds random noise to the total (differential privacy): the published result is approximate, and no answer can be deduced from it."
        }
        "kept_here" if fr => {
            "Votre consentement est signé et gardé dans votre portefeuille seulement : envoyé avec la réponse, il la relierait à vous."
        }
        "kept_here" => {
            "Your consent is signed and kept in your wallet only: sent with the answer, it would link it to you."
        }
        "from_to" if fr => "Du",
        "from_to" => "From",
        "to" if fr => "au",
        "to" => "to",
        "result_after" if fr => " ; résultat après la clôture.",
        "result_after" => "; result after the close.",
        "your_choice" if fr => "Votre réponse",
        "your_choice" => "Your answer",
        "contribute" if fr => "Contribuer",
        "contribute" => "Contribute",
        "decline" if fr => "Ne pas participer",
        "decline" => "Do not take part",
        "contributed" if fr => "Vous avez contribué le",
        "contributed" => "You contributed on",
        "declined" if fr => "Vous avez choisi de ne pas participer le",
        "declined" => "You chose not to take part on",
        "not_open" if fr => "Les contributions ne sont pas ouvertes.",
        "not_open" => "Contributions are not open.",
        "needs" if fr => "Pour participer, il faut détenir :",
        "needs" => "To take part you need to hold:",
        "result" if fr => "Résultat publié (signé par la commune, vérifié)",
        "result" => "Published result (signed by the commune, verified)",
        "answer" if fr => "Réponse",
        "answer" => "Answer",
        "count" if fr => "Nombre",
        "count" => "Count",
        "total" if fr => "Total",
        "total" => "Total",
        "yes" if fr => "Oui",
        "yes" => "Yes",
        "from_n" if fr => "Contributions comptées :",
        "from_n" => "Contributions counted:",
        "noisy" if fr => "Valeurs bruitées, comme la commune l'avait annoncé.",
        "noisy" => "Noisy values, as the commune announced.",
        "waiting" if fr => "Résultat pas encore publié.",
        "waiting" => "Result not published yet.",
        "decision" if fr => "Ce que la commune en a fait (déclaration signée, vérifiée)",
        "decision" => "What the commune did with it (signed statement, verified)",
        "answered" if fr => "Vous avez répondu le",
        "answered" => "You answered on",
        "upload_waiting" if fr => {
            "Votre réponse n'a pas encore pu être envoyée : elle est gardée dans votre portefeuille, chiffrée pour les deux organismes, et envoyée de nouveau à chaque ouverture de cette page."
        }
        "upload_waiting" => {
            "Your answer could not be sent yet: it is kept in your wallet, encrypted for the two bodies, and sent again each time you open this page."
        }
        "upload_closed" if fr => "Elle n'a pas pu être envoyée avant la clôture de l'étude.",
        "upload_closed" => "It could not be sent before the study closed.",
        "kept" if fr => {
            "Votre réponse n'a pas pu être envoyée (organisme injoignable). Elle est gardée, chiffrée, et sera envoyée de nouveau à la prochaine ouverture des études."
        }
        "kept" => {
            "Your answer could not be sent (the body could not be reached). It is kept, encrypted, and will be sent again the next time you open the studies."
        }
        "thanks" if fr => "Merci : votre contribution a été envoyée.",
        "thanks" => "Thank you: your contribution was sent.",
        "declined_notice" if fr => "C'est noté : cette étude ne vous sera plus proposée.",
        "declined_notice" => "Noted: this study will not be offered again.",
        "no_commune" if fr => "Aucune attestation de la commune dans votre portefeuille : pas de guichet à interroger.",
        "no_commune" => "No credential from the commune in your wallet: no guichet to ask.",
        "no_list" if fr => "La liste de confiance de la commune n'a pas pu être vérifiée.",
        "no_list" => "The commune's trust list could not be verified.",
        "unreachable" if fr => "Les études de la commune n'ont pas pu être lues. Réessayez plus tard.",
        "unreachable" => "The commune's studies could not be read. Try again later.",
        "unknown" if fr => {
            "Cette étude n'est pas publiée par la commune : elle n'est pas signée par la commune, ou pas inscrite dans sa liste de confiance."
        }
        "unknown" => {
            "This study is not published by the commune: it is not signed by the commune, or not listed in its trust list."
        }
        "already" if fr => "Vous avez déjà répondu à cette étude.",
        "already" => "You already answered this study.",
        "not_eligible" if fr => "Vous ne détenez pas l'attestation demandée pour participer :",
        "not_eligible" => "You do not hold the credential needed to take part:",
        "measurement" if fr => "Votre réponse n'a pas pu être calculée à partir de vos attestations.",
        "measurement" => "Your answer could not be computed from your credentials.",
        "no_choice" if fr => "Choisissez votre réponse avant de contribuer.",
        "no_choice" => "Choose your answer before contributing.",
        "no_claim" if fr => "Votre attestation ne contient pas la donnée dont la réponse est calculée :",
        "no_claim" => "Your credential lacks the data the answer is computed from:",
        "bad_step" if fr => "La signature de votre portefeuille manque.",
        "bad_step" => "Your wallet's signature is missing.",
        "token_refused" if fr => {
            "Le jeton de participation a été refusé (vous avez peut-être déjà participé avec cette attestation), ou le guichet n'a pas répondu."
        }
        "token_refused" => {
            "The participation token was refused (you may already have taken part with this credential), or the guichet did not answer."
        }
        "bad_token" if fr => "Le jeton reçu n'est pas valide : rien n'a été envoyé.",
        "bad_token" => "The token received is not valid: nothing was sent.",
        "report" if fr => "Votre contribution n'a pas pu être préparée.",
        "report" => "Your contribution could not be prepared.",
        _ if fr => "Votre contribution a été refusée, ou le guichet n'a pas répondu.",
        _ => "Your contribution was refused, or the guichet did not answer.",
    }
}

/// A failure in words.
pub fn failure_text(lang: Lang, failure: &StudyFailure) -> String {
    let t = |k| say(lang, k).to_owned();
    match failure {
        StudyFailure::NoCommune => t("no_commune"),
        StudyFailure::NoTrustList => t("no_list"),
        StudyFailure::Unreachable => t("unreachable"),
        StudyFailure::UnknownStudy => t("unknown"),
        StudyFailure::NotOpen => t("not_open"),
        StudyFailure::AlreadyAnswered => t("already"),
        StudyFailure::NotEligible(vct) => format!("{} {}", t("not_eligible"), crate::rights::vct_name(lang, vct)),
        StudyFailure::Measurement(DeriveError::NoChoice) => t("no_choice"),
        StudyFailure::Measurement(DeriveError::NoCredential(vct)) => {
            format!("{} {}", t("not_eligible"), crate::rights::vct_name(lang, vct))
        }
        StudyFailure::Measurement(DeriveError::NoClaim(path)) => format!("{} {path}", t("no_claim")),
        StudyFailure::Measurement(_) => t("measurement"),
        StudyFailure::BadStep => t("bad_step"),
        StudyFailure::TokenRefused => t("token_refused"),
        StudyFailure::BadToken => t("bad_token"),
        StudyFailure::Report => t("report"),
        StudyFailure::UploadKept => t("kept"),
    }
}

fn pick(lang: Lang, text: &LocalizedText) -> &str {
    if lang == Lang::En { &text.en } else { &text.fr }
}

/// What the wallet sends for a measure, in words.
fn sent_words(lang: Lang, measure: &Measure) -> String {
    let fr = lang == Lang::Fr;
    let what = match measure {
        Measure::Count if fr => "Oui ou non (1 ou 0)".to_owned(),
        Measure::Count => "Yes or no (1 or 0)".to_owned(),
        Measure::Sum { bits } if fr => format!("Un nombre entre 0 et {}", (1u64 << bits) - 1),
        Measure::Sum { bits } => format!("A number between 0 and {}", (1u64 << bits) - 1),
        Measure::Histogram { buckets } if fr => format!("Une réponse parmi {} cases", buckets.len()),
        Measure::Histogram { buckets } => format!("An answer among {} buckets", buckets.len()),
        Measure::SumVec { entries, .. } if fr => format!("{} nombres, un par ligne", entries.len()),
        Measure::SumVec { entries, .. } => format!("{} numbers, one per line", entries.len()),
    };
    let split = if fr {
        ", coupée en deux parts chiffrées, une par organisme."
    } else {
        ", split in two encrypted shares, one per body."
    };
    format!("{what}{split}{}", say(lang, "token"))
}

/// The labels of a result's values, in order.
fn labels(lang: Lang, measure: &Measure) -> Vec<String> {
    match measure {
        Measure::Count => vec![say(lang, "yes").to_owned()],
        Measure::Sum { .. } => vec![say(lang, "total").to_owned()],
        Measure::Histogram { buckets } => buckets.iter().map(|b| pick(lang, b).to_owned()).collect(),
        Measure::SumVec { entries, .. } => entries.iter().map(|e| pick(lang, e).to_owned()).collect(),
    }
}

/// The heading of the studies in the mandates and rights section.
pub fn heading(lang: Lang) -> &'static str {
    if lang == Lang::Fr { "Études d'intérêt général" } else { "Public-interest studies" }
}

/// The button that opens them.
pub fn open_label(lang: Lang) -> &'static str {
    if lang == Lang::Fr { "Voir les études de la commune" } else { "See the commune's studies" }
}

/// The page: the notice (a failure or a confirmation), the introduction, each study.
pub fn page(
    ask: &Ask,
    out: &MandatesAnswer,
    listed: &[Listed],
    notice: Option<Result<&str, &StudyFailure>>,
    date: &dyn Fn(i64) -> String,
) -> String {
    let lang = ask.lang;
    let t = |k: &str| escape(say(lang, k));
    let mut h = String::new();
    match notice {
        Some(Ok(text)) => h.push_str(&format!(r#"<p class="alert alert-success" role="status">{}</p>"#, escape(text))),
        Some(Err(f)) => {
            h.push_str(&format!(r#"<p class="alert alert-error" role="alert">{}</p>"#, escape(&failure_text(lang, f))))
        }
        None => {}
    }
    h.push_str(&format!(r#"<h2>{}</h2><p class="intro">{}</p>"#, escape(heading(lang)), t("intro")));
    if listed.is_empty() {
        h.push_str(&format!(r#"<p class="empty">{}</p>"#, t("none")));
    }
    let done = answered(ask, out);
    for (n, l) in listed.iter().enumerate() {
        h.push_str(&study_card(
            ask,
            n,
            l,
            // The latest decision: this answer's writes come after the records kept.
            done.iter().rev().find(|(task, _)| *task == l.study.study().task_id).map(|d| &d.1),
            date,
        ));
    }
    h
}

fn study_card(ask: &Ask, n: usize, l: &Listed, done: Option<&Answered>, date: &dyn Fn(i64) -> String) -> String {
    let lang = ask.lang;
    let t = |k: &str| escape(say(lang, k));
    let s = l.study.study();
    let mut h = format!(
        r#"<section class="panel study" data-task="{}" aria-labelledby="study-{n}"><h2 id="study-{n}">{}</h2><p class="question"><strong>{}</strong></p><dl>"#,
        escape(&s.task_id),
        escape(pick(lang, &s.title)),
        escape(pick(lang, &s.question)),
    );
    let row = |h: &mut String, term: &str, value: &str| h.push_str(&format!("<dt>{}</dt><dd>{value}</dd>", t(term)));
    row(&mut h, "why", &escape(pick(lang, &s.purpose.text)));
    let from: Vec<String> = s
        .computed_from
        .iter()
        .map(|d| {
            let claims: Vec<String> = pointers(std::slice::from_ref(d))
                .iter()
                .map(|p| escape(&crate::mandates::claim_label(lang, p)))
                .collect();
            let name = escape(crate::rights::vct_name(lang, &d.vct));
            if claims.is_empty() { name } else { format!("{name} : {}", claims.join(", ")) }
        })
        .collect();
    let from = if from.is_empty() || s.derivation == Derivation::Choice { t("no_data") } else { from.join(" ; ") };
    row(&mut h, "from", &from);
    row(&mut h, "how", &escape(pick(lang, &s.computation)));
    row(&mut h, "sent", &escape(&sent_words(lang, &s.measure)));
    let (leader, helper) = (escape(pick(lang, &s.leader.name)), escape(pick(lang, &s.helper.name)));
    row(&mut h, "who", &format!("{leader} ; {helper}"));
    let mut guarantee = format!("{} {leader} {} {helper} {}", t("neither_prefix"), t("nor"), t("neither"));
    guarantee.push_str(&format!(" {} {} {}.", t("min_batch"), s.min_batch, t("contributions")));
    if s.noise.is_some() {
        guarantee.push_str(&format!(" {}", t("noise")));
    }
    guarantee.push_str(&format!(" {}", t("kept_here")));
    row(&mut h, "guarantee", &guarantee);
    row(
        &mut h,
        "dates",
        &format!(
            "{} {} {} {}{}",
            t("from_to"),
            escape(&date(s.opens_at)),
            t("to"),
            escape(&date(s.closes_at)),
            t("result_after")
        ),
    );
    row(&mut h, "use", &escape(pick(lang, &s.use_of_results)));
    h.push_str("</dl>");
    match done {
        Some(Answered::Contributed(at)) => {
            h.push_str(&format!(
                r#"<p class="study-state"><strong>{} {}</strong></p>"#,
                t("contributed"),
                escape(&date(*at))
            ));
            h.push_str(&result(lang, l));
        }
        Some(Answered::Declined(at)) => {
            h.push_str(&format!(r#"<p class="study-state">{} {}</p>"#, t("declined"), escape(&date(*at))));
        }
        Some(Answered::Waiting(at)) => {
            let state = if l.study.is_open(ask.now) { "upload_waiting" } else { "upload_closed" };
            h.push_str(&format!(
                r#"<p class="study-state">{} {}. {}</p>"#,
                t("answered"),
                escape(&date(*at)),
                t(state)
            ));
        }
        None if !l.study.is_open(ask.now) => h.push_str(&format!(r#"<p class="study-state">{}</p>"#, t("not_open"))),
        None => h.push_str(&forms(lang, n, l)),
    }
    h.push_str("</section>");
    h
}

/// The two forms of an open study: contribute (with the citizen's choice when the study asks for
/// one), decline. The first load reads each form's inputs and selects by name.
fn forms(lang: Lang, n: usize, l: &Listed) -> String {
    let t = |k: &str| escape(say(lang, k));
    let s = l.study.study();
    let task = escape(&s.task_id);
    let mut h = format!(
        r#"<form id="study-contribute-{n}" class="study-form"><input type="hidden" name="task" value="{task}"><input type="hidden" name="do" value="contribute">"#
    );
    if let (Derivation::Choice, Measure::Histogram { buckets }) = (&s.derivation, &s.measure) {
        h.push_str(&format!(r#"<div class="field"><label for="study-choice-{n}">{}</label><select id="study-choice-{n}" name="choice" required><option value="">—</option>"#, t("your_choice")));
        for (i, b) in buckets.iter().enumerate() {
            h.push_str(&format!(r#"<option value="{i}">{}</option>"#, escape(pick(lang, b))));
        }
        h.push_str("</select></div>");
    }
    h.push_str(&format!(
        r#"<button type="submit" class="button">{}</button></form><form id="study-decline-{n}" class="study-form"><input type="hidden" name="task" value="{task}"><input type="hidden" name="do" value="decline"><button type="submit" class="button button-secondary">{}</button></form>"#,
        t("contribute"),
        t("decline")
    ));
    h
}

/// The published result (values by label, contributions, noise) and the statement of use.
fn result(lang: Lang, l: &Listed) -> String {
    let t = |k: &str| escape(say(lang, k));
    let Some(r) = &l.result else { return format!(r#"<p class="study-waiting">{}</p>"#, t("waiting")) };
    let s = l.study.study();
    let mut h = format!(
        r#"<table class="study-result"><caption>{}</caption><thead><tr><th scope="col">{}</th><th scope="col">{}</th></tr></thead><tbody>"#,
        t("result"),
        t("answer"),
        t("count")
    );
    for (label, value) in labels(lang, &s.measure).iter().zip(&r.values) {
        h.push_str(&format!(r#"<tr><th scope="row">{}</th><td>{value}</td></tr>"#, escape(label)));
    }
    h.push_str(&format!("</tbody></table><p>{} {}</p>", t("from_n"), r.contributions));
    if r.noise.is_some() {
        h.push_str(&format!("<p>{}</p>", t("noisy")));
    }
    if let Some(u) = &l.statement {
        h.push_str(&format!(
            r#"<div class="study-use"><h3>{}</h3><p>{}</p></div>"#,
            t("decision"),
            escape(pick(lang, &u.decision))
        ));
    }
    h
}

/// The notice after an action that succeeded.
pub fn done_text(lang: Lang, contributed: bool) -> &'static str {
    say(lang, if contributed { "thanks" } else { "declined_notice" })
}
