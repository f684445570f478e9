//! Reads of the lineage graph (nodes by id or identity, the edges around them), on a
//! [`Snapshot`]: on the pool for queries, or inside a write transaction, where they also see
//! what the transaction has written so far (an incident's blast radius is computed while the
//! events of the same group commit are still uncommitted).

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::entities::{dataset, job, lineage_edge};
use super::{Snapshot, StoreError};
use crate::model::{Dataset, DatasetId, Edge, Job, JobId};

fn edge_condition(as_of: Option<DateTime<Utc>>) -> Condition {
    match as_of {
        None => Condition::all().add(lineage_edge::Column::RetiredAt.is_null()),
        Some(t) => Condition::all().add(lineage_edge::Column::FirstSeen.lte(t)).add(
            Condition::any()
                .add(lineage_edge::Column::RetiredAt.is_null())
                .add(lineage_edge::Column::RetiredAt.gt(t)),
        ),
    }
}

/// Names per `IN (...)` list when looking rows up by identity (the `name` columns are
/// indexed; the namespace is matched on the rows found).
const NAMES_PER_QUERY: usize = 500;

/// Ids per `IN (...)` list, well under the bound parameters of a statement on both engines.
const IDS_PER_QUERY: usize = 5000;

impl Snapshot<'_> {
    pub async fn datasets_by_ids(&self, ids: &[DatasetId]) -> Result<Vec<Dataset>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows = dataset::Entity::find()
            .filter(dataset::Column::Id.is_in(ids.iter().map(|i| i.0)))
            .all(&self.exec)
            .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    pub async fn jobs_by_ids(&self, ids: &[JobId]) -> Result<Vec<Job>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows = job::Entity::find()
            .filter(job::Column::Id.is_in(ids.iter().map(|i| i.0)))
            .all(&self.exec)
            .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// (id, namespace, name) of datasets, by id: what a lineage node shows and what a rule's
    /// target matches, without the facets and schema JSON of each row (decoding those was most
    /// of the cost of a large lineage answer).
    pub async fn dataset_names(&self, ids: &[DatasetId]) -> Result<Vec<(DatasetId, String, String)>, StoreError> {
        let mut found = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(IDS_PER_QUERY) {
            let rows: Vec<(i64, String, String)> = dataset::Entity::find()
                .select_only()
                .column(dataset::Column::Id)
                .column(dataset::Column::Namespace)
                .column(dataset::Column::Name)
                .filter(dataset::Column::Id.is_in(chunk.iter().map(|i| i.0)))
                .order_by_asc(dataset::Column::Id)
                .into_tuple()
                .all(&self.exec)
                .await?;
            found.extend(rows.into_iter().map(|(id, namespace, name)| (DatasetId(id), namespace, name)));
        }
        Ok(found)
    }

    /// (id, namespace, name) of jobs, like [`Snapshot::dataset_names`].
    pub async fn job_names(&self, ids: &[JobId]) -> Result<Vec<(JobId, String, String)>, StoreError> {
        let mut found = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(IDS_PER_QUERY) {
            let rows: Vec<(i64, String, String)> = job::Entity::find()
                .select_only()
                .column(job::Column::Id)
                .column(job::Column::Namespace)
                .column(job::Column::Name)
                .filter(job::Column::Id.is_in(chunk.iter().map(|i| i.0)))
                .order_by_asc(job::Column::Id)
                .into_tuple()
                .all(&self.exec)
                .await?;
            found.extend(rows.into_iter().map(|(id, namespace, name)| (JobId(id), namespace, name)));
        }
        Ok(found)
    }

    /// The datasets with these identities (not aliases: lineage nodes are the datasets
    /// themselves), a few queries for any number of them.
    pub async fn datasets_by_refs(&self, refs: &[(String, String)]) -> Result<Vec<Dataset>, StoreError> {
        let mut found = Vec::with_capacity(refs.len());
        for chunk in refs.chunks(NAMES_PER_QUERY) {
            let rows = dataset::Entity::find()
                .filter(dataset::Column::Name.is_in(chunk.iter().map(|r| r.1.clone())))
                .all(&self.exec)
                .await?;
            found.extend(rows.into_iter().filter(|d| chunk.iter().any(|r| r.0 == d.namespace && r.1 == d.name)).map(Into::into));
        }
        Ok(found)
    }

    /// The jobs with these identities, a few queries for any number of them.
    pub async fn jobs_by_refs(&self, refs: &[(String, String)]) -> Result<Vec<Job>, StoreError> {
        let mut found = Vec::with_capacity(refs.len());
        for chunk in refs.chunks(NAMES_PER_QUERY) {
            let rows = job::Entity::find()
                .filter(job::Column::Name.is_in(chunk.iter().map(|r| r.1.clone())))
                .all(&self.exec)
                .await?;
            found.extend(rows.into_iter().filter(|j| chunk.iter().any(|r| r.0 == j.namespace && r.1 == j.name)).map(Into::into));
        }
        Ok(found)
    }

    /// Edges touching any of `datasets`, current or as of a time.
    pub async fn edges_of_datasets(
        &self,
        datasets: &[DatasetId],
        as_of: Option<DateTime<Utc>>,
    ) -> Result<Vec<Edge>, StoreError> {
        if datasets.is_empty() {
            return Ok(Vec::new());
        }
        let rows = lineage_edge::Entity::find()
            .filter(lineage_edge::Column::DatasetId.is_in(datasets.iter().map(|d| d.0)))
            .filter(edge_condition(as_of))
            .order_by_asc(lineage_edge::Column::Id)
            .all(&self.exec)
            .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// Edges touching any of `jobs`, current or as of a time.
    pub async fn edges_of_jobs(
        &self,
        jobs: &[JobId],
        as_of: Option<DateTime<Utc>>,
    ) -> Result<Vec<Edge>, StoreError> {
        if jobs.is_empty() {
            return Ok(Vec::new());
        }
        let rows = lineage_edge::Entity::find()
            .filter(lineage_edge::Column::JobId.is_in(jobs.iter().map(|j| j.0)))
            .filter(edge_condition(as_of))
            .order_by_asc(lineage_edge::Column::Id)
            .all(&self.exec)
            .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

}
