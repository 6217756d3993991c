//! One error type for the whole tool, printed as a JSON object with a stable code.
//!
//! Exit codes: 1 when a credential, presentation, status list or backup is invalid, or a backup's
//! key is wrong (the input was read and judged), 2 for usage and I/O errors (nothing could be judged).

use std::process::ExitCode;

use souverain_core::consent::ConsentError;
use souverain_core::jose::{JwsError, KeyError};
use souverain_core::openid4vp::dcql::DcqlError;
use souverain_core::openid4vp::request::RequestError;
use souverain_core::openid4vp::response::ResponseError;
use souverain_core::sd_jwt::{ClaimPathError, PresentError, SdJwtError};
use souverain_core::sd_jwt_vc::VcError;
use souverain_core::status_list::{StatusListError, StatusTokenError};
use souverain_core::trust_list::TrustListError;

/// Everything that can stop a command, one variant per cause.
#[derive(Debug)]
pub enum CliError {
    /// A file or stdin could not be read.
    Io {
        /// The path, or `<stdin>`.
        path: String,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// A key file is not a usable JWK.
    Key {
        /// Where the key came from.
        origin: String,
        /// Why it was refused.
        source: KeyError,
    },
    /// An input is not JSON.
    Json {
        /// Where it came from.
        origin: String,
        /// The parser's reason.
        source: serde_json::Error,
    },
    /// The claims file is JSON but not an object.
    ClaimsNotObject {
        /// The file.
        path: String,
    },
    /// A claim path argument is malformed.
    ClaimPath {
        /// The argument.
        path: String,
        /// Why.
        source: ClaimPathError,
    },
    /// A number does not fit a JWT date.
    OutOfRange {
        /// The argument.
        what: &'static str,
    },
    /// The input is not an SD-JWT at all.
    Parse(SdJwtError),
    /// The credential could not be issued, or was rejected.
    Credential(VcError),
    /// The credential could not be presented.
    Present(PresentError),
    /// A status list is malformed or an index is out of range.
    StatusList(StatusListError),
    /// A status list token is malformed or was rejected.
    StatusToken(StatusTokenError),
    /// The guichet could not start.
    ServerStart(souverain_guichet::StartError),
    /// The guichet stopped on an I/O error while serving.
    ServerIo(std::io::Error),
    /// A backup could not be opened (see `crate::backup` for codes and exit codes).
    Backup(crate::backup::BackupFailure),
    /// A request object or URL was refused (exit 1: the input was judged).
    Request(RequestError),
    /// A request object or URL could not be built from the arguments (exit 2).
    RequestInput(RequestError),
    /// A DCQL query file is invalid.
    Dcql(DcqlError),
    /// An authorization response was refused (including `replay`).
    Response(ResponseError),
    /// A consent grant, withdrawal or receipt was refused or could not be made.
    Consent(ConsentError),
    /// A trust list was refused.
    TrustList(TrustListError),
    /// A trust list could not be signed.
    TrustListInput(TrustListError),
    /// No held credential answers a credential query (or a required credential set).
    NoMatch {
        /// The query id.
        query: String,
    },
    /// A `--decline` path is required, or is no optional claim of the request.
    CannotDecline {
        /// The path(s).
        path: String,
    },
    /// No issuer key was given to check a credential.
    NoIssuer,
    /// `souverain log` refused a checkpoint or its arguments.
    Log(crate::log::LogError),
    /// `souverain witness` could not start.
    Witness(crate::witness::WitnessStartError),
    /// A `souverain study` command failed (the reason, in words).
    Study(String),
    /// `souverain aggregator` could not start or stopped on an error.
    Aggregator(souverain_guichet::aggregator::AggregatorStartError),
    /// A file could not be written.
    Write {
        /// The path.
        path: String,
        /// The operating system's reason.
        source: std::io::Error,
    },
}

/// A stable code for a request failure.
fn request_code(error: &RequestError) -> &'static str {
    match error {
        RequestError::Jws(jws) => jws_code(jws),
        RequestError::UnsupportedParameter { .. }
        | RequestError::UnsupportedValue { .. }
        | RequestError::UnsupportedClientIdPrefix { .. } => "unsupported_feature",
        RequestError::Dcql(_) => "invalid_dcql",
        RequestError::ClientIdMismatch => "client_id_mismatch",
        RequestError::KidMismatch => "kid_mismatch",
        RequestError::Expired { .. } => "expired",
        RequestError::IssuedInFuture { .. } => "not_yet_valid",
        _ => "malformed_request",
    }
}

/// A stable code for a consent record failure.
fn consent_code(error: &ConsentError) -> &'static str {
    match error {
        ConsentError::Jws(jws) => jws_code(jws),
        ConsentError::UnsupportedSchema { .. } => "unsupported_schema",
        ConsentError::WrongSigner | ConsentError::ServiceKey(_) => "wrong_signer",
        ConsentError::PrincipalMismatch => "principal_mismatch",
        ConsentError::AudienceMismatch | ConsentError::NonceMismatch | ConsentError::VpTokenMismatch => {
            "grant_not_bound"
        }
        ConsentError::WrongReference { .. } => "wrong_reference",
        ConsentError::AlreadyExpired { .. } => "expired",
        ConsentError::NotYetExpired { .. } => "not_yet_expired",
        ConsentError::GroundsTooLong { .. } => "grounds_too_long",
        ConsentError::ClaimNotInGrant { .. } => "claim_not_in_grant",
        ConsentError::BadCorrectedValue { .. } => "bad_corrected_value",
        ConsentError::BadDecision { .. } => "bad_decision",
        _ => "malformed_consent_record",
    }
}

/// A stable code for a response failure.
fn response_code(error: &ResponseError) -> &'static str {
    match error {
        ResponseError::Replay => "replay",
        ResponseError::StateMismatch => "state_mismatch",
        ResponseError::WalletError { .. } => "wallet_error",
        ResponseError::UnsupportedParameter { .. } => "unsupported_feature",
        ResponseError::MissingRequired { .. } => "missing_required",
        ResponseError::DoesNotAnswer { .. } => "does_not_answer",
        ResponseError::UnknownIssuer { .. } => "unknown_issuer",
        ResponseError::HolderKeysDiffer => "holder_keys_differ",
        ResponseError::MissingGrant => "missing_grant",
        ResponseError::Grant(error) => consent_code(error),
        ResponseError::Presentation { error, .. } => sd_jwt_code(error),
        ResponseError::Verification { error, .. } => vc_code(error),
        ResponseError::ChildNotInHousehold => "child_not_in_household",
        ResponseError::ChildNotNamed => "child_not_named",
        _ => "malformed_response",
    }
}

/// A stable code for an SD-JWT VC failure.
fn vc_code(error: &VcError) -> &'static str {
    match error {
        VcError::SdJwt(error) => sd_jwt_code(error),
        VcError::Issue(_) | VcError::ReservedClaim { .. } => "cannot_issue",
        VcError::Expired { .. } => "expired",
        VcError::NotYetValid { .. } | VcError::IssuedInFuture { .. } => "not_yet_valid",
        VcError::MissingCnf => "invalid_holder_key",
        _ => "invalid_credential",
    }
}

/// A stable code for a JWS failure.
fn jws_code(error: &JwsError) -> &'static str {
    match error {
        JwsError::BadSignature | JwsError::SignatureLength(_) | JwsError::AlgKeyMismatch { .. } => "invalid_signature",
        JwsError::UnsupportedAlg(_) => "unsupported_alg",
        JwsError::CritUnsupported => "unsupported_crit",
        JwsError::TypMismatch { .. } | JwsError::TypNotString => "unexpected_typ",
        _ => "malformed_jws",
    }
}

/// A stable code for an SD-JWT failure.
fn sd_jwt_code(error: &SdJwtError) -> &'static str {
    match error {
        SdJwtError::IssuerJws(jws) => jws_code(jws),
        SdJwtError::UnreferencedDisclosure { .. } => "unreferenced_disclosure",
        SdJwtError::DuplicateDigest { .. } | SdJwtError::DuplicateDisclosure { .. } => "duplicate_digest",
        SdJwtError::ClaimNameCollision { .. } => "claim_name_collision",
        SdJwtError::MissingKeyBinding => "missing_key_binding",
        SdJwtError::UnexpectedKeyBinding => "unexpected_key_binding",
        SdJwtError::KbJws(_) => "invalid_key_binding",
        SdJwtError::KbNonceMismatch => "nonce_mismatch",
        SdJwtError::KbAudienceMismatch => "audience_mismatch",
        SdJwtError::KbIatOutOfWindow { .. } => "key_binding_expired",
        SdJwtError::KbSdHashMismatch => "sd_hash_mismatch",
        SdJwtError::MissingCnf | SdJwtError::InvalidCnf | SdJwtError::CnfKey(_) => "invalid_holder_key",
        _ => "malformed_sd_jwt",
    }
}

impl CliError {
    /// The stable, snake_case code that scripts match on.
    pub fn code(&self) -> &'static str {
        match self {
            CliError::Io { .. } => "io_error",
            CliError::Key { .. } => "invalid_key",
            CliError::Json { .. } => "invalid_json",
            CliError::ClaimsNotObject { .. } => "claims_not_object",
            CliError::ClaimPath { .. } => "invalid_claim_path",
            CliError::OutOfRange { .. } => "out_of_range",
            CliError::Parse(error) => sd_jwt_code(error),
            CliError::Credential(error) => vc_code(error),
            CliError::Present(error) => match error {
                PresentError::PathNotFound { .. } => "claim_not_found",
                PresentError::HolderKeyMismatch => "holder_key_mismatch",
                PresentError::AlreadyPresented => "already_presented",
                PresentError::Credential(error) => sd_jwt_code(error),
                _ => "cannot_present",
            },
            CliError::StatusList(error) => match error {
                StatusListError::IndexOutOfRange { .. } => "index_out_of_range",
                StatusListError::ValueTooLarge { .. } => "status_too_large",
                StatusListError::InvalidBits { .. } => "invalid_bits",
                _ => "invalid_status_list",
            },
            CliError::StatusToken(error) => match error {
                StatusTokenError::Jws(jws) => jws_code(jws),
                StatusTokenError::SubjectMismatch { .. } => "status_list_uri_mismatch",
                StatusTokenError::Expired { .. } => "expired",
                StatusTokenError::List(StatusListError::IndexOutOfRange { .. }) => "index_out_of_range",
                _ => "invalid_status_list",
            },
            CliError::ServerStart(_) => "server_start_failed",
            CliError::ServerIo(_) => "server_io_error",
            CliError::Backup(f) => f.code(),
            CliError::Request(error) | CliError::RequestInput(error) => request_code(error),
            CliError::Dcql(_) => "invalid_dcql",
            CliError::Response(error) => response_code(error),
            CliError::Consent(error) => consent_code(error),
            CliError::TrustList(TrustListError::Jws(jws)) => jws_code(jws),
            CliError::TrustList(TrustListError::Expired { .. }) => "expired",
            CliError::TrustList(_) | CliError::TrustListInput(_) => "invalid_trust_list",
            CliError::NoMatch { .. } => "no_matching_credential",
            CliError::CannotDecline { .. } => "cannot_decline",
            CliError::NoIssuer => "no_issuer",
            CliError::Write { .. } => "io_error",
            CliError::Witness(_) => "witness_start_failed",
            CliError::Aggregator(_) => "aggregator_start_failed",
            CliError::Study(_) => "study_failed",
            CliError::Log(error) => error.code(),
        }
    }

    /// 1 for an invalid credential, presentation or list; 2 for usage or I/O errors.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Backup(f) => f.exit_code(),
            CliError::Log(error) => error.exit_code(),
            CliError::Request(_)
            | CliError::Response(_)
            | CliError::Consent(_)
            | CliError::TrustList(_)
            | CliError::NoMatch { .. } => 1,
            CliError::Parse(_)
            | CliError::Present(PresentError::Credential(_))
            | CliError::StatusList(_)
            | CliError::StatusToken(_) => 1,
            CliError::Credential(
                VcError::Issue(_) | VcError::ReservedClaim { .. } | VcError::RegisteredClaimDisclosable { .. },
            ) => 2,
            CliError::Credential(_) => 1,
            _ => 2,
        }
    }

    /// The human explanation.
    pub fn message(&self) -> String {
        match self {
            CliError::Io { path, source } => format!("cannot read {path}: {source}"),
            CliError::Key { origin, source } => format!("{origin}: {source}"),
            CliError::Json { origin, source } => format!("{origin} is not valid JSON: {source}"),
            CliError::ClaimsNotObject { path } => format!("{path} must hold a JSON object of claims"),
            CliError::ClaimPath { path, source } => format!("invalid claim path {path:?}: {source}"),
            CliError::OutOfRange { what } => format!("{what} is out of range"),
            CliError::Parse(error) => format!("not an SD-JWT: {error}"),
            CliError::Credential(error) => error.to_string(),
            CliError::Present(error) => error.to_string(),
            CliError::StatusList(error) => error.to_string(),
            CliError::StatusToken(error) => error.to_string(),
            CliError::ServerStart(error) => error.to_string(),
            CliError::ServerIo(error) => format!("the server stopped: {error}"),
            CliError::Backup(f) => f.message(),
            CliError::Request(error) | CliError::RequestInput(error) => error.to_string(),
            CliError::Dcql(error) => format!("DCQL query: {error}"),
            CliError::Response(error) => error.to_string(),
            CliError::Consent(error) => error.to_string(),
            CliError::TrustList(error) | CliError::TrustListInput(error) => error.to_string(),
            CliError::NoMatch { query } => format!("no held credential answers credential query {query:?}"),
            CliError::CannotDecline { path } => {
                format!("cannot decline {path}: only optional claims of the request can be declined")
            }
            CliError::NoIssuer => "no issuer key given".to_owned(),
            CliError::Write { path, source } => format!("cannot write {path}: {source}"),
            CliError::Witness(error) => error.to_string(),
            CliError::Aggregator(error) => error.to_string(),
            CliError::Study(reason) => reason.clone(),
            CliError::Log(error) => error.to_string(),
        }
    }

    /// Prints the JSON error on stdout and returns the exit code.
    pub fn report(&self) -> ExitCode {
        print_error(self.code(), &self.message());
        ExitCode::from(self.exit_code())
    }
}

fn print_error(code: &str, message: &str) {
    crate::io::print_line(&serde_json::json!({ "error": code, "message": message }).to_string());
}

/// Help and version go to stdout with exit 0; every other parse failure is a usage error (2).
pub fn clap_exit(err: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match err.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            crate::io::print_line(err.render().to_string().trim_end());
            ExitCode::SUCCESS
        }
        _ => {
            let text = err.render().to_string();
            let first_line = text.lines().next().unwrap_or("invalid usage").trim_start_matches("error: ");
            print_error("usage", first_line);
            ExitCode::from(2)
        }
    }
}
