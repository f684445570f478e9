//! The one place where errors become HTTP statuses and GraphQL error codes.
//!
//! Clients get a stable code and a message that says what is wrong and where. Internal
//! failures (database, I/O) are logged with their details and answered with a generic message:
//! nothing about the server's internals reaches a client.

use std::time::Duration;

use axum::http::header::{RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use async_graphql::ErrorExtensions;
use axum::Json;
use serde_json::json;
use tracing::error;

use crate::ingest::IngestError;
use crate::lineage::LineageError;
use crate::openlineage::ParseError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The body is not an acceptable OpenLineage event; `path` says where.
    #[error("{0}")]
    InvalidEvent(ParseError),
    #[error("request body is larger than the limit of {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("unsupported Content-Encoding `{0}`: send identity or gzip")]
    UnsupportedEncoding(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    /// No usable credentials: no bearer token, or one that is unknown or revoked.
    #[error("{message}")]
    Unauthenticated { message: String, invalid_token: bool },
    /// Valid credentials whose role may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// A configured limit on the request's shape (GraphQL aliases) was exceeded.
    #[error("{0}")]
    LimitExceeded(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    /// The request took longer than `request_timeout`.
    #[error("the request took longer than the limit of {}", humantime::format_duration(*limit))]
    Timeout { limit: Duration },
    /// `max_concurrent_requests` are being served; the client should retry shortly.
    #[error("the server is at its limit of {limit} concurrent requests; retry in {retry_after_secs} s")]
    Overloaded { limit: usize, retry_after_secs: u64 },
    /// The request conflicts with what is stored; `path` says which field.
    #[error("{message}")]
    Conflict { path: String, message: String },
    /// Details are logged where the error is created or converted, never sent.
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::InvalidEvent(_) => "INVALID_EVENT",
            ApiError::PayloadTooLarge { .. } => "PAYLOAD_TOO_LARGE",
            ApiError::UnsupportedEncoding(_) => "UNSUPPORTED_ENCODING",
            ApiError::BadRequest(_) => "BAD_USER_INPUT",
            ApiError::NotFound(_) => "NOT_FOUND",
            ApiError::Unauthenticated { .. } => "UNAUTHENTICATED",
            ApiError::Forbidden(_) => "FORBIDDEN",
            ApiError::LimitExceeded(_) => "LIMIT_EXCEEDED",
            ApiError::MethodNotAllowed(_) => "METHOD_NOT_ALLOWED",
            ApiError::Timeout { .. } => "TIMEOUT",
            ApiError::Overloaded { .. } => "OVERLOADED",
            ApiError::Conflict { .. } => "CONFLICT",
            ApiError::Internal(_) => "INTERNAL",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::InvalidEvent(_) | ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedEncoding(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Unauthenticated { .. } => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::LimitExceeded(_) => StatusCode::BAD_REQUEST,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            // 503, not 408: the server, not the client, was too slow (or the client's upload
            // was); either way a retry is the right reaction, and retried events are
            // stored once.
            ApiError::Timeout { .. } | ApiError::Overloaded { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Where in the request the problem is, when known (a JSON field path).
    pub fn path(&self) -> Option<&str> {
        match self {
            ApiError::InvalidEvent(e) if !e.path.is_empty() => Some(&e.path),
            ApiError::Conflict { path, .. } => Some(path),
            _ => None,
        }
    }

    pub fn internal(context: &str, err: impl std::fmt::Display) -> ApiError {
        error!(error = %err, "{context}");
        ApiError::Internal(format!("{context}: {err}"))
    }

    /// The GraphQL form: same message, `extensions.code`, and `extensions.path` when known.
    pub fn into_graphql(self) -> async_graphql::Error {
        let code = self.code();
        let path = self.path().map(str::to_string);
        let message = match &self {
            ApiError::InvalidEvent(e) => e.message.clone(),
            other => other.to_string(),
        };
        async_graphql::Error::new(message).extend_with(|_, ext| {
            ext.set("code", code);
            if let Some(path) = &path {
                ext.set("field", path.as_str());
            }
        })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({ "code": self.code(), "message": match &self {
            ApiError::InvalidEvent(e) => e.message.clone(),
            other => other.to_string(),
        }});
        if let Some(path) = self.path() {
            body["path"] = json!(path);
        }
        let mut response = (self.status(), Json(json!({ "error": body }))).into_response();
        match &self {
            // RFC 6750: say which scheme is expected, and when a token was presented, that
            // it was not valid.
            ApiError::Unauthenticated { invalid_token, .. } => {
                let challenge = if *invalid_token { r#"Bearer realm="weir", error="invalid_token""# } else { r#"Bearer realm="weir""# };
                response.headers_mut().insert(WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
            }
            ApiError::Overloaded { retry_after_secs, .. } => {
                response.headers_mut().insert(RETRY_AFTER, HeaderValue::from(*retry_after_secs));
            }
            _ => {}
        }
        response
    }
}

/// The HTTP status of a GraphQL answer: 200 as GraphQL over HTTP expects, except that a
/// request refused for its credentials gets the same 401/403 as any other endpoint.
pub fn graphql_status(response: &async_graphql::Response) -> StatusCode {
    let code_of = |e: &async_graphql::ServerError| {
        e.extensions.as_ref().and_then(|x| x.get("code")).and_then(|v| match v {
            async_graphql::Value::String(s) => Some(s.clone()),
            _ => None,
        })
    };
    for error in &response.errors {
        match code_of(error).as_deref() {
            Some("FORBIDDEN") => return StatusCode::FORBIDDEN,
            Some("UNAUTHENTICATED") => return StatusCode::UNAUTHORIZED,
            _ => {}
        }
    }
    StatusCode::OK
}

impl From<ParseError> for ApiError {
    fn from(e: ParseError) -> Self {
        ApiError::InvalidEvent(e)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        if e.is_unstorable_text() {
            return ApiError::BadRequest("a value holds a NUL character (\\u0000), which the database cannot store".into());
        }
        ApiError::internal("database failure", e)
    }
}

impl From<IngestError> for ApiError {
    fn from(e: IngestError) -> Self {
        match e {
            IngestError::RunIdConflict { .. } => ApiError::Conflict { path: "run.runId".into(), message: e.to_string() },
            other => ApiError::internal("ingest failure", other),
        }
    }
}

impl From<crate::quality::manage::ManageError> for ApiError {
    fn from(e: crate::quality::manage::ManageError) -> Self {
        use crate::quality::manage::ManageError;
        match e {
            ManageError::Invalid { .. } | ManageError::WouldDeleteAll(_) => ApiError::BadRequest(e.to_string()),
            ManageError::NotFound(_) => ApiError::NotFound(e.to_string()),
            ManageError::AlreadyExists(_) => ApiError::Conflict { path: "rule.id".into(), message: e.to_string() },
            ManageError::Store(e) => e.into(),
        }
    }
}

impl From<crate::alert::channels::ChannelError> for ApiError {
    fn from(e: crate::alert::channels::ChannelError) -> Self {
        use crate::alert::channels::ChannelError;
        match e {
            ChannelError::Invalid { .. } => ApiError::BadRequest(e.to_string()),
            ChannelError::NotFound(_) => ApiError::NotFound(e.to_string()),
            ChannelError::Store(e) => e.into(),
        }
    }
}

impl From<crate::alert::incidents::IncidentError> for ApiError {
    fn from(e: crate::alert::incidents::IncidentError) -> Self {
        use crate::alert::incidents::IncidentError;
        match e {
            IncidentError::NotFound(_) => ApiError::NotFound(e.to_string()),
            IncidentError::WrongState { .. } => ApiError::Conflict { path: "id".into(), message: e.to_string() },
            IncidentError::Store(e) => e.into(),
        }
    }
}

impl From<crate::gate::waivers::WaiverError> for ApiError {
    fn from(e: crate::gate::waivers::WaiverError) -> Self {
        use crate::gate::waivers::WaiverError;
        match e {
            WaiverError::UnknownDataset { .. } | WaiverError::UnknownRule(_) | WaiverError::UnknownWaiver(_) => {
                ApiError::NotFound(e.to_string())
            }
            WaiverError::MissingReason | WaiverError::ExpiryInPast { .. } => ApiError::BadRequest(e.to_string()),
            WaiverError::Store(e) => e.into(),
        }
    }
}

impl From<LineageError> for ApiError {
    fn from(e: LineageError) -> Self {
        match e {
            LineageError::NotFound(id) => ApiError::NotFound(format!("no dataset or job with id `{id}`")),
            LineageError::Store(e) => e.into(),
        }
    }
}

/// Lets resolvers use `?` on domain results: every error goes through [`ApiError`].
pub type GqlResult<T> = Result<T, async_graphql::Error>;

pub trait IntoGql<T> {
    fn gql(self) -> GqlResult<T>;
}

impl<T, E: Into<ApiError>> IntoGql<T> for Result<T, E> {
    fn gql(self) -> GqlResult<T> {
        self.map_err(|e| e.into().into_graphql())
    }
}
