//! # souverain-core
//!
//! The protocol library under every part of Souverain: the wallet in the browser, the commune's
//! guichet and the `souverain` command line all speak through it.
//!
//! It is pure on purpose: no I/O, no clock, no global randomness. Time is passed in as Unix
//! seconds and randomness as a `rand_core` generator, so the same code runs natively and in
//! `wasm32-unknown-unknown`, and every test is deterministic.
//!
//! | module | what it implements |
//! |---|---|
//! | [`b64`] | unpadded base64url (RFC 4648 section 5) |
//! | [`json`] | the one strict JSON reader, and typed objects read member by member |
//! | [`jose`] | Ed25519 and P-256 keys, JWK (RFC 8037), thumbprints (RFC 7638), `did:jwk`/`did:key`, compact JWS |
//! | [`sd_jwt`] | SD-JWT (RFC 9901): issue, present, verify, key binding |
//! | [`sd_jwt_vc`] | SD-JWT VC (`dc+sd-jwt`) on top of [`sd_jwt`] |
//! | [`status_list`] | Token Status List: build, compress, sign, parse, look up |
//! | [`openid4vci`] | OpenID4VCI 1.0 pre-authorized code: offer, token, nonce, key proof, credential |
//! | [`openid4vp`] | OpenID4VP 1.0 requests, DCQL, `direct_post` responses |
//! | [`trust_list`] | the commune's signed list of services and what each may ask |
//! | [`consent`] | signed consent grants, withdrawals and receipts (ISO/IEC TS 27560) |
//! | [`rights`] | the right of access (GDPR art. 15) from a consent: a signed request, the service's signed export |
//! | [`mandate`] | a person's signed mandate letting a carer's wallet act for them (scope, end, revocation); children of the household |
//! | [`vault`] | the wallet's encrypted store format, journal and backup |
//! | [`tlog`] | (feature `data-use-log`) the data-use log's transparency log (C2SP checkpoints, signed notes, cosignatures, tiles, witness; RFC 9162 proofs) |
//! | [`data_use`] | (feature `data-use-log`) data-use events sealed to the citizen (HPKE) and their unlinkable leaves |
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod b64;
pub mod consent;
#[cfg(feature = "data-use-log")]
pub mod data_use;
#[cfg(feature = "event-key")]
pub mod event_key;
pub mod jose;
pub mod json;
pub mod mandate;
pub mod openid4vci;
pub mod openid4vp;
pub mod rights;
pub mod sd_jwt;
pub mod sd_jwt_vc;
pub mod status_list;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
#[cfg(feature = "data-use-log")]
pub mod tlog;
pub mod trust_list;
pub mod vault;
