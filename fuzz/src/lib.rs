//! Shared by the fuzz targets: deterministic keys, valid fixtures built once at startup, and the
//! seed corpora (written by `write_seeds`, a test run by `fuzz-all`).
//!
//! Most targets have a "signed" mode: the fuzzer writes a JWS payload and the target signs it
//! with a fixed key, so that the code after the signature check (disclosure processing, key-binding
//! claims, status list decoding, consent bindings) is reached. Values the fuzzer cannot compute
//! (SHA-256 digests) are written as placeholders that the target replaces before signing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::sync::OnceLock;

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use souverain_core::consent::{DataCategory, Grant, Receipt, UnverifiedGrant, VerifiedGrant, Withdrawal};
use souverain_core::jose::{SigningKey, UnverifiedJws, sign_compact};
use souverain_core::openid4vp::dcql::DcqlQuery;
use souverain_core::openid4vp::request::{
    AuthorizationRequestUrl, ClientMetadata, Controller, LocalizedText, PrivacyNotice, Processing, Purpose,
    RequestObject, WalletEndpoint, client_id_for,
};
use souverain_core::openid4vp::response::{AuthorizationResponse, VpToken};
use souverain_core::sd_jwt::{self, ClaimPath, Disclosure, IssueOptions, KeyBindingParams, SdJwt};
use souverain_core::sd_jwt_vc::{VcIssueParams, issue_vc};
use souverain_core::status_list::{Bits, Status, StatusList, StatusListTokenClaims};
use souverain_core::vault::{KdfParams, RecordKind, RecoveryKey, create_vault, export_backup, seal};

/// The verifier's clock in every fixture.
pub const NOW: i64 = 1_795_000_000;
/// The nonce the verifier expects in key-binding JWTs.
pub const NONCE: &str = "n-0S6_WzA2Mj";
/// The audience the verifier expects in key-binding JWTs.
pub const AUD: &str = "https://verifier.example";
/// The issuer of the SD-JWT VC fixtures.
pub const ISSUER: &str = "https://mairie.trifouillis.example";
/// The credential type of the fixtures.
pub const VCT: &str = "https://souverain.example/vct/pid";
/// The `typ` of the plain SD-JWT fixture.
pub const SD_TYP: &str = "example+sd-jwt";
/// Where the status list fixture is published.
pub const STATUS_URI: &str = "https://mairie.trifouillis.example/statuslists/1";
/// The right passphrase of the backup fixture (the target also tries a wrong one).
pub const PASSPHRASE: &str = "correct horse";
/// A KDF cost above this (KiB × passes) is not attempted by the vault target: see its comment.
pub const MAX_FUZZ_KDF_COST: u64 = 256;

/// Deterministic randomness, so that fixtures and crashes reproduce (core's test generator).
pub use souverain_core::testing::TestRng as FixedRng;

/// Keys and valid objects, built once.
pub struct Fixtures {
    /// Ed25519 issuer of the SD-JWT, SD-JWT VC and status list fixtures.
    pub issuer: SigningKey,
    /// Ed25519 holder (bound in `cnf` of `vc_ed`).
    pub holder: SigningKey,
    /// P-256 holder (bound in `cnf` of `vc_p256`).
    pub holder_p256: SigningKey,
    /// Ed25519 verifier (request objects, receipts).
    pub verifier: SigningKey,
    /// A plain SD-JWT with object, array and recursive disclosures, no holder key.
    pub sd_jwt: String,
    /// An SD-JWT VC bound to `holder`.
    pub vc_ed: String,
    /// An SD-JWT VC bound to `holder_p256`.
    pub vc_p256: String,
    /// A status list token signed by `issuer`.
    pub status_token: String,
    /// A request object signed by `verifier`.
    pub request: RequestObject,
    pub request_jwt: String,
    pub request_url: String,
    /// A complete valid response form to `request`.
    pub response_form: String,
    /// The grant of that response, verified, with its signed forms.
    pub grant: VerifiedGrant,
    pub grant_jwt: String,
    pub withdrawal_jwt: String,
    pub receipt_jwt: String,
    /// A backup with tiny KDF parameters, opened by [`PASSPHRASE`] and by `recovery`.
    pub backup: Vec<u8>,
    pub recovery: RecoveryKey,
}

fn paths(list: &[&str]) -> Vec<ClaimPath> {
    list.iter().map(|p| ClaimPath::parse(p).unwrap()).collect()
}

fn claims() -> Map<String, Value> {
    json!({
        "given_name": "Camille", "family_name": "Martin", "birthdate": "1988-04-02",
        "address": {"street_address": "1 place de la Mairie", "locality": "Trifouillis", "postal_code": "12345"},
        "nationalities": ["FR", "DE"]
    })
    .as_object()
    .unwrap()
    .clone()
}

fn vc(issuer: &SigningKey, holder: &SigningKey, rng: &mut FixedRng) -> String {
    let params = VcIssueParams {
        iss: ISSUER,
        vct: VCT,
        holder: &holder.public_key(),
        iat: NOW - 1000,
        nbf: None,
        exp: Some(NOW + 1_000_000),
        status: None,
        alg: None,
        decoys: 1,
        extra_header: Map::new(),
    };
    let disclosable = paths(&[
        "/given_name",
        "/family_name",
        "/address",
        "/address/locality",
        "/nationalities/0",
        "/nationalities/1",
    ]);
    issue_vc(issuer, claims(), &disclosable, &params, rng).unwrap()
}

fn request_object(verifier: &SigningKey) -> RequestObject {
    let dcql = DcqlQuery::from_json(&json!({"credentials": [{
        "id": "pid", "format": "dc+sd-jwt", "meta": {"vct_values": [VCT]},
        "claims": [
            {"id": "gn", "path": ["given_name"]}, {"id": "fn", "path": ["family_name"]},
            {"id": "loc", "path": ["address", "locality"]}
        ],
        "claim_sets": [["gn", "fn", "loc"], ["gn", "fn"]]
    }]}))
    .unwrap();
    RequestObject {
        client_id: client_id_for(&verifier.public_key()),
        response_uri: "https://guichet.trifouillis.example/oid4vp/response".into(),
        nonce: NONCE.into(),
        state: "st-1".into(),
        dcql_query: dcql,
        client_metadata: ClientMetadata::default(),
        processing: Processing {
            purposes: vec![Purpose {
                dpv: "https://w3id.org/dpv#ServiceProvision".into(),
                text: LocalizedText { fr: "Inscription".into(), en: "Enrolment".into() },
            }],
            legal_basis: "https://w3id.org/dpv#Consent".into(),
            retention_seconds: 30 * 86400,
            recipients: vec![],
            controller: Controller { name: "Mairie".into(), contact: "dpo@trifouillis.example".into() },
            privacy_notice: PrivacyNotice {
                url: "https://trifouillis.example/confidentialite".into(),
                sha256: souverain_core::b64::encode(Sha256::digest(b"notice")),
            },
            withdrawal_endpoint: "https://guichet.trifouillis.example/consent/withdraw".into(),
            jurisdiction: "FR".into(),
            storage_location: "FR".into(),
        },
        iat: NOW - 10,
        exp: NOW + 600,
    }
}

fn build() -> Fixtures {
    let mut rng = FixedRng::new(7);
    let issuer = SigningKey::generate_ed25519(&mut rng);
    let holder = SigningKey::generate_ed25519(&mut rng);
    let holder_p256 = SigningKey::generate_p256(&mut rng);
    let verifier = SigningKey::generate_ed25519(&mut rng);

    let options = IssueOptions { typ: SD_TYP, alg: None, holder: None, decoys: 1, extra_header: Map::new() };
    let disclosable = paths(&["/given_name", "/address", "/address/locality", "/nationalities/1"]);
    let sd_jwt = sd_jwt::issue(&issuer, claims(), &disclosable, &options, &mut rng).unwrap();
    let vc_ed = vc(&issuer, &holder, &mut rng);
    let vc_p256 = vc(&issuer, &holder_p256, &mut rng);

    let mut list = StatusList::new(Bits::Two, 64).unwrap();
    list.set(3, Status::Invalid).unwrap();
    list.set(9, Status::Suspended).unwrap();
    let status_token = StatusListTokenClaims {
        sub: STATUS_URI.into(),
        iat: (NOW - 100) as u64,
        exp: Some((NOW + 86400) as u64),
        ttl: Some(3600),
        iss: Some(ISSUER.into()),
        list,
    }
    .sign(&issuer, Map::new())
    .unwrap();

    let request = request_object(&verifier);
    let request_jwt = request.sign(&verifier).unwrap();
    let request_url = AuthorizationRequestUrl {
        endpoint: WalletEndpoint::Https("https://wallet.souverain.example/requete".into()),
        client_id: request.client_id.clone(),
        request_uri: "https://guichet.trifouillis.example/oid4vp/request/42".into(),
    }
    .to_url();

    let chosen = paths(&["/given_name", "/family_name", "/address/locality"]);
    let kb = KeyBindingParams { nonce: &request.nonce, aud: &request.client_id, iat: NOW, alg: None };
    let presentation = SdJwt::parse(&vc_ed).unwrap().present(&chosen, &holder, &kb).unwrap();
    let vp_token = VpToken(vec![("pid".into(), vec![presentation])]).to_json_text();
    let data = vec![DataCategory {
        vct: VCT.into(),
        claims: vec!["/given_name".into(), "/family_name".into(), "/address/locality".into()],
    }];
    let grant =
        Grant::for_request(&request, &holder.public_key(), data, "fr", &vp_token, NOW, NOW + 30 * 86400, &mut rng);
    let grant_jwt = grant.sign(&holder).unwrap();
    let binding = binding(&request, &vp_token);
    let verified = UnverifiedGrant::parse(&grant_jwt).unwrap().verify(&binding, &holder.public_key()).unwrap();
    let response_form =
        AuthorizationResponse { vp_token, state: request.state.clone(), consent_grant: Some(grant_jwt.clone()) }
            .to_form();
    let withdrawal_jwt = Withdrawal::new(verified.grant(), NOW + 60, &mut rng).sign(&holder).unwrap();
    let receipt_jwt = Receipt::for_grant(&verified, NOW + 1, &mut rng).sign(&verifier).unwrap();

    let vault = create_vault(PASSPHRASE, KdfParams::insecure_for_tests(16, 1, 1).unwrap(), &mut rng).unwrap();
    let id = *vault.header.vault_id();
    let records = vec![
        seal(&vault.key, &id, RecordKind::PersonalData, "r0", 1, b"{\"given_name\":\"Camille\"}", &mut rng).unwrap(),
        seal(&vault.key, &id, RecordKind::Credential, "r1", 1, vc_ed.as_bytes(), &mut rng).unwrap(),
    ];
    let backup = export_backup(&vault.header, &vault.key, &records, &[], None, NOW, &mut rng).unwrap();

    Fixtures {
        issuer,
        holder,
        holder_p256,
        verifier,
        sd_jwt,
        vc_ed,
        vc_p256,
        status_token,
        request,
        request_jwt,
        request_url,
        response_form,
        grant: verified,
        grant_jwt,
        withdrawal_jwt,
        receipt_jwt,
        backup,
        recovery: vault.recovery,
    }
}

/// The fixtures, built on first use.
pub fn fixtures() -> &'static Fixtures {
    static FIXTURES: OnceLock<Fixtures> = OnceLock::new();
    FIXTURES.get_or_init(build)
}

/// What ties a grant to the fixture exchange.
pub fn binding(request: &RequestObject, vp_token: &str) -> souverain_core::consent::ExchangeBinding {
    souverain_core::consent::ExchangeBinding {
        client_id: request.client_id.clone(),
        nonce: request.nonce.clone(),
        vp_token_sha256: souverain_core::consent::vp_token_hash(vp_token),
    }
}

/// Splits a fuzz input into a mode byte and UTF-8 text (`None` if not UTF-8).
pub fn mode_and_text(data: &[u8]) -> Option<(u8, &str)> {
    let (&mode, rest) = data.split_first()?;
    Some((mode, std::str::from_utf8(rest).ok()?))
}

/// Signs `payload` as a compact JWS with `key`'s default algorithm.
pub fn sign(key: &SigningKey, typ: &str, extra_header: Map<String, Value>, payload: &str) -> String {
    sign_compact(key, key.default_alg(), typ, extra_header, payload.as_bytes()).unwrap()
}

/// The fixture key's public JWK as a header member, as consent records carry it.
pub fn jwk_header(key: &SigningKey) -> Map<String, Value> {
    let mut header = Map::new();
    header.insert("jwk".into(), Value::Object(key.public_key().to_jwk().0));
    header
}

/// Replaces every `"@k"` (k a digit) in `payload` by the digest of the k-th disclosure, so that
/// mutated disclosures stay referenced.
pub fn with_digests(payload: &str, disclosures: &[&str]) -> String {
    let mut out = payload.to_owned();
    for (k, d) in disclosures.iter().enumerate().take(10) {
        let placeholder = format!("\"@{k}\"");
        if out.contains(&placeholder) {
            out = out.replace(&placeholder, &format!("\"{}\"", sd_jwt::digest(d)));
        }
    }
    out
}

/// The payload of a compact JWS, as text.
fn payload_text(jws: &str) -> String {
    let jws = UnverifiedJws::parse(jws).unwrap();
    String::from_utf8(jws.payload_unverified().to_vec()).unwrap()
}

/// `payload with "@k" placeholders ~ d0 ~ d1 ~ ...`: the signed-mode form of an issued SD-JWT.
fn placeholder_form(issued: &str) -> String {
    let mut parts: Vec<&str> = issued.split('~').collect();
    let jws = parts.remove(0);
    let disclosures: Vec<&str> = parts.into_iter().filter(|p| !p.is_empty()).collect();
    let mut payload = payload_text(jws);
    for (k, d) in disclosures.iter().enumerate() {
        let digest = Disclosure::parse(d).unwrap().digest().to_owned();
        payload = payload.replace(&format!("\"{digest}\""), &format!("\"@{k}\""));
    }
    let mut out = payload;
    for d in disclosures {
        out.push('~');
        out.push_str(d);
    }
    out.push('~');
    out
}

fn with_mode(mode: u8, text: &str) -> Vec<u8> {
    let mut v = vec![mode];
    v.extend_from_slice(text.as_bytes());
    v
}

/// The seed inputs of each target (as the targets read them).
pub fn seeds() -> Vec<(&'static str, Vec<u8>)> {
    let f = fixtures();
    let mut out: Vec<(&'static str, Vec<u8>)> = Vec::new();
    // jws: compact JWS, JWKs, DIDs.
    for text in [
        f.status_token.clone(),
        f.request_jwt.clone(),
        serde_json::to_string(&f.holder_p256.public_key().to_jwk()).unwrap(),
        serde_json::to_string(&f.holder.to_jwk()).unwrap(),
        f.holder.public_key().did_jwk(),
        f.holder.public_key().did_key(),
        format!("{}#0", f.holder_p256.public_key().did_key()),
    ] {
        out.push(("jws", text.into_bytes()));
    }
    // sd_jwt: raw, and payload-to-sign with placeholders.
    out.push(("sd_jwt", with_mode(0, &f.sd_jwt)));
    out.push(("sd_jwt", with_mode(1, &placeholder_form(&f.sd_jwt))));
    out.push(("sd_jwt", with_mode(1, &placeholder_form(&f.vc_ed))));
    // kb_jwt: a KB-JWT payload with the sd_hash placeholder, and raw tails.
    let kb_payload = json!({"iat": NOW, "aud": AUD, "nonce": NONCE, "sd_hash": "@sd_hash"}).to_string();
    for mode in [1u8, 2, 4, 5] {
        out.push(("kb_jwt", with_mode(mode, &kb_payload)));
    }
    let holder_kb = KeyBindingParams { nonce: NONCE, aud: AUD, iat: NOW, alg: None };
    let presented = SdJwt::parse(&f.vc_ed).unwrap().present(&paths(&["/given_name"]), &f.holder, &holder_kb).unwrap();
    let tail = presented.rsplit('~').next().unwrap_or_default().to_owned();
    out.push(("kb_jwt", with_mode(0, &tail)));
    out.push(("kb_jwt", with_mode(3, &presented)));
    // status_list: JSON, lst, raw token, payload-to-sign, compressed bytes.
    let payload = payload_text(&f.status_token);
    let claims: Value = serde_json::from_str(&payload).unwrap();
    let list = &claims["status_list"];
    out.push(("status_list", with_mode(0, &list.to_string())));
    out.push(("status_list", with_mode(1, &format!("\u{2}{}", list["lst"].as_str().unwrap()))));
    out.push(("status_list", with_mode(2, &f.status_token)));
    out.push(("status_list", with_mode(3, &payload)));
    let bytes = souverain_core::b64::decode(list["lst"].as_str().unwrap()).unwrap();
    let mut raw = vec![4u8, 2];
    raw.extend_from_slice(&bytes);
    out.push(("status_list", raw));
    // openid4vp_request.
    out.push(("openid4vp_request", with_mode(0, &f.request_url)));
    out.push(("openid4vp_request", with_mode(1, &f.request_jwt)));
    out.push(("openid4vp_request", with_mode(2, &payload_text(&f.request_jwt))));
    // dcql.
    out.push(("dcql", f.request.dcql_query.to_json().to_string().into_bytes()));
    // response.
    out.push(("response", with_mode(0, &f.response_form)));
    let response = AuthorizationResponse::from_form(&f.response_form).unwrap();
    out.push(("response", with_mode(1, &response.vp_token)));
    // consent: raw, and payloads to sign.
    for (k, jwt) in [&f.grant_jwt, &f.withdrawal_jwt, &f.receipt_jwt].into_iter().enumerate() {
        out.push(("consent", with_mode(k as u8 * 2, jwt)));
        out.push(("consent", with_mode(k as u8 * 2 + 1, &payload_text(jwt))));
    }
    // vault_backup: the file itself, under each unlock mode.
    for mode in 0..3u8 {
        let mut v = vec![mode];
        v.extend_from_slice(&f.backup);
        out.push(("vault_backup", v));
    }
    out
}

#[cfg(test)]
mod tests {
    /// Writes the seed corpora under `$SOUVERAIN_FUZZ_SEEDS/<target>/` (skipped when unset).
    #[test]
    fn write_seeds() {
        let seeds = super::seeds();
        assert!(seeds.len() > 20);
        let Some(dir) = std::env::var_os("SOUVERAIN_FUZZ_SEEDS") else { return };
        let dir = std::path::PathBuf::from(dir);
        for (i, (target, bytes)) in seeds.iter().enumerate() {
            let d = dir.join(target);
            std::fs::create_dir_all(&d).unwrap();
            std::fs::write(d.join(format!("seed-{i:03}")), bytes).unwrap();
        }
    }
}
