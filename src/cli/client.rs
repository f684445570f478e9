//! A small GraphQL-over-HTTP client for the CLI commands that talk to a running server.

use serde_json::{Value, json};

use super::ServerArgs;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server could not be reached or answered something that is not GraphQL.
    #[error("cannot reach Weir at {server}: {message}")]
    Unreachable { server: String, message: String },
    /// The server answered with GraphQL errors.
    #[error("{message}")]
    Rejected { code: Option<String>, message: String },
}

pub async fn graphql(server: &ServerArgs, query: &str, variables: Value) -> Result<Value, ClientError> {
    let url = format!("{}/graphql", server.server.trim_end_matches('/'));
    let unreachable = |message: String| ClientError::Unreachable { server: server.server.clone(), message };
    let mut request = reqwest::Client::new().post(&url).json(&json!({ "query": query, "variables": variables }));
    if let Some(token) = &server.token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.map_err(|e| unreachable(e.to_string()))?;
    let status = response.status();
    let body: Value = response
        .json()
        .await
        .map_err(|e| unreachable(format!("HTTP {status}, not a GraphQL answer: {e}")))?;
    if let Some(error) = body.get("errors").and_then(|e| e.get(0)) {
        return Err(ClientError::Rejected {
            code: error["extensions"]["code"].as_str().map(str::to_string),
            message: error["message"].as_str().unwrap_or("unknown error").to_string(),
        });
    }
    if !status.is_success() {
        return Err(unreachable(format!("HTTP {status}")));
    }
    Ok(body["data"].clone())
}
