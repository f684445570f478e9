//! Read queries for the API and the lineage traversal. Each takes ids in bulk where a caller
//! may ask about many nodes at once (DataLoaders, one BFS level), so a nested GraphQL query or
//! a deep lineage walk costs one query per level, not one per node.

use sea_orm::sea_query::{Expr, Func};
use sea_orm::{
    ColumnTrait, EntityTrait, ExprTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::entities::{
    assertion_observation, column_lineage, dataset, dataset_alias, dataset_version, job,
    namespace, raw_event, run, run_io,
};
use super::convert::{dataset_of, run_of, version_of};
use super::{Store, StoreError};
use crate::model::*;

/// Filters of the dataset and job listings.
#[derive(Debug, Clone, Default)]
pub struct NameFilter {
    pub namespace: Option<String>,
    /// Case-insensitive substring of the name.
    pub search: Option<String>,
}

/// `%` and `_` in user text are literals, not wildcards.
fn like_pattern(text: &str) -> String {
    let escaped = text
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

fn name_contains<C: ColumnTrait>(column: C, text: &str) -> sea_orm::sea_query::SimpleExpr {
    Expr::expr(Func::lower(Expr::col(column)))
        .like(sea_orm::sea_query::LikeExpr::new(like_pattern(text)).escape('\\'))
}

/// An edge existed at `t` if it was first seen by then and not yet retired.
impl Store {
    pub async fn namespaces(&self) -> Result<Vec<String>, StoreError> {
        let rows = namespace::Entity::find()
            .order_by_asc(namespace::Column::Name)
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().map(|r| r.name).collect())
    }

    /// Datasets ordered by id, after the cursor `after` (an id), at most `first`.
    pub async fn datasets_page(
        &self,
        filter: &NameFilter,
        after: Option<i64>,
        first: u64,
    ) -> Result<Page<Dataset>, StoreError> {
        let mut query = dataset::Entity::find().order_by_asc(dataset::Column::Id);
        if let Some(ns) = &filter.namespace {
            query = query.filter(dataset::Column::Namespace.eq(ns.as_str()));
        }
        if let Some(text) = &filter.search {
            query = query.filter(name_contains(dataset::Column::Name, text));
        }
        if let Some(after) = after {
            query = query.filter(dataset::Column::Id.gt(after));
        }
        let mut rows = query.limit(first + 1).all(&self.db).await?;
        let has_next = rows.len() as u64 > first;
        rows.truncate(first as usize);
        Ok(Page { items: rows.into_iter().map(dataset_of).collect::<Result<_, _>>()?, has_next })
    }

    pub async fn jobs_page(
        &self,
        filter: &NameFilter,
        after: Option<i64>,
        first: u64,
    ) -> Result<Page<Job>, StoreError> {
        let mut query = job::Entity::find().order_by_asc(job::Column::Id);
        if let Some(ns) = &filter.namespace {
            query = query.filter(job::Column::Namespace.eq(ns.as_str()));
        }
        if let Some(text) = &filter.search {
            query = query.filter(name_contains(job::Column::Name, text));
        }
        if let Some(after) = after {
            query = query.filter(job::Column::Id.gt(after));
        }
        let mut rows = query.limit(first + 1).all(&self.db).await?;
        let has_next = rows.len() as u64 > first;
        rows.truncate(first as usize);
        Ok(Page { items: rows.into_iter().map(Into::into).collect(), has_next })
    }

    /// The dataset with this identity, or the one this identity is an alias of.
    pub async fn dataset_by_ref(&self, namespace: &str, name: &str) -> Result<Option<Dataset>, StoreError> {
        self.snapshot().dataset_by_ref(namespace, name).await
    }

    pub async fn datasets_by_ids(&self, ids: &[DatasetId]) -> Result<Vec<Dataset>, StoreError> {
        self.snapshot().datasets_by_ids(ids).await
    }

    /// Dataset versions by id (a dataset's schema is its `schema_version_id`'s).
    pub async fn versions_by_ids(&self, ids: &[i64]) -> Result<Vec<DatasetVersion>, StoreError> {
        self.snapshot().versions_by_ids(ids).await
    }

    pub async fn jobs_by_ids(&self, ids: &[JobId]) -> Result<Vec<Job>, StoreError> {
        self.snapshot().jobs_by_ids(ids).await
    }

    pub async fn aliases_of(&self, id: DatasetId) -> Result<Vec<DatasetRef>, StoreError> {
        let rows = dataset_alias::Entity::find()
            .filter(dataset_alias::Column::DatasetId.eq(id.0))
            .order_by_asc(dataset_alias::Column::Id)
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| DatasetRef { namespace: r.namespace, name: r.name })
            .collect())
    }

    pub async fn job_by_ref(&self, namespace: &str, name: &str) -> Result<Option<Job>, StoreError> {
        let found = job::Entity::find()
            .filter(job::Column::Namespace.eq(namespace))
            .filter(job::Column::Name.eq(name))
            .one(&self.db)
            .await?;
        Ok(found.map(Into::into))
    }

    pub async fn child_jobs(&self, parent: JobId) -> Result<Vec<Job>, StoreError> {
        let rows = job::Entity::find()
            .filter(job::Column::ParentJobId.eq(parent.0))
            .order_by_asc(job::Column::Id)
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    pub async fn runs_by_ids(&self, ids: &[String]) -> Result<Vec<Run>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows = run::Entity::find()
            .filter(run::Column::Id.is_in(ids.iter().cloned()))
            .all(&self.db)
            .await?;
        rows.into_iter().map(run_of).collect()
    }

    /// A job's runs, newest first (by the time of their first event); offset pagination.
    pub async fn runs_of_job(&self, job: JobId, offset: u64, first: u64) -> Result<Page<Run>, StoreError> {
        let mut rows = run::Entity::find()
            .filter(run::Column::JobId.eq(job.0))
            .order_by_desc(run::Column::FirstEventTime)
            .order_by_desc(run::Column::Id)
            .offset(offset)
            .limit(first + 1)
            .all(&self.db)
            .await?;
        let has_next = rows.len() as u64 > first;
        rows.truncate(first as usize);
        Ok(Page { items: rows.into_iter().map(run_of).collect::<Result<_, _>>()?, has_next })
    }

    pub async fn versions_of(&self, dataset: DatasetId) -> Result<Vec<DatasetVersion>, StoreError> {
        let rows = dataset_version::Entity::find()
            .filter(dataset_version::Column::DatasetId.eq(dataset.0))
            .order_by_desc(dataset_version::Column::CreatedAt)
            .order_by_desc(dataset_version::Column::Id)
            .all(&self.db)
            .await?;
        rows.into_iter().map(version_of).collect()
    }

    pub async fn run_io_of_runs(&self, runs: &[String]) -> Result<Vec<RunIo>, StoreError> {
        if runs.is_empty() {
            return Ok(Vec::new());
        }
        let rows = run_io::Entity::find()
            .filter(run_io::Column::RunId.is_in(runs.iter().cloned()))
            .order_by_asc(run_io::Column::Id)
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// Column edges whose output is one of `(dataset, field)`.
    pub async fn column_edges_into(&self, dataset: DatasetId, fields: &[String]) -> Result<Vec<ColumnEdge>, StoreError> {
        let mut query = column_lineage::Entity::find()
            .filter(column_lineage::Column::DatasetId.eq(dataset.0))
            .order_by_asc(column_lineage::Column::Id);
        if !fields.is_empty() {
            query = query.filter(column_lineage::Column::Field.is_in(fields.iter().cloned()));
        }
        Ok(query.all(&self.db).await?.into_iter().map(Into::into).collect())
    }

    /// Column edges whose input is one of `(dataset, field)`.
    pub async fn column_edges_from(&self, dataset: DatasetId, fields: &[String]) -> Result<Vec<ColumnEdge>, StoreError> {
        let mut query = column_lineage::Entity::find()
            .filter(column_lineage::Column::InputDatasetId.eq(dataset.0))
            .order_by_asc(column_lineage::Column::Id);
        if !fields.is_empty() {
            query = query.filter(column_lineage::Column::InputField.is_in(fields.iter().cloned()));
        }
        Ok(query.all(&self.db).await?.into_iter().map(Into::into).collect())
    }

    pub async fn assertions_of(&self, dataset: DatasetId, limit: u64) -> Result<Vec<AssertionObservation>, StoreError> {
        let rows = assertion_observation::Entity::find()
            .filter(assertion_observation::Column::DatasetId.eq(dataset.0))
            .order_by_desc(assertion_observation::Column::ObservedAt)
            .order_by_asc(assertion_observation::Column::Id)
            .limit(limit)
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// Number of raw events archived (for tests and operations).
    pub async fn raw_event_count(&self) -> Result<u64, StoreError> {
        use sea_orm::PaginatorTrait;
        Ok(raw_event::Entity::find().count(&self.db).await?)
    }
}
