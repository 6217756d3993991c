//! Answering a service's request (OpenID4VP by reference): fetch and check the signed request,
//! identify the service through the commune's trust list, match the held credentials, and on
//! approval keep the presentation with the signed consent grant (as being sent) and post them,
//! then keep the service's verified receipt and a `disclosure` journal entry (claim paths, never
//! values).
//!
//! The commune's key is pinned on first use: the first trust list fetched names it (`iss`, a
//! `did:jwk`), it is stored in a setting record, and later lists must be signed by that key.

use crate::services::rng::OsRng;
use souverain_core::consent::{DataCategory, Grant, children_in};
use souverain_core::event_key::EventKey;
use souverain_core::jose::{PublicKey, UnverifiedJws};
use souverain_core::json;
use souverain_core::openid4vp::dcql::{Candidate, HeldCredential};
use souverain_core::openid4vp::request::{
    AuthorizationRequestUrl, LocalizedText, RequestError, RequestObject, UnverifiedRequest, VerifiedRequest,
};
use souverain_core::openid4vp::response::{AuthorizationResponse, VpToken};
use souverain_core::sd_jwt::{ClaimPath, KeyBindingParams, SdJwt};
use souverain_core::trust_list::{UnverifiedTrustList, VerifiedTrustList, evaluate};
use souverain_core::vault::{EntryDraft, JournalKind, NewRecord, PathSegment, RecordKind};

use super::consent::{self, ConsentRecord, Delivery, DeliveryError, SecretText};
use super::issuance::{self, HeldVc, vault_free};
use super::net::{self, NetError};
use super::pending;
use super::platform::now_unix;
use super::vault::{Session, VaultFailure};

/// Where the commune's pinned key is kept.
const COMMUNE_KEY_ID: &str = "setting-commune-key";

/// Why a request could not be read or answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PresentError {
    /// The link or the request object is not a valid request (or it expired).
    BadRequest,
    /// The request object's signature, client identifier or validity does not check out: nothing
    /// it says is shown.
    BadSignature,
    /// The network failed, or the service refused the answer.
    Network(NetError),
    /// The chosen claims do not satisfy the request.
    CannotDecline,
    /// The service's answer did not verify.
    Invalid,
    /// The vault failed.
    Vault(VaultFailure),
}

impl From<NetError> for PresentError {
    fn from(e: NetError) -> PresentError {
        PresentError::Network(e)
    }
}

impl From<VaultFailure> for PresentError {
    fn from(e: VaultFailure) -> PresentError {
        PresentError::Vault(e)
    }
}

/// Who the service is, according to the commune's trust list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trust {
    /// On the list, answer address allowed.
    Verified(LocalizedText),
    /// Not on the list.
    Unknown,
    /// On the list, but the answer would go to an address the list does not allow.
    ResponseUriNotAllowed,
    /// The list itself could not be fetched.
    ListUnavailable,
    /// The list was fetched but does not verify: not signed by the commune's pinned key,
    /// malformed or expired. Nothing it says can be relied on, so the wallet does not answer.
    ListInvalid,
}

/// The household credential's children: asked whole, answered child by child.
pub const CHILDREN: &str = "/children";

/// One claim the request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimKind {
    /// Needed: it always leaves the device if the citizen approves.
    Required,
    /// Optional: the citizen may refuse it (shared by default).
    Optional,
    /// Beyond what the trust list allows this service: refused by default.
    Excess,
}

/// The answer to one credential query.
#[derive(Debug, Clone)]
pub struct QueryPlan {
    /// The query id.
    pub query_id: String,
    /// The credential type asked.
    pub vct: String,
    /// The held credential that answers it, with its candidate disclosures, if any.
    pub held: Option<(HeldVc, Candidate)>,
    /// Every claim asked (JSON pointers) and its kind.
    pub claims: Vec<(String, ClaimKind)>,
}

/// A request read, checked and matched, waiting for the citizen's decision.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The link as received, to open the request again from the home page.
    pub link: String,
    /// Where the request object was fetched (identifies the request).
    pub request_uri: String,
    /// The `client_id` of the link.
    pub url_client_id: String,
    /// The request, verified (signature, client identifier, validity) before anything else.
    pub request: VerifiedRequest,
    /// Who the service is.
    pub trust: Trust,
    /// The commune key's DID, when it was pinned during this request.
    pub pinned_now: Option<String>,
    /// Whether the service asks for more than it may.
    pub over_asking: bool,
    /// `(asked, max)` in seconds when the service asks to keep the data longer than the trust
    /// list allows for these purposes.
    pub retention_exceeded: Option<(u64, u64)>,
    /// The request's purposes (DPV IRIs) the trust list does not register for this service.
    pub unregistered_purposes: Vec<String>,
    /// The queries to answer.
    pub plans: Vec<QueryPlan>,
}

impl Prepared {
    /// The request's content (signed by its service; the service is on the commune's list only
    /// when [`Prepared::trust`] is `Verified`).
    pub fn object(&self) -> &RequestObject {
        self.request.object()
    }

    /// Whether the wallet may answer at all: an allowed answer address, a trust
    /// list that verifies, no retention beyond the registered one and no unregistered purpose
    /// (claims beyond the registered ones are refused one by one, see [`ClaimKind::Excess`]).
    pub fn answerable(&self) -> bool {
        !matches!(self.trust, Trust::ResponseUriNotAllowed | Trust::ListInvalid)
            && self.retention_exceeded.is_none()
            && self.unregistered_purposes.is_empty()
            && self.plans.iter().all(|p| p.held.is_some())
    }
}

/// The outcome of an approved request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// The grant's id.
    pub grant_id: String,
    /// The claims disclosed, per credential type.
    pub disclosed: Vec<(String, Vec<String>)>,
}

async fn pinned_commune(session: &Session) -> Result<Option<String>, VaultFailure> {
    vault_free(session).await;
    let present = session.peek(|v| v.list(RecordKind::Setting).iter().any(|e| e.id == COMMUNE_KEY_ID))?;
    if !present {
        return Ok(None);
    }
    vault_free(session).await;
    let bytes = session.read(COMMUNE_KEY_ID).await?;
    Ok(json::parse(&bytes).ok().and_then(|v| v.get("did")?.as_str().map(str::to_owned)))
}

async fn pin_commune(session: &Session, did: &str) -> Result<(), VaultFailure> {
    // Not `Value`'s `Display`: one JSON serializer in the wasm (this cannot fail).
    let data = serde_json::to_string(&serde_json::json!({ "did": did })).unwrap_or_default();
    let draft = EntryDraft {
        time: now_unix(),
        kind: JournalKind::DataChange,
        counterpart: Some(did.to_owned()),
        purpose: Some("trust-list".into()),
        claim_paths: Vec::new(),
        record_ids: Vec::new(),
    };
    vault_free(session).await;
    let record =
        NewRecord { id: COMMUNE_KEY_ID, kind: RecordKind::Setting, schema: 1, label: "commune", data: data.as_bytes() };
    session.put(record, draft).await
}

/// What came of the commune's trust list for a request.
enum ListState {
    /// Fetched, signed by the commune's pinned key, and current.
    Verified(VerifiedTrustList),
    /// Fetched, but it does not verify (see [`Trust::ListInvalid`]), or it names no usable key.
    Invalid,
    /// It could not be fetched.
    Unavailable,
}

/// Checks the trust list's text against the commune's key (`None`: no usable key).
fn check_list(body: &str, commune: Option<&PublicKey>, now: i64) -> ListState {
    match (UnverifiedTrustList::parse(body), commune) {
        (Ok(list), Some(key)) => list.verify(key, now).map_or(ListState::Invalid, ListState::Verified),
        _ => ListState::Invalid,
    }
}

/// A request judged against the trust list: the part of [`Prepared`] that the list decides.
struct Judgement {
    trust: Trust,
    /// Claims asked beyond the registered purposes: `(vct, JSON pointer)`.
    over: Vec<(String, String)>,
    retention_exceeded: Option<(u64, u64)>,
    unregistered_purposes: Vec<String>,
}

/// Judges a verified request against the trust list's state: every finding of the verdict is kept.
fn judge(request: &VerifiedRequest, list: &ListState) -> Judgement {
    let list = match list {
        ListState::Verified(list) => list,
        other => {
            let trust = if matches!(other, ListState::Invalid) { Trust::ListInvalid } else { Trust::ListUnavailable };
            return Judgement { trust, over: Vec::new(), retention_exceeded: None, unregistered_purposes: Vec::new() };
        }
    };
    let verdict = evaluate(request, list);
    let trust = if let Some(service) = &verdict.service {
        if verdict.response_uri_allowed { Trust::Verified(service.name.clone()) } else { Trust::ResponseUriNotAllowed }
    } else {
        Trust::Unknown
    };
    let over = verdict.over_asking.iter().filter_map(|e| Some((e.vct.clone(), e.path.to_pointer()?))).collect();
    // Purposes count for a service on the list only: the list registers none for an unknown one,
    // which `Trust::Unknown` already says (and every claim it asks is over-asking).
    let unregistered_purposes = if verdict.known { verdict.unregistered_purposes } else { Vec::new() };
    Judgement { trust, over, retention_exceeded: verdict.retention_exceeded, unregistered_purposes }
}

/// Reads a request link: fetches the request object and the trust list, evaluates the service,
/// and matches the held credentials.
pub async fn prepare(session: &Session, link: &str) -> Result<Prepared, PresentError> {
    let url = AuthorizationRequestUrl::parse(link.trim()).map_err(|_| PresentError::BadRequest)?;
    let answer = net::send(&url.request_uri, None, &[]).await?;
    let now = now_unix();
    // Verified first: nothing of a request that does not verify is shown, matched or pinned.
    let checked = UnverifiedRequest::parse(answer.body.trim()).map_err(|_| PresentError::BadRequest).and_then(|r| {
        r.verify(&url.client_id, now).map_err(|e| match e {
            RequestError::Expired { .. } => PresentError::BadRequest,
            _ => PresentError::BadSignature,
        })
    });
    let request = match checked {
        Ok(request) => request,
        Err(e) => {
            // A failed presentation is journaled too (the EU wallet's dashboard): who the link
            // named, nothing of what its request said.
            let _ = session.note(pending::journal("request-failed", &url.client_id)).await;
            return Err(e);
        }
    };
    let origin = souverain_core::trust_list::origin(&url.request_uri).unwrap_or_default();
    let mut pinned_now = None;
    let list = match net::send(&format!("{origin}/.well-known/souverain-trust-list"), None, &[]).await {
        Ok(answer) => {
            let body = answer.body.trim();
            let named = UnverifiedJws::parse(body)
                .ok()
                .and_then(|j| json::parse(j.payload_unverified()).ok())
                .and_then(|p| p.get("iss")?.as_str().map(str::to_owned));
            let pinned = pinned_commune(session).await?;
            let did = match (pinned, named) {
                (Some(p), _) => Some(p),
                (None, Some(n)) if PublicKey::from_did(&n).is_ok() => {
                    pin_commune(session, &n).await?;
                    pinned_now = Some(n.clone());
                    Some(n)
                }
                _ => None,
            };
            check_list(body, did.and_then(|d| PublicKey::from_did(&d).ok()).as_ref(), now)
        }
        Err(_) => ListState::Unavailable,
    };
    let Judgement { trust, over, retention_exceeded, unregistered_purposes } = judge(&request, &list);
    let held = issuance::held(session).await?;
    let views: Vec<HeldCredential<'_>> =
        held.iter().map(|h| HeldCredential { id: &h.id, vct: &h.vc.vct, claims: &h.vc.claims }).collect();
    let object = request.object();
    let matched = object.dcql_query.match_credentials(&views);
    let ids: Vec<String> = match &object.dcql_query.credential_sets {
        None => object.dcql_query.credentials.iter().map(|q| q.id.clone()).collect(),
        Some(sets) => {
            let mut ids = Vec::new();
            for (set, m) in sets.iter().zip(&matched.credential_sets).filter(|(s, _)| s.required) {
                let option = m.satisfiable_options.first().and_then(|&i| set.options.get(i)).or(set.options.first());
                for id in option.into_iter().flatten() {
                    if !ids.contains(id) {
                        ids.push(id.clone());
                    }
                }
            }
            ids
        }
    };
    let mut plans = Vec::new();
    for id in ids {
        let Some(query) = object.dcql_query.credential(&id) else { continue };
        let vct = query.vct_values.first().cloned().unwrap_or_default();
        let candidate = matched.candidates(&id).first().cloned();
        let held_vc = candidate.as_ref().and_then(|c| held.iter().find(|h| h.id == c.credential_id).cloned());
        let mut claims: Vec<(String, ClaimKind)> = match &candidate {
            Some(c) => c
                .required
                .iter()
                .map(|p| (p.clone(), ClaimKind::Required))
                .chain(c.optional.iter().map(|p| (p.clone(), ClaimKind::Optional)))
                .map(|(p, k)| {
                    let excess = over.iter().any(|(v, o)| *v == c.vct && *o == p);
                    (p, if excess { ClaimKind::Excess } else { k })
                })
                .collect(),
            None => query
                .claims
                .iter()
                .flatten()
                .filter_map(|c| c.path.to_pointer())
                .map(|p| {
                    let excess = over.iter().any(|(v, o)| *v == vct && *o == p);
                    (p, if excess { ClaimKind::Excess } else { ClaimKind::Required })
                })
                .collect(),
        };
        // The household's children one by one: the parent chooses whom the answer is for (a
        // child's entry answers the claim of the children: see `answer`).
        let children = held_vc.as_ref().map_or(0, |h| children_in(&h.vc.claims).len());
        if children > 0 && claims.iter().any(|(p, k)| p == CHILDREN && *k != ClaimKind::Excess) {
            claims.retain(|(p, _)| p != CHILDREN);
            claims.extend((0..children).map(|i| (format!("{CHILDREN}/{i}"), ClaimKind::Optional)));
        }
        plans.push(QueryPlan { query_id: id, vct, held: held_vc.zip(candidate), claims });
    }
    let prepared = Prepared {
        link: link.trim().to_owned(),
        request_uri: url.request_uri.clone(),
        url_client_id: url.client_id,
        request: request.clone(),
        trust,
        pinned_now,
        over_asking: !over.is_empty(),
        retention_exceeded,
        unregistered_purposes,
        plans,
    };
    pending::remember(session, &prepared, &url.request_uri).await?;
    Ok(prepared)
}

/// The citizen declined: nothing is sent, the request is no longer pending.
pub async fn decline(session: &Session, prepared: &Prepared) -> Result<(), VaultFailure> {
    pending::forget(session, &prepared.request_uri, &prepared.url_client_id, "request-declined").await
}

/// A JSON pointer as journal path segments (RFC 6901 unescaping).
pub fn pointer_segments(pointer: &str) -> Vec<PathSegment> {
    pointer.split('/').skip(1).map(|s| PathSegment::Key(s.replace("~1", "/").replace("~0", "~"))).collect()
}

/// Builds the answer to `req`: the presentations of the claims in `share` (per query id) and the
/// signed grant, kept as being sent; returns the record's id and the record.
async fn answer(
    session: &Session,
    prepared: &Prepared,
    req: &RequestObject,
    share: &[(String, Vec<String>)],
    lang: &str,
    now: i64,
) -> Result<(String, ConsentRecord), PresentError> {
    let mut entries = Vec::new();
    let mut data = Vec::new();
    let mut children = Vec::new();
    for plan in &prepared.plans {
        let Some((held, candidate)) = &plan.held else { return Err(PresentError::CannotDecline) };
        let disclosed: Vec<String> =
            share.iter().find(|(q, _)| *q == plan.query_id).map(|(_, d)| d.clone()).unwrap_or_default();
        // What was asked, for the query's rules and the grant: a child's entry stands for the
        // children's claim.
        let mut asked: Vec<String> = Vec::new();
        for pointer in &disclosed {
            let claim = if pointer.starts_with("/children/") { CHILDREN } else { pointer };
            if !asked.iter().any(|a| a == claim) {
                asked.push(claim.to_owned());
            }
        }
        if !candidate.selection_allowed(&asked) {
            return Err(PresentError::CannotDecline);
        }
        let paths = disclosed
            .iter()
            .map(|p| ClaimPath::parse(p).map_err(|_| PresentError::CannotDecline))
            .collect::<Result<Vec<_>, _>>()?;
        let sd = SdJwt::parse(&held.record.credential).map_err(|_| PresentError::Invalid)?;
        let params = KeyBindingParams { nonce: &req.nonce, aud: &req.client_id, iat: now, alg: None };
        vault_free(session).await;
        let presentation =
            session.peek(|v| sd.present(&paths, v.holder(), &params))?.map_err(|_| PresentError::Invalid)?;
        // The grant names the household's children whose entries go (the service requires it):
        // all of them for `/children`, one for `/children/<index>`.
        let household = children_in(&held.vc.claims);
        for pointer in &disclosed {
            match pointer.strip_prefix(CHILDREN) {
                Some("") => children.extend(household.iter().cloned()),
                Some(entry) => children.extend(
                    entry
                        .strip_prefix('/')
                        .and_then(|i| i.parse::<usize>().ok())
                        .and_then(|i| household.get(i))
                        .cloned(),
                ),
                None => {}
            }
        }
        entries.push((plan.query_id.clone(), vec![presentation]));
        data.push(DataCategory { vct: candidate.vct.clone(), claims: asked });
    }
    let vp_token = VpToken(entries).to_json_text();
    let retention = i64::try_from(req.processing.retention_seconds).unwrap_or(i64::MAX);
    let until = now.saturating_add(retention);
    vault_free(session).await;
    let (grant, grant_jwt) = session
        .peek(|v| {
            let mut grant =
                Grant::for_request(req, &v.holder_public_key(), data.clone(), lang, &vp_token, now, until, &mut OsRng);
            grant.children = children.clone();
            grant.sign(v.holder()).map(|jwt| (grant, jwt))
        })?
        .map_err(|_| PresentError::Invalid)?;
    // The key the service will seal this grant's data-use events to: made here, its seed kept with
    // the grant, only its public half sent (a service that keeps no log ignores the parameter).
    let event_key = EventKey::generate(&mut OsRng);
    let form = format!(
        "{}&{}",
        AuthorizationResponse {
            vp_token,
            state: req.state.clone(),
            consent_grant: Some(grant_jwt.clone()),
            mandate: None
        }
        .to_form(),
        event_key.public_key().form_parameter()
    );
    let service = match &prepared.trust {
        Trust::Verified(name) => Some(name.clone()),
        _ => None,
    };
    let record = ConsentRecord {
        grant: grant_jwt,
        content: grant,
        service,
        receipt: None,
        withdrawal: None,
        withdrawal_receipt: None,
        erasure_by: None,
        delivery: Some(Delivery { response_uri: req.response_uri.clone(), form, refused: None }),
        data_use_log: None,
        event_key_seed: Some(SecretText(souverain_core::b64::encode(event_key.seed()))),
        acted_by: None,
        acting_for: None,
    };
    Ok((consent::keep(session, &record).await?, record))
}

/// Presents the credentials with the claims in `share` (per query id), signs the grant, keeps
/// both in the vault as being sent, then posts them; on the service's verified receipt the
/// consent is stored as given (journal `disclosure`). If the reply is lost the kept answer stays
/// listed and is sent again ([`consent::send_queued`]); approving the same request again sends
/// that same answer, never a second grant.
pub async fn approve(
    session: &Session,
    prepared: &Prepared,
    share: &[(String, Vec<String>)],
    lang: &str,
) -> Result<Sent, PresentError> {
    let now = now_unix();
    let req = prepared.request.object();
    // Verified when prepared; the citizen may have taken longer than the request lives.
    if req.exp <= now {
        return Err(PresentError::BadRequest);
    }
    // An address the wallet may never post to: nothing is kept, nothing would ever be sent.
    net::allowed_origin(&req.response_uri, &[])?;
    let kept = consent::list(session).await?.into_iter().find(|v| v.record.answers(&req.client_id, &req.nonce));
    let (id, record) = match kept {
        Some(view) => (view.id, view.record),
        None => answer(session, prepared, req, share, lang, now).await?,
    };
    // Answered: the consent is listed from now on, the request no longer waits. A failure to
    // clear the entry only leaves it listed until it expires.
    let _ = pending::forget(session, &prepared.request_uri, &prepared.url_client_id, "request-answered").await;
    let given = consent::deliver(session, &id, record).await.map_err(|e| match e {
        DeliveryError::Unanswered(e) => PresentError::Network(e),
        DeliveryError::Refused(status) => PresentError::Network(NetError::Status(status)),
        DeliveryError::Invalid => PresentError::Invalid,
        DeliveryError::Vault(f) => PresentError::Vault(f),
    })?;
    let grant = &given.content;
    Ok(Sent {
        grant_id: grant.record_id.clone(),
        disclosed: grant.data.iter().map(|d| (d.vct.clone(), d.claims.clone())).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_become_journal_paths() {
        assert_eq!(
            pointer_segments("/address/locality"),
            vec![PathSegment::Key("address".into()), PathSegment::Key("locality".into())]
        );
        assert_eq!(
            pointer_segments("/a~1b/c~0d"),
            vec![PathSegment::Key("a/b".into()), PathSegment::Key("c~d".into())]
        );
        assert!(pointer_segments("").is_empty());
    }
}

/// Finding 8 of issue 16: every part of the trust list's verdict counts, and a list that does not
/// verify is not taken for an unavailable one.
#[cfg(test)]
mod trust_verdict_tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use crate::services::rng::OsRng;
    use serde_json::json;
    use souverain_core::jose::SigningKey;
    use souverain_core::openid4vp::dcql::DcqlQuery;
    use souverain_core::openid4vp::request::{
        ClientMetadata, Controller, PrivacyNotice, Processing, Purpose, client_id_for,
    };
    use souverain_core::trust_list::{AllowedClaims, RegisteredPurpose, Service, TrustList};

    use super::*;

    const NOW: i64 = 1_800_000_000;
    const CANTEEN: &str = "https://w3id.org/dpv#ServiceProvision";
    const DAY: u64 = 86_400;

    struct Setup {
        commune: SigningKey,
        verifier: SigningKey,
    }

    fn setup() -> Setup {
        Setup { commune: SigningKey::generate_ed25519(&mut OsRng), verifier: SigningKey::generate_ed25519(&mut OsRng) }
    }

    fn text(s: &str) -> LocalizedText {
        LocalizedText { fr: s.into(), en: s.into() }
    }

    /// The canteen's request: one purpose, 30 days, names from the PID.
    fn request(s: &Setup) -> RequestObject {
        RequestObject {
            client_id: client_id_for(&s.verifier.public_key()),
            response_uri: "https://guichet.beaulieu.example/response".into(),
            nonce: "nonce-1".into(),
            state: "state-1".into(),
            dcql_query: DcqlQuery::from_json(&json!({"credentials": [{
                "id": "pid", "format": "dc+sd-jwt", "meta": {"vct_values": ["urn:eudi:pid:1"]},
                "claims": [{"path": ["given_name"]}, {"path": ["family_name"]}]
            }]}))
            .unwrap(),
            client_metadata: ClientMetadata::default(),
            processing: Processing {
                purposes: vec![Purpose { dpv: CANTEEN.into(), text: text("Cantine") }],
                legal_basis: "https://w3id.org/dpv#Consent".into(),
                retention_seconds: 30 * DAY,
                recipients: Vec::new(),
                controller: Controller { name: "Mairie".into(), contact: "dpo@beaulieu.example".into() },
                privacy_notice: PrivacyNotice {
                    url: "https://beaulieu.example/confidentialite".into(),
                    sha256: souverain_core::b64::encode([7u8; 32]),
                },
                withdrawal_endpoint: "https://guichet.beaulieu.example/consent/withdraw".into(),
                jurisdiction: "FR".into(),
                storage_location: "FR".into(),
            },
            iat: NOW - 10,
            exp: NOW + 600,
        }
    }

    /// The commune's list, signed by `signer`: the canteen may ask names, for 90 days at most.
    fn list(s: &Setup, signer: &SigningKey) -> String {
        TrustList {
            iss: s.commune.public_key().did_jwk(),
            iat: NOW - 100,
            exp: NOW + DAY as i64,
            services: vec![Service {
                client_id: client_id_for(&s.verifier.public_key()),
                name: text("Cantine scolaire"),
                logo: "https://beaulieu.example/logo.svg".into(),
                contact: "cantine@beaulieu.example".into(),
                response_uri_origins: vec!["https://guichet.beaulieu.example".into()],
                purposes: vec![RegisteredPurpose {
                    dpv: CANTEEN.into(),
                    claims: vec![AllowedClaims {
                        vct: "urn:eudi:pid:1".into(),
                        paths: vec![json!(["given_name"]), json!(["family_name"])],
                    }],
                    max_retention_seconds: 90 * DAY,
                }],
            }],
        }
        .sign(signer)
        .unwrap()
    }

    /// `object` prepared as the wallet would, against the list text `list` and the pinned key.
    fn prepared(s: &Setup, object: &RequestObject, list: &str) -> Prepared {
        let jwt = object.sign(&s.verifier).unwrap();
        let request = UnverifiedRequest::parse(&jwt).unwrap().verify(&object.client_id, NOW).unwrap();
        let state = check_list(list, Some(&s.commune.public_key()), NOW);
        let Judgement { trust, over, retention_exceeded, unregistered_purposes } = judge(&request, &state);
        Prepared {
            link: String::new(),
            request_uri: "https://guichet.beaulieu.example/request/1".into(),
            url_client_id: object.client_id.clone(),
            request,
            trust,
            pinned_now: None,
            over_asking: !over.is_empty(),
            retention_exceeded,
            unregistered_purposes,
            plans: Vec::new(),
        }
    }

    #[test]
    fn a_request_within_the_list_is_answerable() {
        let s = setup();
        let p = prepared(&s, &request(&s), &list(&s, &s.commune));
        assert_eq!(p.trust, Trust::Verified(text("Cantine scolaire")));
        assert!(p.retention_exceeded.is_none() && p.unregistered_purposes.is_empty() && !p.over_asking);
        assert!(p.answerable());
    }

    #[test]
    fn retention_beyond_the_registered_one_is_not_answerable() {
        let s = setup();
        let mut object = request(&s);
        object.processing.retention_seconds = 365 * DAY;
        let p = prepared(&s, &object, &list(&s, &s.commune));
        assert_eq!(p.retention_exceeded, Some((365 * DAY, 90 * DAY)));
        assert!(!p.answerable());
    }

    #[test]
    fn an_unregistered_purpose_is_not_answerable() {
        let s = setup();
        let mut object = request(&s);
        let marketing = "https://w3id.org/dpv#Marketing";
        object.processing.purposes.push(Purpose { dpv: marketing.into(), text: text("Lettre d'information") });
        let p = prepared(&s, &object, &list(&s, &s.commune));
        assert_eq!(p.unregistered_purposes, [marketing]);
        assert!(!p.answerable());
    }

    #[test]
    fn a_list_not_signed_by_the_pinned_key_is_not_answerable() {
        let s = setup();
        let intruder = SigningKey::generate_ed25519(&mut OsRng);
        let p = prepared(&s, &request(&s), &list(&s, &intruder));
        assert_eq!(p.trust, Trust::ListInvalid);
        assert!(!p.answerable());
        // Damaged in transit is no better than forged.
        let p = prepared(&s, &request(&s), "not.a.list");
        assert_eq!(p.trust, Trust::ListInvalid);
        assert!(!p.answerable());
    }
}
