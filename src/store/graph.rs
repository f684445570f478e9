//! Reads of the lineage graph (nodes by id or identity, the edges around them), on a
//! [`Snapshot`]: on the pool for queries, or inside a write transaction, where they also see
//! what the transaction has written so far (an incident's blast radius is computed while the
//! events of the same group commit are still uncommitted).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::Value;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::entities::{dataset, dataset_version, graph_state, job, lineage_edge};
use super::convert::{dataset_of, version_of};
use super::in_list;
use super::{Snapshot, StoreError};
use crate::model::{Dataset, DatasetId, DatasetVersion, Direction, Edge, EdgeChange, Job, JobId, NamedDataset};

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

/// (id, job id, dataset id, direction, retired at) of an edge row.
type EdgeRow = (i64, i64, i64, String, Option<DateTime<Utc>>);

/// A dataset's (id, namespace, name).
type Named = (DatasetId, String, String);

impl Snapshot<'_> {
    pub async fn datasets_by_ids(&self, ids: &[DatasetId]) -> Result<Vec<Dataset>, StoreError> {
        let ids: Vec<i64> = ids.iter().map(|i| i.0).collect();
        self.rows_by_ids::<dataset::Entity, _>(dataset::Column::Id, &ids, dataset_of).await
    }

    pub async fn versions_by_ids(&self, ids: &[i64]) -> Result<Vec<DatasetVersion>, StoreError> {
        self.rows_by_ids::<dataset_version::Entity, _>(dataset_version::Column::Id, ids, version_of).await
    }

    pub async fn jobs_by_ids(&self, ids: &[JobId]) -> Result<Vec<Job>, StoreError> {
        let ids: Vec<i64> = ids.iter().map(|i| i.0).collect();
        self.rows_by_ids::<job::Entity, _>(job::Column::Id, &ids, |r| Ok(r.into())).await
    }

    /// Whole rows of `E` whose `id` column is one of `ids`, as domain values.
    async fn rows_by_ids<E, T>(&self, id: E::Column, ids: &[i64], convert: impl Fn(E::Model) -> Result<T, StoreError>) -> Result<Vec<T>, StoreError>
    where
        E: EntityTrait,
    {
        let mut found = Vec::with_capacity(ids.len());
        for list in in_list::chunks(ids) {
            let rows = E::find().filter(id.is_in(list)).all(&self.exec).await?;
            for row in rows {
                found.push(convert(row)?);
            }
        }
        Ok(found)
    }

    /// (id, namespace, name) of datasets, by id: what a lineage node shows and what a rule's
    /// target matches, without the facets and schema JSON of each row (decoding those was most
    /// of the cost of a large lineage answer). Inside a write transaction, datasets it found
    /// or created by their identity are not read again.
    pub async fn dataset_names(&self, ids: &[DatasetId]) -> Result<Vec<Named>, StoreError> {
        let columns = [dataset::Column::Id, dataset::Column::Namespace, dataset::Column::Name];
        let Some((mut known, unknown)) = self.remembered_names(ids) else {
            // The pool (lineage answers, thousands of ids): straight to the statement.
            let ids: Vec<i64> = ids.iter().map(|i| i.0).collect();
            let rows = self.names_by_ids::<dataset::Entity>(columns, &ids).await?;
            return Ok(rows.into_iter().map(|(id, namespace, name)| (DatasetId(id), namespace, name)).collect());
        };
        if !unknown.is_empty() {
            let rows = self.names_by_ids::<dataset::Entity>(columns, &unknown).await?;
            known.extend(rows.into_iter().map(|(id, namespace, name)| (DatasetId(id), namespace, name)));
        }
        // As the statement would: by id, each once.
        known.sort_by_key(|(id, _, _)| *id);
        known.dedup_by_key(|(id, _, _)| *id);
        Ok(known)
    }

    /// Inside a write transaction, the names of `ids` it remembers, and the ids it does not.
    fn remembered_names(&self, ids: &[DatasetId]) -> Option<(Vec<Named>, Vec<i64>)> {
        let memo = self.memo?.lock().ok()?;
        let mut known = Vec::new();
        let mut unknown = Vec::new();
        for id in ids {
            match memo.dataset_names.get(id) {
                Some((namespace, name)) => known.push((*id, namespace.clone(), name.clone())),
                None => unknown.push(id.0),
            }
        }
        Some((known, unknown))
    }

    /// The datasets with these ids, named, in (namespace, name) order.
    pub async fn named_datasets(&self, ids: &[DatasetId]) -> Result<Vec<NamedDataset>, StoreError> {
        let mut found: Vec<NamedDataset> =
            self.dataset_names(ids).await?.into_iter().map(|(id, namespace, name)| NamedDataset { id, namespace, name }).collect();
        found.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
        Ok(found)
    }

    /// (id, namespace, name) of jobs, like [`Snapshot::dataset_names`].
    pub async fn job_names(&self, ids: &[JobId]) -> Result<Vec<(JobId, String, String)>, StoreError> {
        let ids: Vec<i64> = ids.iter().map(|i| i.0).collect();
        let columns = [job::Column::Id, job::Column::Namespace, job::Column::Name];
        let rows = self.names_by_ids::<job::Entity>(columns, &ids).await?;
        Ok(rows.into_iter().map(|(id, namespace, name)| (JobId(id), namespace, name)).collect())
    }

    /// The `[id, namespace, name]` columns of the rows of `E` with these ids, by id.
    async fn names_by_ids<E: EntityTrait>(&self, columns: [E::Column; 3], ids: &[i64]) -> Result<Vec<(i64, String, String)>, StoreError> {
        let [id, namespace, name] = columns;
        let mut found = Vec::with_capacity(ids.len());
        for list in in_list::chunks(ids) {
            let rows: Vec<(i64, String, String)> = E::find()
                .select_only()
                .column(id)
                .column(namespace)
                .column(name)
                .filter(id.is_in(list))
                .order_by_asc(id)
                .into_tuple()
                .all(&self.exec)
                .await?;
            found.extend(rows);
        }
        Ok(found)
    }

    /// The `ownership` facet of the datasets with these identities that have one, by
    /// identity. Only that facet is read, from the column that keeps it apart: a blast radius
    /// names hundreds of nodes, and decoding (or having the database parse) each one's whole
    /// facets was most of the cost of opening an incident.
    pub async fn dataset_ownership(&self, refs: &[(String, String)]) -> Result<HashMap<(String, String), Value>, StoreError> {
        self.ownership_by_refs::<dataset::Entity>([dataset::Column::Namespace, dataset::Column::Name, dataset::Column::Ownership], refs).await
    }

    /// The `ownership` facet of jobs, like [`Snapshot::dataset_ownership`].
    pub async fn job_ownership(&self, refs: &[(String, String)]) -> Result<HashMap<(String, String), Value>, StoreError> {
        self.ownership_by_refs::<job::Entity>([job::Column::Namespace, job::Column::Name, job::Column::Ownership], refs).await
    }

    async fn ownership_by_refs<E: EntityTrait>(
        &self,
        [namespace, name, ownership]: [E::Column; 3],
        refs: &[(String, String)],
    ) -> Result<HashMap<(String, String), Value>, StoreError> {
        let mut found = HashMap::new();
        for list in in_list::chunks(refs) {
            let rows: Vec<(String, String, Option<Value>)> = E::find()
                .select_only()
                .column(namespace)
                .column(name)
                .column(ownership)
                .filter(name.is_in(list.iter().map(|r| r.1.clone())))
                .into_tuple()
                .all(&self.exec)
                .await?;
            for (ns, n, ownership) in rows {
                let key = (ns, n);
                if let Some(ownership) = ownership.filter(|o| !o.is_null())
                    && list.contains(&key)
                {
                    found.insert(key, ownership);
                }
            }
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

    /// (job, dataset, direction) of the edges touching any of these datasets or jobs, current
    /// or as of a time: what a walk over the database needs, without decoding each row's
    /// times (a blast radius walks hundreds of edges inside the ingest transaction).
    pub async fn edge_ends(
        &self,
        datasets: &[DatasetId],
        jobs: &[JobId],
        as_of: Option<DateTime<Utc>>,
    ) -> Result<Vec<(JobId, DatasetId, Direction)>, StoreError> {
        use lineage_edge::Column as C;
        let mut found = Vec::new();
        let datasets: Vec<i64> = datasets.iter().map(|d| d.0).collect();
        let jobs: Vec<i64> = jobs.iter().map(|j| j.0).collect();
        for (column, ids) in [(C::DatasetId, &datasets), (C::JobId, &jobs)] {
            for list in in_list::chunks(ids) {
                let rows: Vec<(i64, i64, String)> = lineage_edge::Entity::find()
                    .select_only()
                    .columns([C::JobId, C::DatasetId, C::Direction])
                    .filter(column.is_in(list))
                    .filter(edge_condition(as_of))
                    .into_tuple()
                    .all(&self.exec)
                    .await?;
                found.extend(rows.into_iter().map(|(job, dataset, direction)| (JobId(job), DatasetId(dataset), Direction::parse(&direction))));
            }
        }
        Ok(found)
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

    /// The generation of the current graph: it goes up with every committed transaction that
    /// added or retired edges.
    pub async fn graph_generation(&self) -> Result<i64, StoreError> {
        let generation: Option<i64> = graph_state::Entity::find()
            .select_only()
            .column(graph_state::Column::Generation)
            .into_tuple()
            .one(&self.exec)
            .await?;
        generation.ok_or_else(|| StoreError::Corrupt("`graph_state` has no row".into()))
    }

    /// Every current edge (`since: None`), or every edge row changed in a generation above
    /// `since`, current or retired since.
    pub async fn edge_changes(&self, since: Option<i64>) -> Result<Vec<EdgeChange>, StoreError> {
        use lineage_edge::Column as C;
        let query = lineage_edge::Entity::find()
            .select_only()
            .columns([C::Id, C::JobId, C::DatasetId, C::Direction, C::RetiredAt]);
        let query = match since {
            None => query.filter(C::RetiredAt.is_null()),
            Some(generation) => query.filter(C::Generation.gt(generation)),
        };
        let rows: Vec<EdgeRow> = query.into_tuple().all(&self.exec).await?;
        Ok(rows
            .into_iter()
            .map(|(id, job, dataset, direction, retired_at)| EdgeChange {
                id,
                job_id: JobId(job),
                dataset_id: DatasetId(dataset),
                direction: Direction::parse(&direction),
                current: retired_at.is_none(),
            })
            .collect())
    }
}
