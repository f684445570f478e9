//! Bearer-token authentication for every route but `/healthz`.
//!
//! Authentication is on once any token exists (revoked ones count, so revoking the last
//! token does not open the server) or when `require_auth` is set. Each request's token is
//! looked up by hash, so a revocation applies to the next request. What a route needs is
//! decided in one table, [`permission_for`]; a route added later needs `read` unless listed.
//! GraphQL mutations need `admin`, which is checked per operation in `graphql::guard`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::error::ApiError;
use crate::auth::tokens::{self, Authentication};
use crate::auth::{Permission, Principal};
use crate::store::Store;

/// What the caller may do, put in the request's extensions for handlers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// Authentication is off: anyone may do anything (a server on loopback with no tokens).
    Open,
    Token(Principal),
}

impl Access {
    pub fn allows(&self, permission: Permission) -> bool {
        match self {
            Access::Open => true,
            Access::Token(principal) => principal.role.allows(permission),
        }
    }

    /// The token's name, recorded as the author of changes.
    pub fn principal_name(&self) -> Option<&str> {
        match self {
            Access::Open => None,
            Access::Token(principal) => Some(&principal.name),
        }
    }

    /// The refusal for a request that needs `permission` and does not have it.
    pub fn forbidden(&self, permission: Permission, what: &str) -> ApiError {
        match self {
            Access::Token(p) => ApiError::Forbidden(format!(
                "token `{}` has role `{}`; {what} needs role {}",
                p.name,
                p.role,
                permission.roles()
            )),
            Access::Open => ApiError::Forbidden(format!("{what} needs role {}", permission.roles())),
        }
    }
}

/// Whether authentication is on. Once tokens exist they never disappear (revocation keeps
/// the row), so a `true` is remembered and later requests skip the query.
pub struct AuthState {
    store: Store,
    require_auth: bool,
    tokens_exist: AtomicBool,
}

impl AuthState {
    pub fn new(store: Store, require_auth: bool) -> Arc<AuthState> {
        Arc::new(AuthState { store, require_auth, tokens_exist: AtomicBool::new(false) })
    }

    async fn enabled(&self) -> Result<bool, ApiError> {
        if self.require_auth || self.tokens_exist.load(Ordering::Relaxed) {
            return Ok(true);
        }
        let exist = tokens::auth_configured(&self.store).await?;
        if exist {
            self.tokens_exist.store(true, Ordering::Relaxed);
        }
        Ok(exist)
    }
}

/// What a request for `path` needs; `None` for the open liveness probe.
pub fn permission_for(method: &Method, path: &str) -> Option<Permission> {
    match path {
        "/healthz" => None,
        // Websocket subscriptions authenticate in their `connection_init` message.
        "/graphql/ws" => None,
        // `GET` on the ingestion path reads the lineage graph (where Marquez serves it).
        "/api/v1/lineage" if *method == Method::GET || *method == Method::HEAD => Some(Permission::Read),
        "/api/v1/lineage" => Some(Permission::Ingest),
        p if p.starts_with("/api/v1/lineage/") => Some(Permission::Ingest),
        // GraphQL (mutations: admin, per operation), the gate, /readyz, /metrics, and
        // anything added later.
        _ => Some(Permission::Read),
    }
}

/// The middleware: answers 401/403 itself, or passes the request on with its [`Access`].
pub async fn authenticate(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let Some(needed) = permission_for(request.method(), request.uri().path()) else {
        return next.run(request).await;
    };
    match access_of(&state.auth, request.headers()).await {
        Ok(access) if access.allows(needed) => {
            request.extensions_mut().insert(access);
            next.run(request).await
        }
        Ok(access) => access.forbidden(needed, &format!("`{} {}`", request.method(), request.uri().path())).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn access_of(auth: &AuthState, headers: &HeaderMap) -> Result<Access, ApiError> {
    if !auth.enabled().await? {
        return Ok(Access::Open);
    }
    let token = bearer(headers)?;
    access_of_token(auth, token).await
}

/// The access of a websocket connection, whose token comes in the GraphQL `connection_init`
/// payload (`{"Authorization": "Bearer TOKEN"}` or `{"token": "TOKEN"}`): browsers cannot set
/// headers on a websocket.
pub async fn access_of_connection(auth: &AuthState, payload: &serde_json::Value) -> Result<Access, ApiError> {
    if !auth.enabled().await? {
        return Ok(Access::Open);
    }
    let header = payload.get("Authorization").or_else(|| payload.get("authorization")).and_then(|v| v.as_str());
    let token = match header {
        Some(h) => h.trim().split_once(' ').map(|(_, t)| t.trim()).unwrap_or(h.trim()),
        None => payload.get("token").and_then(|v| v.as_str()).unwrap_or(""),
    };
    if token.is_empty() {
        return Err(ApiError::Unauthenticated {
            message: "authentication required: send {\"Authorization\": \"Bearer TOKEN\"} in connection_init".into(),
            invalid_token: false,
        });
    }
    access_of_token(auth, token).await
}

async fn access_of_token(auth: &AuthState, token: &str) -> Result<Access, ApiError> {
    match tokens::authenticate(&auth.store, token).await? {
        Authentication::Valid(principal) => {
            tracing::Span::current().record("principal", principal.name.as_str());
            Ok(Access::Token(principal))
        }
        Authentication::Revoked => Err(invalid("the bearer token has been revoked")),
        Authentication::Unknown => Err(invalid("the bearer token is not valid")),
    }
}

fn invalid(message: &str) -> ApiError {
    ApiError::Unauthenticated { message: message.to_string(), invalid_token: true }
}

/// The token of `Authorization: Bearer TOKEN` (the scheme in any case, as RFC 7235 allows).
fn bearer(headers: &HeaderMap) -> Result<&str, ApiError> {
    let missing = |message: &str| ApiError::Unauthenticated { message: message.to_string(), invalid_token: false };
    let Some(value) = headers.get(AUTHORIZATION) else {
        return Err(missing("authentication required: send `Authorization: Bearer TOKEN`"));
    };
    let value = value.to_str().map_err(|_| missing("the Authorization header is not text"))?;
    match value.trim().split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() => Ok(token.trim()),
        _ => Err(missing("the Authorization header must be `Bearer TOKEN`")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_healthz_is_open_and_only_posting_events_takes_ingest() {
        let (get, post) = (&Method::GET, &Method::POST);
        assert_eq!(permission_for(get, "/healthz"), None);
        assert_eq!(permission_for(post, "/api/v1/lineage"), Some(Permission::Ingest));
        assert_eq!(permission_for(get, "/api/v1/lineage"), Some(Permission::Read));
        assert_eq!(permission_for(&Method::PUT, "/api/v1/lineage"), Some(Permission::Ingest));
        assert_eq!(permission_for(post, "/api/v1/lineage/batch"), Some(Permission::Ingest));
        assert_eq!(permission_for(get, "/api/v1/lineage/batch"), Some(Permission::Ingest));
        assert_eq!(permission_for(post, "/api/v1/lineageX"), Some(Permission::Read));
        for path in ["/graphql", "/readyz", "/metrics", "/api/v1/gate/ns/job", "/anything-new"] {
            assert_eq!(permission_for(get, path), Some(Permission::Read), "{path}");
        }
    }

    #[test]
    fn bearer_scheme_is_case_insensitive_and_required() {
        let mut headers = HeaderMap::new();
        assert!(bearer(&headers).is_err());
        headers.insert(AUTHORIZATION, "bearer abc".parse().unwrap_or_else(|_| unreachable!()));
        assert_eq!(bearer(&headers).ok(), Some("abc"));
        headers.insert(AUTHORIZATION, "Basic abc".parse().unwrap_or_else(|_| unreachable!()));
        assert!(bearer(&headers).is_err());
        headers.insert(AUTHORIZATION, "Bearer ".parse().unwrap_or_else(|_| unreachable!()));
        assert!(bearer(&headers).is_err());
    }
}
