#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! DCQL: the published OpenID4VP 1.0 query examples, validation errors, and table-driven matching.

mod support;

use serde_json::{Map, Value, json};
use souverain_core::openid4vp::dcql::{DcqlError, DcqlQuery, HeldCredential};

const PID: &str = "https://credentials.example.com/identity_credential";

fn obj(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

fn pid_claims() -> Map<String, Value> {
    obj(json!({
        "last_name": "Doe", "first_name": "John", "given_name": "John", "family_name": "Doe",
        "address": {"street_address": "1 rue de la Paix", "locality": "Paris"},
        "postal_code": "90210", "locality": "Paris", "region": "IDF", "date_of_birth": "1990-01-01",
        "nationalities": ["FR", "DE"]
    }))
}

#[test]
fn published_query_examples_parse_or_name_the_unsupported_format() {
    let Some(dir) = support::vectors("openid4vp/examples/query_lang") else { return };
    let claims = pid_claims();
    let reduced = obj(json!({"family_name": "Doe", "given_name": "John"}));
    let held = [
        HeldCredential { id: "w-pid", vct: PID, claims: &claims },
        HeldCredential {
            id: "w-reduced",
            vct: "https://credentials.example.com/reduced_identity_credential",
            claims: &reduced,
        },
    ];
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        let text = support::read(&path);
        let parsed = DcqlQuery::parse(&text);
        seen += 1;
        if text.contains("mso_mdoc") {
            assert_eq!(parsed, Err(DcqlError::UnsupportedFormat { format: "mso_mdoc".into() }), "{name}");
            continue;
        }
        let q = parsed.unwrap_or_else(|e| panic!("{name}: {e}"));
        // The model round-trips through JSON.
        assert_eq!(DcqlQuery::from_json(&q.to_json()).unwrap(), q, "{name}");
        let m = q.match_credentials(&held);
        match name.as_str() {
            "simple.json" => {
                assert!(m.satisfiable);
                let c = &m.candidates("my_credential")[0];
                assert_eq!(c.credential_id, "w-pid");
                assert_eq!(c.required, ["/last_name", "/first_name", "/address/street_address"]);
                assert!(c.optional.is_empty());
            }
            "value_matching_simple.json" => {
                assert!(m.satisfiable);
                assert_eq!(m.candidates("my_credential")[0].required.len(), 4);
            }
            "claims_alternatives.json" => {
                let c = &m.candidates("pid")[0];
                // Both sets are satisfiable: a,e common; c,d only in the preferred one.
                assert_eq!(c.options.len(), 2);
                assert_eq!(c.required, ["/last_name", "/date_of_birth"]);
                assert_eq!(c.optional, ["/locality", "/region"]);
            }
            "credentials_alternatives.json" => {
                assert!(m.satisfiable);
                assert_eq!(m.credential_sets[0].satisfiable_options, [0]);
                assert!(m.credential_sets[1].satisfiable_options.is_empty());
                assert!(!m.credential_sets[1].required);
                assert!(m.candidates("other_pid").is_empty());
            }
            other => panic!("unexpected example {other}: add an expectation"),
        }
    }
    assert_eq!(seen, 7);
}

#[test]
fn published_request_dcql_for_w3c_formats_is_rejected_by_name() {
    let Some(dir) = support::vectors("openid4vp/examples/request") else { return };
    for (file, format) in [("dcql_jwt_vc.json", "jwt_vc_json"), ("dcql_ldp_vc.json", "ldp_vc")] {
        let text = support::read(&dir.join(file));
        assert_eq!(DcqlQuery::parse(&text), Err(DcqlError::UnsupportedFormat { format: format.into() }));
    }
}

fn cq(extra: Value) -> Value {
    let mut c = json!({"id": "q", "format": "dc+sd-jwt", "meta": {"vct_values": [PID]}});
    for (k, v) in extra.as_object().unwrap() {
        c[k] = v.clone();
    }
    json!({"credentials": [c]})
}

#[test]
fn validation_errors_name_the_cause() {
    let cases: Vec<(Value, DcqlError)> = vec![
        (json!({}), DcqlError::MissingField { field: "credentials" }),
        (json!({"credentials": []}), DcqlError::EmptyArray { field: "credentials" }),
        (cq(json!({"id": "a b"})), DcqlError::InvalidId { id: "a b".into() }),
        (cq(json!({"id": ""})), DcqlError::InvalidId { id: "".into() }),
        (
            json!({"credentials": [cq(json!({}))["credentials"][0], cq(json!({}))["credentials"][0]]}),
            DcqlError::DuplicateCredentialId { id: "q".into() },
        ),
        (cq(json!({"meta": {}})), DcqlError::MissingField { field: "vct_values" }),
        (
            cq(json!({"trusted_authorities": [{"type": "aki", "values": ["x"]}]})),
            DcqlError::Unsupported { feature: "trusted_authorities" },
        ),
        (
            cq(json!({"require_cryptographic_holder_binding": false})),
            DcqlError::Unsupported { feature: "require_cryptographic_holder_binding=false" },
        ),
        (cq(json!({"claims": [{"path": []}]})), DcqlError::InvalidPath { credential: "q".into() }),
        (cq(json!({"claims": [{"path": ["a", {}]}]})), DcqlError::InvalidPath { credential: "q".into() }),
        (cq(json!({"claims": [{"path": ["a"], "values": [{}]}]})), DcqlError::InvalidValues { credential: "q".into() }),
        (
            cq(json!({"claims": [{"path": ["a"]}], "claim_sets": [["x"]]})),
            DcqlError::MissingClaimId { credential: "q".into() },
        ),
        (
            cq(json!({"claims": [{"id": "a", "path": ["a"]}], "claim_sets": [["x"]]})),
            DcqlError::UnknownClaimId { credential: "q".into(), claim: "x".into() },
        ),
        (cq(json!({"claim_sets": [["x"]]})), DcqlError::ClaimSetsWithoutClaims { credential: "q".into() }),
        (
            cq(json!({"claims": [{"id": "a", "path": ["a"]}, {"id": "a", "path": ["b"]}]})),
            DcqlError::DuplicateClaimId { credential: "q".into(), claim: "a".into() },
        ),
        (
            {
                let mut v = cq(json!({}));
                v["credential_sets"] = json!([{"options": [["nope"]]}]);
                v
            },
            DcqlError::UnknownCredentialId { id: "nope".into() },
        ),
        (cq(json!({"format": "mso_mdoc"})), DcqlError::UnsupportedFormat { format: "mso_mdoc".into() }),
    ];
    for (input, expected) in cases {
        assert_eq!(DcqlQuery::from_json(&input), Err(expected), "{input}");
    }
    assert_eq!(DcqlQuery::parse("{"), Err(DcqlError::Json));
}

/// One matching case: the query's credential entry, the expected required and optional pointers
/// for the held PID, or `None` when it must not match.
type Case = (Value, Option<(&'static [&'static str], &'static [&'static str])>);

#[test]
fn matching_table() {
    let claims = pid_claims();
    let held = [HeldCredential { id: "w-pid", vct: PID, claims: &claims }];
    let cases: Vec<Case> = vec![
        // No claims: only the mandatory parts are disclosed.
        (json!({}), Some((&[], &[]))),
        // Other vct: no match.
        (json!({"meta": {"vct_values": ["urn:other"]}}), None),
        // Missing claim: no match.
        (json!({"claims": [{"path": ["missing"]}]}), None),
        // Values: match one of them; mismatch counts as absent.
        (json!({"claims": [{"path": ["postal_code"], "values": ["90210", "1"]}]}), Some((&["/postal_code"], &[]))),
        (json!({"claims": [{"path": ["postal_code"], "values": ["75001"]}]}), None),
        // Type must match too: the number 90210 is not the string "90210".
        (json!({"claims": [{"path": ["postal_code"], "values": [90210]}]}), None),
        // Null expands to every array element; an index selects one.
        (
            json!({"claims": [{"path": ["nationalities", null]}]}),
            Some((&["/nationalities/0", "/nationalities/1"], &[])),
        ),
        (json!({"claims": [{"path": ["nationalities", 1]}]}), Some((&["/nationalities/1"], &[]))),
        (json!({"claims": [{"path": ["nationalities", 5]}]}), None),
        (json!({"claims": [{"path": ["nationalities", null], "values": ["DE"]}]}), Some((&["/nationalities/1"], &[]))),
        // Claim sets: the first set unsatisfiable, the second taken; a subset option makes extras optional.
        (
            json!({"claims": [{"id": "x", "path": ["missing"]}, {"id": "a", "path": ["locality"]}, {"id": "b", "path": ["region"]}],
                   "claim_sets": [["x", "a"], ["a", "b"], ["a"]]}),
            Some((&["/locality"], &["/region"])),
        ),
        (json!({"claims": [{"id": "x", "path": ["missing"]}], "claim_sets": [["x"]]}), None),
    ];
    for (extra, expected) in cases {
        let q = DcqlQuery::from_json(&cq(extra.clone())).unwrap();
        let m = q.match_credentials(&held);
        match expected {
            None => {
                assert!(m.candidates("q").is_empty(), "{extra}");
                assert!(!m.satisfiable, "{extra}");
            }
            Some((req, opt)) => {
                let c = &m.candidates("q")[0];
                assert_eq!(c.required, req, "{extra}");
                assert_eq!(c.optional, opt, "{extra}");
                assert!(m.satisfiable);
            }
        }
    }
}

#[test]
fn declining_an_optional_claim_must_leave_an_acceptable_option() {
    let claims = pid_claims();
    let held = [HeldCredential { id: "w", vct: PID, claims: &claims }];
    let q = DcqlQuery::from_json(&cq(json!({
        "claims": [{"id": "a", "path": ["locality"]}, {"id": "b", "path": ["region"]}, {"id": "c", "path": ["postal_code"]}],
        "claim_sets": [["a", "b", "c"], ["a", "b"], ["a", "c"]]
    })))
    .unwrap();
    let c = &q.match_credentials(&held).candidates("q")[0].clone();
    assert_eq!(c.required, ["/locality"]);
    assert_eq!(c.optional, ["/region", "/postal_code"]);
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    assert!(c.selection_allowed(&s(&["/locality", "/region", "/postal_code"])));
    assert!(c.selection_allowed(&s(&["/region", "/locality"])));
    // Declining both optional claims leaves a combination the verifier did not offer.
    assert!(!c.selection_allowed(&s(&["/locality"])));
}

#[test]
fn multiple_credentials_and_credential_sets() {
    let a = pid_claims();
    let b = obj(json!({"rewards_number": 7}));
    let held = [
        HeldCredential { id: "pid-1", vct: PID, claims: &a },
        HeldCredential { id: "pid-2", vct: PID, claims: &a },
        HeldCredential { id: "rw", vct: "urn:rewards", claims: &b },
    ];
    let q = DcqlQuery::from_json(&json!({
        "credentials": [
            {"id": "pid", "format": "dc+sd-jwt", "multiple": true, "meta": {"vct_values": [PID]}, "claims": [{"path": ["last_name"]}]},
            {"id": "rw", "format": "dc+sd-jwt", "meta": {"vct_values": ["urn:rewards"]}},
            {"id": "none", "format": "dc+sd-jwt", "meta": {"vct_values": ["urn:none"]}}
        ],
        "credential_sets": [{"options": [["none"], ["pid", "rw"]]}, {"required": false, "options": [["none"]]}]
    }))
    .unwrap();
    assert!(q.credentials[0].multiple);
    assert!(q.is_required("pid") && q.is_required("none") && q.is_required("rw"));
    let m = q.match_credentials(&held);
    assert_eq!(m.candidates("pid").len(), 2);
    assert_eq!(m.credential_sets[0].satisfiable_options, [1]);
    assert!(m.credential_sets[1].satisfiable_options.is_empty());
    assert!(m.satisfiable);
    // Without the rewards card the required set cannot be satisfied.
    let m = q.match_credentials(&held[..2]);
    assert!(!m.satisfiable);
}
