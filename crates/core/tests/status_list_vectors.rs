#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // panic: `support::read` fails a test by panicking
//! Token Status List: the draft's encodings (read from `../shared/vectors/status-list`), the bit
//! layout, the decoding bounds and failure modes, and property tests.

mod support;

use std::collections::BTreeMap;
use std::path::Path;

use proptest::prelude::*;
use serde_json::{Value, json};
use souverain_core::status_list::{Bits, DEFAULT_MAX_DECOMPRESSED, Status, StatusList, StatusListError, StatusRef};

/// The draft's example files wrap long `lst` strings over several lines (artwork folding) and some
/// begin with a `byte_array = [...]` line: returns that array (if any) and the JSON object.
fn read_example(path: &Path) -> (Option<Vec<u8>>, Value) {
    let text = support::read(path);
    let bytes = text.lines().find_map(|l| l.strip_prefix("byte_array = [")).map(|rest| {
        rest.trim_end()
            .trim_end_matches(']')
            .split(',')
            .map(|b| u8::from_str_radix(b.trim().trim_start_matches("0x"), 16).unwrap())
            .collect()
    });
    let start = text.find('{').unwrap();
    let end = text.rfind('}').unwrap();
    // No JSON string in these examples holds whitespace, so removing it all only undoes the folding.
    let json: String = text[start..=end].chars().filter(|c| !c.is_whitespace()).collect();
    (bytes, serde_json::from_str(&json).unwrap())
}

/// The statuses listed in the draft's test-vector section, per bits value.
fn expected_statuses(dir: &Path) -> BTreeMap<u8, BTreeMap<u64, u8>> {
    let text = support::read(&dir.join("test-vectors-section.md"));
    let mut out: BTreeMap<u8, BTreeMap<u64, u8>> = BTreeMap::new();
    let mut bits = None;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("## ") {
            bits = rest.split('-').next().and_then(|n| n.parse::<u8>().ok());
            continue;
        }
        let Some(rest) = line.strip_prefix("status[") else { continue };
        let (idx, value) = rest.split_once(']').unwrap();
        let value = value.trim().trim_start_matches('=').trim().trim_start_matches("0b");
        let b = bits.expect("a status line outside an N-bit section");
        let prev = out.entry(b).or_default().insert(idx.parse().unwrap(), u8::from_str_radix(value, 2).unwrap());
        assert!(prev.is_none(), "index {idx} listed twice for {b} bits");
    }
    out
}

fn example_file(bits: u8) -> &'static str {
    match bits {
        1 => "examples/status_list_encoding1_long_json.md",
        2 => "examples/status_list_encoding2_long_json.md",
        4 => "examples/status_list_encoding4_json.md",
        8 => "examples/status_list_encoding8_json.md",
        _ => unreachable!(),
    }
}

/// Every entry of `list` equals the draft's listing (unlisted entries are 0, size 2^20).
fn assert_matches(list: &StatusList, expected: &BTreeMap<u64, u8>) {
    assert_eq!(list.len(), 1 << 20, "the draft's lists have 2^20 entries");
    for idx in 0..list.len() {
        let want = expected.get(&idx).copied().unwrap_or(0);
        assert_eq!(list.get(idx).unwrap().value(), want, "entry {idx}");
    }
}

#[test]
fn draft_long_vectors_decode_and_reencode() {
    let Some(dir) = support::vectors("status-list") else { return };
    let expected = expected_statuses(&dir);
    assert_eq!(expected.keys().copied().collect::<Vec<_>>(), vec![1, 2, 4, 8]);
    assert_eq!(expected[&8].len(), 256, "the 8-bit example lists every value once");
    for (&bits, statuses) in &expected {
        let (_, json) = read_example(&dir.join(example_file(bits)));
        assert_eq!(json["bits"], json!(bits));
        let decoded = StatusList::from_json(&json).unwrap();
        assert_eq!(decoded.bits().get(), bits);
        assert_matches(&decoded, statuses);

        // Our own encoding of the same statuses. Its compressed bytes may differ from the draft's (a
        // different DEFLATE encoder), so we compare what decoding gives back, not the `lst` string.
        let mut ours = StatusList::new(Bits::from_u8(bits).unwrap(), 1 << 20).unwrap();
        for (&idx, &value) in statuses {
            ours.set(idx, Status::from_u8(value)).unwrap();
        }
        assert_eq!(ours.as_bytes(), decoded.as_bytes());
        let back = StatusList::from_json(&ours.to_json()).unwrap();
        assert_matches(&back, statuses);
        assert_eq!(back, ours);
    }
}

#[test]
fn draft_short_vectors_match_their_byte_arrays() {
    let Some(dir) = support::vectors("status-list") else { return };
    for (file, bits) in [("examples/status_list_encoding_json.md", 1), ("examples/status_list_encoding2_json.md", 2)] {
        let (bytes, json) = read_example(&dir.join(file));
        let bytes = bytes.expect("byte_array line");
        let list = StatusList::from_json(&json).unwrap();
        assert_eq!(list.bits().get(), bits);
        assert_eq!(list.as_bytes(), bytes.as_slice(), "{file}");
        let ours = StatusList::from_bytes(Bits::from_u8(bits).unwrap(), bytes.clone());
        assert_eq!(StatusList::from_json(&ours.to_json()).unwrap().as_bytes(), bytes.as_slice());
    }
    // Draft section 4.1, the 2-bit example: statuses 1,2,0,3, 0,1,0,1, 1,2,3,3 -> [0xc9, 0x44, 0xf9].
    let (_, json) = read_example(&dir.join("examples/status_list_encoding2_json.md"));
    let list = StatusList::from_json(&json).unwrap();
    let got: Vec<u8> = (0..12).map(|i| list.get(i).unwrap().value()).collect();
    assert_eq!(got, vec![1, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3]);
    assert_eq!(list.get(2).unwrap(), Status::Valid);
    assert_eq!(list.get(0).unwrap(), Status::Invalid);
    assert_eq!(list.get(1).unwrap(), Status::Suspended);
    assert_eq!(list.get(3).unwrap(), Status::Other(3));
}

#[test]
fn out_of_range_and_too_large_values() {
    for bits in [Bits::One, Bits::Two, Bits::Four, Bits::Eight] {
        let mut list = StatusList::new(bits, 10).unwrap();
        assert_eq!(list.get(10), Err(StatusListError::IndexOutOfRange { idx: 10, len: 10 }));
        assert_eq!(
            list.set(u64::MAX, Status::Invalid),
            Err(StatusListError::IndexOutOfRange { idx: u64::MAX, len: 10 })
        );
        list.set(9, Status::from_u8(bits.max_value())).unwrap();
        assert_eq!(list.get(9).unwrap().value(), bits.max_value());
        if bits != Bits::Eight {
            let too_big = bits.max_value() + 1;
            assert_eq!(
                list.set(0, Status::from_u8(too_big)),
                Err(StatusListError::ValueTooLarge { value: too_big, bits: bits.get() })
            );
            assert_eq!(list.get(0).unwrap(), Status::Valid, "a refused set changes nothing");
        }
    }
    assert!(matches!(Bits::from_u8(3), Err(StatusListError::InvalidBits { bits: 3 })));
    assert!(matches!(StatusList::new(Bits::One, u64::MAX), Err(StatusListError::TooLarge { .. })));
    let empty = StatusList::new(Bits::Eight, 0).unwrap();
    assert!(empty.is_empty());
    assert!(empty.get(0).is_err());
}

#[test]
fn decompression_bombs_are_rejected() {
    // 17 MiB of zeros compress to a few kilobytes: one byte more than the default bound would allow.
    let bomb = StatusList::new(Bits::Eight, (DEFAULT_MAX_DECOMPRESSED + 1024 * 1024) as u64).unwrap();
    let json = bomb.to_json();
    assert!(json["lst"].as_str().unwrap().len() < 64 * 1024);
    assert_eq!(
        StatusList::from_json(&json),
        Err(StatusListError::DecompressedTooLarge { max: DEFAULT_MAX_DECOMPRESSED })
    );
    // A configurable bound: exactly at the bound passes, one byte under fails.
    let list = StatusList::new(Bits::Eight, 1000).unwrap();
    assert_eq!(StatusList::from_json_with_limit(&list.to_json(), 1000).unwrap(), list);
    assert_eq!(
        StatusList::from_json_with_limit(&list.to_json(), 999),
        Err(StatusListError::DecompressedTooLarge { max: 999 })
    );
}

#[test]
fn corrupt_zlib_is_rejected() {
    let mut list = StatusList::new(Bits::Two, 4000).unwrap();
    for i in (0..4000).step_by(7) {
        list.set(i, Status::Suspended).unwrap();
    }
    let good = list.compress();
    assert_eq!(StatusList::decompress(Bits::Two, &good, 1 << 20).unwrap(), list);

    let mut bad_checksum = good.clone();
    *bad_checksum.last_mut().unwrap() ^= 1;
    assert_eq!(StatusList::decompress(Bits::Two, &bad_checksum, 1 << 20), Err(StatusListError::Zlib));

    let mut bad_header = good.clone();
    bad_header[0] = 0x79; // compression method 9 is not DEFLATE
    assert_eq!(StatusList::decompress(Bits::Two, &bad_header, 1 << 20), Err(StatusListError::Zlib));

    let truncated = &good[..good.len() - 5];
    assert_eq!(StatusList::decompress(Bits::Two, truncated, 1 << 20), Err(StatusListError::Zlib));

    // Raw DEFLATE without the zlib wrapper is not the format the draft names.
    let raw = raw_deflate_body(&good);
    assert_eq!(StatusList::decompress(Bits::Two, raw, 1 << 20), Err(StatusListError::Zlib));

    let mut trailing = good.clone();
    trailing.extend_from_slice(b"xx");
    assert_eq!(StatusList::decompress(Bits::Two, &trailing, 1 << 20), Err(StatusListError::TrailingData { extra: 2 }));

    assert_eq!(StatusList::decompress(Bits::Two, &[], 1 << 20), Err(StatusListError::Zlib));
}

/// The raw DEFLATE body inside a zlib stream (2-byte header, 4-byte Adler-32 trailer).
fn raw_deflate_body(zlib: &[u8]) -> &[u8] {
    &zlib[2..zlib.len() - 4]
}

#[test]
fn malformed_json_forms_are_rejected() {
    let lst = StatusList::new(Bits::One, 8).unwrap().to_lst();
    let cases = [
        (json!([1]), StatusListError::NotAnObject),
        (json!({"lst": lst}), StatusListError::MissingMember { name: "bits" }),
        (json!({"bits": 1}), StatusListError::MissingMember { name: "lst" }),
        (json!({"bits": "1", "lst": lst}), StatusListError::InvalidMember { name: "bits" }),
        (json!({"bits": 1.0, "lst": lst}), StatusListError::InvalidMember { name: "bits" }),
        (json!({"bits": 3, "lst": lst}), StatusListError::InvalidBits { bits: 3 }),
        (json!({"bits": 256, "lst": lst}), StatusListError::InvalidBits { bits: 256 }),
        (json!({"bits": 1, "lst": 5}), StatusListError::InvalidMember { name: "lst" }),
        (json!({"bits": 1, "lst": format!("{lst}=")}), StatusListError::Base64),
        (json!({"bits": 1, "lst": "eNrbuRgAAhcBXQ+"}), StatusListError::Base64),
    ];
    for (value, err) in cases {
        assert_eq!(StatusList::from_json(&value), Err(err), "{value}");
    }
}

#[test]
fn status_values_are_typed() {
    assert_eq!(Status::from_u8(0), Status::Valid);
    assert_eq!(Status::from_u8(1), Status::Invalid);
    assert_eq!(Status::from_u8(2), Status::Suspended);
    assert_eq!(Status::from_u8(0x0c), Status::Other(0x0c));
    for v in 0..=255u8 {
        assert_eq!(Status::from_u8(v).value(), v);
    }
}

#[test]
fn status_ref_claim_round_trip() {
    let r = StatusRef { idx: 1_000_345, uri: "https://example.com/statuslists/1".into() };
    assert_eq!(StatusRef::from_claim(&r.to_claim()).unwrap(), r);
    // The draft's referenced-token example shape, with another mechanism beside it.
    let claim = json!({"status_list": {"idx": 0, "uri": "https://example.com/statuslists/1"}, "other": {}});
    assert_eq!(StatusRef::from_claim(&claim).unwrap().idx, 0);
    assert_eq!(
        StatusRef::from_claim(&json!({"status_list": {"idx": 1.5, "uri": "u"}})),
        Err(StatusListError::InvalidMember { name: "idx" })
    );
    assert_eq!(
        StatusRef::from_claim(&json!({"status_list": {"idx": 1, "uri": ""}})),
        Err(StatusListError::InvalidMember { name: "uri" })
    );
    assert_eq!(
        StatusRef::from_claim(&json!({"status_list": []})),
        Err(StatusListError::InvalidMember { name: "status_list" })
    );
}

fn any_bits() -> impl Strategy<Value = Bits> {
    prop_oneof![Just(Bits::One), Just(Bits::Two), Just(Bits::Four), Just(Bits::Eight)]
}

proptest! {
    #[test]
    fn set_then_compress_round_trips(
        bits in any_bits(),
        size in 1u64..3000,
        writes in proptest::collection::vec((any::<u64>(), any::<u8>()), 0..200),
    ) {
        let mut list = StatusList::new(bits, size).unwrap();
        let mut model = vec![0u8; size as usize];
        for (idx, value) in writes {
            let idx = idx % size;
            let value = value & bits.max_value();
            list.set(idx, Status::from_u8(value)).unwrap();
            model[idx as usize] = value;
        }
        let back = StatusList::from_json(&list.to_json()).unwrap();
        prop_assert!(back.len() >= size && back.len() < size + u64::from(8 / bits.get()));
        for (idx, &want) in model.iter().enumerate() {
            prop_assert_eq!(back.get(idx as u64).unwrap().value(), want);
        }
        // The padding after the last entry decodes as VALID.
        for idx in size..back.len() {
            prop_assert_eq!(back.get(idx).unwrap(), Status::Valid);
        }
    }

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512), bits in any_bits()) {
        let _ = StatusList::decompress(bits, &bytes, 1 << 16);
        let text = String::from_utf8_lossy(&bytes);
        let _ = StatusList::from_lst(bits, &text, 1 << 16);
        if let Ok(value) = serde_json::from_slice::<Value>(&bytes) {
            let _ = StatusList::from_json(&value);
            let _ = StatusRef::from_claim(&value);
        }
    }

    #[test]
    fn random_zlib_headers_with_valid_prefix_never_panic(tail in proptest::collection::vec(any::<u8>(), 0..512)) {
        // A valid zlib header, then noise: reaches the DEFLATE decoder rather than the header check.
        let mut input = vec![0x78, 0xda];
        input.extend_from_slice(&tail);
        let _ = StatusList::decompress(Bits::One, &input, 1 << 16);
    }

    #[test]
    fn random_json_never_panics(
        bits in any::<i64>(), lst in "[A-Za-z0-9_-]{0,64}", idx in any::<i64>(), uri in ".{0,16}",
    ) {
        let _ = StatusList::from_json(&json!({"bits": bits, "lst": lst}));
        let _ = StatusRef::from_claim(&json!({"status_list": {"idx": idx, "uri": uri}}));
    }
}

// --- Status List Tokens (statuslist+jwt) ---

use souverain_core::jose::{JwsError, PublicKey, SigningKey, sign_compact};
use souverain_core::status_list::{StatusListTokenClaims, StatusTokenError, UnverifiedStatusListToken};

const URI: &str = "https://mairie.example/status/1";

use souverain_core::testing::TestRng;

fn keys(seed: u64) -> [SigningKey; 2] {
    let mut rng = TestRng::new(seed);
    [SigningKey::generate_ed25519(&mut rng), SigningKey::generate_p256(&mut rng)]
}

fn sample_claims() -> StatusListTokenClaims {
    let mut list = StatusList::new(Bits::Two, 1000).unwrap();
    list.set(3, Status::Invalid).unwrap();
    list.set(42, Status::Suspended).unwrap();
    list.set(999, Status::Other(3)).unwrap();
    StatusListTokenClaims {
        sub: URI.into(),
        iat: 1_795_000_000,
        exp: Some(1_795_086_400),
        ttl: Some(43_200),
        iss: Some("https://mairie.example".into()),
        list,
    }
}

fn kid(k: &str) -> serde_json::Map<String, Value> {
    let mut m = serde_json::Map::new();
    m.insert("kid".into(), json!(k));
    m
}

/// Signs `payload` as-is, to build tokens our own signer would never make.
fn sign_raw(key: &SigningKey, typ: &str, payload: &Value) -> String {
    sign_compact(key, key.default_alg(), typ, serde_json::Map::new(), payload.to_string().as_bytes()).unwrap()
}

#[test]
fn token_sign_verify_round_trip() {
    for key in keys(1) {
        let claims = sample_claims();
        let token = claims.sign(&key, kid("12")).unwrap();
        let parsed = UnverifiedStatusListToken::parse(&token).unwrap();
        assert_eq!(parsed.header_unverified()["typ"], json!("statuslist+jwt"));
        assert_eq!(parsed.header_unverified()["kid"], json!("12"));
        let verified = parsed.verify(&key.public_key(), URI, 1_795_000_100).unwrap();
        assert_eq!(verified.claims(), &claims);
        assert_eq!(verified.status(3).unwrap(), Status::Invalid);
        assert_eq!(verified.status(42).unwrap(), Status::Suspended);
        assert_eq!(verified.status(999).unwrap(), Status::Other(3));
        assert_eq!(verified.status(0).unwrap(), Status::Valid);
        assert!(matches!(verified.status(1000), Err(StatusListError::IndexOutOfRange { idx: 1000, .. })));
        let reference = StatusRef::from_claim(&json!({"status_list": {"idx": 42, "uri": URI}})).unwrap();
        assert_eq!(verified.status_of(&reference).unwrap(), Status::Suspended);
        let elsewhere = StatusRef { idx: 42, uri: "https://other.example/status/1".into() };
        assert!(matches!(verified.status_of(&elsewhere), Err(StatusTokenError::SubjectMismatch { .. })));
    }
}

/// Audit finding 9: a token without `exp` or `ttl` is accepted for [`MAX_AGE_WITHOUT_EXPIRY`]
/// after its `iat`, then refused (an old copy could hide later revocations); with `exp` or `ttl`
/// the issuer's own bound applies.
#[test]
fn token_without_exp_or_ttl_has_a_maximum_age() {
    use souverain_core::status_list::MAX_AGE_WITHOUT_EXPIRY;
    let [key, _] = keys(2);
    let claims = StatusListTokenClaims { exp: None, ttl: None, iss: None, ..sample_claims() };
    let token = claims.sign(&key, serde_json::Map::new()).unwrap();
    let payload: Value =
        serde_json::from_slice(UnverifiedStatusListToken::parse(&token).unwrap().payload_unverified()).unwrap();
    assert!(payload.get("exp").is_none() && payload.get("ttl").is_none());
    let verify =
        |token: &str, now: u64| UnverifiedStatusListToken::parse(token).unwrap().verify(&key.public_key(), URI, now);
    let last = claims.iat + MAX_AGE_WITHOUT_EXPIRY;
    assert_eq!(verify(&token, last).unwrap().claims(), &claims);
    assert_eq!(verify(&token, last + 1).unwrap_err(), StatusTokenError::TooOld { iat: claims.iat, now: last + 1 });
    assert!(matches!(verify(&token, u64::MAX), Err(StatusTokenError::TooOld { .. })));
    // A `ttl` tells verifiers when to fetch again: no extra bound from us.
    let with_ttl = StatusListTokenClaims { exp: None, ttl: Some(300), ..claims.clone() };
    assert!(verify(&with_ttl.sign(&key, serde_json::Map::new()).unwrap(), last + 1).is_ok());
}

#[test]
fn token_rejections() {
    let [key, p256] = keys(3);
    let [other, _] = keys(4);
    let pk = key.public_key();
    let claims = sample_claims();
    let token = claims.sign(&key, serde_json::Map::new()).unwrap();
    let verify = |t: &str, k: &PublicKey, uri: &str, now: u64| {
        UnverifiedStatusListToken::parse(t).and_then(|p| p.verify(k, uri, now))
    };
    let now = 1_795_000_100;
    assert!(verify(&token, &pk, URI, now).is_ok());

    // Wrong key, and a key of the other type.
    assert_eq!(
        verify(&token, &other.public_key(), URI, now).unwrap_err(),
        StatusTokenError::Jws(JwsError::BadSignature)
    );
    assert!(matches!(verify(&token, &p256.public_key(), URI, now), Err(StatusTokenError::Jws(_))));

    // Wrong sub.
    assert_eq!(
        verify(&token, &pk, "https://mairie.example/status/2", now).unwrap_err(),
        StatusTokenError::SubjectMismatch { expected: "https://mairie.example/status/2".into(), found: URI.into() }
    );

    // Expired: at exp and after; valid one second before.
    let exp = claims.exp.unwrap();
    assert_eq!(verify(&token, &pk, URI, exp).unwrap_err(), StatusTokenError::Expired { exp, now: exp });
    assert!(matches!(verify(&token, &pk, URI, exp + 1), Err(StatusTokenError::Expired { .. })));
    assert!(verify(&token, &pk, URI, exp - 1).is_ok());

    // Wrong typ (same payload, signed by the right key).
    let payload = Value::Object(claims.to_payload());
    for typ in ["jwt", "dc+sd-jwt", "statuslist+cwt"] {
        let t = sign_raw(&key, typ, &payload);
        assert!(
            matches!(verify(&t, &pk, URI, now), Err(StatusTokenError::Jws(JwsError::TypMismatch { .. }))),
            "typ {typ}"
        );
    }
    // The media-type spelling is the same type.
    assert!(verify(&sign_raw(&key, "application/statuslist+jwt", &payload), &pk, URI, now).is_ok());

    // Tampering with any part.
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let mut body: Value = serde_json::from_slice(&souverain_core::b64::decode(&parts[1]).unwrap()).unwrap();
    body["status_list"] = StatusList::new(Bits::Two, 1000).unwrap().to_json();
    parts[1] = souverain_core::b64::encode(body.to_string());
    assert_eq!(verify(&parts.join("."), &pk, URI, now).unwrap_err(), StatusTokenError::Jws(JwsError::BadSignature));

    // Claims missing or of the wrong type.
    let edits: [(&str, Value, StatusTokenError); 8] = [
        ("sub", Value::Null, StatusTokenError::MissingClaim { name: "sub" }),
        ("sub", json!(1), StatusTokenError::InvalidClaim { name: "sub" }),
        ("iat", Value::Null, StatusTokenError::MissingClaim { name: "iat" }),
        ("iat", json!("1795000000"), StatusTokenError::InvalidClaim { name: "iat" }),
        ("exp", json!(-1), StatusTokenError::InvalidClaim { name: "exp" }),
        ("ttl", json!(1.5), StatusTokenError::InvalidClaim { name: "ttl" }),
        ("status_list", Value::Null, StatusTokenError::MissingClaim { name: "status_list" }),
        (
            "status_list",
            json!({"bits": 3, "lst": "eNrbuRgAAhcBXQ"}),
            StatusTokenError::List(StatusListError::InvalidBits { bits: 3 }),
        ),
    ];
    for (name, value, err) in edits {
        let mut p = payload.clone();
        if value.is_null() {
            p.as_object_mut().unwrap().remove(name);
        } else {
            p[name] = value;
        }
        assert_eq!(verify(&sign_raw(&key, "statuslist+jwt", &p), &pk, URI, now).unwrap_err(), err, "{name}");
    }
}

#[test]
fn token_bound_on_decompressed_size() {
    let [key, _] = keys(5);
    let big = StatusListTokenClaims { list: StatusList::new(Bits::Eight, 100_000).unwrap(), ..sample_claims() };
    let token = big.sign(&key, serde_json::Map::new()).unwrap();
    let parse = || UnverifiedStatusListToken::parse(&token).unwrap();
    assert_eq!(
        parse().verify_with_limit(&key.public_key(), URI, 1_795_000_100, 99_999).unwrap_err(),
        StatusTokenError::List(StatusListError::DecompressedTooLarge { max: 99_999 })
    );
    assert!(parse().verify_with_limit(&key.public_key(), URI, 1_795_000_100, 100_000).is_ok());
}

#[test]
fn draft_jwt_example_parses_and_fails_with_a_foreign_key() {
    let Some(dir) = support::vectors("status-list") else { return };
    // The raw example is folded over several lines.
    let raw: String = support::read(&dir.join("examples/status_list_jwt_raw.md")).split_whitespace().collect();
    let parsed = UnverifiedStatusListToken::parse(&raw).unwrap();
    assert_eq!(parsed.header_unverified()["typ"], json!("statuslist+jwt"));
    let payload: Value = serde_json::from_slice(parsed.payload_unverified()).unwrap();
    assert_eq!(payload["sub"], json!("https://example.com/statuslists/1"));
    let list = StatusList::from_json(&payload["status_list"]).unwrap();
    assert_eq!(list.as_bytes(), &[0xb9, 0xa3]);
    // The draft does not publish the signing key: a key of the right type that is not the issuer's
    // must be refused.
    let [_, p256] = keys(6);
    assert_eq!(
        parsed.verify(&p256.public_key(), "https://example.com/statuslists/1", 1_800_000_000).unwrap_err(),
        StatusTokenError::Jws(JwsError::BadSignature)
    );
}

proptest! {
    #[test]
    fn random_tokens_never_panic(text in ".{0,200}", parts in proptest::collection::vec("[A-Za-z0-9_-]{0,40}", 3)) {
        let [key, _] = keys(7);
        let pk = key.public_key();
        for t in [text, parts.join(".")] {
            if let Ok(p) = UnverifiedStatusListToken::parse(&t) {
                let _ = p.verify(&pk, URI, 0);
            }
        }
    }
}
