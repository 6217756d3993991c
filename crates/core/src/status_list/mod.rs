//! Token Status List (IETF OAuth draft `draft-ietf-oauth-status-list`): revocation and suspension by index.
//!
//! An issuer keeps one compressed array of small integers per list; each credential it issues carries a
//! `status` claim naming a list (`uri`) and a position in it (`idx`), see [`StatusRef`]. A verifier
//! fetches the signed list (a `statuslist+jwt`, see [`UnverifiedStatusListToken`]), checks it, and reads
//! the entry at `idx`.
//!
//! ```text
//! StatusList --compress/b64--> {"bits", "lst"} --sign--> statuslist+jwt
//! statuslist+jwt --parse--> UnverifiedStatusListToken --verify(key, uri, now)--> VerifiedStatusList --status(idx)-->
//! ```
//!
//! Layout (draft section 4.1): entry `i` of a list with `bits` bits per entry lives in byte
//! `i * bits / 8`, at bit offset `(i * bits) % 8` counted from the least significant bit, so index 0
//! sits in the low bits of byte 0.

mod reference;
mod token;

pub use reference::StatusRef;
pub use token::{
    MAX_AGE_WITHOUT_EXPIRY, StatusListTokenClaims, StatusTokenError, UnverifiedStatusListToken, VerifiedStatusList,
};

use serde_json::{Map, Value};

/// The `typ` header of a Status List Token in JWT form (draft section 5.1).
pub const TYP: &str = "statuslist+jwt";

/// Default bound on the size of a decompressed list: 16 MiB, i.e. 134 million 1-bit entries, far
/// above any commune's needs, and small enough that a hostile `lst` cannot exhaust a phone's memory.
pub const DEFAULT_MAX_DECOMPRESSED: usize = 16 * 1024 * 1024;

/// The number of bits per entry: the draft allows exactly 1, 2, 4 and 8.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Bits {
    /// 1 bit per entry: VALID or INVALID only.
    One = 1,
    /// 2 bits per entry: also SUSPENDED and one application-specific value.
    Two = 2,
    /// 4 bits per entry.
    Four = 4,
    /// 8 bits per entry.
    Eight = 8,
}

impl Bits {
    /// The `bits` value as written in JSON.
    pub fn get(self) -> u8 {
        self as u8
    }

    /// Parses a `bits` value, rejecting anything but 1, 2, 4 and 8.
    pub fn from_u8(bits: u8) -> Result<Bits, StatusListError> {
        match bits {
            1 => Ok(Bits::One),
            2 => Ok(Bits::Two),
            4 => Ok(Bits::Four),
            8 => Ok(Bits::Eight),
            _ => Err(StatusListError::InvalidBits { bits: u64::from(bits) }),
        }
    }

    /// The largest status value an entry of this width can hold.
    pub fn max_value(self) -> u8 {
        // 8 bits: 0xff; otherwise (1 << bits) - 1, computed without overflow.
        (0xffu16 >> (8 - self.get())) as u8
    }

    fn per_byte(self) -> u64 {
        u64::from(8 / self.get())
    }
}

/// A status value (draft section 7.1). Unknown values keep their raw number: the draft reserves
/// 0x03 and 0x0C..=0x0F for applications, and a verifier must not lose what the issuer wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// 0x00: the referenced token is valid, correct or legal.
    Valid,
    /// 0x01: the referenced token is revoked, annulled, taken back, recalled or cancelled (final).
    Invalid,
    /// 0x02: the referenced token is temporarily invalid (may become valid again).
    Suspended,
    /// Any other value (application-specific or reserved), kept raw. Never 0, 1 or 2: [`Status::from_u8`]
    /// maps those to the named variants.
    Other(u8),
}

impl Status {
    /// The typed form of a raw status value.
    pub fn from_u8(value: u8) -> Status {
        match value {
            0x00 => Status::Valid,
            0x01 => Status::Invalid,
            0x02 => Status::Suspended,
            other => Status::Other(other),
        }
    }

    /// The raw value as stored in the list.
    pub fn value(self) -> u8 {
        match self {
            Status::Valid => 0x00,
            Status::Invalid => 0x01,
            Status::Suspended => 0x02,
            Status::Other(v) => v,
        }
    }
}

impl From<u8> for Status {
    fn from(value: u8) -> Status {
        Status::from_u8(value)
    }
}

impl From<Status> for u8 {
    fn from(status: Status) -> u8 {
        status.value()
    }
}

/// Why a status list, its encoding or a status reference was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StatusListError {
    /// `bits` was not 1, 2, 4 or 8.
    #[error("bits must be 1, 2, 4 or 8, got {bits}")]
    InvalidBits {
        /// The value found.
        bits: u64,
    },
    /// The index is beyond the end of the list.
    #[error("index {idx} is out of range for a list of {len} entries")]
    IndexOutOfRange {
        /// The index asked for.
        idx: u64,
        /// The number of entries in the list.
        len: u64,
    },
    /// The status value does not fit in the list's entry width.
    #[error("status value {value} does not fit in {bits} bits")]
    ValueTooLarge {
        /// The value to store.
        value: u8,
        /// The list's entry width.
        bits: u8,
    },
    /// The requested list size does not fit in memory on this platform or exceeds the bound.
    #[error("a list of {size} entries is too large")]
    TooLarge {
        /// The number of entries asked for.
        size: u64,
    },
    /// The status list JSON was not an object.
    #[error("the status list is not a JSON object")]
    NotAnObject,
    /// A required member is missing.
    #[error("member `{name}` is missing")]
    MissingMember {
        /// The member's name.
        name: &'static str,
    },
    /// A member has the wrong JSON type or an invalid value.
    #[error("member `{name}` has an invalid value")]
    InvalidMember {
        /// The member's name.
        name: &'static str,
    },
    /// `lst` is not unpadded base64url.
    #[error("`lst` is not unpadded base64url")]
    Base64,
    /// `lst` does not hold a valid zlib (RFC 1950) stream: bad header, corrupt data, wrong Adler-32
    /// checksum, or truncated.
    #[error("`lst` is not a valid zlib stream")]
    Zlib,
    /// Bytes follow the end of the zlib stream.
    #[error("{extra} bytes follow the end of the zlib stream")]
    TrailingData {
        /// How many bytes follow.
        extra: usize,
    },
    /// The decompressed list would exceed the allowed size (a decompression bomb, or a list larger
    /// than this verifier accepts).
    #[error("the decompressed list exceeds {max} bytes")]
    DecompressedTooLarge {
        /// The bound that was exceeded.
        max: usize,
    },
}

/// A status list: `len` entries of `bits` bits each, packed as the draft lays them out.
///
/// Invariant: `bytes.len() == ceil(len * bits / 8)`, and the padding bits after entry `len - 1` are
/// zero for lists built here (decoded lists keep what the issuer sent, and count every whole entry
/// in the byte array).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusList {
    bits: Bits,
    len: u64,
    bytes: Vec<u8>,
}

impl StatusList {
    /// A list of `size` entries, all VALID (0).
    pub fn new(bits: Bits, size: u64) -> Result<StatusList, StatusListError> {
        let byte_len = size
            .checked_add(bits.per_byte() - 1)
            .map(|n| n / bits.per_byte())
            .and_then(|n| usize::try_from(n).ok())
            .ok_or(StatusListError::TooLarge { size })?;
        Ok(StatusList { bits, len: size, bytes: vec![0; byte_len] })
    }

    /// A list over an existing byte array (every whole entry in it counts).
    pub fn from_bytes(bits: Bits, bytes: Vec<u8>) -> StatusList {
        let len = (bytes.len() as u64).saturating_mul(bits.per_byte());
        StatusList { bits, len, bytes }
    }

    /// The width of one entry.
    pub fn bits(&self) -> Bits {
        self.bits
    }

    /// The number of entries.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the list has no entries.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The packed byte array (before compression).
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Where entry `idx` lives: byte position and bit shift.
    fn locate(&self, idx: u64) -> Result<(usize, u32), StatusListError> {
        let out = StatusListError::IndexOutOfRange { idx, len: self.len };
        if idx >= self.len {
            return Err(out);
        }
        let per_byte = self.bits.per_byte();
        let byte = usize::try_from(idx / per_byte).map_err(|_| out.clone())?;
        // (idx % per_byte) * bits < 8, so the shift always fits.
        let shift = ((idx % per_byte) as u32) * u32::from(self.bits.get());
        if byte >= self.bytes.len() {
            return Err(out);
        }
        Ok((byte, shift))
    }

    /// The raw value of entry `idx`.
    pub fn get_raw(&self, idx: u64) -> Result<u8, StatusListError> {
        let (byte, shift) = self.locate(idx)?;
        let value = self.bytes.get(byte).copied().unwrap_or(0);
        Ok((value >> shift) & self.bits.max_value())
    }

    /// The status of entry `idx`.
    pub fn get(&self, idx: u64) -> Result<Status, StatusListError> {
        self.get_raw(idx).map(Status::from_u8)
    }

    /// Sets entry `idx` to `status`, which must fit in the list's entry width.
    pub fn set(&mut self, idx: u64, status: Status) -> Result<(), StatusListError> {
        let value = status.value();
        let max = self.bits.max_value();
        if value > max {
            return Err(StatusListError::ValueTooLarge { value, bits: self.bits.get() });
        }
        let (byte, shift) = self.locate(idx)?;
        if let Some(b) = self.bytes.get_mut(byte) {
            *b = (*b & !(max << shift)) | (value << shift);
        }
        Ok(())
    }

    /// The byte array compressed as zlib (RFC 1950) DEFLATE at miniz's highest level, as the draft
    /// recommends (smaller lists are cheaper for every verifier to fetch).
    pub fn compress(&self) -> Vec<u8> {
        miniz_oxide::deflate::compress_to_vec_zlib(
            &self.bytes,
            miniz_oxide::deflate::CompressionLevel::UberCompression as u8,
        )
    }

    /// Decompresses a zlib stream into a list, refusing more than `max_bytes` of output, trailing bytes
    /// and any stream error (checksum included).
    pub fn decompress(bits: Bits, compressed: &[u8], max_bytes: usize) -> Result<StatusList, StatusListError> {
        inflate_bounded(compressed, max_bytes).map(|bytes| StatusList::from_bytes(bits, bytes))
    }

    /// The `lst` value: the compressed byte array in unpadded base64url.
    pub fn to_lst(&self) -> String {
        crate::b64::encode(self.compress())
    }

    /// The JSON form `{"bits": n, "lst": "..."}` (draft section 4.2).
    pub fn to_json(&self) -> Value {
        let mut map = Map::new();
        map.insert("bits".into(), Value::from(self.bits.get()));
        map.insert("lst".into(), Value::from(self.to_lst()));
        Value::Object(map)
    }

    /// Parses the JSON form with the default bound ([`DEFAULT_MAX_DECOMPRESSED`]).
    pub fn from_json(value: &Value) -> Result<StatusList, StatusListError> {
        StatusList::from_json_with_limit(value, DEFAULT_MAX_DECOMPRESSED)
    }

    /// Parses the JSON form, refusing lists larger than `max_bytes` once decompressed. Other members
    /// (such as `aggregation_uri`) are ignored.
    pub fn from_json_with_limit(value: &Value, max_bytes: usize) -> Result<StatusList, StatusListError> {
        let obj = value.as_object().ok_or(StatusListError::NotAnObject)?;
        let bits = obj.get("bits").ok_or(StatusListError::MissingMember { name: "bits" })?;
        let bits = bits.as_u64().ok_or(StatusListError::InvalidMember { name: "bits" })?;
        let bits = u8::try_from(bits).map_err(|_| StatusListError::InvalidBits { bits }).and_then(Bits::from_u8)?;
        let lst = obj.get("lst").ok_or(StatusListError::MissingMember { name: "lst" })?;
        let lst = lst.as_str().ok_or(StatusListError::InvalidMember { name: "lst" })?;
        StatusList::from_lst(bits, lst, max_bytes)
    }

    /// Decodes an `lst` value (base64url, then zlib) for entries of `bits` bits.
    pub fn from_lst(bits: Bits, lst: &str, max_bytes: usize) -> Result<StatusList, StatusListError> {
        let compressed = crate::b64::decode(lst).map_err(|_| StatusListError::Base64)?;
        StatusList::decompress(bits, &compressed, max_bytes)
    }
}

/// Inflates a zlib stream, never allocating more than `max` bytes of output, and insisting that the
/// stream ends exactly at the end of the input.
fn inflate_bounded(input: &[u8], max: usize) -> Result<Vec<u8>, StatusListError> {
    use miniz_oxide::inflate::TINFLStatus;
    use miniz_oxide::inflate::core::{DecompressorOxide, decompress, inflate_flags};

    let flags = inflate_flags::TINFL_FLAG_PARSE_ZLIB_HEADER | inflate_flags::TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF;
    let mut state = Box::<DecompressorOxide>::default();
    // Start small and double: the bound, not the input, decides how much memory we may take.
    let mut out = vec![0u8; input.len().saturating_mul(4).max(64).min(max)];
    let mut rest = input;
    let mut out_pos = 0;
    loop {
        let (status, consumed, written) = decompress(&mut state, rest, &mut out, out_pos, flags);
        out_pos = out_pos.saturating_add(written);
        rest = rest.get(consumed..).ok_or(StatusListError::Zlib)?;
        match status {
            TINFLStatus::Done => {
                if !rest.is_empty() {
                    return Err(StatusListError::TrailingData { extra: rest.len() });
                }
                out.truncate(out_pos);
                return Ok(out);
            }
            TINFLStatus::HasMoreOutput => {
                if out.len() >= max {
                    return Err(StatusListError::DecompressedTooLarge { max });
                }
                let new_len = out.len().saturating_mul(2).max(1).min(max);
                out.resize(new_len, 0);
            }
            _ => return Err(StatusListError::Zlib),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_matches_the_draft_short_example() {
        // Draft section 4.1: statuses 1,0,0,1,1,1,0,1, 1,1,0,0,0,1,0,1 -> [0xb9, 0xa3].
        let mut list = StatusList::new(Bits::One, 16).unwrap();
        for (i, v) in [1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1].into_iter().enumerate() {
            list.set(i as u64, Status::from_u8(v)).unwrap();
        }
        assert_eq!(list.as_bytes(), &[0xb9, 0xa3]);
    }

    #[test]
    fn set_overwrites_only_its_entry() {
        let mut list = StatusList::new(Bits::Two, 9).unwrap();
        assert_eq!(list.as_bytes().len(), 3);
        list.set(1, Status::Other(3)).unwrap();
        list.set(1, Status::Suspended).unwrap();
        list.set(2, Status::Invalid).unwrap();
        assert_eq!(list.as_bytes(), &[0b0001_1000, 0, 0]);
        assert_eq!(list.get(1).unwrap(), Status::Suspended);
        assert_eq!(list.get(8).unwrap(), Status::Valid);
        assert!(matches!(list.get(9), Err(StatusListError::IndexOutOfRange { idx: 9, len: 9 })));
    }

    #[test]
    fn max_values() {
        assert_eq!(Bits::One.max_value(), 1);
        assert_eq!(Bits::Two.max_value(), 3);
        assert_eq!(Bits::Four.max_value(), 15);
        assert_eq!(Bits::Eight.max_value(), 255);
    }
}
