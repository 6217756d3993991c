//! DCQL queries: parse, serialize back, and match against the fixture's held credentials.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value, json};
use souverain_core::openid4vp::dcql::{DcqlQuery, HeldCredential};
use souverain_fuzz::VCT;

fn held_claims() -> &'static (Map<String, Value>, Map<String, Value>) {
    static CLAIMS: OnceLock<(Map<String, Value>, Map<String, Value>)> = OnceLock::new();
    CLAIMS.get_or_init(|| {
        let pid = json!({
            "given_name": "Camille", "family_name": "Martin", "birthdate": "1988-04-02", "age_over_18": true,
            "address": {"locality": "Trifouillis", "postal_code": "12345"},
            "nationalities": ["FR", "DE"], "children": [{"name": "A", "age": 3}, {"name": "B", "age": 7}]
        });
        let other = json!({"student_id": 42, "school": {"name": "Jules Ferry", "level": null}});
        (pid.as_object().cloned().unwrap_or_default(), other.as_object().cloned().unwrap_or_default())
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(query) = DcqlQuery::parse(text) else { return };
    let again = DcqlQuery::from_json(&query.to_json()).expect("own JSON reads back");
    assert_eq!(again, query);
    let (pid, other) = held_claims();
    let held = [
        HeldCredential { id: "w-pid", vct: VCT, claims: pid },
        HeldCredential { id: "w-school", vct: "https://example.org/student", claims: other },
    ];
    let result = query.match_credentials(&held);
    for c in &query.credentials {
        for candidate in result.candidates(&c.id) {
            let _ = candidate.selection_allowed(&candidate.required);
        }
        let _ = query.is_required(&c.id);
    }
});
