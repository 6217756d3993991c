//! JSON errors with stable codes: `{"error": "<code>", "message": "<text>"}`. Messages say what
//! was wrong with the request, never how the server is built (internal causes are logged only).
//!
//! [`ApiError`] has one variant per cause; each variant knows its HTTP status and its stable code.
//! Several causes may share a code when a standard fixes it (OAuth's `invalid_grant` and
//! `invalid_token`), so that clients written to the standard keep working.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// An error answer: one variant per cause.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ApiError {
    // --- The request's form -------------------------------------------------------------
    /// The body is not JSON, or names a member twice in one object.
    MalformedJson(String),
    /// The JSON body is not the expected shape (unknown, missing or mistyped member).
    InvalidBody(String),
    /// An agents' form or query could not be read, or an agent's decision is incomplete (the
    /// same from a page's form and from the agents' JSON API, which share its check).
    InvalidForm(String),
    /// The body's content type is not the one this endpoint reads.
    UnsupportedMediaType {
        /// The content type expected.
        expected: &'static str,
    },
    /// A status a layer or extractor produced without a body (size limit, unknown path…).
    Layer(StatusCode),
    /// The guichet failed; the cause was logged, the client learns nothing more.
    Internal,

    // --- Who may call --------------------------------------------------------------------
    /// The agents' side is closed: reachable beyond loopback with no agent token configured.
    AgentAccessClosed,
    /// The agents' side needs the agent token.
    AgentTokenRequired,
    /// Too many requests from this client.
    RateLimited,
    /// An unsafe request on the agents' side came from another site.
    CrossSiteRequest,
    /// A posted agents' form carried no readable CSRF token.
    CsrfFormUnreadable,
    /// A posted agents' form carried a CSRF token that is expired or not this session's.
    CsrfTokenInvalid,
    /// Agents sign in with OpenID Connect here, and this request has no live session.
    AgentSignInRequired,
    /// The signed-in agent's roles do not allow this (what is named).
    RoleRequired(String),
    /// An agent's sign-in was refused (one cause per variant of [`crate::oidc::SignInError`]).
    SignIn(crate::oidc::SignInError),

    // --- Issuance (OpenID4VCI) -----------------------------------------------------------
    /// The token request is malformed.
    InvalidTokenRequest(String),
    /// The pre-authorized code is unknown, expired or already used.
    UnknownPreAuthorizedCode,
    /// The transaction code is missing or wrong.
    WrongTxCode,
    /// The offer needs the citizen's sign-in (FranceConnect) and none happened yet.
    CitizenIdentityRequired,
    /// An agent asked for an offer requiring the citizen's sign-in, and this guichet has no
    /// `[citizen_identity]`.
    CitizenIdentityNotConfigured,
    /// The credential request carries no Bearer access token.
    AccessTokenRequired,
    /// The access token is unknown, expired or already used.
    UnknownAccessToken,
    /// The credential was already issued for this access token, to another proof.
    AlreadyIssued,
    /// The credential request is malformed.
    InvalidCredentialRequest(String),
    /// The credential request names another configuration than the offer's.
    OtherCredentialConfiguration,
    /// An agent asked for a credential type the guichet does not issue.
    UnknownCredentialConfiguration,
    /// The key proof is malformed or does not verify.
    InvalidProof(String),
    /// The key proof carries no nonce.
    ProofWithoutNonce,
    /// The key proof's nonce is unknown, expired or already used.
    UnknownNonce,
    /// An agent's offer would carry no claim.
    NoClaims,
    /// An agent's offer sets a claim the guichet sets itself.
    ReservedClaim(String),
    /// The credential to revoke is unknown or already revoked.
    UnknownCredential,

    // --- Presentations (OpenID4VP) -------------------------------------------------------
    /// No such service.
    UnknownService,
    /// This guichet runs no studies (`--studies`).
    NoStudies,
    /// No such purpose for this service.
    UnknownPurpose,
    /// No such request.
    UnknownRequest,
    /// The request has expired.
    RequestExpired,
    /// The request was already answered with another response.
    Replay,
    /// A presented credential comes from an issuer the service does not trust.
    UnknownIssuer(String),
    /// The consent grant is missing, malformed, badly signed, or its terms are not the request's.
    InvalidGrant(String),
    /// The wallet answered with an error.
    WalletError(String),
    /// The presentation does not verify or does not answer the query.
    InvalidPresentation(String),
    /// A presented credential's status list is not the commune's.
    UnknownStatusList,
    /// A presented credential was revoked.
    RevokedCredential,
    /// A presented credential points into the commune's list but was not issued here.
    CredentialNotIssuedHere,
    /// A representative's answer whose mandate does not allow it (out of scope, expired,
    /// another carer, signed by another than the credential's holder).
    InvalidMandate(String),
    /// The person revoked the mandate the representative acts under (403).
    MandateRevoked,
    /// A mandate revocation that is malformed or not signed by its principal.
    InvalidRevocation(String),
    /// The service's register is read only while an emergency plan is in force, and none is
    /// (403: the heatwave register, CASF art. L121-6-1).
    EmergencyPlanNotInForce,
    /// An emergency plan declared for a service whose data is not kept for one, or without the
    /// prefect's act or a valid duration.
    InvalidEmergencyPlan(String),

    // --- Consent registry ----------------------------------------------------------------
    /// The withdrawal is malformed or not signed by the grant's holder.
    InvalidWithdrawal(String),
    /// The access request is malformed, not signed by the grant's principal, or about another
    /// grant or service.
    InvalidAccessRequest(String),
    /// The erasure request is malformed, not signed by the grant's principal, or about another
    /// grant or service.
    InvalidErasureRequest(String),
    /// The citizen had the grant's data erased (GDPR art. 17): nothing of it can be read (410).
    GrantErased,
    /// An objection (GDPR art. 21) that cannot be verified against its grant (400).
    InvalidObjection(String),
    /// The citizen objected to the grant's use (GDPR art. 21): nothing of it can be read (410).
    GrantObjected,
    /// Another objection to a grant already objected to; the first stands (409).
    AlreadyObjected,
    /// A rectification request (GDPR art. 16) that cannot be verified against its grant (400).
    InvalidRectification(String),
    /// A rectification request names a claim the service does not hold under the grant (409).
    ClaimNotHeld,
    /// No pending rectification by that id (404).
    UnknownRectification,
    /// The rectification was already decided: the first decision stands (409).
    AlreadyDecided,
    /// No such grant.
    UnknownGrant,
    /// The grant has ended: nothing is left to withdraw.
    ConsentExpired(String),
    /// The grant was already withdrawn by another withdrawal.
    AlreadyWithdrawn,
    /// The purpose parameter is missing.
    MissingPurpose,

    // --- The data-use log ----------------------------------------------------------------
    /// The access could not be appended to the data-use log, so it did not happen (503).
    LogUnavailable,
    /// No such leaf in the data-use log, or no such tile yet.
    UnknownLogEntry,
    /// The sealed event was erased at the end of retention (its leaf stays).
    LogEventErased,
}

impl ApiError {
    /// A 500: the cause is logged (`tracing`, level error), the client learns nothing more.
    pub fn internal(cause: &dyn std::fmt::Display) -> ApiError {
        tracing::error!(%cause, "internal error");
        ApiError::Internal
    }

    /// A 503: the data-use log refused an append, so the access it would have recorded is refused
    /// (the cause is logged).
    pub fn log_unavailable(cause: &dyn std::fmt::Display) -> ApiError {
        tracing::error!(%cause, "data-use log append failed: access refused");
        ApiError::LogUnavailable
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        use ApiError::*;
        match self {
            Layer(status) => *status,
            Internal => StatusCode::INTERNAL_SERVER_ERROR,
            UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AgentAccessClosed | CrossSiteRequest | CsrfFormUnreadable | CsrfTokenInvalid => StatusCode::FORBIDDEN,
            AgentTokenRequired | AccessTokenRequired | UnknownAccessToken | AlreadyIssued => StatusCode::UNAUTHORIZED,
            RateLimited => StatusCode::TOO_MANY_REQUESTS,
            AgentSignInRequired => StatusCode::UNAUTHORIZED,
            RoleRequired(_) | MandateRevoked | EmergencyPlanNotInForce => StatusCode::FORBIDDEN,
            SignIn(cause) => cause.status(),
            UnknownCredential | UnknownService | NoStudies | UnknownRequest | UnknownGrant | UnknownLogEntry => {
                StatusCode::NOT_FOUND
            }
            RequestExpired | LogEventErased | GrantErased | GrantObjected => StatusCode::GONE,
            LogUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Replay | ConsentExpired(_) | AlreadyWithdrawn | AlreadyObjected | ClaimNotHeld | AlreadyDecided => {
                StatusCode::CONFLICT
            }
            UnknownRectification => StatusCode::NOT_FOUND,
            MalformedJson(_)
            | InvalidBody(_)
            | InvalidForm(_)
            | InvalidTokenRequest(_)
            | UnknownPreAuthorizedCode
            | WrongTxCode
            | CitizenIdentityRequired
            | CitizenIdentityNotConfigured
            | InvalidCredentialRequest(_)
            | OtherCredentialConfiguration
            | UnknownCredentialConfiguration
            | InvalidProof(_)
            | ProofWithoutNonce
            | UnknownNonce
            | NoClaims
            | ReservedClaim(_)
            | UnknownPurpose
            | UnknownIssuer(_)
            | InvalidGrant(_)
            | WalletError(_)
            | InvalidPresentation(_)
            | UnknownStatusList
            | RevokedCredential
            | CredentialNotIssuedHere
            | InvalidMandate(_)
            | InvalidRevocation(_)
            | InvalidEmergencyPlan(_)
            | InvalidWithdrawal(_)
            | InvalidAccessRequest(_)
            | InvalidErasureRequest(_)
            | InvalidObjection(_)
            | InvalidRectification(_)
            | MissingPurpose => StatusCode::BAD_REQUEST,
        }
    }

    /// The stable code clients read.
    pub fn code(&self) -> &'static str {
        use ApiError::*;
        match self {
            MalformedJson(_) => "malformed_json",
            InvalidBody(_) => "invalid_body",
            InvalidForm(_) => "bad_request",
            UnsupportedMediaType { .. } => "unsupported_media_type",
            Layer(status) => layer_code(*status),
            Internal => "internal_error",
            AgentAccessClosed => "agent_access_closed",
            AgentTokenRequired => "agent_token_required",
            RateLimited => "rate_limited",
            CrossSiteRequest => "cross_site_request",
            CsrfFormUnreadable | CsrfTokenInvalid => "csrf_token_invalid",
            AgentSignInRequired => "agent_sign_in_required",
            RoleRequired(_) => "role_required",
            SignIn(cause) => cause.code(),
            // RFC 6749 section 5.2 and RFC 6750 section 3.1 fix these codes.
            InvalidTokenRequest(_) => "invalid_request",
            UnknownPreAuthorizedCode | WrongTxCode | CitizenIdentityRequired => "invalid_grant",
            CitizenIdentityNotConfigured => "citizen_identity_not_configured",
            AccessTokenRequired | UnknownAccessToken | AlreadyIssued => "invalid_token",
            InvalidCredentialRequest(_) => "invalid_credential_request",
            OtherCredentialConfiguration | UnknownCredentialConfiguration => "unknown_credential_configuration",
            InvalidProof(_) => "invalid_proof",
            ProofWithoutNonce | UnknownNonce => "invalid_nonce",
            NoClaims | ReservedClaim(_) => "invalid_claims",
            UnknownCredential | CredentialNotIssuedHere => "unknown_credential",
            UnknownService => "unknown_service",
            NoStudies => "no_studies",
            UnknownPurpose => "unknown_purpose",
            UnknownRequest => "unknown_request",
            RequestExpired => "request_expired",
            Replay => "replay",
            UnknownIssuer(_) => "unknown_issuer",
            InvalidGrant(_) => "invalid_grant",
            WalletError(_) => "wallet_error",
            InvalidPresentation(_) => "invalid_presentation",
            UnknownStatusList => "unknown_status_list",
            RevokedCredential => "revoked_credential",
            InvalidMandate(_) => "invalid_mandate",
            MandateRevoked => "mandate_revoked",
            InvalidRevocation(_) => "invalid_revocation",
            EmergencyPlanNotInForce => "emergency_plan_not_in_force",
            InvalidEmergencyPlan(_) => "invalid_emergency_plan",
            InvalidWithdrawal(_) => "invalid_withdrawal",
            InvalidAccessRequest(_) => "invalid_access_request",
            InvalidErasureRequest(_) => "invalid_erasure_request",
            GrantErased => "grant_erased",
            InvalidObjection(_) => "invalid_objection",
            GrantObjected => "grant_objected",
            AlreadyObjected => "already_objected",
            InvalidRectification(_) => "invalid_rectification",
            ClaimNotHeld => "claim_not_held",
            UnknownRectification => "unknown_rectification",
            AlreadyDecided => "already_decided",
            UnknownGrant => "unknown_grant",
            ConsentExpired(_) => "consent_expired",
            AlreadyWithdrawn => "already_withdrawn",
            MissingPurpose => "missing_purpose",
            LogUnavailable => "log_unavailable",
            UnknownLogEntry => "unknown_log_entry",
            LogEventErased => "log_event_erased",
        }
    }

    /// The text shown to the client (safe to show: never an internal cause).
    pub fn message(&self) -> String {
        use ApiError::*;
        let fixed = match self {
            MalformedJson(detail)
            | InvalidBody(detail)
            | InvalidForm(detail)
            | InvalidTokenRequest(detail)
            | InvalidCredentialRequest(detail)
            | InvalidProof(detail)
            | UnknownIssuer(detail)
            | InvalidGrant(detail)
            | WalletError(detail)
            | InvalidPresentation(detail)
            | InvalidWithdrawal(detail)
            | InvalidAccessRequest(detail)
            | InvalidErasureRequest(detail)
            | InvalidObjection(detail)
            | InvalidRectification(detail)
            | InvalidMandate(detail)
            | InvalidRevocation(detail)
            | InvalidEmergencyPlan(detail)
            | ConsentExpired(detail) => return detail.clone(),
            ReservedClaim(name) => return format!("the claim {name:?} is reserved"),
            RoleRequired(what) => return format!("your roles do not allow {what}"),
            SignIn(cause) => return cause.to_string(),
            UnsupportedMediaType { expected } => return format!("the body must be {expected}"),
            Layer(status) => layer_message(*status),
            Internal => "the guichet could not complete the request",
            AgentAccessClosed => {
                "the agents' side is closed: this guichet is reachable beyond loopback and has no agent_token_sha256"
            }
            AgentTokenRequired => "an agent token is required",
            RateLimited => "too many requests; retry later",
            CrossSiteRequest => "a request from another site may not act on the agents' side",
            CsrfFormUnreadable => "the form could not be read",
            CsrfTokenInvalid => "the form has expired or did not come from the guichet: reload it",
            AgentSignInRequired => "sign in as an agent first",
            UnknownPreAuthorizedCode => "unknown, expired or already used code",
            WrongTxCode => "the transaction code is missing or wrong; the offer is withdrawn after a few wrong codes",
            AccessTokenRequired => "a Bearer access token is required",
            UnknownAccessToken => "unknown, expired or already used access token",
            AlreadyIssued => "the credential was already issued",
            CitizenIdentityRequired => {
                "this offer needs the citizen's sign-in first, through the identification link the agent gave"
            }
            CitizenIdentityNotConfigured => "this guichet has no citizen identification ([citizen_identity])",
            OtherCredentialConfiguration => "the offer was for another credential",
            UnknownCredentialConfiguration => "no such credential type",
            ProofWithoutNonce => "the proof has no nonce",
            UnknownNonce => "unknown, expired or already used c_nonce",
            NoClaims => "the credential would carry no claim",
            UnknownCredential => "no such credential, or already revoked",
            UnknownService => "no such service",
            NoStudies => "this guichet runs no studies",
            UnknownPurpose => "no such purpose",
            UnknownRequest => "no such request",
            RequestExpired => "the request has expired",
            Replay => "this request was already answered",
            UnknownStatusList => "the credential's status list is not the commune's",
            RevokedCredential => "a presented credential was revoked",
            CredentialNotIssuedHere => "a presented credential was not issued here",
            MandateRevoked => "the person revoked the mandate this answer was given under",
            EmergencyPlanNotInForce => {
                "this register is read only while the prefect's emergency plan is in force, and none is"
            }
            UnknownGrant => "no such grant",
            GrantErased => "the citizen had this grant's data erased: nothing of it can be read",
            GrantObjected => "the citizen objected to any use of this grant's data: nothing of it can be read",
            AlreadyObjected => "the citizen already objected to this grant; post that objection again for its receipt",
            ClaimNotHeld => "the service holds no such claim under this grant",
            UnknownRectification => "no pending rectification by that id",
            AlreadyDecided => "this rectification was already decided",
            AlreadyWithdrawn => "the grant was already withdrawn",
            MissingPurpose => "the `purpose` parameter is required",
            LogUnavailable => "the access could not be recorded in the data-use log, so it is refused; retry later",
            UnknownLogEntry => "no such entry or tile in the data-use log",
            LogEventErased => "the event was erased at the end of retention; its entry stays in the log",
        };
        fixed.to_owned()
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code(), self.message())
    }
}

impl std::error::Error for ApiError {}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> ApiError {
        ApiError::internal(&e)
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(e: tokio::task::JoinError) -> ApiError {
        ApiError::internal(&e)
    }
}

/// A JSON response with `Cache-Control: no-store` (tokens, nonces, personal data).
pub fn json_response(status: StatusCode, value: &serde_json::Value) -> Response {
    let mut r = (status, [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], value.to_string())
        .into_response();
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = json_response(self.status(), &serde_json::json!({"error": self.code(), "message": self.message()}));
        // The challenge headers RFC 6750 section 3 and RFC 6585 section 4 ask for.
        let extra = match self {
            ApiError::AgentTokenRequired => Some((header::WWW_AUTHENTICATE, "Bearer")),
            ApiError::AccessTokenRequired | ApiError::UnknownAccessToken | ApiError::AlreadyIssued => {
                Some((header::WWW_AUTHENTICATE, "Bearer error=\"invalid_token\""))
            }
            ApiError::RateLimited => Some((header::RETRY_AFTER, "1")),
            _ => None,
        };
        if let Some((name, value)) = extra {
            r.headers_mut().insert(name, HeaderValue::from_static(value));
        }
        r
    }
}

/// The stable code of a status a layer or extractor produced without a JSON body.
fn layer_code(status: StatusCode) -> &'static str {
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::REQUEST_TIMEOUT => "timeout",
        StatusCode::TOO_MANY_REQUESTS => "rate_limited",
        StatusCode::UNPROCESSABLE_ENTITY | StatusCode::BAD_REQUEST => "bad_request",
        s if s.is_server_error() => "internal_error",
        _ => "error",
    }
}

/// The sentence for a status a layer or extractor produced without a JSON body.
pub fn layer_message(status: StatusCode) -> &'static str {
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => "the body is larger than allowed",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "the body's content type is not accepted here",
        StatusCode::NOT_FOUND => "no such resource",
        StatusCode::METHOD_NOT_ALLOWED => "this method is not allowed here",
        StatusCode::REQUEST_TIMEOUT => "the request took too long",
        StatusCode::TOO_MANY_REQUESTS => "too many requests; retry later",
        StatusCode::UNPROCESSABLE_ENTITY | StatusCode::BAD_REQUEST => "the request is malformed",
        s if s.is_server_error() => "the guichet could not complete the request",
        _ => "the request failed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_codes_keep_their_standard_names() {
        assert_eq!(ApiError::WrongTxCode.code(), "invalid_grant");
        assert_eq!(ApiError::UnknownAccessToken.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(ApiError::InvalidTokenRequest("x".into()).code(), "invalid_request");
    }

    #[test]
    fn challenges_ride_on_their_errors() {
        let r = ApiError::AccessTokenRequired.into_response();
        assert_eq!(r.headers()[header::WWW_AUTHENTICATE], "Bearer error=\"invalid_token\"");
        let r = ApiError::RateLimited.into_response();
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(r.headers()[header::RETRY_AFTER], "1");
    }

    #[test]
    fn internal_errors_say_nothing_of_their_cause() {
        let e = ApiError::internal(&"disk full at /var/lib/secret");
        assert_eq!(e.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!e.message().contains("disk"));
    }

    #[test]
    fn layer_statuses_get_codes() {
        let e = ApiError::Layer(StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!((e.status(), e.code()), (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"));
        assert_eq!(ApiError::Layer(StatusCode::IM_A_TEAPOT).code(), "error");
    }
}
