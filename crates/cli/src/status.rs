//! `souverain status-list`: build, update, sign and check Token Status Lists.

use serde_json::{Map, Value, json};
use souverain_core::status_list::{Bits, Status, StatusList, StatusListTokenClaims, UnverifiedStatusListToken};

use crate::cli::StatusListCommand;
use crate::error::CliError;
use crate::io;

/// Reads a list `{"bits": n, "lst": "..."}` from stdin.
fn read_list() -> Result<StatusList, CliError> {
    let text = io::read_stdin()?;
    let value: Value =
        serde_json::from_str(text.trim()).map_err(|source| CliError::Json { origin: "<stdin>".to_owned(), source })?;
    StatusList::from_json(&value).map_err(CliError::StatusList)
}

fn status_name(status: Status) -> &'static str {
    match status {
        Status::Valid => "valid",
        Status::Invalid => "invalid",
        Status::Suspended => "suspended",
        Status::Other(_) => "application_specific",
    }
}

fn print_status(index: usize, status: Status) {
    io::print_json(&json!({ "index": index, "status": status.value(), "name": status_name(status) }));
}

/// Runs one `status-list` subcommand.
pub fn run(command: &StatusListCommand) -> Result<(), CliError> {
    match command {
        StatusListCommand::New { bits, size } => {
            let bits = Bits::from_u8(*bits).map_err(CliError::StatusList)?;
            let list = StatusList::new(bits, *size as u64).map_err(CliError::StatusList)?;
            io::print_json(&list.to_json());
        }
        StatusListCommand::Set { index, status } => {
            let mut list = read_list()?;
            list.set(*index as u64, Status::from_u8(*status)).map_err(CliError::StatusList)?;
            io::print_json(&list.to_json());
        }
        StatusListCommand::Get { index } => {
            let list = read_list()?;
            print_status(*index, list.get(*index as u64).map_err(CliError::StatusList)?);
        }
        StatusListCommand::Sign { key, uri, expires_in, ttl, now } => {
            let key = io::signing_key(key)?;
            let list = read_list()?;
            let iat = io::now_or_clock(*now);
            let exp = match expires_in {
                Some(lifetime) => {
                    Some(iat.checked_add(*lifetime).ok_or(CliError::OutOfRange { what: "--expires-in" })?)
                }
                None => None,
            };
            let claims = StatusListTokenClaims { sub: uri.clone(), iat, exp, ttl: *ttl, iss: None, list };
            io::print_line(&claims.sign(&key, Map::new()).map_err(CliError::StatusToken)?);
        }
        StatusListCommand::Check { issuer, uri, index, now } => {
            let issuer = io::public_key(issuer)?;
            let text = io::read_stdin()?;
            let token = UnverifiedStatusListToken::parse(text.trim()).map_err(CliError::StatusToken)?;
            let verified = token.verify(&issuer, uri, io::now_or_clock(*now)).map_err(CliError::StatusToken)?;
            print_status(*index, verified.status(*index as u64).map_err(CliError::StatusList)?);
        }
    }
    Ok(())
}
