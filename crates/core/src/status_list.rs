//! Token Status List (IETF OAuth draft): revocation and suspension by index.
