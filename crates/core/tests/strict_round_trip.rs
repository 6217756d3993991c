//! Every type that serde writes and core's strict reader reads back (`json::FromJson`, and the
//! `Deserialize` built on it), written with every optional member set and read both ways: a
//! member name misspelt in a reader, or one the writer renames and the reader does not, reads as
//! missing (an error) or as absent (`None`, caught by the comparison), never silently.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fmt::Debug;

use rand_core::OsRng;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use souverain_core::consent::{Child, DataCategory, Grant, Receipt, Representative, Withdrawal};
use souverain_core::jose::{Jwk, SigningKey};
use souverain_core::json::{FromJson, read};
use souverain_core::openid4vp::request::{Controller, LocalizedText, PrivacyNotice, Processing, Purpose};
use souverain_core::trust_list::{AllowedClaims, RegisteredPurpose, Service, TrustList};
use souverain_core::vault::journal::{EntryDraft, JournalHead, JournalKind, PathSegment};
use souverain_core::vault::{IndexEntry, KdfParams, RecordIndex, RecordKind, VaultId, create_vault, seal};

/// Writes `value` with serde, reads it with the strict reader and with its `Deserialize`, and
/// checks both give `value` back and that writing again gives the same text.
fn round_trip<T: Serialize + FromJson + DeserializeOwned + PartialEq + Debug>(value: &T) {
    let text = serde_json::to_string(value).unwrap();
    let strict: T = read(text.as_bytes()).unwrap_or_else(|e| panic!("strict reader refused {text}: {e}"));
    assert_eq!(&strict, value, "strict reader on {text}");
    let serde: T = serde_json::from_str(&text).unwrap_or_else(|e| panic!("Deserialize refused {text}: {e}"));
    assert_eq!(&serde, value, "Deserialize on {text}");
    assert_eq!(serde_json::to_string(&strict).unwrap(), text);
}

/// Every member of every object in `value`, at any depth, is one the sample sets: none is `null`
/// (an unset optional), so a reader that misses it has something to miss.
fn every_member_set(value: &Value, at: &str) {
    match value {
        Value::Null => panic!("{at} is null: set every optional member in the sample"),
        Value::Object(map) => map.iter().for_each(|(k, v)| every_member_set(v, &format!("{at}/{k}"))),
        Value::Array(items) => {
            assert!(!items.is_empty(), "{at} is empty: give it an item so its reader runs");
            items.iter().enumerate().for_each(|(i, v)| every_member_set(v, &format!("{at}/{i}")));
        }
        _ => {}
    }
}

fn checked<T: Serialize + FromJson + DeserializeOwned + PartialEq + Debug>(value: &T) {
    every_member_set(&serde_json::to_value(value).unwrap(), "");
    round_trip(value);
}

fn text() -> LocalizedText {
    LocalizedText { fr: "Cantine scolaire".into(), en: "School canteen".into() }
}

fn purpose() -> Purpose {
    Purpose { dpv: "https://w3id.org/dpv#ServiceProvision".into(), text: text() }
}

fn controller() -> Controller {
    Controller { name: "Mairie".into(), contact: "dpo@mairie.example".into() }
}

fn notice() -> PrivacyNotice {
    PrivacyNotice { url: "https://mairie.example/confidentialite".into(), sha256: "abc".into() }
}

fn data() -> DataCategory {
    DataCategory { vct: "urn:souverain:vct:household:1".into(), claims: vec!["/children/0/given_name".into()] }
}

#[test]
fn consent_records() {
    checked(&data());
    checked(&Grant {
        record_id: "urn:souverain:consent:g".into(),
        schema_version: "1".into(),
        pii_principal: "thumbprint".into(),
        privacy_notice: notice(),
        language: "fr".into(),
        purposes: vec![purpose()],
        legal_basis: "https://w3id.org/dpv#Consent".into(),
        data: vec![data()],
        controller: controller(),
        storage_location: "FR".into(),
        retention_seconds: 86_400,
        jurisdiction: "FR".into(),
        recipients: vec!["Caisse des écoles".into()],
        withdrawal_endpoint: "https://mairie.example/retraits".into(),
        event_time: 1_700_000_000,
        valid_until: 1_800_000_000,
        state: "given".into(),
        aud: "decentralized_identifier:did:jwk:x".into(),
        nonce: "n".into(),
        vp_token_sha256: "h".into(),
        // Every optional member set: a misspelt name in the reader would read `None` here.
        representative: Some(Representative {
            id: "carer-thumbprint".into(),
            mandate: "urn:souverain:mandate:m".into(),
        }),
        children: vec![Child { given_name: "Léa".into(), birthdate: "2016-03-02".into() }],
    });
    checked(&Withdrawal {
        record_id: "urn:souverain:consent:w".into(),
        schema_version: "1".into(),
        grant_id: "urn:souverain:consent:g".into(),
        pii_principal: "thumbprint".into(),
        aud: "decentralized_identifier:did:jwk:x".into(),
        event_time: 1_700_000_100,
        state: "withdrawn".into(),
    });
    checked(&Receipt {
        record_id: "urn:souverain:consent:r".into(),
        schema_version: "1".into(),
        service: "decentralized_identifier:did:jwk:x".into(),
        acknowledges: "urn:souverain:consent:g".into(),
        grant_id: "urn:souverain:consent:g".into(),
        time: 1_700_000_000,
        erasure_by: 1_700_086_400,
    });
}

#[test]
fn access_records() {
    use souverain_core::rights::{AccessAnswer, AccessRequest, HeldData};
    checked(&AccessRequest {
        record_id: "urn:souverain:access:a".into(),
        schema_version: "souverain-rights/1".into(),
        grant_id: "urn:souverain:consent:g".into(),
        pii_principal: "thumbprint".into(),
        aud: "decentralized_identifier:did:jwk:x".into(),
        time: 1_700_000_000,
    });
    checked(&AccessAnswer {
        record_id: "urn:souverain:access-answer:b".into(),
        schema_version: "souverain-rights/1".into(),
        service: "decentralized_identifier:did:jwk:x".into(),
        request_id: "urn:souverain:access:a".into(),
        grant_id: "urn:souverain:consent:g".into(),
        time: 1_700_000_001,
        state: "given".into(),
        erasure_by: Some(1_700_086_400),
        data: vec![HeldData {
            vct: "urn:souverain:vct:household:1".into(),
            claims: json!({"children": [{"given_name": "Léa"}]}).as_object().unwrap().clone(),
        }],
    });
}

#[test]
fn erasure_records() {
    use souverain_core::consent::DataCategory;
    use souverain_core::rights::{ErasureAnswer, ErasureRequest};
    checked(&ErasureRequest {
        record_id: "urn:souverain:erasure:a".into(),
        schema_version: "souverain-rights/1".into(),
        grant_id: "urn:souverain:consent:g".into(),
        pii_principal: "thumbprint".into(),
        aud: "decentralized_identifier:did:jwk:x".into(),
        time: 1_700_000_000,
    });
    checked(&ErasureAnswer {
        record_id: "urn:souverain:erasure-answer:b".into(),
        schema_version: "souverain-rights/1".into(),
        service: "decentralized_identifier:did:jwk:x".into(),
        request_id: "urn:souverain:erasure:a".into(),
        grant_id: "urn:souverain:consent:g".into(),
        time: 1_700_000_002,
        erased_at: 1_700_000_001,
        erased: vec![DataCategory { vct: "urn:souverain:vct:household:1".into(), claims: vec!["/children".into()] }],
    });
}

#[test]
fn objection_and_rectification_records() {
    use souverain_core::rights::{ObjectionAnswer, ObjectionRequest, RectificationAnswer, RectificationRequest};
    checked(&ObjectionRequest {
        record_id: "urn:souverain:objection:a".into(),
        schema_version: "souverain-rights/1".into(),
        grant_id: "urn:souverain:consent:g".into(),
        pii_principal: "thumbprint".into(),
        aud: "decentralized_identifier:did:jwk:x".into(),
        time: 1_700_000_000,
        grounds: Some("Ma situation a changé.".into()),
    });
    checked(&ObjectionAnswer {
        record_id: "urn:souverain:objection-answer:b".into(),
        schema_version: "souverain-rights/1".into(),
        service: "decentralized_identifier:did:jwk:x".into(),
        request_id: "urn:souverain:objection:a".into(),
        grant_id: "urn:souverain:consent:g".into(),
        time: 1_700_000_002,
        state: "objected".into(),
        objected_at: 1_700_000_001,
        erasure_by: 1_700_086_400,
    });
    checked(&RectificationRequest {
        record_id: "urn:souverain:rectification:a".into(),
        schema_version: "souverain-rights/1".into(),
        grant_id: "urn:souverain:consent:g".into(),
        pii_principal: "thumbprint".into(),
        aud: "decentralized_identifier:did:jwk:x".into(),
        time: 1_700_000_000,
        vct: "urn:souverain:vct:residence:1".into(),
        claim: "/address".into(),
        value: "3 rue des Lilas".into(),
    });
    checked(&RectificationAnswer {
        record_id: "urn:souverain:rectification-answer:b".into(),
        schema_version: "souverain-rights/1".into(),
        service: "decentralized_identifier:did:jwk:x".into(),
        request_id: "urn:souverain:rectification:a".into(),
        grant_id: "urn:souverain:consent:g".into(),
        time: 1_700_000_002,
        vct: "urn:souverain:vct:residence:1".into(),
        claim: "/address".into(),
        decision: "refused".into(),
        reason: Some("Justificatif manquant.".into()),
        decided_at: 1_700_000_001,
    });
}

#[test]
fn request_processing_terms() {
    checked(&text());
    checked(&purpose());
    checked(&controller());
    checked(&notice());
    checked(&Processing {
        purposes: vec![purpose()],
        legal_basis: "https://w3id.org/dpv#Consent".into(),
        retention_seconds: 3_600,
        recipients: vec!["Trésor public".into()],
        controller: controller(),
        privacy_notice: notice(),
        withdrawal_endpoint: "https://mairie.example/retraits".into(),
        jurisdiction: "FR".into(),
        storage_location: "FR".into(),
    });
}

#[test]
fn trust_list() {
    let claims =
        AllowedClaims { vct: "urn:souverain:vct:residence:1".into(), paths: vec![json!(["address", "locality"])] };
    let purpose = RegisteredPurpose {
        dpv: "https://w3id.org/dpv#ServiceProvision".into(),
        claims: vec![claims.clone()],
        max_retention_seconds: 7_776_000,
    };
    let service = Service {
        client_id: "decentralized_identifier:did:jwk:x".into(),
        name: text(),
        logo: "data:image/svg+xml,<svg/>".into(),
        contact: "cantine@mairie.example".into(),
        response_uri_origins: vec!["https://guichet.mairie.example".into()],
        purposes: vec![purpose.clone()],
    };
    checked(&claims);
    checked(&purpose);
    checked(&service);
    checked(&TrustList { iss: "https://guichet.mairie.example".into(), iat: 1, exp: 2, services: vec![service] });
}

#[test]
fn journal() {
    let draft = EntryDraft {
        time: 1_700_000_000,
        kind: JournalKind::Disclosure,
        counterpart: Some("decentralized_identifier:did:jwk:x".into()),
        purpose: Some("https://w3id.org/dpv#ServiceProvision".into()),
        claim_paths: vec![vec![PathSegment::Key("children".into()), PathSegment::Index(0)]],
        record_ids: vec!["credential-1".into()],
    };
    checked(&draft);
    for kind in JournalKind::ALL {
        round_trip(&kind);
    }
    // `All` is written as null, which `every_member_set` refuses: its own round trip.
    round_trip(&vec![PathSegment::Key("children".into()), PathSegment::All(()), PathSegment::Index(2)]);
    let mut head = JournalHead::genesis(VaultId::generate(&mut OsRng));
    let entry = head.append(draft);
    checked(&entry);
    checked(&head);
    checked(&head.sign(&SigningKey::generate_ed25519(&mut OsRng)));
}

#[test]
fn vault_header_records_and_index() {
    let params = KdfParams::new(19 * 1024, 2, 1).unwrap();
    let vault = create_vault("correct horse battery staple", params, &mut OsRng).unwrap();
    checked(&params);
    checked(vault.header.vault_id());
    checked(&vault.header);
    let id = *vault.header.vault_id();
    let sealed = seal(&vault.key, &id, RecordKind::Credential, "credential-1", 2, b"{}", &mut OsRng).unwrap();
    checked(&sealed);
    let entry =
        IndexEntry { id: "credential-1".into(), kind: RecordKind::Credential, label: "Domicile".into(), updated_at: 5 };
    checked(&entry);
    checked(&RecordIndex { entries: vec![entry] });
}

#[test]
fn keys() {
    checked(&SigningKey::generate_ed25519(&mut OsRng).public_key().to_jwk());
    let jwk: Jwk = read(br#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#).unwrap();
    checked(&jwk);
}

#[test]
fn mandates() {
    let scope = souverain_core::mandate::MandateScope {
        service: "decentralized_identifier:did:jwk:x".into(),
        purposes: vec!["https://w3id.org/dpv#ProvidePersonalisedService".into()],
        data: vec![data()],
    };
    checked(&scope);
    let mandate = souverain_core::mandate::Mandate {
        record_id: "urn:souverain:mandate:m".into(),
        schema_version: "1".into(),
        pii_principal: "person".into(),
        carer: "carer".into(),
        scope: vec![scope],
        issued_at: 1_700_000_000,
        valid_until: 1_702_592_000,
    };
    checked(&mandate);
    checked(&souverain_core::mandate::MandateRevocation {
        record_id: "urn:souverain:mandate-revocation:r".into(),
        schema_version: "1".into(),
        mandate_id: mandate.record_id.clone(),
        pii_principal: "person".into(),
        revoked_at: 1_700_086_400,
    });
}

/// The check itself can fail: a reader that misses a member it should read is caught.
#[test]
fn a_reader_that_misses_an_optional_member_is_caught() {
    #[derive(Debug, PartialEq, Serialize, serde::Deserialize)]
    struct Sample {
        kept: String,
        optional: Option<String>,
    }
    impl FromJson for Sample {
        fn from_json(value: Value, member: &'static str) -> Result<Sample, souverain_core::json::JsonError> {
            let mut m = souverain_core::json::Members::of(value, member)?;
            // Misspelt on purpose.
            Ok(Sample { kept: m.take("kept")?, optional: m.optional("optionnal")? })
        }
    }
    let sample = Sample { kept: "a".into(), optional: Some("b".into()) };
    assert!(std::panic::catch_unwind(|| round_trip(&sample)).is_err());
}
