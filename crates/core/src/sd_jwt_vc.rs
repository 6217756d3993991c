//! SD-JWT VC (`typ: dc+sd-jwt`): verifiable credentials on top of SD-JWT.
