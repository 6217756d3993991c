//! JOSE: keys, JWK (RFC 7517, RFC 8037), RFC 7638 thumbprints, `did:jwk` and `did:key`, compact JWS (RFC 7515).
