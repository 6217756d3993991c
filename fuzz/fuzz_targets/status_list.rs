//! Token Status List: mode 0 the `status_list` JSON, 1 `<bits byte><lst>`, 2 a raw token,
//! 3 a token payload signed with the fixture key (so claim and list checks run), 4 `<bits byte>
//! <zlib bytes>` for decompression.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};
use souverain_core::status_list::{Bits, StatusList, TYP, UnverifiedStatusListToken};
use souverain_fuzz::{NOW, STATUS_URI, fixtures, sign};

/// Small, so that a decompression bomb is cut early and cheaply.
const LIMIT: usize = 1 << 20;

fn exercise(list: &StatusList) {
    let len = list.len();
    for idx in [0, 1, len / 2, len.saturating_sub(1), len, u64::MAX] {
        let _ = list.get(idx);
    }
    // The encoding must read back to the same list (small lists only: compression is slow).
    if list.as_bytes().len() > 4096 {
        return;
    }
    let again = StatusList::from_json(&list.to_json()).expect("own encoding reads back");
    assert_eq!(again.as_bytes(), list.as_bytes());
    assert_eq!(again.bits(), list.bits());
}

fn bits(byte: u8) -> Option<Bits> {
    Bits::from_u8(byte).ok()
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let f = fixtures();
    match mode % 5 {
        0 => {
            let Ok(value) = serde_json::from_slice::<Value>(rest) else { return };
            if let Ok(list) = StatusList::from_json_with_limit(&value, LIMIT) {
                exercise(&list);
            }
        }
        1 => {
            let Some((&b, lst)) = rest.split_first() else { return };
            let (Some(bits), Ok(lst)) = (bits(b), std::str::from_utf8(lst)) else { return };
            if let Ok(list) = StatusList::from_lst(bits, lst, LIMIT) {
                exercise(&list);
            }
        }
        2 | 3 => {
            let Ok(text) = std::str::from_utf8(rest) else { return };
            let token = if mode % 5 == 2 { text.to_owned() } else { sign(&f.issuer, TYP, Map::new(), text) };
            let Ok(token) = UnverifiedStatusListToken::parse(&token) else { return };
            let _ = (token.header_unverified().len(), token.payload_unverified().len());
            let Ok(verified) = token.verify_with_limit(&f.issuer.public_key(), STATUS_URI, NOW as u64, LIMIT) else {
                return;
            };
            exercise(verified.list());
            let _ = verified.status(3);
        }
        _ => {
            let Some((&b, compressed)) = rest.split_first() else { return };
            let Some(bits) = bits(b) else { return };
            if let Ok(list) = StatusList::decompress(bits, compressed, LIMIT) {
                assert!(list.as_bytes().len() <= LIMIT);
                exercise(&list);
            }
        }
    }
});
