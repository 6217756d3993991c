//! OpenID4VP 1.0 (final) subset: signed request objects, DCQL queries and matching, direct_post responses.
//!
//! The profile is described in `docs/openid4vp-profile.md`: `dc+sd-jwt` credentials only, client
//! identifiers `decentralized_identifier:did:jwk:...`, `response_mode=direct_post`, and our
//! `souverain_processing` member describing what the consent covers.

pub mod dcql;
pub mod request;
pub mod response;
pub mod url;
