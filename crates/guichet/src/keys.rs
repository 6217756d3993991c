//! The guichet's keys: generated at first start, stored as private JWK files readable by the
//! owner only (0600, in a 0700 directory), reused afterwards.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac as _};
use rand_core::OsRng;
use sha2::Sha256;
use souverain_core::jose::{Jwk, SigningKey};
use zeroize::Zeroizing;

/// Why a key could not be loaded or created.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyFileError {
    /// The file or its directory could not be read or written.
    #[error("key file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// The file is not a private JWK we can use.
    #[error("key file {0} is not a usable private JWK")]
    Invalid(PathBuf),
}

/// Which curve a new key gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Curve {
    /// Ed25519.
    Ed25519,
    /// P-256 (ES256): the issuer key, for wallets that only verify ES256.
    P256,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> KeyFileError + '_ {
    move |source| KeyFileError::Io { path: path.to_owned(), source }
}

/// Creates `dir` (0700 on Unix) if needed.
pub fn ensure_private_dir(dir: &Path) -> Result<(), KeyFileError> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(io(dir))
}

/// Loads `dir/name.jwk`, or generates, writes (0600) and returns a new key. The new key is written
/// whole to a temporary file first, then linked to its name only if that name is still free: two
/// guichet processes starting at once on one key directory (several processes on one PostgreSQL)
/// end up with the same key, never with a half-written file.
pub fn load_or_create(dir: &Path, name: &str, curve: Curve) -> Result<SigningKey, KeyFileError> {
    let path = dir.join(format!("{name}.jwk"));
    match std::fs::read_to_string(&path) {
        Ok(text) => parse(&path, &text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = match curve {
                Curve::Ed25519 => SigningKey::generate_ed25519(&mut OsRng),
                Curve::P256 => SigningKey::generate_p256(&mut OsRng),
            };
            let mut suffix = [0u8; 8];
            rand_core::RngCore::fill_bytes(&mut OsRng, &mut suffix);
            let temporary = dir.join(format!(".{name}.jwk.{}", souverain_core::b64::encode(suffix)));
            let written = write_new(&temporary, key.to_jwk().to_json().as_bytes())
                .and_then(|()| std::fs::hard_link(&temporary, &path));
            let _ = std::fs::remove_file(&temporary);
            match written {
                Ok(()) => Ok(key),
                // Another process linked its key first: that one is the key.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let text = std::fs::read_to_string(&path).map_err(io(&path))?;
                    parse(&path, &text)
                }
                Err(source) => Err(KeyFileError::Io { path, source }),
            }
        }
        Err(source) => Err(KeyFileError::Io { path, source }),
    }
}

fn parse(path: &Path, text: &str) -> Result<SigningKey, KeyFileError> {
    let jwk = Jwk::from_json(text).map_err(|_| KeyFileError::Invalid(path.to_owned()))?;
    SigningKey::from_jwk(&jwk).map_err(|_| KeyFileError::Invalid(path.to_owned()))
}

/// Creates `path` (0600, exclusively) with `bytes`, flushed to disk.
fn write_new(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// A 32-byte secret for `purpose`, derived from `key`'s private part (HMAC-SHA-256 keyed with the
/// JWK's private member, over the purpose's name). Every guichet process that shares the key
/// files derives the same secret, so cookies and form tokens made by one are read by the others,
/// and survive restarts; another purpose gets an unrelated secret.
pub fn derive_secret(key: &SigningKey, purpose: &str) -> Zeroizing<[u8; 32]> {
    let jwk = key.to_jwk();
    let private = Zeroizing::new(jwk.0.get("d").and_then(|d| d.as_str()).unwrap_or_default().to_owned());
    let mut out = Zeroizing::new([0u8; 32]);
    // HMAC takes keys of any length: the error branch cannot happen; it would leave zeros, which
    // the assertion in the tests would catch.
    if let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(private.as_bytes()) {
        mac.update(b"souverain-guichet derived secret: ");
        mac.update(purpose.as_bytes());
        out.copy_from_slice(&mac.finalize().into_bytes());
    }
    out
}

/// The 32-byte seed of an Ed25519 key (the JWK's `d`), for the data-use log's note signer;
/// `None` for a key of another curve or a JWK without a readable `d`.
pub fn ed25519_seed(key: &SigningKey) -> Option<Zeroizing<[u8; 32]>> {
    let jwk = key.to_jwk();
    if jwk.0.get("crv").and_then(|c| c.as_str()) != Some("Ed25519") {
        return None;
    }
    let d = Zeroizing::new(souverain_core::b64::decode(jwk.0.get("d")?.as_str()?).ok()?);
    let mut seed = Zeroizing::new([0u8; 32]);
    seed.copy_from_slice(d.get(..32).filter(|_| d.len() == 32)?);
    Some(seed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ed25519_seeds_are_read_from_their_jwk() {
        let key = SigningKey::generate_ed25519(&mut OsRng);
        let seed = ed25519_seed(&key).unwrap();
        let signer = souverain_core::tlog::note::Ed25519NoteSigner::new("o", &seed).unwrap();
        let jwk_x = key.public_key().to_jwk().0.get("x").and_then(|x| x.as_str()).map(str::to_owned).unwrap();
        assert_eq!(souverain_core::b64::encode(signer.verifier().public_key()), jwk_x);
        assert!(ed25519_seed(&SigningKey::generate_p256(&mut OsRng)).is_none());
    }

    #[test]
    fn derived_secrets_depend_on_key_and_purpose() {
        let a = SigningKey::generate_ed25519(&mut OsRng);
        let b = SigningKey::generate_ed25519(&mut OsRng);
        assert_ne!(*derive_secret(&a, "csrf"), [0u8; 32]);
        assert_eq!(*derive_secret(&a, "csrf"), *derive_secret(&a, "csrf"));
        assert_ne!(*derive_secret(&a, "csrf"), *derive_secret(&a, "login"));
        assert_ne!(*derive_secret(&a, "csrf"), *derive_secret(&b, "csrf"));
    }
}
