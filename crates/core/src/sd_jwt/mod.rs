//! SD-JWT (RFC 9901): selective disclosure for JWTs.
