//! A deterministic synthetic warehouse and the OpenLineage events its pipelines emit.
//!
//! Datasets sit on 25 levels: level 0 are sources (operational databases), 1-3 staging, 4-15
//! intermediate, 16-21 marts, 22-24 exports. A job on level `l` writes one or more datasets of
//! level `l` (fan-out) and reads 1-4 datasets of lower levels, mostly `l - 1` (fan-in), so
//! lineage is up to 24 job hops deep. Jobs are Airflow tasks (with their DAG as parent job),
//! Spark applications (parent: the Airflow task that submitted them) or dbt models (parent: the
//! dbt run). Each run emits a START and a COMPLETE (1 in 200 runs FAILs) shaped like those
//! emitters' events: schema (10-40 columns), `dataQualityMetrics`, `dataQualityAssertions`,
//! `outputStatistics`, `columnLineage`, `parent`, `nominalTime`, `processing_engine`.
//! Everything derives from the seed.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

pub const LEVELS: usize = 25;
/// Outputs a run reports (the rest of a job's datasets are never written).
pub const MAX_OUTPUTS: usize = 2;

#[derive(Debug, Clone, Copy)]
pub struct Size {
    pub datasets: usize,
    pub jobs: usize,
    pub seed: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Emitter {
    Airflow,
    Spark,
    Dbt,
}

pub struct DatasetDef {
    pub namespace: String,
    pub name: String,
    pub level: usize,
    pub columns: Vec<(String, &'static str)>,
}

pub struct JobDef {
    pub namespace: String,
    pub name: String,
    pub emitter: Emitter,
    pub level: usize,
    pub inputs: Vec<usize>,
    pub outputs: Vec<usize>,
    pub parent: (String, String),
}

pub struct Warehouse {
    pub datasets: Vec<DatasetDef>,
    pub jobs: Vec<JobDef>,
    pub seed: u64,
}

const TYPES: [&str; 8] = ["BIGINT", "VARCHAR", "DECIMAL(18,2)", "TIMESTAMP", "DATE", "BOOLEAN", "DOUBLE", "INTEGER"];
const WORDS: [&str; 16] = [
    "customer", "order", "amount", "status", "created", "updated", "country", "product", "price", "quantity", "email",
    "channel", "segment", "region", "currency", "discount",
];

fn layer(level: usize) -> (&'static str, &'static str) {
    match level {
        0 => ("postgres://prod-db.acme.internal:5432", "app.public.src"),
        1..=3 => ("snowflake://acme.eu-west-1", "ANALYTICS.STAGING.STG"),
        4..=15 => ("snowflake://acme.eu-west-1", "ANALYTICS.INTERMEDIATE.INT"),
        16..=21 => ("snowflake://acme.eu-west-1", "ANALYTICS.MARTS.MART"),
        _ => ("s3://acme-exports", "exports/partner_feed"),
    }
}

impl Warehouse {
    pub fn new(size: Size) -> Warehouse {
        let mut rng = StdRng::seed_from_u64(size.seed);
        let jobs_n = size.jobs.max(LEVELS - 1);
        let sources = (size.datasets / 5).max(4);
        let derived = size.datasets.saturating_sub(sources).max(jobs_n);
        // Datasets and jobs per level 1..LEVELS-1, spread evenly.
        let per_level = |total: usize, level: usize| {
            let n = LEVELS - 1;
            total / n + usize::from((level - 1) < total % n)
        };
        let mut datasets = Vec::with_capacity(sources + derived);
        let mut by_level: Vec<Vec<usize>> = vec![Vec::new(); LEVELS];
        #[allow(clippy::needless_range_loop)] // `level` also names and places the datasets
        for level in 0..LEVELS {
            let count = if level == 0 { sources } else { per_level(derived, level).max(per_level(jobs_n, level)) };
            for i in 0..count {
                let (namespace, prefix) = layer(level);
                let ncols = rng.random_range(10..=40);
                let columns = (0..ncols)
                    .map(|c| {
                        let word = WORDS[rng.random_range(0..WORDS.len())];
                        (format!("{word}_{c}"), TYPES[rng.random_range(0..TYPES.len())])
                    })
                    .collect();
                by_level[level].push(datasets.len());
                datasets.push(DatasetDef { namespace: namespace.to_string(), name: format!("{prefix}_{level}_{i}"), level, columns });
            }
        }
        let mut jobs = Vec::with_capacity(jobs_n);
        for level in 1..LEVELS {
            let n = per_level(jobs_n, level);
            let outs = &by_level[level];
            for k in 0..n {
                let index = jobs.len();
                // Round-robin the level's datasets over its jobs: every dataset has one writer.
                let outputs: Vec<usize> = outs.iter().copied().skip(k).step_by(n).collect();
                let fan_in = rng.random_range(1..=4);
                let mut inputs = Vec::with_capacity(fan_in);
                for f in 0..fan_in {
                    let from = if f == 0 || rng.random_bool(0.6) { level - 1 } else { rng.random_range(0..level) };
                    let pool = &by_level[from];
                    let pick = pool[rng.random_range(0..pool.len())];
                    if !inputs.contains(&pick) {
                        inputs.push(pick);
                    }
                }
                let emitter = match index % 3 {
                    0 => Emitter::Airflow,
                    1 => Emitter::Spark,
                    _ => Emitter::Dbt,
                };
                let dag = index / 20;
                let (namespace, name, parent) = match emitter {
                    Emitter::Airflow => (
                        "airflow-prod".to_string(),
                        format!("warehouse_dag_{dag}.task_{index}"),
                        ("airflow-prod".to_string(), format!("warehouse_dag_{dag}")),
                    ),
                    Emitter::Spark => (
                        "spark-prod".to_string(),
                        format!("etl_{level}_{index}.execute_insert_into_hadoop_fs_relation_command"),
                        ("airflow-prod".to_string(), format!("warehouse_dag_{dag}.submit_{index}")),
                    ),
                    Emitter::Dbt => (
                        "dbt-prod".to_string(),
                        format!("acme.analytics.model_{level}_{index}"),
                        ("dbt-prod".to_string(), format!("dbt-run-acme-{dag}")),
                    ),
                };
                jobs.push(JobDef { namespace, name, emitter, level, inputs, outputs, parent });
            }
        }
        Warehouse { datasets, jobs, seed: size.seed }
    }

    /// The events of `runs` runs, two per run (START, COMPLETE/FAIL), in time order. Runs go
    /// round-robin over the jobs, upstream levels first, as a daily schedule would. `first_run`
    /// offsets the run numbers so that disjoint slices of one history can be generated.
    pub fn events(&self, first_run: usize, runs: usize) -> impl Iterator<Item = Value> + '_ {
        (first_run..first_run + runs).flat_map(move |r| {
            let mut rng = StdRng::seed_from_u64(self.seed ^ (r as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
            let job = &self.jobs[r % self.jobs.len()];
            let round = r / self.jobs.len();
            let failed = rng.random_ratio(1, 200);
            let run_id = uuid_from(&mut rng);
            let start_secs = 1_704_067_200 + round as i64 * 86_400 + job.level as i64 * 600 + (r % 600) as i64;
            let start = ts(start_secs);
            let end = ts(start_secs + rng.random_range(30..1800));
            let start_event = self.event(job, "START", &start, &run_id, &start, false, &mut rng);
            let end_event = self.event(job, if failed { "FAIL" } else { "COMPLETE" }, &end, &run_id, &start, true, &mut rng);
            [start_event, end_event]
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn event(&self, job: &JobDef, event_type: &str, time: &str, run_id: &str, nominal: &str, end: bool, rng: &mut StdRng) -> Value {
        let producer = match job.emitter {
            Emitter::Airflow => "https://github.com/apache/airflow/tree/providers-openlineage/1.14.0",
            Emitter::Spark => "https://github.com/OpenLineage/OpenLineage/tree/1.24.2/integration/spark",
            Emitter::Dbt => "https://github.com/OpenLineage/OpenLineage/tree/1.24.2/integration/dbt",
        };
        let facet = |schema: &str| json!({ "_producer": producer, "_schemaURL": format!("https://openlineage.io/spec/facets/{schema}") });
        let with = |mut base: Value, extra: Value| {
            if let (Some(b), Value::Object(e)) = (base.as_object_mut(), extra) {
                b.extend(e);
            }
            base
        };
        let mut run_facets = json!({
            "parent": with(facet("1-0-1/ParentRunFacet.json#/$defs/ParentRunFacet"), json!({
                "run": { "runId": uuid_from(rng) },
                "job": { "namespace": job.parent.0, "name": job.parent.1 },
            })),
            "nominalTime": with(facet("1-0-1/NominalTimeRunFacet.json#/$defs/NominalTimeRunFacet"), json!({ "nominalStartTime": nominal })),
            "processing_engine": with(facet("1-1-1/ProcessingEngineRunFacet.json#/$defs/ProcessingEngineRunFacet"), json!({
                "version": match job.emitter { Emitter::Airflow => "2.10.3", Emitter::Spark => "3.5.1", Emitter::Dbt => "1.8.7" },
                "name": match job.emitter { Emitter::Airflow => "Airflow", Emitter::Spark => "spark", Emitter::Dbt => "dbt" },
                "openlineageAdapterVersion": "1.24.2",
            })),
        });
        if end && event_type == "FAIL" {
            run_facets["errorMessage"] = with(
                facet("1-0-1/ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet"),
                json!({ "message": "Task failed: upstream partition missing", "programmingLanguage": "python" }),
            );
        }
        let job_type = match job.emitter {
            Emitter::Airflow => json!({ "processingType": "BATCH", "integration": "AIRFLOW", "jobType": "TASK" }),
            Emitter::Spark => json!({ "processingType": "BATCH", "integration": "SPARK", "jobType": "SQL_JOB" }),
            Emitter::Dbt => json!({ "processingType": "BATCH", "integration": "DBT", "jobType": "MODEL" }),
        };
        let inputs: Vec<Value> = job
            .inputs
            .iter()
            .map(|&d| {
                let ds = &self.datasets[d];
                let mut input = json!({ "namespace": ds.namespace, "name": ds.name, "facets": {} });
                if end {
                    // Great Expectations / dbt tests on what was read; 1 in 100 fails. An input
                    // facet, where the spec and the dbt and GE integrations put it.
                    let assertions: Vec<Value> = ds.columns.iter().take(2).map(|(c, _)| {
                        json!({ "assertion": "not_null", "success": !rng.random_ratio(1, 100), "column": c })
                    }).collect();
                    input["inputFacets"] = json!({
                        "dataQualityAssertions": with(facet("1-1-0/DataQualityAssertionsDatasetFacet.json#/$defs/DataQualityAssertionsDatasetFacet"), json!({ "assertions": assertions })),
                    });
                }
                input
            })
            .collect();
        let outputs: Vec<Value> = job
            .outputs
            .iter()
            .take(MAX_OUTPUTS)
            .map(|&d| {
                let ds = &self.datasets[d];
                let fields: Vec<Value> = ds.columns.iter().map(|(n, t)| json!({ "name": n, "type": t })).collect();
                let mut facets = json!({
                    "schema": with(facet("1-1-1/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet"), json!({ "fields": fields })),
                });
                // Spark puts `outputStatistics` in the output facets, as the spec says.
                let mut output_facets = json!({});
                if end {
                    facets["dataSource"] = with(facet("1-0-1/DatasourceDatasetFacet.json#/$defs/DatasourceDatasetFacet"), json!({ "name": ds.namespace, "uri": ds.namespace }));
                    let rows: u64 = if rng.random_ratio(1, 200) { 0 } else { rng.random_range(1_000..5_000_000) };
                    let column_metrics: serde_json::Map<String, Value> = ds.columns.iter().take(3).map(|(c, _)| {
                        (c.clone(), json!({ "nullCount": rng.random_range(0..100), "distinctCount": rng.random_range(1..rows.max(2)), "min": 0, "max": rng.random_range(1..100_000) }))
                    }).collect();
                    // Metrics of what was written: the dataset-facet form of `dataQualityMetrics`.
                    facets["dataQualityMetrics"] = with(facet("1-0-0/DataQualityMetricsDatasetFacet.json#/$defs/DataQualityMetricsDatasetFacet"), json!({
                        "rowCount": rows, "bytes": rows * 120, "columnMetrics": column_metrics,
                    }));
                    output_facets["outputStatistics"] = with(facet("1-0-2/OutputStatisticsOutputDatasetFacet.json#/$defs/OutputStatisticsOutputDatasetFacet"), json!({ "rowCount": rows, "size": rows * 120, "fileCount": rng.random_range(1..64) }));
                    // Column lineage for the first columns, from the job's first input.
                    let source = &self.datasets[job.inputs[0]];
                    let lineage: serde_json::Map<String, Value> = ds.columns.iter().take(3).enumerate().map(|(i, (c, _))| {
                        let from = &source.columns[i % source.columns.len()].0;
                        (c.clone(), json!({ "inputFields": [{ "namespace": source.namespace, "name": source.name, "field": from,
                            "transformations": [{ "type": "DIRECT", "subtype": "IDENTITY", "description": "", "masking": false }] }] }))
                    }).collect();
                    facets["columnLineage"] = with(facet("1-2-0/ColumnLineageDatasetFacet.json#/$defs/ColumnLineageDatasetFacet"), json!({ "fields": lineage }));
                }
                json!({ "namespace": ds.namespace, "name": ds.name, "facets": facets, "outputFacets": output_facets })
            })
            .collect();
        json!({
            "eventType": event_type,
            "eventTime": time,
            "run": { "runId": run_id, "facets": run_facets },
            "job": { "namespace": job.namespace, "name": job.name, "facets": {
                "jobType": with(facet("2-0-3/JobTypeJobFacet.json#/$defs/JobTypeJobFacet"), job_type),
            } },
            "inputs": inputs,
            "outputs": outputs,
            "producer": producer,
            "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        })
    }
}

fn uuid_from(rng: &mut StdRng) -> String {
    let bytes: [u8; 16] = rng.random();
    uuid::Builder::from_random_bytes(bytes).into_uuid().to_string()
}

fn ts(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0).unwrap_or_default().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
