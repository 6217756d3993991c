//! `souverain keygen` and `souverain pubkey`.

use rand_core::OsRng;
use souverain_core::jose::{PublicKey, SigningKey};

use crate::cli::{KeyAlg, KeygenArgs};
use crate::error::CliError;
use crate::io;

/// Prints a new private JWK.
pub fn keygen(args: &KeygenArgs) -> Result<(), CliError> {
    let key = match args.alg {
        KeyAlg::Ed25519 => SigningKey::generate_ed25519(&mut OsRng),
        KeyAlg::Es256 => SigningKey::generate_p256(&mut OsRng),
    };
    io::print_json(&serde_json::Value::Object(key.to_jwk().0));
    Ok(())
}

/// Reads a JWK on stdin, prints its public part.
pub fn pubkey() -> Result<(), CliError> {
    let jwk = io::parse_jwk(&io::read_stdin()?, "<stdin>")?;
    let key = PublicKey::from_jwk(&jwk).map_err(|source| CliError::Key { origin: "<stdin>".to_owned(), source })?;
    io::print_json(&serde_json::Value::Object(key.to_jwk().0));
    Ok(())
}
