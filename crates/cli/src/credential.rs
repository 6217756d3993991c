//! `souverain issue`, `present` and `verify`: SD-JWT VC on the command line.

use rand_core::OsRng;
use serde_json::{Map, Value, json};
use souverain_core::jose::Alg;
use souverain_core::sd_jwt::{ClaimPath, KeyBindingCheck, KeyBindingParams, SdJwt};
use souverain_core::sd_jwt_vc::{self, StatusRef, VcIssueParams, VcVerifyOptions};

use crate::cli::{IssueArgs, PresentArgs, SignAlg, VerifyArgs};
use crate::error::CliError;
use crate::io;

/// The claim paths given on the command line.
fn paths(texts: &[String]) -> Result<Vec<ClaimPath>, CliError> {
    texts
        .iter()
        .map(|text| ClaimPath::parse(text).map_err(|source| CliError::ClaimPath { path: text.clone(), source }))
        .collect()
}

/// Seconds to the signed integers of JWT NumericDates, refusing what does not fit.
fn seconds(value: u64, what: &'static str) -> Result<i64, CliError> {
    i64::try_from(value).map_err(|_| CliError::OutOfRange { what })
}

fn jose_alg(alg: Option<SignAlg>) -> Option<Alg> {
    alg.map(|alg| match alg {
        SignAlg::EdDsa => Alg::EdDSA,
        SignAlg::Ed25519 => Alg::Ed25519,
        SignAlg::Es256 => Alg::ES256,
    })
}

/// Issues an SD-JWT VC and prints it.
pub fn issue(args: &IssueArgs) -> Result<(), CliError> {
    let issuer = io::signing_key(&args.key)?;
    let holder = io::public_key(&args.holder)?;
    let claims_text = io::read_file(&args.claims)?;
    let claims = match serde_json::from_str::<Value>(&claims_text) {
        Ok(Value::Object(claims)) => claims,
        Ok(_) => return Err(CliError::ClaimsNotObject { path: args.claims.display().to_string() }),
        Err(source) => return Err(CliError::Json { origin: args.claims.display().to_string(), source }),
    };
    let disclosable = if args.disclosable.is_empty() {
        claims.keys().map(|name| ClaimPath::from_segments([name.as_str()])).collect()
    } else {
        paths(&args.disclosable)?
    };
    let now = seconds(io::now_or_clock(args.now), "--now")?;
    let exp = match args.expires_in {
        Some(lifetime) => Some(
            now.checked_add(seconds(lifetime, "--expires-in")?).ok_or(CliError::OutOfRange { what: "--expires-in" })?,
        ),
        None => None,
    };
    let status = match (&args.status_uri, args.status_index) {
        (Some(uri), Some(idx)) => Some(StatusRef { idx, uri: uri.clone() }),
        _ => None,
    };
    let params = VcIssueParams {
        iss: &args.iss,
        vct: &args.vct,
        holder: &holder,
        iat: now,
        nbf: None,
        exp,
        status,
        alg: jose_alg(args.alg),
        decoys: 0,
        extra_header: Map::new(),
    };
    let credential =
        sd_jwt_vc::issue_vc(&issuer, claims, &disclosable, &params, &mut OsRng).map_err(CliError::Credential)?;
    io::print_line(&credential);
    Ok(())
}

/// Presents a credential with the chosen disclosures and a KB-JWT, and prints it.
pub fn present(args: &PresentArgs) -> Result<(), CliError> {
    let holder = io::signing_key(&args.key)?;
    let credential_text = io::read_file(&args.credential)?;
    let credential = SdJwt::parse(credential_text.trim()).map_err(CliError::Parse)?;
    let chosen = paths(&args.disclose)?;
    let iat = seconds(io::now_or_clock(args.now), "--now")?;
    let params = KeyBindingParams { nonce: &args.nonce, aud: &args.aud, iat, alg: jose_alg(args.alg) };
    let presentation = credential.present(&chosen, &holder, &params).map_err(CliError::Present)?;
    io::print_line(&presentation);
    Ok(())
}

/// Verifies a credential or, with a nonce and audience, a presentation; prints what it proves.
pub fn verify(args: &VerifyArgs) -> Result<(), CliError> {
    let issuer = io::public_key(&args.issuer)?;
    let input = io::read_stdin()?;
    let sd_jwt = SdJwt::parse(input.trim()).map_err(CliError::Parse)?;
    let now = seconds(io::now_or_clock(args.now), "--now")?;
    let mut options = VcVerifyOptions::new(now);
    // An inspection tool for any issuer's credentials (the interop suites issue without `exp`): it
    // prints what the credential proves, `exp` or its absence included, and decides nothing. The
    // wallet and the guichet keep the default and refuse a credential without `exp`.
    options.require_exp = false;
    if let (Some(nonce), Some(aud)) = (&args.nonce, &args.aud) {
        options.key_binding = Some(KeyBindingCheck::new(nonce, aud, now));
    }
    let verified = sd_jwt_vc::verify_vc(sd_jwt, &issuer, &options).map_err(CliError::Credential)?;
    let disclosed: Vec<String> = verified.disclosed.iter().map(ToString::to_string).collect();
    io::print_json(&json!({
        "claims": Value::Object(verified.claims),
        "disclosed": disclosed,
        "holder": Value::Object(verified.holder.to_jwk().0),
    }));
    Ok(())
}
