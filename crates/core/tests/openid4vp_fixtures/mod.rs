//! Shared by the OpenID4VP, trust-list and consent tests: a deterministic RNG, keys, a PID
//! credential and a request with our processing member.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use souverain_core::jose::SigningKey;
use souverain_core::openid4vp::dcql::DcqlQuery;
use souverain_core::openid4vp::request::{
    ClientMetadata, Controller, LocalizedText, PrivacyNotice, Processing, Purpose, RequestObject, client_id_for,
};
use souverain_core::sd_jwt::ClaimPath;
use souverain_core::sd_jwt_vc::{VcIssueParams, issue_vc};

pub use souverain_core::testing::TestRng;

pub const NOW: i64 = 1_795_000_000;
pub const PID_VCT: &str = "https://souverain.example/vct/pid";
pub const ISSUER: &str = "https://mairie.trifouillis.example";
pub const RESPONSE_URI: &str = "https://guichet.trifouillis.example/oid4vp/response";
pub const CONSENT: &str = "https://w3id.org/dpv#Consent";
pub const PURPOSE: &str = "https://w3id.org/dpv#ServiceProvision";

pub struct Keys {
    pub issuer: SigningKey,
    pub holder: SigningKey,
    pub verifier: SigningKey,
    pub commune: SigningKey,
}

pub fn keys(rng: &mut TestRng) -> Keys {
    Keys {
        issuer: SigningKey::generate_p256(rng),
        holder: SigningKey::generate_ed25519(rng),
        verifier: SigningKey::generate_ed25519(rng),
        commune: SigningKey::generate_ed25519(rng),
    }
}

pub fn pid_claims() -> Map<String, Value> {
    json!({
        "given_name": "Camille", "family_name": "Martin", "birthdate": "1988-04-02",
        "address": {"locality": "Trifouillis", "postal_code": "12345"}
    })
    .as_object()
    .unwrap()
    .clone()
}

/// A PID issued to the holder, every citizen claim disclosable.
pub fn pid(keys: &Keys, rng: &mut TestRng) -> String {
    pid_expiring(keys, rng, Some(NOW + 1_000_000))
}

/// A PID like [`pid`], expiring at `exp` (`None`: a credential without `exp`).
pub fn pid_expiring(keys: &Keys, rng: &mut TestRng, exp: Option<i64>) -> String {
    let paths: Vec<ClaimPath> =
        ["/given_name", "/family_name", "/birthdate", "/address/locality", "/address/postal_code"]
            .iter()
            .map(|p| ClaimPath::parse(p).unwrap())
            .collect();
    let params = VcIssueParams {
        iss: ISSUER,
        vct: PID_VCT,
        holder: &keys.holder.public_key(),
        iat: NOW - 1000,
        nbf: None,
        exp,
        status: None,
        alg: None,
        decoys: 0,
        extra_header: Map::new(),
    };
    issue_vc(&keys.issuer, pid_claims(), &paths, &params, rng).unwrap()
}

pub fn processing(retention_seconds: u64) -> Processing {
    Processing {
        purposes: vec![Purpose {
            dpv: PURPOSE.into(),
            text: LocalizedText { fr: "Inscription à la cantine".into(), en: "School canteen enrolment".into() },
        }],
        legal_basis: CONSENT.into(),
        retention_seconds,
        recipients: vec![],
        controller: Controller { name: "Mairie de Trifouillis".into(), contact: "dpo@trifouillis.example".into() },
        privacy_notice: PrivacyNotice {
            url: "https://trifouillis.example/confidentialite".into(),
            sha256: souverain_core::b64::encode(Sha256::digest(b"notice")),
        },
        withdrawal_endpoint: "https://guichet.trifouillis.example/consent/withdraw".into(),
        jurisdiction: "FR".into(),
        storage_location: "FR".into(),
    }
}

/// Names required, locality required, postal code optional (claim set without it).
pub fn dcql() -> DcqlQuery {
    DcqlQuery::from_json(&json!({"credentials": [{
        "id": "pid", "format": "dc+sd-jwt", "meta": {"vct_values": [PID_VCT]},
        "claims": [
            {"id": "gn", "path": ["given_name"]}, {"id": "fn", "path": ["family_name"]},
            {"id": "loc", "path": ["address", "locality"]}, {"id": "pc", "path": ["address", "postal_code"]}
        ],
        "claim_sets": [["gn", "fn", "loc", "pc"], ["gn", "fn", "loc"]]
    }]}))
    .unwrap()
}

pub fn request(keys: &Keys, nonce: &str) -> RequestObject {
    RequestObject {
        client_id: client_id_for(&keys.verifier.public_key()),
        response_uri: RESPONSE_URI.into(),
        nonce: nonce.into(),
        state: "st-1".into(),
        dcql_query: dcql(),
        client_metadata: ClientMetadata::default(),
        processing: processing(30 * 86400),
        iat: NOW - 10,
        exp: NOW + 600,
    }
}
