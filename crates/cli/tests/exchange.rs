//! A whole OpenID4VP exchange through the built `souverain` binary: issue, request, inspect against
//! a trust list, respond declining an optional claim, verify, withdraw, acknowledge, verify the
//! receipt; then the refusals (wrong nonce, moved grant, replay, forged receipt, bad usage).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{Value, json};

const NOW: u64 = 1_795_000_000;
const PID_VCT: &str = "urn:eudi:pid:1";
const ISS: &str = "https://prefecture.example";
const RESPONSE_URI: &str = "https://guichet.trifouillis.example/oid4vp/response";
const PURPOSE: &str = "https://w3id.org/dpv#ServiceProvision";
/// Every credential is issued with a lifetime: the wallet's and the verifier's side refuse one without `exp`.
const LIFE: &str = "--expires-in";

/// Runs the binary; returns (exit code, stdout).
fn run(args: &[&str], stdin: &str) -> (i32, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_souverain"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    (out.status.code().unwrap(), String::from_utf8(out.stdout).unwrap())
}

/// Runs and expects success; returns stdout trimmed.
fn ok(args: &[&str], stdin: &str) -> String {
    let (code, out) = run(args, stdin);
    assert_eq!(code, 0, "{args:?}: {out}");
    out.trim().to_owned()
}

/// Runs and expects the JSON error contract; returns (exit code, error code).
fn fails(args: &[&str], stdin: &str) -> (i32, String) {
    let (code, out) = run(args, stdin);
    let v: Value = serde_json::from_str(out.trim()).unwrap_or_else(|_| panic!("{args:?}: not JSON: {out}"));
    assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()), "{out}");
    (code, v["error"].as_str().unwrap().to_owned())
}

struct Dir(PathBuf);

impl Dir {
    fn new(tag: &str) -> Dir {
        let dir = std::env::temp_dir().join(format!("souverain-exchange-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Dir(dir)
    }
    fn write(&self, name: &str, text: &str) -> String {
        let path = self.0.join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    }
    fn path(&self, name: &str) -> String {
        self.0.join(name).display().to_string()
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Everything an exchange needs, set up in a temporary directory.
struct Setup {
    dir: Dir,
    issuer: String,
    holder: String,
    verifier: String,
    commune: String,
    credential: String,
    client_id: String,
}

fn now() -> String {
    NOW.to_string()
}

fn setup(tag: &str) -> Setup {
    let dir = Dir::new(tag);
    let key = |name: &str| dir.write(name, &ok(&["keygen"], ""));
    let (issuer, holder, verifier, commune) =
        (key("issuer.jwk"), key("holder.jwk"), key("verifier.jwk"), key("commune.jwk"));
    let claims = dir.write(
        "claims.json",
        &json!({
            "given_name": "Camille", "family_name": "Martin", "birthdate": "1990-05-04",
            "address": {"locality": "Trifouillis", "postal_code": "45000"}
        })
        .to_string(),
    );
    let mut args =
        vec!["issue", "--key", &issuer, "--holder", &holder, "--iss", ISS, "--vct", PID_VCT, "--claims", &claims];
    for p in ["/given_name", "/family_name", "/birthdate", "/address/locality", "/address/postal_code"] {
        args.extend(["--disclosable", p]);
    }
    let n = now();
    args.extend(["--now", &n, LIFE, "31536000"]);
    let credential = dir.write("pid.sdjwt", &ok(&args, ""));
    dir.write(
        "dcql.json",
        &json!({"credentials": [{
            "id": "pid", "format": "dc+sd-jwt", "meta": {"vct_values": [PID_VCT]},
            "claims": [
                {"id": "gn", "path": ["given_name"]}, {"id": "fn", "path": ["family_name"]},
                {"id": "loc", "path": ["address", "locality"]}, {"id": "pc", "path": ["address", "postal_code"]}
            ],
            "claim_sets": [["gn", "fn", "loc", "pc"], ["gn", "fn", "loc"]]
        }]})
        .to_string(),
    );
    dir.write(
        "processing.json",
        &json!({
            "purposes": [{"dpv": PURPOSE, "text": {"fr": "Inscription à la cantine", "en": "School canteen enrolment"}}],
            "legal_basis": "https://w3id.org/dpv#Consent",
            "retention_seconds": 2_592_000,
            "recipients": [],
            "controller": {"name": "Mairie de Trifouillis", "contact": "dpo@trifouillis.example"},
            "privacy_notice": {"url": "https://trifouillis.example/confidentialite", "sha256": "n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCgg"},
            "withdrawal_endpoint": "https://guichet.trifouillis.example/consent/withdraw",
            "jurisdiction": "FR",
            "storage_location": "FR"
        })
        .to_string(),
    );
    let pubkey = ok(&["pubkey"], &std::fs::read_to_string(&verifier).unwrap());
    let jwk: Value = serde_json::from_str(&pubkey).unwrap();
    assert!(jwk.get("d").is_none());
    let mut s = Setup { dir, issuer, holder, verifier, commune, credential, client_id: String::new() };
    s.client_id = create_request(&s, "nonce-1", "st-1", "request.jwt")["client_id"].as_str().unwrap().to_owned();
    s
}

/// `request create`, writing the request object to `file`; returns the printed JSON.
fn create_request(s: &Setup, nonce: &str, state: &str, file: &str) -> Value {
    let (dcql, processing, n) = (s.dir.path("dcql.json"), s.dir.path("processing.json"), now());
    let out = ok(
        &[
            "request",
            "create",
            "--key",
            &s.verifier,
            "--response-uri",
            RESPONSE_URI,
            "--dcql",
            &dcql,
            "--processing",
            &processing,
            "--nonce",
            nonce,
            "--state",
            state,
            "--now",
            &n,
        ],
        "",
    );
    let v: Value = serde_json::from_str(&out).unwrap();
    s.dir.write(file, v["request_object"].as_str().unwrap());
    v
}

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap()
}

/// `respond` to the request in `file`, declining the postal code; returns the printed JSON.
fn respond(s: &Setup, file: &str) -> Value {
    let n = now();
    let out = ok(&respond_args(s, "/address/postal_code", &n), &read(&s.dir.path(file)));
    serde_json::from_str(&out).unwrap()
}

/// `respond` with the setup's holder key, credential and issuer, declining `decline`.
fn respond_args<'a>(s: &'a Setup, decline: &'a str, n: &'a str) -> Vec<&'a str> {
    vec![
        "respond",
        "--key",
        &s.holder,
        "--credential",
        &s.credential,
        "--issuer",
        &s.issuer,
        "--client-id",
        &s.client_id,
        "--decline",
        decline,
        "--now",
        n,
    ]
}

fn verify_args<'a>(s: &'a Setup, request: &'a str, seen: &'a str, n: &'a str) -> Vec<&'a str> {
    vec![
        "response",
        "verify",
        "--request",
        request,
        "--client-id",
        &s.client_id,
        "--issuer",
        &s.issuer,
        "--seen-nonces",
        seen,
        "--now",
        n,
    ]
}

/// A trust list registering `paths` of the PID for the service, signed by the commune.
fn trust_list(s: &Setup, paths: Value, max_retention: u64, name: &str) -> String {
    let list = json!({
        "iss": "did:example:trifouillis", "iat": NOW - 100, "exp": NOW + 86_400,
        "services": [{
            "client_id": s.client_id,
            "name": {"fr": "Cantine", "en": "Canteen"},
            "logo": "https://trifouillis.example/logo.png",
            "contact": "cantine@trifouillis.example",
            "response_uri_origins": ["https://guichet.trifouillis.example"],
            "purposes": [{"dpv": PURPOSE, "max_retention_seconds": max_retention,
                          "claims": [{"vct": PID_VCT, "paths": paths}]}]
        }]
    });
    s.dir.write(name, &ok(&["trust-list", "sign", "--key", &s.commune], &list.to_string()))
}

#[test]
fn whole_exchange_from_the_shell() {
    let s = setup("whole");
    let request = s.dir.path("request.jwt");
    let n = now();
    assert!(s.client_id.starts_with("decentralized_identifier:did:jwk:"), "{}", s.client_id);

    // The URL that invokes the wallet.
    let url = ok(
        &["request", "url", "--client-id", &s.client_id, "--request-uri", "https://guichet.trifouillis.example/r/1"],
        "",
    );
    assert!(url.starts_with("openid4vp://?client_id=decentralized_identifier%3Adid%3Ajwk%3A"), "{url}");
    let url = ok(
        &[
            "request",
            "url",
            "--client-id",
            &s.client_id,
            "--request-uri",
            "https://g.example/r",
            "--wallet",
            "https://wallet.example/req",
        ],
        "",
    );
    assert!(url.starts_with("https://wallet.example/req?client_id="), "{url}");

    // Holder: inspect, then evaluate against the commune's trust list.
    let shown: Value =
        serde_json::from_str(&ok(&["request", "inspect", "--client-id", &s.client_id, "--now", &n], &read(&request)))
            .unwrap();
    assert_eq!(shown["signature_valid"], true);
    assert_eq!(shown["processing"]["controller"]["name"], "Mairie de Trifouillis");
    assert_eq!(shown["processing"]["retention_seconds"], 2_592_000);
    assert_eq!(shown["credentials"][0]["claims"][3], json!(["address", "postal_code"]));
    let tl = trust_list(&s, json!([["given_name"], ["family_name"], ["address"]]), 2_592_000, "tl.jwt");
    let inspect = |tl: &str| -> Value {
        let args = [
            "request",
            "inspect",
            "--client-id",
            &s.client_id,
            "--trust-list",
            tl,
            "--commune",
            &s.commune,
            "--now",
            &n,
        ];
        serde_json::from_str(&ok(&args, &read(&request))).unwrap()
    };
    let verdict = &inspect(&tl)["verdict"];
    assert_eq!(verdict["clean"], true, "{verdict}");
    assert_eq!(verdict["known"], true);
    assert_eq!(verdict["service"]["name"]["en"], "Canteen");
    // A stricter list: only the given name, 7 days at most.
    let strict = trust_list(&s, json!([["given_name"]]), 7 * 86_400, "strict.jwt");
    let verdict = &inspect(&strict)["verdict"];
    assert_eq!(verdict["clean"], false);
    assert_eq!(verdict["signature_valid"], true);
    let excess: Vec<&Value> = verdict["over_asking"].as_array().unwrap().iter().map(|e| &e["path"]).collect();
    assert_eq!(excess, [&json!(["family_name"]), &json!(["address", "locality"]), &json!(["address", "postal_code"])]);
    assert_eq!(verdict["retention_exceeded"], json!({"asked": 2_592_000, "max": 604_800}));

    // Holder answers, declining the optional postal code.
    let answer = respond(&s, "request.jwt");
    assert_eq!(answer["disclosed"]["pid"], json!(["/given_name", "/family_name", "/address/locality"]));
    let grant = s.dir.write("grant.jwt", answer["grant"].as_str().unwrap());
    let form = answer["form"].as_str().unwrap().to_owned();
    assert!(form.contains("souverain_consent_grant="));

    // Verifier verifies response and grant, recording the nonce.
    let seen = s.dir.path("seen.json");
    let verified: Value = serde_json::from_str(&ok(&verify_args(&s, &request, &seen, &n), &form)).unwrap();
    let claims = &verified["claims"]["pid"][0]["claims"];
    assert_eq!(claims["given_name"], "Camille");
    assert_eq!(claims["address"]["locality"], "Trifouillis");
    assert!(claims["address"].get("postal_code").is_none(), "declined claim disclosed: {claims}");
    assert!(claims.get("birthdate").is_none());
    assert_eq!(verified["grant"]["nonce"], "nonce-1");
    assert_eq!(verified["grant"]["aud"], s.client_id.as_str());
    assert_eq!(verified["grant"]["data"][0]["claims"], answer["disclosed"]["pid"]);
    let remembered: Value = serde_json::from_str(&read(&seen)).unwrap();
    assert_eq!(remembered, json!([[s.client_id, "nonce-1"]]));

    // Holder withdraws; the service acknowledges; the holder checks the receipt.
    let later = (NOW + 3600).to_string();
    let withdrawal =
        s.dir.write("w.jwt", &ok(&["consent", "withdraw", "--key", &s.holder, "--grant", &grant, "--now", &later], ""));
    let receipt = ok(
        &[
            "consent",
            "acknowledge",
            "--key",
            &s.verifier,
            "--grant",
            &grant,
            "--withdrawal",
            &withdrawal,
            "--erasure-days",
            "10",
            "--now",
            &later,
        ],
        "",
    );
    let checked: Value = serde_json::from_str(&ok(
        &["consent", "verify-receipt", "--grant", &grant, "--withdrawal", &withdrawal],
        &receipt,
    ))
    .unwrap();
    assert_eq!(checked["ok"], true);
    assert_eq!(checked["receipt"]["erasure_by"], NOW + 3600 + 10 * 86_400);
    assert_eq!(checked["receipt"]["iss"], s.client_id.as_str());
    // The receipt acknowledges the withdrawal, not the grant itself.
    assert_eq!(fails(&["consent", "verify-receipt", "--grant", &grant], &receipt), (1, "wrong_reference".into()));
    // A receipt for the grant itself (no withdrawal) verifies against the grant's id.
    let grant_receipt = ok(&["consent", "acknowledge", "--key", &s.verifier, "--grant", &grant, "--now", &later], "");
    ok(&["consent", "verify-receipt", "--grant", &grant], &grant_receipt);
}

#[test]
fn refusals_keep_the_error_contract() {
    let s = setup("refusals");
    let n = now();
    let request1 = s.dir.path("request.jwt");
    let answer1 = respond(&s, "request.jwt");
    let form1 = answer1["form"].as_str().unwrap().to_owned();
    let seen = s.dir.path("seen.json");

    // Wrong nonce: the answer to request 1 presented against request 2.
    create_request(&s, "nonce-2", "st-1", "request2.jwt");
    let request2 = s.dir.path("request2.jwt");
    assert_eq!(fails(&verify_args(&s, &request2, &seen, &n), &form1), (1, "nonce_mismatch".into()));

    // Moved grant: request 2's genuine answer carrying request 1's grant.
    let answer2 = respond(&s, "request2.jwt");
    let form2 = answer2["form"].as_str().unwrap();
    let moved: Vec<String> = form2
        .split('&')
        .map(|f| match f.split_once('=') {
            Some(("souverain_consent_grant", _)) => {
                format!("souverain_consent_grant={}", answer1["grant"].as_str().unwrap())
            }
            _ => f.to_owned(),
        })
        .collect();
    assert_ne!(moved.join("&"), form2);
    assert_eq!(fails(&verify_args(&s, &request2, &seen, &n), &moved.join("&")), (1, "grant_not_bound".into()));
    // Failed attempts burn no nonce: the genuine answers still pass, once each.
    ok(&verify_args(&s, &request2, &seen, &n), form2);
    ok(&verify_args(&s, &request1, &seen, &n), &form1);

    // Replay through the seen-nonces file.
    assert_eq!(fails(&verify_args(&s, &request1, &seen, &n), &form1), (1, "replay".into()));
    assert_eq!(fails(&verify_args(&s, &request2, &seen, &n), form2), (1, "replay".into()));
    // A corrupt seen-nonces file is an I/O-side failure, not a verdict.
    let corrupt = s.dir.write("corrupt.json", "{not json");
    assert_eq!(fails(&verify_args(&s, &request1, &corrupt, &n), &form1), (2, "invalid_json".into()));

    // Forged receipt: one receipt's payload under another's signature.
    let grant = s.dir.write("grant.jwt", answer1["grant"].as_str().unwrap());
    let receipt = ok(&["consent", "acknowledge", "--key", &s.verifier, "--grant", &grant, "--now", &n], "");
    let other =
        ok(&["consent", "acknowledge", "--key", &s.verifier, "--grant", &grant, "--now", &(NOW + 1).to_string()], "");
    let parts: Vec<&str> = receipt.split('.').collect();
    let other_parts: Vec<&str> = other.split('.').collect();
    let forged = format!("{}.{}.{}", parts[0], other_parts[1], parts[2]);
    assert_eq!(fails(&["consent", "verify-receipt", "--grant", &grant], &forged), (1, "invalid_signature".into()));
    // A receipt signed by a key that is not the service's.
    let intruder = s.dir.write("intruder.jwk", &ok(&["keygen"], ""));
    assert_eq!(
        fails(&["consent", "acknowledge", "--key", &intruder, "--grant", &grant, "--now", &n], ""),
        (1, "wrong_signer".into())
    );
    // A withdrawal signed by someone else than the holder.
    let w = ok(&["consent", "withdraw", "--key", &s.holder, "--grant", &grant, "--now", &n], "");
    assert_eq!(
        fails(&["consent", "withdraw", "--key", &intruder, "--grant", &grant, "--now", &n], ""),
        (1, "wrong_signer".into())
    );
    let w = s.dir.write("w.jwt", &w);
    assert!(
        !ok(&["consent", "acknowledge", "--key", &s.verifier, "--grant", &grant, "--withdrawal", &w, "--now", &n], "")
            .is_empty()
    );

    // The right of access: a request only the holder signs; the service's answer checked against
    // the grant and that request, whoever else signs it refused.
    assert_eq!(
        fails(&["consent", "access-request", "--key", &intruder, "--grant", &grant, "--now", &n], ""),
        (1, "wrong_signer".into())
    );
    let access = ok(&["consent", "access-request", "--key", &s.holder, "--grant", &grant, "--now", &n], "");
    let access_file = s.dir.write("access.jwt", &access);
    let payload = |jws: &str| -> Value {
        let part = jws.trim().split('.').nth(1).unwrap();
        serde_json::from_slice(&souverain_core::b64::decode(part).unwrap()).unwrap()
    };
    let (request, granted) = (payload(&access), payload(&read(&grant)));
    let answer = souverain_core::rights::AccessAnswer {
        record_id: "urn:souverain:access-answer:1".into(),
        schema_version: souverain_core::rights::RIGHTS_SCHEMA.into(),
        service: s.client_id.clone(),
        request_id: request["jti"].as_str().unwrap().into(),
        grant_id: granted["jti"].as_str().unwrap().into(),
        time: NOW as i64,
        state: "given".into(),
        erasure_by: Some(NOW as i64 + 86_400),
        data: vec![souverain_core::rights::HeldData {
            vct: "https://example.test/pid".into(),
            claims: json!({"given_name": "Camille"}).as_object().unwrap().clone(),
        }],
    };
    let key_of = |path: &str| {
        let jwk: Value = serde_json::from_str(&read(path)).unwrap();
        souverain_core::jose::SigningKey::from_jwk(&souverain_core::jose::Jwk(jwk.as_object().unwrap().clone()))
            .unwrap()
    };
    let checked = ok(
        &["consent", "verify-access", "--grant", &grant, "--request", &access_file],
        &answer.sign(&key_of(&s.verifier)).unwrap(),
    );
    assert_eq!(
        serde_json::from_str::<Value>(&checked).unwrap()["answer"]["data"][0]["claims"]["given_name"],
        "Camille"
    );
    assert_eq!(
        fails(
            &["consent", "verify-access", "--grant", &grant, "--request", &access_file],
            &answer.sign(&key_of(&intruder)).unwrap()
        ),
        (1, "wrong_signer".into())
    );

    // The right to erasure likewise: a request only the holder signs; the service's receipt
    // checked against the grant and that request, an access request or another signer refused.
    assert_eq!(
        fails(&["consent", "erasure-request", "--key", &intruder, "--grant", &grant, "--now", &n], ""),
        (1, "wrong_signer".into())
    );
    let erasure = ok(&["consent", "erasure-request", "--key", &s.holder, "--grant", &grant, "--now", &n], "");
    let erasure_file = s.dir.write("erasure.jwt", &erasure);
    let receipt = souverain_core::rights::ErasureAnswer {
        record_id: "urn:souverain:erasure-answer:1".into(),
        schema_version: souverain_core::rights::RIGHTS_SCHEMA.into(),
        service: s.client_id.clone(),
        request_id: payload(&erasure)["jti"].as_str().unwrap().into(),
        grant_id: granted["jti"].as_str().unwrap().into(),
        time: NOW as i64 + 1,
        erased_at: NOW as i64,
        erased: vec![souverain_core::consent::DataCategory {
            vct: "https://example.test/pid".into(),
            claims: vec!["/given_name".into()],
        }],
    };
    let checked = ok(
        &["consent", "verify-erasure", "--grant", &grant, "--request", &erasure_file],
        &receipt.sign(&key_of(&s.verifier)).unwrap(),
    );
    let checked: Value = serde_json::from_str(&checked).unwrap();
    assert_eq!(
        (checked["answer"]["erased_at"].clone(), checked["answer"]["erased"][0]["claims"].clone()),
        (json!(NOW), json!(["/given_name"]))
    );
    assert_eq!(
        fails(
            &["consent", "verify-erasure", "--grant", &grant, "--request", &erasure_file],
            &receipt.sign(&key_of(&intruder)).unwrap()
        ),
        (1, "wrong_signer".into())
    );
    // The access request is not an erasure request, nor the access answer an erasure receipt.
    let (code, _) = fails(
        &["consent", "verify-erasure", "--grant", &grant, "--request", &access_file],
        &receipt.sign(&key_of(&s.verifier)).unwrap(),
    );
    assert_eq!(code, 1);
    let (code, _) = fails(
        &["consent", "verify-erasure", "--grant", &grant, "--request", &erasure_file],
        &answer.sign(&key_of(&s.verifier)).unwrap(),
    );
    assert_eq!(code, 1);

    // The right to object likewise: only the holder signs, grounds of 500 characters at most; the
    // service's receipt checked against the grant and that request; an erasure request or another
    // signer refused.
    assert_eq!(
        fails(&["consent", "objection-request", "--key", &intruder, "--grant", &grant, "--now", &n], ""),
        (1, "wrong_signer".into())
    );
    let too_long = "x".repeat(501);
    assert_eq!(
        fails(
            &[
                "consent",
                "objection-request",
                "--key",
                &s.holder,
                "--grant",
                &grant,
                "--grounds",
                &too_long,
                "--now",
                &n
            ],
            ""
        ),
        (1, "grounds_too_long".into())
    );
    let objection = ok(
        &[
            "consent",
            "objection-request",
            "--key",
            &s.holder,
            "--grant",
            &grant,
            "--grounds",
            "Je déménage.",
            "--now",
            &n,
        ],
        "",
    );
    assert_eq!(payload(&objection)["grounds"], "Je déménage.");
    let objection_file = s.dir.write("objection.jwt", &objection);
    let objected = souverain_core::rights::ObjectionAnswer {
        record_id: "urn:souverain:objection-answer:1".into(),
        schema_version: souverain_core::rights::RIGHTS_SCHEMA.into(),
        service: s.client_id.clone(),
        request_id: payload(&objection)["jti"].as_str().unwrap().into(),
        grant_id: granted["jti"].as_str().unwrap().into(),
        time: NOW as i64 + 1,
        state: "objected".into(),
        objected_at: NOW as i64,
        erasure_by: NOW as i64 + 86_400,
    };
    let checked = ok(
        &["consent", "verify-objection", "--grant", &grant, "--request", &objection_file],
        &objected.sign(&key_of(&s.verifier)).unwrap(),
    );
    let checked: Value = serde_json::from_str(&checked).unwrap();
    assert_eq!(
        (checked["answer"]["state"].clone(), checked["answer"]["objected_at"].clone()),
        (json!("objected"), json!(NOW))
    );
    assert_eq!(
        fails(
            &["consent", "verify-objection", "--grant", &grant, "--request", &objection_file],
            &objected.sign(&key_of(&intruder)).unwrap()
        ),
        (1, "wrong_signer".into())
    );
    let (code, _) = fails(
        &["consent", "verify-objection", "--grant", &grant, "--request", &erasure_file],
        &objected.sign(&key_of(&s.verifier)).unwrap(),
    );
    assert_eq!(code, 1);

    // Rectification: a claim the grant disclosed, its corrected value; the service's decision.
    let (vct, claim) = (
        granted["data"][0]["vct"].as_str().unwrap().to_owned(),
        granted["data"][0]["claims"][0].as_str().unwrap().to_owned(),
    );
    let rectify = |key: &str, claim: &str| {
        vec![
            "consent".to_owned(),
            "rectification-request".into(),
            "--key".into(),
            key.into(),
            "--grant".into(),
            grant.clone(),
            "--vct".into(),
            vct.clone(),
            "--claim".into(),
            claim.into(),
            "--value".into(),
            "Camille-Rose".into(),
            "--now".into(),
            n.clone(),
        ]
    };
    let args = rectify(&intruder, &claim);
    assert_eq!(fails(&args.iter().map(String::as_str).collect::<Vec<_>>(), ""), (1, "wrong_signer".into()));
    let args = rectify(&s.holder, "/not_disclosed");
    assert_eq!(fails(&args.iter().map(String::as_str).collect::<Vec<_>>(), ""), (1, "claim_not_in_grant".into()));
    let args = rectify(&s.holder, &claim);
    let rectification = ok(&args.iter().map(String::as_str).collect::<Vec<_>>(), "");
    assert_eq!(payload(&rectification)["value"], "Camille-Rose");
    let rectification_file = s.dir.write("rectification.jwt", &rectification);
    let decided = souverain_core::rights::RectificationAnswer {
        record_id: "urn:souverain:rectification-answer:1".into(),
        schema_version: souverain_core::rights::RIGHTS_SCHEMA.into(),
        service: s.client_id.clone(),
        request_id: payload(&rectification)["jti"].as_str().unwrap().into(),
        grant_id: granted["jti"].as_str().unwrap().into(),
        time: NOW as i64 + 1,
        vct: vct.clone(),
        claim: claim.clone(),
        decision: "refused".into(),
        reason: Some("Pièce justificative manquante.".into()),
        decided_at: NOW as i64,
    };
    let checked = ok(
        &["consent", "verify-rectification", "--grant", &grant, "--request", &rectification_file],
        &decided.sign(&key_of(&s.verifier)).unwrap(),
    );
    let checked: Value = serde_json::from_str(&checked).unwrap();
    assert_eq!(checked["answer"]["reason"], "Pièce justificative manquante.");
    let mut no_reason = decided.clone();
    no_reason.reason = None;
    assert_eq!(
        fails(
            &["consent", "verify-rectification", "--grant", &grant, "--request", &rectification_file],
            &no_reason.sign(&key_of(&s.verifier)).unwrap()
        ),
        (1, "bad_decision".into())
    );

    // Request refusals: another client_id than the URL's, a tampered request, garbage.
    let other_id = format!("decentralized_identifier:{}", "did:jwk:eyJrdHkiOiJPS1AifQ");
    assert_eq!(
        fails(&["request", "inspect", "--client-id", &other_id, "--now", &n], &read(&request1)),
        (1, "client_id_mismatch".into())
    );
    assert_eq!(fails(&["request", "inspect", "--client-id", &s.client_id], "not a jwt"), (1, "malformed_jws".into()));
    let late = (NOW + 10_000).to_string();
    assert_eq!(
        fails(&["request", "inspect", "--client-id", &s.client_id, "--now", &late], &read(&request1)),
        (1, "expired".into())
    );
    // A trust list signed by someone else than the commune.
    let tl = trust_list(&s, json!([["given_name"]]), 1, "tl.jwt");
    assert_eq!(
        fails(
            &[
                "request",
                "inspect",
                "--client-id",
                &s.client_id,
                "--trust-list",
                &tl,
                "--commune",
                &intruder,
                "--now",
                &n
            ],
            &read(&request1)
        ),
        (1, "invalid_signature".into())
    );

    // Holder refusals: declining a required claim, or a claim not asked; no matching credential.
    let respond_with = |decline: &str| fails(&respond_args(&s, decline, &n), &read(&request1));
    assert_eq!(respond_with("/given_name"), (2, "cannot_decline".into()));
    assert_eq!(respond_with("/birthdate"), (2, "cannot_decline".into()));
    let other_vct = s.dir.write("claims2.json", r#"{"given_name": "X"}"#);
    let library_card = s.dir.write(
        "card.sdjwt",
        &ok(
            &[
                "issue", "--key", &s.issuer, "--holder", &s.holder, "--iss", ISS, "--vct", "urn:card", "--claims",
                &other_vct, "--now", &n, LIFE, "600",
            ],
            "",
        ),
    );
    assert_eq!(
        fails(
            &[
                "respond",
                "--key",
                &s.holder,
                "--credential",
                &library_card,
                "--issuer",
                &s.issuer,
                "--client-id",
                &s.client_id,
                "--now",
                &n
            ],
            &read(&request1)
        ),
        (1, "no_matching_credential".into())
    );
    // The credential is checked against the issuer keys given: the same answer, the intruder as issuer.
    let mut args = respond_args(&s, "/address/postal_code", &n);
    let issuer = args.iter().position(|a| *a == "--issuer").unwrap() + 1;
    args[issuer] = &intruder;
    assert_eq!(fails(&args, &read(&request1)), (1, "invalid_signature".into()));
    // Another verifier's key for the response's issuers: unknown issuer signature.
    let args = [
        "response",
        "verify",
        "--request",
        &request1,
        "--client-id",
        &s.client_id,
        "--issuer",
        &format!("https://other.example={}", s.issuer),
        "--now",
        &n,
    ];
    assert_eq!(fails(&args, &form1), (1, "unknown_issuer".into()));

    // Usage: missing arguments, bad DCQL, a nonce that is not URL-safe.
    assert_eq!(fails(&["respond", "--key", &s.holder], ""), (2, "usage".into()));
    let bad_dcql = s.dir.write("bad.json", r#"{"credentials": [{"id": "x", "format": "mso_mdoc", "meta": {}}]}"#);
    let processing = s.dir.path("processing.json");
    let create = |dcql: &str, nonce: &str| {
        fails(
            &[
                "request",
                "create",
                "--key",
                &s.verifier,
                "--response-uri",
                RESPONSE_URI,
                "--dcql",
                dcql,
                "--processing",
                &processing,
                "--nonce",
                nonce,
            ],
            "",
        )
    };
    assert_eq!(create(&bad_dcql, "n"), (2, "invalid_dcql".into()));
    // A nonce and a state may begin with `-` (base64url): values, not options.
    let dashed = create_request(&s, "-ZAraZ2sWfU5kD9pPHA1sSv28crI4hVv", "-st", "dashed.jwt");
    assert_eq!((&dashed["nonce"], &dashed["state"]), (&json!("-ZAraZ2sWfU5kD9pPHA1sSv28crI4hVv"), &json!("-st")));
    assert_eq!(create(&s.dir.path("dcql.json"), "a b"), (2, "malformed_request".into()));
    assert_eq!(fails(&["trust-list", "sign", "--key", &s.commune], "[]"), (2, "invalid_json".into()));
    assert!(Path::new(&seen).exists());
}
