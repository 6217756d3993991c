//! The wallet's side of an exchange over plain HTTP/1.1, for tests that drive real `souverain
//! serve` processes: each request on its own connection from a chosen loopback address.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{Read as _, Write as _};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use rand_core::OsRng;
use serde_json::{Map, Value, json};
use souverain_core::consent::{DataCategory, Grant};
use souverain_core::jose::{Jwk, PublicKey, SigningKey};
use souverain_core::openid4vci::{
    CredentialOffer, CredentialRequest, CredentialResponse, NonceResponse, TokenRequest, TokenResponse, build_proof,
};
use souverain_core::openid4vp::dcql::HeldCredential;
use souverain_core::openid4vp::request::RequestObject;
use souverain_core::openid4vp::response::{AuthorizationResponse, VpToken};
use souverain_core::sd_jwt::{ClaimPath, KeyBindingParams, SdJwt};
use souverain_core::sd_jwt_vc::{VcVerifyOptions, verify_vc};

pub fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

pub struct Resp {
    pub status: u16,
    pub body: String,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|_| panic!("not JSON: {} {}", self.status, self.body))
    }
}

/// One request on a new connection from the loopback address `from` (each client has its own, as
/// citizens do, so the per-client rate limit does not throttle the test). `Err` when the server
/// is gone.
pub fn call(
    addr: SocketAddr,
    from: IpAddr,
    method: &str,
    url: &str,
    content_type: Option<&str>,
    auth: Option<&str>,
    body: &[u8],
) -> std::io::Result<Resp> {
    // A full URL names the guichet's public URL, which may be another process's: its path only.
    let path = match url.strip_prefix("http://") {
        Some(rest) => rest.find('/').map_or("/", |at| &rest[at..]),
        None => url,
    };
    // std cannot bind before connecting; tokio's socket can, and hands over a std stream.
    let rt = tokio::runtime::Builder::new_current_thread().enable_io().build()?;
    let mut stream = rt.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4()?;
        socket.bind(SocketAddr::new(from, 0))?;
        socket.connect(addr).await?.into_std()
    })?;
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(ct) = content_type {
        head.push_str(&format!("Content-Type: {ct}\r\n"));
    }
    if let Some(a) = auth {
        head.push_str(&format!("Authorization: {a}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body);
    stream.write_all(&bytes)?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        // A connection cut by the kill.
        return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "truncated response"));
    };
    assert!(!head.to_ascii_lowercase().contains("transfer-encoding: chunked"), "chunked answer: {head}");
    let status = head.get(9..12).and_then(|s| s.parse().ok()).unwrap();
    Ok(Resp { status, body: body.to_owned() })
}

pub const LOCAL: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

pub fn client_ip(i: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, 1, 1 + (i % 250) as u8))
}

/// The wallet: a key and a proof of residence issued by the guichet (OpenID4VCI).
pub struct Holder {
    pub key: SigningKey,
    pub vct: String,
    pub credential: String,
    pub claims: Map<String, Value>,
}

/// `agent`: the `Authorization` value the agents' side needs, if any.
pub fn issue(addr: SocketAddr, agent: Option<&str>) -> Holder {
    let key = SigningKey::generate_ed25519(&mut OsRng);
    let claims = json!({"given_name": "Camille", "family_name": "Martin",
        "address": {"street_address": "3 rue des Tilleuls", "postal_code": "45190", "locality": "Beaulieu-sur-Loire"},
        "since": "2019-09-01"});
    let offer = json!({"credential": "residence", "label": "durabilité", "claims": claims}).to_string();
    let r = call(addr, LOCAL, "POST", "/api/agent/offers", Some("application/json"), agent, offer.as_bytes()).unwrap();
    assert_eq!(r.status, 201, "{}", r.body);
    let offer = CredentialOffer::parse_url(r.json()["offer_url"].as_str().unwrap()).unwrap();
    let form = TokenRequest { pre_authorized_code: offer.pre_authorized_code.clone(), tx_code: None }.to_form();
    let r = call(
        addr,
        LOCAL,
        "POST",
        "/api/oid4vci/token",
        Some("application/x-www-form-urlencoded"),
        None,
        form.as_bytes(),
    );
    let r = r.unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    let token = TokenResponse::from_json(&r.body).unwrap();
    let r = call(addr, LOCAL, "POST", "/api/oid4vci/nonce", None, None, b"").unwrap();
    let c_nonce = NonceResponse::from_json(&r.body).unwrap().c_nonce;
    let request = CredentialRequest {
        credential_configuration_id: offer.credential_configuration_ids[0].clone(),
        proof_jwt: build_proof(&key, &offer.credential_issuer, &c_nonce, now()).unwrap(),
    };
    let auth = format!("Bearer {}", token.access_token);
    let body = request.to_json().to_string();
    let r =
        call(addr, LOCAL, "POST", "/api/oid4vci/credential", Some("application/json"), Some(&auth), body.as_bytes());
    let r = r.unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    let credential = CredentialResponse::from_json(&r.body).unwrap().credentials.remove(0);
    // The wallet verifies what it received, with the key from the guichet's JWKS.
    let jwks = call(addr, LOCAL, "GET", "/.well-known/jwks.json", None, None, b"").unwrap().json();
    let issuer = PublicKey::from_jwk(&Jwk(jwks["keys"][0].as_object().unwrap().clone())).unwrap();
    let vc = verify_vc(SdJwt::parse(&credential).unwrap(), &issuer, &VcVerifyOptions::new(now())).unwrap();
    assert_eq!(vc.holder, key.public_key());
    Holder { key, vct: vc.vct.clone(), credential, claims: vc.claims.clone() }
}

/// The wallet's answer: the required claims, key-bound, and a grant signed by the holder.
pub fn answer(holder: &Holder, request: &RequestObject) -> String {
    let held = [HeldCredential { id: "c0", vct: &holder.vct, claims: &holder.claims }];
    let matched = request.dcql_query.match_credentials(&held);
    let mut entries = Vec::new();
    let mut data = Vec::new();
    let mut children = Vec::new();
    for q in &request.dcql_query.credentials {
        let c = &matched.candidates(&q.id)[0];
        let paths: Vec<ClaimPath> = c.required.iter().map(|p| ClaimPath::parse(p).unwrap()).collect();
        let kb = KeyBindingParams { nonce: &request.nonce, aud: &request.client_id, iat: now(), alg: None };
        let sd = SdJwt::parse(&holder.credential).unwrap();
        children.extend(souverain_core::consent::children_in(&sd.disclosed_claims(&paths).unwrap()));
        entries.push((q.id.clone(), vec![sd.present(&paths, &holder.key, &kb).unwrap()]));
        data.push(DataCategory { vct: c.vct.clone(), claims: c.required.clone() });
    }
    let vp_token = VpToken(entries).to_json_text();
    let g =
        Grant::for_request(request, &holder.key.public_key(), data, "fr", &vp_token, now(), now() + 86_400, &mut OsRng)
            .for_children(children);
    let grant = g.sign(&holder.key).unwrap();
    AuthorizationResponse { vp_token, state: request.state.clone(), consent_grant: Some(grant), mandate: None }
        .to_form()
}
