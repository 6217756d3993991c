//! Mandates (issue 19), the part the wallet's first load has no room for: the mandates page, giving
//! a mandate (its scope from the commune's list, the person's credentials cut to it, the link),
//! receiving one (checked), revoking one, and fetching what a carer did under the mandates given.
//!
//! The wallet posts a [`MandatesRequest`]: the action, the form's fields, the records the action
//! reads (with their kind and id), the wallet's key thumbprint; it gets a [`MandatesAnswer`]: the
//! page's HTML (every text escaped here), the records to write with their journal entries, and,
//! when something must be signed, the payload ([`ToSign`]): the wallet signs it with its key (only
//! a mandate or a revocation whose principal is that key: `souverain_core::mandate::sign_own`) and
//! posts the signature back with [`MandatesAnswer::next`].
//!
//! ```text
//! carer:  its code (key thumbprint) shown on the page
//! person: give(code, name, service) ─sign─▶ give_signed ─▶ link (fragment: mandate + credentials cut
//!         to its claims; browsers never send a fragment to a server) + the record kept
//! carer:  receive(link) ─▶ checked (names this wallet, signed by the key every credential is bound
//!         to, credentials verify) ─▶ kept
//! person: sync ─▶ each act under a mandate given (GET /api/mandates/acts), verified (grant signed
//!         by the carer named, for me, under that mandate; the service's receipt) ─▶ kept as my
//!         consent; revoke ─sign─▶ revoke_signed ─▶ POST /api/mandates/revocations ─▶ kept
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use souverain_core::consent::{
    DataCategory, ExchangeBinding, GRANT_TYP, Grant, Representative, UnverifiedGrant, UnverifiedReceipt, children_in,
};
use souverain_core::jose::{Jwk, PublicKey};
use souverain_core::mandate::{
    MANDATE_TYP, Mandate, MandateRevocation, MandateScope, REVOCATION_TYP, UnverifiedMandate,
};
use souverain_core::openid4vp::dcql::HeldCredential;
use souverain_core::openid4vp::request::LocalizedText;
use souverain_core::openid4vp::request::{AuthorizationRequestUrl, RequestObject, UnverifiedRequest};
use souverain_core::openid4vp::response::{AuthorizationResponse, VpToken};
use souverain_core::openid4vp::url::percent_encode;
use souverain_core::sd_jwt::{ClaimPath, SdJwt};
use souverain_core::sd_jwt_vc::{VcVerifyOptions, verify_vc};
use souverain_core::trust_list::{Service, VerifiedTrustList, evaluate};

use crate::text::Lang;
use crate::{COMMUNE_RECORD, TRUST_LIST_PATH, escape};

/// Record ids of the mandates given, and of those held for others.
pub const GIVEN: &str = "mandate-given";
/// See [`GIVEN`].
pub const HELD: &str = "mandate-held";

/// The network, as the worker reaches it (the tests answer from a map).
#[allow(async_fn_in_trait)] // the worker has one thread: no `Send` bound is wanted
pub trait Net {
    /// GET `url`: the body of a 200, `Err` otherwise.
    async fn get(&self, url: &str) -> Result<Vec<u8>, String>;
    /// POST `body` of `content_type` to `url`: the body of a 2xx, `Err` otherwise.
    async fn post(&self, url: &str, content_type: &str, body: &str) -> Result<Vec<u8>, String>;
    /// PUT `body` to `url` with `headers` (a study's report): `Ok` on a 2xx, `Err` otherwise.
    async fn put(&self, url: &str, headers: &[(&str, &str)], body: &[u8]) -> Result<(), String>;
}

/// What the wallet asks: `{"mandates": {...}}`.
#[derive(Deserialize)]
pub struct MandatesRequest {
    /// The request.
    pub mandates: Ask,
}

/// One request of the mandates page.
#[derive(Deserialize)]
pub struct Ask {
    /// The citizen's language.
    pub lang: Lang,
    /// Now (Unix seconds).
    pub now: i64,
    /// `view`, `give`, `give_signed`, `receive`, `revoke`, `revoke_signed` or `sync`.
    pub action: String,
    /// The wallet's key's RFC 7638 thumbprint (its code, as a carer).
    pub me: String,
    /// The wallet's address (its directory), the base of a mandate's link: set by the worker.
    #[serde(default)]
    pub base: String,
    /// The form's fields.
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
    /// `(kind, id, record)`: the wallet's setting, credential and consent records.
    #[serde(default)]
    pub records: Vec<(String, String, Value)>,
    /// The wallet's signatures of [`MandatesAnswer::sign`]'s payloads, in order.
    #[serde(default)]
    pub signatures: Vec<String>,
    /// What [`MandatesAnswer::next`] carried.
    #[serde(default)]
    pub next: Option<Value>,
}

/// A record to write, with its journal entry.
#[derive(Debug, Serialize)]
pub struct Write {
    /// The record's id.
    pub id: String,
    /// `setting` or `consent`.
    pub kind: &'static str,
    /// The record (JSON text).
    pub data: String,
    /// The journal entry's kind name (`grant`, `import`, `withdrawal`, `receipt`, `disclosure`,
    /// `data_change`).
    pub journal: &'static str,
    /// Who the entry is about.
    pub counterpart: String,
    /// Why (a purpose the wallet's journal says in words).
    pub purpose: String,
    /// The claims concerned (JSON pointers).
    pub claims: Vec<String>,
}

/// A payload the wallet signs with its key.
#[derive(Debug, Serialize)]
pub struct ToSign {
    /// [`MANDATE_TYP`], [`REVOCATION_TYP`], a grant's or a key binding's.
    pub typ: &'static str,
    /// The payload (JSON text).
    pub payload: String,
}

/// The answer.
#[derive(Debug, Default, Serialize)]
pub struct MandatesAnswer {
    /// The page's content (HTML, every text escaped).
    pub html: String,
    /// Records to write, in order.
    pub writes: Vec<Write>,
    /// Payloads to sign, then post back with `next`.
    pub sign: Vec<ToSign>,
    /// What the signed step needs.
    pub next: Option<Value>,
}

/// A mandate given (a `mandate-given-…` setting record).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GivenMandate {
    /// The signed mandate.
    pub jwt: String,
    /// Its content.
    pub mandate: MandateView,
    /// The name the person gave the carer.
    pub carer_name: String,
    /// The services it covers.
    pub services: Vec<LocalizedText>,
    /// The guichet's origin (revocations, acts).
    pub guichet: String,
    /// The signed revocation, once revoked.
    #[serde(default)]
    pub revocation: Option<String>,
    /// Whether the guichet acknowledged the revocation.
    #[serde(default)]
    pub revoked: bool,
}

/// A mandate held for someone (a `mandate-held-…` setting record); the wallet's request page
/// reads `jwt`, `person`, `mandate` and `credentials`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HeldMandate {
    /// The signed mandate.
    pub jwt: String,
    /// Its content.
    pub mandate: MandateView,
    /// The person's name.
    pub person: String,
    /// The services it covers.
    pub services: Vec<LocalizedText>,
    /// The person's credentials cut to the mandate's claims (credential records).
    pub credentials: Vec<Value>,
}

/// What the records keep of a mandate (its verified content).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MandateView {
    /// `jti`.
    pub id: String,
    /// The carer's key thumbprint.
    pub carer: String,
    /// The services' client_ids.
    pub services: Vec<String>,
    /// In force until.
    pub valid_until: i64,
}

impl MandateView {
    fn of(m: &Mandate) -> MandateView {
        MandateView {
            id: m.record_id.clone(),
            carer: m.carer.clone(),
            services: m.scope.iter().map(|s| s.service.clone()).collect(),
            valid_until: m.valid_until,
        }
    }
}

/// Why an action failed, said on the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The carer's code is not a wallet's.
    BadCode,
    /// The link is not a mandate for this wallet, or damaged.
    BadLink,
    /// No credential holds what the service asks.
    NothingToGive,
    /// The commune's list could not be had or does not verify.
    NoServices,
    /// The guichet could not be reached or refused.
    Network,
    /// The request is not one to answer: malformed, expired, badly signed, from a service the
    /// commune's list does not vouch for, or asking beyond what it registered.
    BadRequest,
    /// The mandate does not cover this service, or has ended.
    NotCovered,
    /// The service refused the answer (the person may have revoked the mandate).
    Refused,
}

/// The page's sentences.
fn say(lang: Lang, key: &str) -> &'static str {
    let fr = lang == Lang::Fr;
    match key {
        "intro" if fr => {
            "Une procuration permet à une personne de confiance de faire pour vous une démarche auprès d'un service de la commune, avec les seules données que ce service demande, jusqu'à la date choisie. Vous la révoquez quand vous voulez, et vous voyez tout ce qui est fait en votre nom."
        }
        "intro" => {
            "A mandate lets a person you trust deal with a service of the commune for you, with only the data that service asks for, until the date you choose. You revoke it whenever you want, and you see everything done in your name."
        }
        "give" if fr => "Donner une procuration",
        "give" => "Give a mandate",
        "code" if fr => "Code de la personne de confiance",
        "code" => "Code of the person you trust",
        "code_hint" if fr => {
            "Elle le trouve dans son portefeuille : Consentements, « Mes procurations, mes droits, les études »."
        }
        "code_hint" => "They find it in their wallet: Consents, \"My mandates, my rights, the studies\".",
        "name" if fr => "Son nom",
        "name" => "Their name",
        "service" => "Service",
        "duration" if fr => "Durée",
        "duration" => "Duration",
        "m3" if fr => "3 mois",
        "m3" => "3 months",
        "m12" if fr => "1 an",
        "m12" => "1 year",
        "create" if fr => "Créer la procuration",
        "create" => "Create the mandate",
        "link_ready" if fr => {
            "Procuration créée. Remettez ce lien à la personne de confiance vous-même (message direct ou de la main à la main) : il contient vos données nécessaires à ce service."
        }
        "link_ready" => {
            "Mandate created. Hand this link to the person you trust yourself (a direct message, or in person): it carries your data that this service needs."
        }
        "link_out" if fr => "Lien à remettre à la personne de confiance",
        "link_out" => "Link for the person you trust",
        "link" if fr => "Lien de la procuration",
        "link" => "Mandate link",
        "given" if fr => "Procurations que vous avez données",
        "given" => "Mandates you gave",
        "held" if fr => "Procurations que vous avez reçues",
        "held" => "Mandates you received",
        "none" if fr => "Aucune pour l'instant.",
        "none" => "None yet.",
        "until" if fr => "Jusqu'au",
        "until" => "Until",
        "state" if fr => "État",
        "state" => "State",
        "active" if fr => "En vigueur",
        "active" => "In force",
        "revoked" if fr => "Révoquée",
        "revoked" => "Revoked",
        "revoking" if fr => "Révoquée, en attente d'envoi au guichet",
        "revoking" => "Revoked, waiting to reach the guichet",
        "revoke" if fr => "Révoquer",
        "revoke" => "Revoke",
        "revoked_notice" if fr => "Procuration révoquée : plus rien ne peut être fait en votre nom avec elle.",
        "revoked_notice" => "Mandate revoked: nothing more can be done in your name with it.",
        "act_for" if fr => "Agir pour un proche",
        "act_for" => "Act for someone close",
        "my_code" if fr => "Votre code, à donner à la personne qui veut vous confier une procuration :",
        "my_code" => "Your code, for the person who wants to give you a mandate:",
        "keep" if fr => "Enregistrer la procuration",
        "keep" => "Keep the mandate",
        "kept" if fr => "Procuration enregistrée.",
        "kept" => "Mandate kept.",
        "from" if fr => "De la part de",
        "from" => "From",
        "bad_code" if fr => "Ce code n'est pas celui d'un portefeuille : vérifiez-le.",
        "bad_code" => "This is not a wallet's code: check it.",
        "bad_link" if fr => "Ce lien n'est pas une procuration pour ce portefeuille, ou il est abîmé.",
        "bad_link" => "This link is not a mandate for this wallet, or it is damaged.",
        "nothing" if fr => "Aucun de vos justificatifs ne contient ce que ce service demande.",
        "nothing" => "None of your credentials holds what this service asks for.",
        "no_services" if fr => {
            "La liste des services de la commune n'a pas pu être obtenue : recevez d'abord un justificatif de votre commune, puis réessayez."
        }
        "no_services" => {
            "The commune's list of services could not be had: first receive a credential from your commune, then try again."
        }
        "network" if fr => "Le guichet de la commune n'a pas pu être joint : réessayez plus tard.",
        "network" => "The commune's guichet could not be reached: try again later.",
        "bad_request" if fr => {
            "Cette demande ne peut pas recevoir de réponse : lien invalide ou expiré, ou service que la liste de la commune ne reconnaît pas pour cela."
        }
        "bad_request" => {
            "This request cannot be answered: the link is invalid or expired, or the commune's list does not vouch for the service."
        }
        "not_covered" if fr => "Cette procuration ne couvre pas ce service, ou elle a pris fin.",
        "not_covered" => "This mandate does not cover this service, or it has ended.",
        "refused" if fr => "Le service a refusé la réponse : la procuration a peut-être été révoquée.",
        "refused" => "The service refused the answer: the mandate may have been revoked.",
        "answer_for" if fr => "Répondre à une demande pour cette personne",
        "answer_for" => "Answer a request for this person",
        "request_link" if fr => "Lien de la demande du service",
        "request_link" => "The service's request link",
        "open" if fr => "Ouvrir la demande",
        "open" => "Open the request",
        "asks" if fr => "demande, pour",
        "asks" => "asks, for",
        "shared" if fr => "Données de cette personne qui seront transmises :",
        "shared" => "This person's data that will be sent:",
        "send" if fr => "Accepter et envoyer pour cette personne",
        "send" => "Accept and send for this person",
        "sent" if fr => "Réponse envoyée et reçu du service vérifié. La personne le verra dans son portefeuille.",
        "sent" => "Answer sent and the service's receipt verified. The person will see it in their wallet.",
        "acts" if fr => "Fait en votre nom avec cette procuration :",
        "acts" => "Done in your name under this mandate:",
        "error" if fr => "Erreur :",
        "error" => "Error:",
        "done" if fr => "C'est fait :",
        _ => "Done:",
    }
}

impl Failure {
    fn key(self) -> &'static str {
        match self {
            Failure::BadCode => "bad_code",
            Failure::BadLink => "bad_link",
            Failure::NothingToGive => "nothing",
            Failure::NoServices => "no_services",
            Failure::Network => "network",
            Failure::BadRequest => "bad_request",
            Failure::NotCovered => "not_covered",
            Failure::Refused => "refused",
        }
    }
}

/// The records of the request, read.
struct Records {
    given: Vec<(String, GivenMandate)>,
    held: Vec<(String, HeldMandate)>,
    /// Credential records (JSON), with their verified content.
    credentials: Vec<(Value, souverain_core::sd_jwt_vc::VerifiedVc)>,
    /// The pinned commune key (`did:jwk`), if any.
    commune: Option<String>,
    /// The consents given under a mandate: its id, the service's name, when.
    acts: Vec<(String, Option<LocalizedText>, i64)>,
    /// The consent records (JSON), for the rights of access and erasure.
    consents: Vec<Value>,
}

fn read_records(ask: &Ask) -> Records {
    let mut r =
        Records { given: vec![], held: vec![], credentials: vec![], commune: None, acts: vec![], consents: vec![] };
    for (kind, id, record) in &ask.records {
        match kind.as_str() {
            "setting" if id.starts_with(GIVEN) => {
                if let Ok(m) = serde_json::from_value(record.clone()) {
                    r.given.push((id.clone(), m));
                }
            }
            "setting" if id.starts_with(HELD) => {
                if let Ok(m) = serde_json::from_value(record.clone()) {
                    r.held.push((id.clone(), m));
                }
            }
            "setting" if id == COMMUNE_RECORD => {
                r.commune = record.get("did").and_then(Value::as_str).map(str::to_owned);
            }
            "credential" => {
                if let Some(vc) = verified_credential(record, None) {
                    r.credentials.push((record.clone(), vc));
                }
            }
            "consent" => keep_consent(&mut r, record.clone()),
            _ => {}
        }
    }
    r
}

/// Keeps a consent record and, when it was given under a mandate, notes the act.
fn keep_consent(r: &mut Records, record: Value) {
    if let Some(mandate) = record.pointer("/content/representative/mandate").and_then(Value::as_str) {
        let service = record.get("service").cloned().and_then(|s| serde_json::from_value(s).ok());
        let time = record.pointer("/content/iat").and_then(Value::as_i64).unwrap_or(0);
        r.acts.push((mandate.to_owned(), service, time));
    }
    r.consents.push(record);
}

/// A credential record (`credential`, `issuer_jwk`, `received_at`) verified under its issuer's
/// key, as of `at` (default: when it was received).
fn verified_credential(record: &Value, at: Option<i64>) -> Option<souverain_core::sd_jwt_vc::VerifiedVc> {
    let jwk = Jwk(record.get("issuer_jwk")?.as_object()?.clone());
    let key = PublicKey::from_jwk(&jwk).ok()?;
    let sd = SdJwt::parse(record.get("credential")?.as_str()?).ok()?;
    let at = at.or_else(|| record.get("received_at")?.as_i64())?;
    verify_vc(sd, &key, &VcVerifyOptions::new(at)).ok()
}

/// The scope of a mandate for `service`: its registered purposes and every claim the commune's
/// list allows it, as consent records name them.
pub fn scope_of(service: &Service) -> MandateScope {
    let mut data: Vec<DataCategory> = Vec::new();
    for allowed in service.purposes.iter().flat_map(|p| &p.claims) {
        let pointers = allowed.paths.iter().filter_map(|p| {
            let steps = p.as_array()?.iter().map(|s| s.as_str().map(str::to_owned)).collect::<Option<Vec<_>>>()?;
            Some(ClaimPath::from_segments(steps).to_string())
        });
        match data.iter_mut().find(|d| d.vct == allowed.vct) {
            Some(d) => d.claims.extend(pointers),
            None => data.push(DataCategory { vct: allowed.vct.clone(), claims: pointers.collect() }),
        }
    }
    MandateScope {
        service: service.client_id.clone(),
        purposes: service.purposes.iter().map(|p| p.dpv.clone()).collect(),
        data,
    }
}

/// The commune's services, from the list at the origin of the first credential's issuer, checked
/// against the pinned key (pinned now, from the list, when none is yet: a write is added).
async fn services(
    ask: &Ask,
    r: &Records,
    net: &impl Net,
    out: &mut MandatesAnswer,
) -> Result<(String, Vec<Service>), Failure> {
    let issuer = r.credentials.iter().find_map(|(c, _)| c.get("issuer")?.as_str().map(str::to_owned));
    let origin = issuer.and_then(|i| souverain_core::trust_list::origin(&i)).ok_or(Failure::NoServices)?;
    let (list, _) = trust_list(ask, r, net, out, &origin).await?;
    Ok((origin, list.list().services.clone()))
}

/// The commune's list at `origin`, checked against the pinned key (pinned now, from the list,
/// when none is yet: a write is added), with its verified payload.
async fn trust_list(
    ask: &Ask,
    r: &Records,
    net: &impl Net,
    out: &mut MandatesAnswer,
    origin: &str,
) -> Result<(VerifiedTrustList, Value), Failure> {
    let body = net.get(&format!("{origin}{TRUST_LIST_PATH}")).await.map_err(|_| Failure::NoServices)?;
    let text = String::from_utf8(body).map_err(|_| Failure::NoServices)?;
    let did = match &r.commune {
        Some(did) => did.clone(),
        None => {
            let named = souverain_core::jose::UnverifiedJws::parse(text.trim())
                .ok()
                .and_then(|j| serde_json::from_slice::<Value>(j.payload_unverified()).ok())
                .and_then(|p| p.get("iss")?.as_str().map(str::to_owned))
                .ok_or(Failure::NoServices)?;
            out.writes.push(Write {
                id: COMMUNE_RECORD.into(),
                kind: "setting",
                data: json!({ "did": named }).to_string(),
                journal: "data_change",
                counterpart: named.clone(),
                purpose: "trust-list".into(),
                claims: vec![],
            });
            named
        }
    };
    let key = PublicKey::from_did(&did).map_err(|_| Failure::NoServices)?;
    crate::verified_trust_list(&text, &key, ask.now).ok_or(Failure::NoServices)
}

/// Answers one request of the mandates page.
pub async fn answer(ask: &Ask, net: &impl Net, date: &dyn Fn(i64) -> String) -> MandatesAnswer {
    let mut r = read_records(ask);
    let mut out = MandatesAnswer::default();
    let mut notice: Option<Result<String, Failure>> = None;
    let mut link = None;
    let (mut access_failed, mut export, mut confirm, mut sent) = (false, None, None, None);
    let field = |name: &str| ask.fields.get(name).map(|s| s.trim().to_owned()).unwrap_or_default();
    if ask.action.starts_with("study") {
        return studies(ask, &r, net, date).await;
    }
    match ask.action.as_str() {
        "give" => match give(ask, &r, net, &mut out).await {
            Ok(()) => return out,
            Err(f) => notice = Some(Err(f)),
        },
        "give_signed" => match give_signed(ask, &mut r, &mut out) {
            Ok(l) => link = Some(l),
            Err(f) => notice = Some(Err(f)),
        },
        "receive" => match receive(ask, &field("link")) {
            Ok((id, held)) => {
                out.writes.push(Write {
                    id: id.clone(),
                    kind: "setting",
                    data: serde_json::to_string(&held).unwrap_or_default(),
                    journal: "import",
                    counterpart: held.person.clone(),
                    purpose: "mandate-received".into(),
                    claims: vec![],
                });
                r.held.push((id, held));
                notice = Some(Ok(say(ask.lang, "kept").to_owned()));
            }
            Err(f) => notice = Some(Err(f)),
        },
        "revoke" => {
            let id = field("id");
            if let Some((_, g)) = r.given.iter().find(|(i, _)| *i == id) {
                let revocation = MandateRevocation {
                    record_id: format!("urn:souverain:mandate-revocation:{}", random()),
                    schema_version: souverain_core::mandate::MANDATE_SCHEMA.into(),
                    mandate_id: g.mandate.id.clone(),
                    pii_principal: ask.me.clone(),
                    revoked_at: ask.now,
                };
                out.sign = vec![ToSign {
                    typ: REVOCATION_TYP,
                    payload: serde_json::to_string(&revocation).unwrap_or_default(),
                }];
                out.next = Some(json!({ "id": id }));
                return out;
            }
        }
        "revoke_signed" => {
            let id = ask.next.as_ref().and_then(|n| n.get("id")?.as_str().map(str::to_owned)).unwrap_or_default();
            if let Some((_, g)) = r.given.iter_mut().find(|(i, _)| *i == id) {
                if g.revocation.is_none() {
                    g.revocation = ask.signatures.first().cloned();
                }
                let body = json!({ "revocation": g.revocation }).to_string();
                let sent =
                    net.post(&format!("{}/api/mandates/revocations", g.guichet), "application/json", &body).await;
                g.revoked = sent.is_ok();
                out.writes.push(Write {
                    id: id.clone(),
                    kind: "setting",
                    data: serde_json::to_string(&*g).unwrap_or_default(),
                    journal: if g.revoked { "receipt" } else { "withdrawal" },
                    counterpart: g.carer_name.clone(),
                    purpose: "mandate-revoked".into(),
                    claims: vec![],
                });
                notice = Some(if g.revoked {
                    Ok(say(ask.lang, "revoked_notice").to_owned())
                } else {
                    Err(Failure::Network)
                });
            }
        }
        // The page opens: what my carers did in my name since the last time is kept first.
        "view" => {
            sync(&r, net, &mut out).await;
            for w in &out.writes {
                if let Ok(record) = serde_json::from_str::<Value>(&w.data) {
                    keep_consent(&mut r, record);
                }
            }
        }
        "prepare" => match prepare(ask, &r, net, &mut out, &field("link"), &field("held")).await {
            Ok(p) => {
                let mut html = page(ask, &r, None, None, net, date).await;
                html.insert_str(0, &confirmation(ask.lang, &p, &field("link"), &field("held")));
                out.html = html;
                return out;
            }
            Err(f) => notice = Some(Err(f)),
        },
        "answer" => match prepare(ask, &r, net, &mut out, &field("link"), &field("held")).await {
            Ok(p) => {
                key_bindings(ask, &p, &mut out);
                return out;
            }
            Err(f) => notice = Some(Err(f)),
        },
        "answer_signed" => match answered(ask, net, &mut out).await {
            Ok(true) => notice = Some(Ok(say(ask.lang, "sent").to_owned())),
            Ok(false) => return out,
            Err(f) => notice = Some(Err(f)),
        },
        // The right of access from a consent (rights.rs).
        "access" => match crate::rights::access(ask, &r.consents, &field("grant"), &field("right"), &mut out) {
            Ok(crate::rights::Step::Sign) => return out,
            Ok(crate::rights::Step::Confirm(asked)) => confirm = Some(asked),
            Ok(crate::rights::Step::Nothing) => {}
            // A request kept unanswered, posted again as it was signed.
            Ok(crate::rights::Step::Resend) => {
                sent = Some(crate::rights::resend(ask, &r.consents, net, &mut out).await);
            }
            Err(_) => access_failed = true,
        },
        "access_signed" => sent = Some(crate::rights::access_signed(ask, &r.consents, net, &mut out).await),
        _ => {}
    }
    match sent {
        Some(Ok(crate::rights::Signed::Access(jwt, verified))) => {
            export = Some(crate::rights::export(ask.lang, &jwt, &verified, date));
        }
        // An erasure or objection receipt, or a request kept unanswered, is drawn on its card from
        // the writes.
        Some(Ok(
            crate::rights::Signed::Erasure
            | crate::rights::Signed::Objection
            | crate::rights::Signed::Rectification
            | crate::rights::Signed::Waiting,
        ))
        | None => {}
        Some(Err(_)) => access_failed = true,
    }
    out.html = page(ask, &r, notice, link.as_deref(), net, date).await;
    out.html.push_str(&crate::rights::section(
        ask,
        &r.consents,
        &out.writes,
        access_failed,
        export.as_deref(),
        confirm.as_ref(),
        date,
    ));
    out
}

/// The studies page (studies.rs): the commune is the one whose list vouches for the first
/// credential's issuer, as for the mandates' services; its studies are verified against its
/// pinned key. `study` views, contributes (first step, to sign) or declines (`do`);
/// `study_signed` sends the contribution.
async fn studies(ask: &Ask, r: &Records, net: &impl Net, date: &dyn Fn(i64) -> String) -> MandatesAnswer {
    use crate::studies::{self, StudyFailure};
    let mut out = MandatesAnswer::default();
    let listed = commune_studies(ask, r, net, &mut out).await;
    let (listed, key) = match listed {
        Ok(found) => found,
        Err(f) => {
            out.html = studies::page(ask, &out, &[], Some(Err(&f)), date);
            return out;
        }
    };
    studies::send_waiting(ask, &listed, net, &mut out).await;
    let field = |name: &str| ask.fields.get(name).map(|s| s.trim().to_owned()).unwrap_or_default();
    let chosen = listed.iter().find(|l| l.study.study().task_id == field("task"));
    let outcome = match (ask.action.as_str(), field("do").as_str(), chosen) {
        ("study_signed", ..) => {
            studies::contribute_signed(ask, &key, &r.credentials, net, &mut out).await.map(|_| Some(true))
        }
        ("study", "", _) => Ok(None),
        ("study", "contribute", Some(l)) => match studies::contribute(ask, l, &r.credentials, &mut out) {
            Ok(()) => return out,
            Err(f) => Err(f),
        },
        ("study", "decline", Some(l)) => studies::decline(ask, l, &mut out).map(|()| Some(false)),
        _ => Err(StudyFailure::UnknownStudy),
    };
    let notice = match &outcome {
        Ok(Some(contributed)) => Some(Ok(studies::done_text(ask.lang, *contributed))),
        Ok(None) => None,
        Err(f) => Some(Err(f)),
    };
    out.html = studies::page(ask, &out, &listed, notice, date);
    out
}

/// The commune's studies, verified against its key (pinned from its list when none is yet).
async fn commune_studies(
    ask: &Ask,
    r: &Records,
    net: &impl Net,
    out: &mut MandatesAnswer,
) -> Result<(Vec<crate::studies::Listed>, PublicKey), crate::studies::StudyFailure> {
    use crate::studies::StudyFailure;
    let issuer = r.credentials.iter().find_map(|(c, _)| c.get("issuer")?.as_str().map(str::to_owned));
    let origin = issuer.and_then(|i| souverain_core::trust_list::origin(&i)).ok_or(StudyFailure::NoCommune)?;
    let (_, payload) = trust_list(ask, r, net, out, &origin).await.map_err(|_| StudyFailure::NoTrustList)?;
    // The digests of the studies the commune's signed list names: only those are offered.
    let named: Vec<&str> = payload
        .get("studies")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|s| s.get("study_sha256")?.as_str())
        .collect();
    let pinned_now = out
        .writes
        .iter()
        .find(|w| w.id == COMMUNE_RECORD)
        .and_then(|w| serde_json::from_str::<Value>(&w.data).ok()?.get("did")?.as_str().map(str::to_owned));
    let did = r.commune.clone().or(pinned_now).ok_or(StudyFailure::NoTrustList)?;
    let key = PublicKey::from_did(&did).map_err(|_| StudyFailure::NoTrustList)?;
    // A commune whose list names no study runs none: nothing to ask its guichet (which has no
    // leader to answer), and nothing went wrong.
    if named.is_empty() {
        return Ok((Vec::new(), key));
    }
    let body =
        net.get(&format!("{origin}{}", crate::studies::STUDIES_PATH)).await.map_err(|_| StudyFailure::Unreachable)?;
    Ok((crate::studies::read_list(&body, &key, &named)?, key))
}

/// First step of giving: the mandate to sign; the rest waits in `next`.
async fn give(ask: &Ask, r: &Records, net: &impl Net, out: &mut MandatesAnswer) -> Result<(), Failure> {
    let code = ask.fields.get("code").map(|c| c.trim().to_owned()).unwrap_or_default();
    // An RFC 7638 thumbprint: 32 bytes of SHA-256 in base64url.
    if souverain_core::b64::decode(&code).map(|b| b.len()) != Ok(32) {
        return Err(Failure::BadCode);
    }
    let (guichet, services) = services(ask, r, net, out).await?;
    let chosen = ask.fields.get("service").and_then(|s| services.iter().find(|x| x.client_id == *s));
    let service = chosen.or(services.first()).ok_or(Failure::NoServices)?;
    let scope = scope_of(service);
    let mut credentials = Vec::new();
    let mut person = String::new();
    for category in &scope.data {
        let Some((record, vc)) = r.credentials.iter().find(|(_, vc)| vc.vct == category.vct) else { continue };
        let paths: Vec<ClaimPath> = category.claims.iter().filter_map(|p| ClaimPath::parse(p).ok()).collect();
        let Some(text) = record.get("credential").and_then(Value::as_str) else { continue };
        let Some(cut) = SdJwt::parse(text).ok().and_then(|sd| sd.present_without_key_binding(&paths).ok()) else {
            continue;
        };
        let mut cut_record = record.clone();
        cut_record["credential"] = Value::String(cut);
        credentials.push(cut_record);
        let part = |claim: &str| vc.claims.get(claim).and_then(Value::as_str).map(str::to_owned);
        if let (Some(g), Some(f)) = (part("given_name"), part("family_name")) {
            person = format!("{g} {f}");
        }
    }
    if credentials.is_empty() {
        return Err(Failure::NothingToGive);
    }
    let months: i64 =
        ask.fields.get("months").and_then(|m| m.parse().ok()).filter(|m| [3, 12].contains(m)).unwrap_or(3);
    let mandate = Mandate {
        record_id: format!("urn:souverain:mandate:{}", random()),
        schema_version: souverain_core::mandate::MANDATE_SCHEMA.into(),
        pii_principal: ask.me.clone(),
        carer: code,
        scope: vec![scope],
        issued_at: ask.now,
        valid_until: ask.now.saturating_add(months * 30 * 86_400),
    };
    out.sign = vec![ToSign { typ: MANDATE_TYP, payload: serde_json::to_string(&mandate).unwrap_or_default() }];
    out.next = Some(json!({
        "view": MandateView::of(&mandate),
        "carer_name": ask.fields.get("name").map(|n| n.trim()).unwrap_or_default(),
        "services": [service.name],
        "guichet": guichet,
        "person": person,
        "credentials": credentials,
    }));
    Ok(())
}

/// Second step of giving: the record kept and the link.
fn give_signed(ask: &Ask, r: &mut Records, out: &mut MandatesAnswer) -> Result<String, Failure> {
    let next = ask.next.as_ref().ok_or(Failure::BadCode)?;
    let jwt = ask.signatures.first().cloned().ok_or(Failure::BadCode)?;
    let get = |name: &str| next.get(name).cloned().unwrap_or(Value::Null);
    let given = GivenMandate {
        jwt: jwt.clone(),
        mandate: serde_json::from_value(get("view")).map_err(|_| Failure::BadCode)?,
        carer_name: get("carer_name").as_str().unwrap_or_default().to_owned(),
        services: serde_json::from_value(get("services")).map_err(|_| Failure::BadCode)?,
        guichet: get("guichet").as_str().unwrap_or_default().to_owned(),
        revocation: None,
        revoked: false,
    };
    let package = json!({
        "mandate": jwt, "person": get("person"), "services": get("services"), "credentials": get("credentials"),
    });
    let id = format!("{GIVEN}-{}", &given.mandate.id.rsplit(':').next().unwrap_or_default());
    out.writes.push(Write {
        id: id.clone(),
        kind: "setting",
        data: serde_json::to_string(&given).unwrap_or_default(),
        journal: "grant",
        counterpart: given.carer_name.clone(),
        purpose: "mandate-given".into(),
        claims: vec![],
    });
    r.given.push((id, given));
    Ok(format!("{}#/consents?m={}", ask.base, souverain_core::b64::encode(package.to_string())))
}

/// A mandate's link (or the text after `m=`), checked: the mandate names this wallet (`ask.me`)
/// and is signed by the key every credential it comes with is bound to, each credential verifying
/// under its issuer's key. The record to keep, with its id.
pub fn receive(ask: &Ask, link: &str) -> Result<(String, HeldMandate), Failure> {
    let text = link.rsplit_once("m=").map_or(link, |(_, t)| t);
    let bytes = souverain_core::b64::decode(text.trim()).map_err(|_| Failure::BadLink)?;
    let package: Value = serde_json::from_slice(&bytes).map_err(|_| Failure::BadLink)?;
    let jwt = package.get("mandate").and_then(Value::as_str).ok_or(Failure::BadLink)?;
    let credentials = package.get("credentials").and_then(Value::as_array).cloned().unwrap_or_default();
    let mut holder: Option<PublicKey> = None;
    for c in &credentials {
        let vc = verified_credential(c, Some(ask.now)).ok_or(Failure::BadLink)?;
        match &holder {
            None => holder = Some(vc.holder),
            Some(h) if *h == vc.holder => {}
            Some(_) => return Err(Failure::BadLink),
        }
    }
    let person_key = holder.ok_or(Failure::BadLink)?;
    let verified =
        UnverifiedMandate::parse(jwt).and_then(|m| m.verify(&person_key, ask.now)).map_err(|_| Failure::BadLink)?;
    let mandate = verified.mandate();
    if mandate.carer != ask.me {
        return Err(Failure::BadLink);
    }
    let held = HeldMandate {
        jwt: jwt.to_owned(),
        mandate: MandateView::of(mandate),
        person: package.get("person").and_then(Value::as_str).unwrap_or_default().to_owned(),
        services: serde_json::from_value(package.get("services").cloned().unwrap_or(Value::Null))
            .map_err(|_| Failure::BadLink)?,
        credentials,
    };
    Ok((format!("{HELD}-{}", mandate.record_id.rsplit(':').next().unwrap_or_default()), held))
}

/// The acts done under the mandates given that are not kept yet, verified, as consents to keep.
async fn sync(r: &Records, net: &impl Net, out: &mut MandatesAnswer) {
    let Some(me) = r.credentials.first().map(|(_, vc)| vc.holder.clone()) else { return };
    for (_, given) in &r.given {
        let url = format!("{}/api/mandates/acts?mandate={}", given.guichet, percent_encode(&given.mandate.id));
        let Ok(body) = net.get(&url).await else { continue };
        let Ok(reply) = serde_json::from_slice::<Value>(&body) else { continue };
        for act in reply.get("acts").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default() {
            let text = |name: &str| act.get(name).and_then(Value::as_str).unwrap_or_default();
            let Some(content) = verified_act(&me, given, text("grant"), text("receipt")) else { continue };
            let kept = r
                .consents
                .iter()
                .any(|c| c.pointer("/content/jti").and_then(Value::as_str) == Some(&content.record_id));
            if kept || out.writes.iter().any(|w| w.data.contains(&content.record_id)) {
                continue;
            }
            let service: Option<LocalizedText> =
                act.get("service_name").cloned().and_then(|v| serde_json::from_value(v).ok());
            let claims = content.data.iter().flat_map(|d| d.claims.clone()).collect();
            let record = json!({
                "grant": text("grant"), "content": content, "service": service, "receipt": text("receipt"),
                "withdrawal": null, "withdrawal_receipt": null, "erasure_by": null, "acted_by": given.carer_name,
            });
            out.writes.push(Write {
                id: format!("grant-{}", content.record_id.rsplit(':').next().unwrap_or_default()),
                kind: "consent",
                data: record.to_string(),
                journal: "disclosure",
                counterpart: service.map_or_else(|| content.aud.clone(), |s| s.fr),
                purpose: "mandate-act".into(),
                claims,
            });
        }
    }
}

/// An act's grant, when it is for me (`me`), signed by the carer `given` names, under it, and
/// the service's receipt verifies against it.
pub fn verified_act(me: &PublicKey, given: &GivenMandate, grant: &str, receipt: &str) -> Option<Grant> {
    let unverified = UnverifiedGrant::parse(grant).ok()?;
    let carer = unverified.signer_unverified().filter(|k| k.thumbprint() == given.mandate.carer)?;
    // The binding is the grant's own: the service checked it against the exchange; what matters
    // here is who signed it, for whom, under which mandate.
    let content: Grant = serde_json::from_slice(&souverain_core::b64::decode(grant.split('.').nth(1)?).ok()?).ok()?;
    let binding = ExchangeBinding {
        client_id: content.aud.clone(),
        nonce: content.nonce.clone(),
        vp_token_sha256: content.vp_token_sha256.clone(),
    };
    let verified = unverified.verify_represented(&binding, me, &carer, &given.mandate.id).ok()?;
    UnverifiedReceipt::parse(receipt).and_then(|r| r.verify(verified.grant(), &content.record_id)).ok()?;
    Some(verified.grant().clone())
}

/// The page: the notice, the form giving a mandate (and the link just made), the mandates given,
/// this wallet's code and the form receiving one, the mandates held.
async fn page(
    ask: &Ask,
    r: &Records,
    notice: Option<Result<String, Failure>>,
    link: Option<&str>,
    net: &impl Net,
    date: &dyn Fn(i64) -> String,
) -> String {
    let l = ask.lang;
    let t = |k: &str| escape(say(l, k));
    let mut h = format!("<p>{}</p>", t("intro"));
    match notice {
        Some(Ok(text)) => h.push_str(&format!(
            r#"<div class="alert alert-success" role="status"><span class="alert-icon" aria-hidden="true">✔</span><strong>{}</strong> {}</div>"#,
            t("done"),
            escape(&text)
        )),
        Some(Err(f)) => h.push_str(&format!(
            r#"<div class="alert alert-error" role="alert"><span class="alert-icon" aria-hidden="true">✖</span><strong>{}</strong> {}</div>"#,
            t("error"),
            t(f.key())
        )),
        None => {}
    }
    // The services, when the commune's list can be had (no write: a view pins nothing).
    let mut scratch = MandatesAnswer::default();
    let options: String = match services(ask, r, net, &mut scratch).await {
        Ok((_, list)) => list
            .iter()
            .map(|s| format!(r#"<option value="{}">{}</option>"#, escape(&s.client_id), escape(pick(l, &s.name))))
            .collect(),
        Err(_) => String::new(),
    };
    h.push_str(&format!(
        r#"<form class="panel" id="mandate-give" novalidate><h2>{give}</h2>
<div class="field"><label for="mandate-carer">{code}</label><input id="mandate-carer" name="code" type="text" autocomplete="off" required aria-describedby="mandate-carer-hint"><p class="hint" id="mandate-carer-hint">{hint}</p></div>
<div class="field"><label for="mandate-name">{name}</label><input id="mandate-name" name="name" type="text" required></div>
<div class="field"><label for="mandate-service">{service}</label><select id="mandate-service" name="service">{options}</select></div>
<div class="field"><label for="mandate-duration">{duration}</label><select id="mandate-duration" name="months"><option value="3">{m3}</option><option value="12">{m12}</option></select></div>
<button type="submit" class="button">{create}</button></form>"#,
        give = t("give"),
        code = t("code"),
        hint = t("code_hint"),
        name = t("name"),
        service = t("service"),
        duration = t("duration"),
        m3 = t("m3"),
        m12 = t("m12"),
        create = t("create"),
    ));
    if let Some(link) = link {
        h.push_str(&format!(
            r#"<div class="panel" id="mandate-link"><p>{}</p><textarea readonly id="mandate-link-text" aria-label="{}">{}</textarea></div>"#,
            t("link_ready"),
            t("link_out"),
            escape(link)
        ));
    }
    let services_of =
        |names: &[LocalizedText]| names.iter().map(|n| escape(pick(l, n))).collect::<Vec<_>>().join(" ; ");
    h.push_str(&format!("<h2>{}</h2>", t("given")));
    if r.given.is_empty() {
        h.push_str(&format!(r#"<p class="empty">{}</p>"#, t("none")));
    } else {
        h.push_str(r#"<ul class="cards">"#);
        for (id, g) in &r.given {
            let state = match (g.revoked, &g.revocation) {
                (true, _) => "revoked",
                (false, Some(_)) => "revoking",
                _ => "active",
            };
            h.push_str(&format!(
                r#"<li class="card mandate-given" data-mandate="{mid}"><h3>{who}</h3><dl><dt>{service}</dt><dd>{services}</dd><dt>{until}</dt><dd>{date}</dd><dt>{state_label}</dt><dd class="mandate-state">{state}</dd></dl>"#,
                mid = escape(&g.mandate.id),
                who = escape(&g.carer_name),
                service = t("service"),
                services = services_of(&g.services),
                until = t("until"),
                date = escape(&date(g.mandate.valid_until)),
                state_label = t("state"),
                state = t(state),
            ));
            let acts: String = r
                .acts
                .iter()
                .filter(|(m, _, _)| *m == g.mandate.id)
                .map(|(_, service, time)| {
                    let name = service.as_ref().map(|s| escape(pick(l, s))).unwrap_or_default();
                    format!("<li><time>{}</time> · {name}</li>", escape(&date(*time)))
                })
                .collect();
            if !acts.is_empty() {
                h.push_str(&format!(r#"<p>{}</p><ul class="mandate-acts">{acts}</ul>"#, t("acts")));
            }
            if !g.revoked {
                h.push_str(&format!(
                    r#"<button type="button" class="button button-secondary" data-revoke="{}">{}</button>"#,
                    escape(id),
                    t("revoke")
                ));
            }
            h.push_str("</li>");
        }
        h.push_str("</ul>");
    }
    h.push_str(&format!(
        r#"<h2>{}</h2><p>{}</p><p><code id="carer-code" class="check-url">{}</code></p>
<form class="panel" id="mandate-receive" novalidate><div class="field"><label for="mandate-receive-link">{}</label><input id="mandate-receive-link" name="link" type="text" autocomplete="off" required value="{}"></div><button type="submit" class="button">{}</button></form>"#,
        t("act_for"),
        t("my_code"),
        escape(&ask.me),
        t("link"),
        escape(ask.fields.get("prefill").map(String::as_str).unwrap_or_default()),
        t("keep"),
    ));
    h.push_str(&format!("<h2>{}</h2>", t("held")));
    if r.held.is_empty() {
        h.push_str(&format!(r#"<p class="empty">{}</p>"#, t("none")));
    } else {
        h.push_str(r#"<ul class="cards">"#);
        for (n, (id, m)) in r.held.iter().enumerate() {
            h.push_str(&format!(
                r#"<li class="card mandate-held" data-mandate="{}"><h3>{}</h3><dl><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd></dl>
<form class="mandate-answer" id="mandate-answer-{n}" novalidate><input type="hidden" name="held" value="{}"><div class="field"><label for="request-for-{n}">{}</label><input id="request-for-{n}" name="link" type="text" autocomplete="off" required></div><button type="submit" class="button">{}</button></form></li>"#,
                escape(&m.mandate.id),
                escape(&m.person),
                t("service"),
                services_of(&m.services),
                t("until"),
                escape(&date(m.mandate.valid_until)),
                escape(id),
                t("request_link"),
                t("open"),
            ));
        }
        h.push_str("</ul>");
    }
    // The commune's studies (issue 18) have their page; a link to it from here too.
    h.push_str(&format!(
        r##"<h2>{}</h2><p><a class="button" href="#/studies">{}</a></p>"##,
        escape(crate::studies::heading(l)),
        escape(crate::studies::open_label(l))
    ));
    h
}

/// 16 random bytes, base64url: a record's identifier.
pub(crate) fn random() -> String {
    use rand_core::RngCore as _;
    let mut bytes = [0u8; 16];
    rand_core::OsRng.fill_bytes(&mut bytes);
    souverain_core::b64::encode(bytes)
}

fn pick(lang: Lang, text: &LocalizedText) -> &str {
    if lang == Lang::En { &text.en } else { &text.fr }
}

/// A request a carer may answer for the person of a held mandate: verified, vouched for by the
/// commune's list, covered by the mandate, matched against the person's credentials.
pub struct Prepared {
    /// The request, verified.
    pub request: RequestObject,
    /// The signed request object as fetched, and the client_id it was verified for: the signed
    /// steps verify it again (this module keeps nothing between requests).
    pub signed: (String, String),
    /// The service's name on the commune's list.
    pub service: LocalizedText,
    /// The held mandate.
    pub held: HeldMandate,
    /// The person's key (their credentials' `cnf`).
    pub person: PublicKey,
    /// Per credential query: its id, the credential record and the claims disclosed (needed ones).
    pub plans: Vec<(String, Value, String, Vec<String>)>,
}

async fn prepare(
    ask: &Ask,
    r: &Records,
    net: &impl Net,
    out: &mut MandatesAnswer,
    link: &str,
    held_id: &str,
) -> Result<Prepared, Failure> {
    let url = AuthorizationRequestUrl::parse(link).map_err(|_| Failure::BadRequest)?;
    let body = net.get(&url.request_uri).await.map_err(|_| Failure::BadRequest)?;
    let text = String::from_utf8(body).map_err(|_| Failure::BadRequest)?;
    let request = UnverifiedRequest::parse(text.trim())
        .and_then(|q| q.verify(&url.client_id, ask.now))
        .map_err(|_| Failure::BadRequest)?;
    let origin = souverain_core::trust_list::origin(&url.request_uri).ok_or(Failure::BadRequest)?;
    let (list, _) = trust_list(ask, r, net, out, &origin).await?;
    // As the request page judges one: on the list, answered where the list allows, within the
    // retention and the purposes it registered.
    let verdict = evaluate(&request, &list);
    let service = verdict.service.as_ref().map(|s| s.name.clone()).ok_or(Failure::BadRequest)?;
    if !verdict.response_uri_allowed
        || verdict.retention_exceeded.is_some()
        || !verdict.unregistered_purposes.is_empty()
    {
        return Err(Failure::BadRequest);
    }
    let object = request.object().clone();
    let (_, held) = r.held.iter().find(|(id, _)| id == held_id).ok_or(Failure::NotCovered)?;
    if !held.mandate.services.contains(&object.client_id) || held.mandate.valid_until <= ask.now {
        return Err(Failure::NotCovered);
    }
    let mut vcs = Vec::new();
    for c in &held.credentials {
        vcs.push((c.clone(), verified_credential(c, Some(ask.now)).ok_or(Failure::BadLink)?));
    }
    let person = vcs.first().map(|(_, vc)| vc.holder.clone()).ok_or(Failure::BadLink)?;
    let ids: Vec<String> = (0..vcs.len()).map(|i| format!("c{i}")).collect();
    let views: Vec<HeldCredential<'_>> =
        vcs.iter().zip(&ids).map(|((_, vc), id)| HeldCredential { id, vct: &vc.vct, claims: &vc.claims }).collect();
    let matched = object.dcql_query.match_credentials(&views);
    let mut plans = Vec::new();
    for query in &object.dcql_query.credentials {
        let candidate = matched.candidates(&query.id).first().ok_or(Failure::NothingToGive)?;
        let at = ids.iter().position(|i| *i == candidate.credential_id).ok_or(Failure::NothingToGive)?;
        // The needed claims only: a carer shares nothing optional for the person.
        plans.push((query.id.clone(), vcs[at].0.clone(), candidate.vct.clone(), candidate.required.clone()));
    }
    Ok(Prepared {
        request: object,
        signed: (text.trim().to_owned(), url.client_id),
        service,
        held: held.clone(),
        person,
        plans,
    })
}

/// What the carer is about to send for the person, and the button that sends it.
fn confirmation(lang: Lang, p: &Prepared, link: &str, held: &str) -> String {
    let t = |k: &str| escape(say(lang, k));
    let purposes: Vec<String> = p.request.processing.purposes.iter().map(|x| escape(pick(lang, &x.text))).collect();
    let claims: String = p
        .plans
        .iter()
        .flat_map(|(_, _, _, claims)| claims.iter())
        .map(|c| format!(r#"<li data-claim="{}">{}</li>"#, escape(c), escape(&claim_label(lang, c))))
        .collect();
    format!(
        r#"<div class="panel" id="mandate-confirm-panel"><p id="service-identity"><strong>{service}</strong> {asks} {person} : {purposes}</p><p>{shared}</p><ul class="claim-list">{claims}</ul>
<form id="mandate-confirm" novalidate><input type="hidden" name="link" value="{link}"><input type="hidden" name="held" value="{held}"><button type="submit" class="button">{send}</button></form></div>"#,
        service = escape(pick(lang, &p.service)),
        asks = t("asks"),
        person = escape(&p.held.person),
        purposes = purposes.join(" ; "),
        shared = t("shared"),
        link = escape(link),
        held = escape(held),
        send = t("send"),
    )
}

/// First step of an answer for the person: the key bindings of their presentations, to sign.
fn key_bindings(ask: &Ask, p: &Prepared, out: &mut MandatesAnswer) {
    use sha2::Digest as _;
    let mut presentations = Vec::new();
    let mut children = Vec::new();
    for (query, record, _, claims) in &p.plans {
        let paths: Vec<ClaimPath> = claims.iter().filter_map(|c| ClaimPath::parse(c).ok()).collect();
        let text = record.get("credential").and_then(Value::as_str).unwrap_or_default();
        let Some(held) = SdJwt::parse(text).ok() else { return };
        let (Ok(sd), Ok(view)) = (held.present_without_key_binding(&paths), held.disclosed_claims(&paths)) else {
            return;
        };
        // The grant names the household's children whose entries go, as for the holder's own answers.
        children.extend(children_in(&view));
        let sd_hash = souverain_core::b64::encode(sha2::Sha256::digest(sd.as_bytes()));
        let payload = json!({"iat": ask.now, "aud": p.request.client_id, "nonce": p.request.nonce, "sd_hash": sd_hash});
        out.sign.push(ToSign { typ: souverain_core::sd_jwt::KB_JWT_TYP, payload: payload.to_string() });
        presentations.push(json!([query, sd]));
    }
    let data: Vec<DataCategory> =
        p.plans.iter().map(|(_, _, vct, claims)| DataCategory { vct: vct.clone(), claims: claims.clone() }).collect();
    out.next = Some(json!({
        "stage": "key_bindings", "request": p.signed.0, "client_id": p.signed.1, "presentations": presentations, "data": data,
        "person": p.held.person, "person_key": p.person.to_jwk().0, "mandate": p.held.jwt,
        "mandate_id": p.held.mandate.id, "service": p.service, "children": children,
    }));
}

/// The signed steps of an answer for the person: with the key bindings signed, the grant to sign;
/// with the grant signed, the answer posted and the service's receipt verified (`Ok(true)`: the
/// consent is written, given for the person).
async fn answered(ask: &Ask, net: &impl Net, out: &mut MandatesAnswer) -> Result<bool, Failure> {
    let mut next = ask.next.clone().ok_or(Failure::BadRequest)?;
    let signed = |name: &str| next.get(name).and_then(Value::as_str).unwrap_or_default().to_owned();
    let (request_jwt, client_id) = (signed("request"), signed("client_id"));
    let request = UnverifiedRequest::parse(&request_jwt)
        .and_then(|q| q.verify(&client_id, ask.now))
        .map_err(|_| Failure::BadRequest)?
        .object()
        .clone();
    let person = next.get("person").and_then(Value::as_str).unwrap_or_default().to_owned();
    let service: LocalizedText = serde_json::from_value(next["service"].clone()).map_err(|_| Failure::BadRequest)?;
    let data: Vec<DataCategory> = serde_json::from_value(next["data"].clone()).map_err(|_| Failure::BadRequest)?;
    let mandate = next.get("mandate").and_then(Value::as_str).unwrap_or_default().to_owned();
    if next.get("stage").and_then(Value::as_str) == Some("key_bindings") {
        let presentations = next.get("presentations").and_then(Value::as_array).cloned().unwrap_or_default();
        if presentations.len() != ask.signatures.len() {
            return Err(Failure::BadRequest);
        }
        let entries = presentations
            .iter()
            .zip(&ask.signatures)
            .map(|(p, kb)| {
                let query = p[0].as_str().unwrap_or_default().to_owned();
                (query, vec![format!("{}{kb}", p[1].as_str().unwrap_or_default())])
            })
            .collect();
        let vp_token = VpToken(entries).to_json_text();
        let jwk = Jwk(next["person_key"].as_object().cloned().unwrap_or_default());
        let person_key = PublicKey::from_jwk(&jwk).map_err(|_| Failure::BadRequest)?;
        let until = ask.now.saturating_add(i64::try_from(request.processing.retention_seconds).unwrap_or(i64::MAX));
        let mut grant = Grant::for_request(
            &request,
            &person_key,
            data,
            lang_tag(ask.lang),
            &vp_token,
            ask.now,
            until,
            &mut rand_core::OsRng,
        );
        grant.children = serde_json::from_value(next["children"].take()).unwrap_or_default();
        grant.representative = Some(Representative {
            id: ask.me.clone(),
            mandate: next.get("mandate_id").and_then(Value::as_str).unwrap_or_default().to_owned(),
        });
        out.sign.push(ToSign { typ: GRANT_TYP, payload: serde_json::to_string(&grant).unwrap_or_default() });
        out.next = Some(json!({
            "stage": "grant", "request": request_jwt, "client_id": client_id, "vp_token": vp_token, "grant": grant, "data": next["data"],
            "person": person, "mandate": mandate, "service": service,
        }));
        return Ok(false);
    }
    let grant_jwt = ask.signatures.first().cloned().ok_or(Failure::BadRequest)?;
    let grant: Grant = serde_json::from_value(next["grant"].take()).map_err(|_| Failure::BadRequest)?;
    let vp_token = next.get("vp_token").and_then(Value::as_str).unwrap_or_default().to_owned();
    let form = AuthorizationResponse {
        vp_token,
        state: request.state.clone(),
        consent_grant: Some(grant_jwt.clone()),
        mandate: Some(mandate),
    }
    .to_form();
    let reply = net
        .post(&request.response_uri, "application/x-www-form-urlencoded", &form)
        .await
        .map_err(|_| Failure::Refused)?;
    let reply: Value = serde_json::from_slice(&reply).map_err(|_| Failure::Refused)?;
    let receipt = reply.get("receipt").and_then(Value::as_str).ok_or(Failure::Refused)?;
    UnverifiedReceipt::parse(receipt).and_then(|r| r.verify(&grant, &grant.record_id)).map_err(|_| Failure::Refused)?;
    let claims = grant.data.iter().flat_map(|d| d.claims.clone()).collect();
    let record = json!({
        "grant": grant_jwt, "content": grant, "service": service, "receipt": receipt, "withdrawal": null,
        "withdrawal_receipt": null, "erasure_by": null, "acting_for": person,
    });
    out.writes.push(Write {
        id: format!("grant-{}", random()),
        kind: "consent",
        data: record.to_string(),
        journal: "disclosure",
        counterpart: service.fr.clone(),
        purpose: "acting-for".into(),
        claims,
    });
    Ok(true)
}

/// A claim's name in words (its pointer's steps, each by its label when known, joined by `›`).
pub(crate) fn claim_label(lang: Lang, pointer: &str) -> String {
    let fr = lang == Lang::Fr;
    pointer
        .trim_start_matches('/')
        .split('/')
        .map(|step| match step {
            "given_name" if fr => "Prénom",
            "given_name" => "First name",
            "family_name" if fr => "Nom",
            "family_name" => "Last name",
            "address" if fr => "Adresse",
            "address" => "Address",
            "street_address" if fr => "Numéro et voie",
            "street_address" => "Street address",
            "locality" if fr => "Commune",
            "locality" => "Town",
            "postal_code" if fr => "Code postal",
            "postal_code" => "Postcode",
            "children" if fr => "Enfants",
            "children" => "Children",
            "birthdate" if fr => "Date de naissance",
            "birthdate" => "Date of birth",
            "since" if fr => "Depuis",
            "since" => "Since",
            "bracket" if fr => "Tranche",
            "bracket" => "Bracket",
            "school" if fr => "École",
            "school" => "School",
            "reference_year" if fr => "Année de référence",
            "reference_year" => "Reference year",
            "country" if fr => "Pays",
            "country" => "Country",
            other => other,
        })
        .collect::<Vec<_>>()
        .join(" › ")
}

fn lang_tag(lang: Lang) -> &'static str {
    if lang == Lang::En { "en" } else { "fr" }
}
