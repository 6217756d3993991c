//! Answering a service's request (OpenID4VP by reference): fetch and check the signed request,
//! identify the service through the commune's trust list, match the held credentials, and on
//! approval keep the presentation with the signed consent grant (as being sent) and post them,
//! then keep the service's verified receipt and a `disclosure` journal entry (claim paths, never
//! values).
//!
//! The commune's key is pinned on first use: the first trust list fetched names it (`iss`, a
//! `did:jwk`), it is stored in a setting record, and later lists must be signed by that key.

use rand_core::OsRng;
use souverain_core::consent::{DataCategory, Grant};
use souverain_core::jose::{PublicKey, UnverifiedJws};
use souverain_core::json;
use souverain_core::openid4vp::dcql::{Candidate, HeldCredential};
use souverain_core::openid4vp::request::{AuthorizationRequestUrl, LocalizedText, RequestObject, UnverifiedRequest};
use souverain_core::openid4vp::response::{AuthorizationResponse, VpToken};
use souverain_core::sd_jwt::{ClaimPath, KeyBindingParams, SdJwt};
use souverain_core::trust_list::{UnverifiedTrustList, evaluate};
use souverain_core::vault::{EntryDraft, JournalKind, NewRecord, PathSegment, RecordKind};

use super::consent::{self, ConsentRecord, Delivery, DeliveryError};
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
    /// On the list, request signed, answer address allowed.
    Verified(LocalizedText),
    /// Not on the list.
    Unknown,
    /// The request's signature does not verify.
    BadSignature,
    /// On the list, but the answer would go to an address the list does not allow.
    ResponseUriNotAllowed,
    /// The list itself could not be fetched or verified.
    ListUnavailable,
}

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
    /// The request, as received.
    pub request: UnverifiedRequest,
    /// Who the service is.
    pub trust: Trust,
    /// The commune key's DID, when it was pinned during this request.
    pub pinned_now: Option<String>,
    /// Whether the service asks for more than it may.
    pub over_asking: bool,
    /// The queries to answer.
    pub plans: Vec<QueryPlan>,
}

impl Prepared {
    /// The request's content (not trusted unless [`Prepared::trust`] is `Verified`).
    pub fn object(&self) -> &RequestObject {
        self.request.object_unverified()
    }

    /// Whether the wallet may answer at all (a valid signature and an allowed answer address).
    pub fn answerable(&self) -> bool {
        !matches!(self.trust, Trust::BadSignature | Trust::ResponseUriNotAllowed)
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

/// Reads a request link: fetches the request object and the trust list, evaluates the service,
/// and matches the held credentials.
pub async fn prepare(session: &Session, link: &str) -> Result<Prepared, PresentError> {
    let url = AuthorizationRequestUrl::parse(link.trim()).map_err(|_| PresentError::BadRequest)?;
    let answer = net::send(&url.request_uri, None, &[]).await?;
    let request = UnverifiedRequest::parse(answer.body.trim()).map_err(|_| PresentError::BadRequest)?;
    let now = now_unix();
    if request.object_unverified().exp <= now {
        return Err(PresentError::BadRequest);
    }
    let origin = souverain_core::trust_list::origin(&url.request_uri).unwrap_or_default();
    let mut pinned_now = None;
    let list = match net::send(&format!("{origin}/.well-known/souverain-trust-list"), None, &[]).await {
        Ok(answer) => {
            let list = UnverifiedTrustList::parse(answer.body.trim()).ok();
            let named = UnverifiedJws::parse(answer.body.trim())
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
            match (list, did.and_then(|d| PublicKey::from_did(&d).ok())) {
                (Some(list), Some(key)) => list.verify(&key, now).ok(),
                _ => None,
            }
        }
        Err(_) => None,
    };
    let (trust, over) = match &list {
        None => {
            let ok = request.clone().verify(&url.client_id, now).is_ok();
            (if ok { Trust::ListUnavailable } else { Trust::BadSignature }, Vec::new())
        }
        Some(list) => {
            let verdict = evaluate(&request, &url.client_id, list, now);
            let trust = if !verdict.signature_valid {
                Trust::BadSignature
            } else if let Some(service) = &verdict.service {
                if verdict.response_uri_allowed {
                    Trust::Verified(service.name.clone())
                } else {
                    Trust::ResponseUriNotAllowed
                }
            } else {
                Trust::Unknown
            };
            let over: Vec<(String, String)> =
                verdict.over_asking.iter().filter_map(|e| Some((e.vct.clone(), e.path.to_pointer()?))).collect();
            (trust, over)
        }
    };
    let held = issuance::held(session).await?;
    let views: Vec<HeldCredential<'_>> =
        held.iter().map(|h| HeldCredential { id: &h.id, vct: &h.vc.vct, claims: &h.vc.claims }).collect();
    let object = request.object_unverified();
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
        let claims = match &candidate {
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
        plans,
    };
    pending::remember(session, &prepared, &url.request_uri).await?;
    Ok(prepared)
}

/// The citizen declined: nothing is sent, the request is no longer pending.
pub async fn decline(session: &Session, prepared: &Prepared) -> Result<(), VaultFailure> {
    pending::forget(session, &prepared.request_uri, &prepared.url_client_id).await
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
    for plan in &prepared.plans {
        let Some((held, candidate)) = &plan.held else { return Err(PresentError::CannotDecline) };
        let disclosed: Vec<String> =
            share.iter().find(|(q, _)| *q == plan.query_id).map(|(_, d)| d.clone()).unwrap_or_default();
        if !candidate.selection_allowed(&disclosed) {
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
        entries.push((plan.query_id.clone(), vec![presentation]));
        data.push(DataCategory { vct: candidate.vct.clone(), claims: disclosed });
    }
    let vp_token = VpToken(entries).to_json_text();
    let retention = i64::try_from(req.processing.retention_seconds).unwrap_or(i64::MAX);
    let until = now.saturating_add(retention);
    vault_free(session).await;
    let (grant, grant_jwt) = session
        .peek(|v| {
            let grant =
                Grant::for_request(req, &v.holder_public_key(), data.clone(), lang, &vp_token, now, until, &mut OsRng);
            grant.sign(v.holder()).map(|jwt| (grant, jwt))
        })?
        .map_err(|_| PresentError::Invalid)?;
    let form =
        AuthorizationResponse { vp_token, state: req.state.clone(), consent_grant: Some(grant_jwt.clone()) }.to_form();
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
    let verified =
        prepared.request.clone().verify(&prepared.url_client_id, now).map_err(|_| PresentError::BadRequest)?;
    let req = verified.object();
    // An address the wallet may never post to: nothing is kept, nothing would ever be sent.
    net::allowed_origin(&req.response_uri, &[])?;
    let (id, record) = match consent::being_sent(session, &req.client_id, &req.nonce).await? {
        Some(kept) => kept,
        None => answer(session, prepared, req, share, lang, now).await?,
    };
    // Answered: the consent is listed from now on, the request no longer waits. A failure to
    // clear the entry only leaves it listed until it expires.
    let _ = pending::forget(session, &prepared.request_uri, &prepared.url_client_id).await;
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
