//! Per-request DataLoaders: every lookup a resolver makes by id is batched with the others of
//! the same request, so a list of 50 datasets with their producers costs a few queries, not 100.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};

use crate::model::{Dataset, DatasetId, DatasetVersion, Edge, Job, JobId, Run, RunIo};
use crate::store::{Store, StoreError};

/// Loader errors must be cloneable; the store error is shared.
pub type LoadError = Arc<StoreError>;

pub struct StoreLoader {
    store: Store,
}

/// The loaders of one request, created fresh for each so nothing is cached across requests.
pub type Loaders = DataLoader<StoreLoader>;

pub fn loaders(store: Store) -> Loaders {
    DataLoader::new(StoreLoader { store }, tokio::spawn)
}

impl Loader<DatasetId> for StoreLoader {
    type Value = Dataset;
    type Error = LoadError;

    async fn load(&self, keys: &[DatasetId]) -> Result<HashMap<DatasetId, Dataset>, LoadError> {
        let rows = self.store.datasets_by_ids(keys).await.map_err(Arc::new)?;
        Ok(rows.into_iter().map(|d| (d.id, d)).collect())
    }
}

impl Loader<JobId> for StoreLoader {
    type Value = Job;
    type Error = LoadError;

    async fn load(&self, keys: &[JobId]) -> Result<HashMap<JobId, Job>, LoadError> {
        let rows = self.store.jobs_by_ids(keys).await.map_err(Arc::new)?;
        Ok(rows.into_iter().map(|j| (j.id, j)).collect())
    }
}

/// Dataset versions by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VersionId(pub i64);

impl Loader<VersionId> for StoreLoader {
    type Value = DatasetVersion;
    type Error = LoadError;

    async fn load(&self, keys: &[VersionId]) -> Result<HashMap<VersionId, DatasetVersion>, LoadError> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows = self.store.versions_by_ids(&ids).await.map_err(Arc::new)?;
        Ok(rows.into_iter().map(|v| (VersionId(v.id), v)).collect())
    }
}

/// Runs by canonical id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RunKey(pub String);

impl Loader<RunKey> for StoreLoader {
    type Value = Run;
    type Error = LoadError;

    async fn load(&self, keys: &[RunKey]) -> Result<HashMap<RunKey, Run>, LoadError> {
        let ids: Vec<String> = keys.iter().map(|k| k.0.clone()).collect();
        let rows = self.store.runs_by_ids(&ids).await.map_err(Arc::new)?;
        Ok(rows.into_iter().map(|r| (RunKey(r.id.clone()), r)).collect())
    }
}

/// What a run read and wrote.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RunIoKey(pub String);

impl Loader<RunIoKey> for StoreLoader {
    type Value = Vec<RunIo>;
    type Error = LoadError;

    async fn load(&self, keys: &[RunIoKey]) -> Result<HashMap<RunIoKey, Vec<RunIo>>, LoadError> {
        let ids: Vec<String> = keys.iter().map(|k| k.0.clone()).collect();
        let rows = self.store.run_io_of_runs(&ids).await.map_err(Arc::new)?;
        let mut out: HashMap<RunIoKey, Vec<RunIo>> = keys.iter().map(|k| (k.clone(), Vec::new())).collect();
        for row in rows {
            out.entry(RunIoKey(row.run_id.clone())).or_default().push(row);
        }
        Ok(out)
    }
}

/// The current edges of a dataset (its producing and consuming jobs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DatasetEdges(pub DatasetId);

impl Loader<DatasetEdges> for StoreLoader {
    type Value = Vec<Edge>;
    type Error = LoadError;

    async fn load(&self, keys: &[DatasetEdges]) -> Result<HashMap<DatasetEdges, Vec<Edge>>, LoadError> {
        let ids: Vec<DatasetId> = keys.iter().map(|k| k.0).collect();
        let rows = self.store.snapshot().edges_of_datasets(&ids, None).await.map_err(Arc::new)?;
        let mut out: HashMap<DatasetEdges, Vec<Edge>> = keys.iter().map(|k| (*k, Vec::new())).collect();
        for edge in rows {
            out.entry(DatasetEdges(edge.dataset_id)).or_default().push(edge);
        }
        Ok(out)
    }
}

/// The current edges of a job (its inputs and outputs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct JobEdges(pub JobId);

impl Loader<JobEdges> for StoreLoader {
    type Value = Vec<Edge>;
    type Error = LoadError;

    async fn load(&self, keys: &[JobEdges]) -> Result<HashMap<JobEdges, Vec<Edge>>, LoadError> {
        let ids: Vec<JobId> = keys.iter().map(|k| k.0).collect();
        let rows = self.store.snapshot().edges_of_jobs(&ids, None).await.map_err(Arc::new)?;
        let mut out: HashMap<JobEdges, Vec<Edge>> = keys.iter().map(|k| (*k, Vec::new())).collect();
        for edge in rows {
            out.entry(JobEdges(edge.job_id)).or_default().push(edge);
        }
        Ok(out)
    }
}

impl From<LoadError> for crate::api::error::ApiError {
    fn from(e: LoadError) -> Self {
        crate::api::error::ApiError::internal("database failure", e)
    }
}
