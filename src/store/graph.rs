//! Reads of the lineage graph (nodes by id or identity, the edges around them), on a
//! [`Snapshot`]: on the pool for queries, or inside a write transaction, where they also see
//! what the transaction has written so far (an incident's blast radius is computed while the
//! events of the same group commit are still uncommitted).

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::entities::{dataset, job, lineage_edge};
use super::in_list;
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

impl Snapshot<'_> {
    pub async fn datasets_by_ids(&self, ids: &[DatasetId]) -> Result<Vec<Dataset>, StoreError> {
        let ids: Vec<i64> = ids.iter().map(|i| i.0).collect();
        self.rows_by_ids::<dataset::Entity, _>(dataset::Column::Id, &ids).await
    }

    pub async fn jobs_by_ids(&self, ids: &[JobId]) -> Result<Vec<Job>, StoreError> {
        let ids: Vec<i64> = ids.iter().map(|i| i.0).collect();
        self.rows_by_ids::<job::Entity, _>(job::Column::Id, &ids).await
    }

    /// Whole rows of `E` whose `id` column is one of `ids`, as domain values.
    async fn rows_by_ids<E, T>(&self, id: E::Column, ids: &[i64]) -> Result<Vec<T>, StoreError>
    where
        E: EntityTrait,
        E::Model: Into<T>,
    {
        let mut found = Vec::with_capacity(ids.len());
        for list in in_list::chunks(ids) {
            let rows = E::find().filter(id.is_in(list)).all(&self.exec).await?;
            found.extend(rows.into_iter().map(Into::into));
        }
        Ok(found)
    }

    /// (id, namespace, name) of datasets, by id: what a lineage node shows and what a rule's
    /// target matches, without the facets and schema JSON of each row (decoding those was most
    /// of the cost of a large lineage answer).
    pub async fn dataset_names(&self, ids: &[DatasetId]) -> Result<Vec<(DatasetId, String, String)>, StoreError> {
        let mut found = Vec::with_capacity(ids.len());
        let ids: Vec<i64> = ids.iter().map(|i| i.0).collect();
        for list in in_list::chunks(&ids) {
            let rows: Vec<(i64, String, String)> = dataset::Entity::find()
                .select_only()
                .column(dataset::Column::Id)
                .column(dataset::Column::Namespace)
                .column(dataset::Column::Name)
                .filter(dataset::Column::Id.is_in(list))
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
        let ids: Vec<i64> = ids.iter().map(|i| i.0).collect();
        for list in in_list::chunks(&ids) {
            let rows: Vec<(i64, String, String)> = job::Entity::find()
                .select_only()
                .column(job::Column::Id)
                .column(job::Column::Namespace)
                .column(job::Column::Name)
                .filter(job::Column::Id.is_in(list))
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
        for chunk in refs.chunks(in_list::MAX_VALUES) {
            let names: Vec<String> = chunk.iter().map(|r| r.1.clone()).collect();
            let rows = dataset::Entity::find()
                .filter(dataset::Column::Name.is_in(in_list::chunks(&names).flatten()))
                .all(&self.exec)
                .await?;
            found.extend(rows.into_iter().filter(|d| chunk.iter().any(|r| r.0 == d.namespace && r.1 == d.name)).map(Into::into));
        }
        Ok(found)
    }

    /// The jobs with these identities, a few queries for any number of them.
    pub async fn jobs_by_refs(&self, refs: &[(String, String)]) -> Result<Vec<Job>, StoreError> {
        let mut found = Vec::with_capacity(refs.len());
        for chunk in refs.chunks(in_list::MAX_VALUES) {
            let names: Vec<String> = chunk.iter().map(|r| r.1.clone()).collect();
            let rows = job::Entity::find()
                .filter(job::Column::Name.is_in(in_list::chunks(&names).flatten()))
                .all(&self.exec)
                .await?;
            found.extend(rows.into_iter().filter(|j| chunk.iter().any(|r| r.0 == j.namespace && r.1 == j.name)).map(Into::into));
        }
        Ok(found)
    }

    /// Edges touching any of `datasets`, current or as of a time.
    pub async fn edges_of_datasets(&self, datasets: &[DatasetId], as_of: Option<DateTime<Utc>>) -> Result<Vec<Edge>, StoreError> {
        let ids: Vec<i64> = datasets.iter().map(|d| d.0).collect();
        self.edges_where(lineage_edge::Column::DatasetId, &ids, as_of).await
    }

    /// Edges touching any of `jobs`, current or as of a time.
    pub async fn edges_of_jobs(&self, jobs: &[JobId], as_of: Option<DateTime<Utc>>) -> Result<Vec<Edge>, StoreError> {
        let ids: Vec<i64> = jobs.iter().map(|j| j.0).collect();
        self.edges_where(lineage_edge::Column::JobId, &ids, as_of).await
    }

    /// Edges whose `column` (dataset or job id) is one of `ids`, in the order they were made.
    async fn edges_where(&self, column: lineage_edge::Column, ids: &[i64], as_of: Option<DateTime<Utc>>) -> Result<Vec<Edge>, StoreError> {
        let mut rows = Vec::new();
        for list in in_list::chunks(ids) {
            rows.extend(
                lineage_edge::Entity::find()
                    .filter(column.is_in(list))
                    .filter(edge_condition(as_of))
                    .all(&self.exec)
                    .await?,
            );
        }
        rows.sort_by_key(|e| e.id);
        Ok(rows.into_iter().map(Into::into).collect())
    }
}
