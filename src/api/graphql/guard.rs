//! Checks on a GraphQL document before it runs: the alias limit, and that the caller's role
//! may run the chosen operation (queries and subscriptions: `read`; mutations: `admin`).
//!
//! [`GuardedSchema`] wraps the schema as the one executor every transport runs on (POST, GET
//! and the websocket), so none can skip the checks. It is a wrapper rather than an
//! async-graphql extension because any extension sends every field of every list item
//! through the extension chain, which was most of the cost of a lineage answer of thousands
//! of nodes. The caller's [`Access`] is read from the request data or, for websocket
//! sessions, from the session data; when it is missing the request is refused (fail closed).

use std::any::TypeId;
use std::sync::Arc;

use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationType, Selection, SelectionSet};
use async_graphql::{Data, Executor, Pos, Request, Response, ServerError};
use futures::stream::{self, BoxStream, StreamExt};

use super::WeirSchema;
use crate::api::auth::Access;
use crate::api::error::ApiError;
use crate::auth::Permission;

#[derive(Clone)]
pub struct GuardedSchema {
    schema: WeirSchema,
    max_aliases: usize,
}

impl GuardedSchema {
    pub fn new(schema: WeirSchema, max_aliases: usize) -> Self {
        GuardedSchema { schema, max_aliases }
    }

    fn check(&self, request: &mut Request, session: Option<&Data>) -> Result<(), ServerError> {
        let access = access_in(&request.data).or_else(|| session.and_then(access_in));
        let operation_name = request.operation_name.clone();
        // A document that does not parse runs nothing; the schema reports the syntax error.
        let Ok(document) = request.parsed_query() else { return Ok(()) };
        let aliases = count_aliases(document);
        if aliases > self.max_aliases {
            let message = format!("the query uses {aliases} aliases, above the limit of {}", self.max_aliases);
            return Err(server_error(ApiError::LimitExceeded(message)));
        }
        let needed = match operation_type(document, operation_name.as_deref()) {
            Some(OperationType::Mutation) => Permission::Admin,
            Some(_) => Permission::Read,
            // The schema will refuse an unknown or ambiguous operation; until then, assume
            // the worst the document could do.
            None if has_mutation(document) => Permission::Admin,
            None => Permission::Read,
        };
        let what = if needed == Permission::Admin { "a GraphQL mutation" } else { "a GraphQL query" };
        match access {
            Some(access) if access.allows(needed) => Ok(()),
            Some(access) => Err(server_error(access.forbidden(needed, what))),
            None => Err(server_error(ApiError::Forbidden(format!("{what} needs credentials")))),
        }
    }
}

impl Executor for GuardedSchema {
    async fn execute(&self, mut request: Request) -> Response {
        match self.check(&mut request, None) {
            Ok(()) => self.schema.execute(request).await,
            Err(e) => Response::from_errors(vec![e]),
        }
    }

    fn execute_stream(&self, mut request: Request, session_data: Option<Arc<Data>>) -> BoxStream<'static, Response> {
        match self.check(&mut request, session_data.as_deref()) {
            Ok(()) => self.schema.execute_stream_with_session_data(request, session_data.unwrap_or_default()),
            Err(e) => stream::once(async move { Response::from_errors(vec![e]) }).boxed(),
        }
    }
}

fn server_error(e: ApiError) -> ServerError {
    e.into_graphql().into_server_error(Pos::default())
}

fn access_in(data: &Data) -> Option<Access> {
    data.get(&TypeId::of::<Access>()).and_then(|d| d.downcast_ref::<Access>()).cloned()
}

/// The operation that will run, as async-graphql chooses it; `None` when it will refuse.
pub fn operation_type(document: &ExecutableDocument, name: Option<&str>) -> Option<OperationType> {
    match (&document.operations, name) {
        (DocumentOperations::Single(op), None) => Some(op.node.ty),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name).map(|op| op.node.ty),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops.values().next().map(|op| op.node.ty),
        _ => None,
    }
}

fn has_mutation(document: &ExecutableDocument) -> bool {
    document.operations.iter().any(|(_, op)| op.node.ty == OperationType::Mutation)
}

/// Aliases in every operation and fragment definition of the document.
fn count_aliases(document: &ExecutableDocument) -> usize {
    let in_operations: usize = document.operations.iter().map(|(_, op)| aliases_in(&op.node.selection_set.node)).sum();
    let in_fragments: usize = document.fragments.values().map(|f| aliases_in(&f.node.selection_set.node)).sum();
    in_operations + in_fragments
}

fn aliases_in(set: &SelectionSet) -> usize {
    set.items
        .iter()
        .map(|item| match &item.node {
            Selection::Field(field) => {
                usize::from(field.node.alias.is_some()) + aliases_in(&field.node.selection_set.node)
            }
            Selection::InlineFragment(fragment) => aliases_in(&fragment.node.selection_set.node),
            Selection::FragmentSpread(_) => 0,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_query;

    use super::*;

    #[test]
    fn aliases_are_counted_in_operations_fragments_and_nesting() -> Result<(), async_graphql::parser::Error> {
        let doc = parse_query("query { a: namespaces { n: name } ...F } fragment F on Query { b: namespaces { name } }")?;
        assert_eq!(count_aliases(&doc), 3);
        Ok(())
    }

    #[test]
    fn the_operation_is_chosen_like_async_graphql_does() -> Result<(), async_graphql::parser::Error> {
        let doc = parse_query("query Q { namespaces { name } } mutation M { deleteRule(id: \"x\") }")?;
        assert_eq!(operation_type(&doc, Some("Q")), Some(OperationType::Query));
        assert_eq!(operation_type(&doc, Some("M")), Some(OperationType::Mutation));
        assert_eq!(operation_type(&doc, None), None);
        assert!(has_mutation(&doc));
        let doc = parse_query("mutation { deleteRule(id: \"x\") }")?;
        assert_eq!(operation_type(&doc, None), Some(OperationType::Mutation));
        assert_eq!(operation_type(&doc, Some("Other")), None);
        Ok(())
    }
}
