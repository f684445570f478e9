//! The gate over GraphQL: decisions (made and recorded), past decisions.

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, Object};

use super::pagination::{decode_cursor, encode_cursor, page_size};
use super::types::{DatasetRefObject, GateDecisionObject, state};
use crate::api::error::{ApiError, GqlResult, IntoGql};
use crate::gate::decide::{GateRequest, decide_now};

#[derive(Default)]
pub struct GateQuery;

#[Object]
impl GateQuery {
    /// May this job run now? `inputs` are the datasets it is about to read; without them, the
    /// job's most recent inputs. Every decision is recorded.
    async fn gate(
        &self,
        ctx: &Context<'_>,
        namespace: String,
        job: String,
        inputs: Option<Vec<DatasetRefObject>>,
    ) -> GqlResult<GateDecisionObject> {
        let state = state(ctx)?;
        if namespace.trim().is_empty() || job.trim().is_empty() {
            return Err(ApiError::BadRequest("`namespace` and `job` must not be empty".into()).into_graphql());
        }
        let request = GateRequest { namespace, job, inputs: inputs.map(|i| i.into_iter().map(Into::into).collect()) };
        let decision = decide_now(&state.store, &request, state.clock.now(), state.config.gate_unknown_inputs).await.gql()?;
        Ok(GateDecisionObject(decision))
    }

    /// Recorded decisions about a job (including those of START events checked for
    /// violations), newest first.
    async fn gate_decisions(
        &self,
        ctx: &Context<'_>,
        namespace: String,
        job: String,
        first: Option<i32>,
        after: Option<String>,
    ) -> GqlResult<Connection<String, GateDecisionObject>> {
        let state = state(ctx)?;
        let first = page_size(first, state.config.max_page_size).gql()?;
        let offset = match after {
            Some(cursor) => decode_cursor(&cursor).gql()? + 1,
            None => 0,
        };
        let page = state.store.decisions_of(&namespace, &job, offset as u64, first).await.gql()?;
        let mut connection = Connection::new(offset > 0, page.has_next);
        for (i, decision) in page.items.into_iter().enumerate() {
            connection.edges.push(Edge::new(encode_cursor(offset + i as i64), GateDecisionObject(decision)));
        }
        Ok(connection)
    }
}
