"""Emit a small pipeline with the real openlineage-python client, configured the way users do.

`OpenLineageClient()` is built with no arguments, so it finds its transport exactly as in a
user's pipeline: an `openlineage.yml` (named by OPENLINEAGE_CONFIG, or in the working
directory), else OPENLINEAGE_URL (and OPENLINEAGE_API_KEY). tests/real_tools.rs runs this
script against a Weir it started and then checks, over GraphQL, that Weir holds exactly
what is sent here.

The pipeline (event times fixed, so the test can compare them exactly):

  s3://landing/orders/2024-05-31.csv -> etl/ingest_orders -> postgres://db:5432/shop.public.orders
      START + COMPLETE; the output carries a schema (with a nested struct column) and
      outputStatistics.
  shop.public.orders -> etl/clean_orders -> shop.public.orders_clean
      START + COMPLETE; the input carries dataQualityMetrics (dataset and column metrics) and
      dataQualityAssertions (two pass, one fails); the output has a schema and columnLineage.
  shop.public.orders_clean -> etl/orders_daily -> shop.mart.orders_daily
      START + FAIL, with an errorMessage run facet.
  DatasetEvent: shop.public.customers with a schema and dataQualityMetrics.
  JobEvent: etl/customers_agg reads shop.public.customers and writes shop.mart.customers_agg.

Prints one JSON object on stdout: the run ids, and what was seen of each HTTP request (path,
status, Content-Encoding, the Authorization scheme) through a `requests` response hook, which
observes and changes nothing. Any answer >= 400 makes the client raise, so this script fails.
"""

import json
import sys

from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import (
    DatasetEvent,
    InputDataset,
    Job,
    JobEvent,
    OutputDataset,
    Run,
    RunEvent,
    RunState,
    StaticDataset,
)
from openlineage.client.facet_v2 import (
    column_lineage_dataset,
    data_quality_assertions_dataset,
    data_quality_metrics_dataset,
    data_quality_metrics_input_dataset,
    error_message_run,
    job_type_job,
    output_statistics_output_dataset,
    schema_dataset,
    sql_job,
)
from openlineage.client.uuid import generate_new_uuid

PRODUCER = "https://github.com/weir/tests/real_tools/emit_pipeline.py"
JOB_NS = "etl"
DB = "postgres://db:5432"
LANDING = "s3://landing"

client = OpenLineageClient()

seen = []


def record(response, *args, **kwargs):
    request = response.request
    auth = request.headers.get("Authorization")
    seen.append(
        {
            "method": request.method,
            "path": request.path_url,
            "status": response.status_code,
            "contentEncoding": request.headers.get("Content-Encoding"),
            "authScheme": auth.split(" ", 1)[0] if auth else None,
        }
    )


# Only the HTTP transport has a `requests` session to observe; fail loudly otherwise, since a
# console transport would "succeed" without sending anything.
transport = client.transport
if getattr(transport, "kind", None) != "http":
    sys.exit(f"expected the http transport, got {getattr(transport, 'kind', transport)!r}")
transport.session.hooks["response"].append(record)


def field(name, type_, description=None, fields=None):
    return schema_dataset.SchemaDatasetFacetFields(
        name=name, type=type_, description=description, fields=fields or []
    )


ORDERS_SCHEMA = schema_dataset.SchemaDatasetFacet(
    fields=[
        field("id", "BIGINT", "order id"),
        field("customer_id", "BIGINT"),
        field("amount", "DECIMAL(10,2)"),
        field("address", "STRUCT", fields=[field("city", "VARCHAR"), field("zip", "VARCHAR")]),
    ]
)
CLEAN_SCHEMA = schema_dataset.SchemaDatasetFacet(
    fields=[field("id", "BIGINT"), field("customer_id", "BIGINT"), field("amount", "DECIMAL(10,2)")]
)


def job(name, sql=None):
    facets = {"jobType": job_type_job.JobTypeJobFacet(processingType="BATCH", integration="CUSTOM", jobType="JOB")}
    if sql:
        facets["sql"] = sql_job.SQLJobFacet(query=sql)
    return Job(namespace=JOB_NS, name=name, facets=facets)


def emit_run(name, run_id, inputs, outputs, start, end, end_state=RunState.COMPLETE, run_facets=None, sql=None):
    run = Run(runId=run_id)
    client.emit(
        RunEvent(eventType=RunState.START, eventTime=start, run=run, job=job(name, sql), producer=PRODUCER, inputs=inputs, outputs=outputs)
    )
    client.emit(
        RunEvent(
            eventType=end_state,
            eventTime=end,
            run=Run(runId=run_id, facets=run_facets or {}),
            job=job(name, sql),
            producer=PRODUCER,
            inputs=inputs,
            outputs=outputs,
        )
    )


runs = {name: str(generate_new_uuid()) for name in ("ingest_orders", "clean_orders", "orders_daily")}

# 1. ingest_orders: landing file -> shop.public.orders
emit_run(
    "ingest_orders",
    runs["ingest_orders"],
    inputs=[InputDataset(namespace=LANDING, name="orders/2024-05-31.csv")],
    outputs=[
        OutputDataset(
            namespace=DB,
            name="shop.public.orders",
            facets={"schema": ORDERS_SCHEMA},
            outputFacets={
                "outputStatistics": output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet(rowCount=1000, size=65536)
            },
        )
    ],
    start="2024-05-31T10:00:00+00:00",
    end="2024-05-31T10:05:00+00:00",
)

# 2. clean_orders: quality evidence on its input, column lineage on its output.
orders_metrics = data_quality_metrics_input_dataset.DataQualityMetricsInputDatasetFacet(
    rowCount=1000,
    bytes=65536,
    fileCount=2,
    columnMetrics={
        "id": data_quality_metrics_input_dataset.ColumnMetrics(
            nullCount=0, distinctCount=1000, sum=500500.0, count=1000.0, min=1.0, max=1000.0, quantiles={"0.5": 500.0}
        ),
        "amount": data_quality_metrics_input_dataset.ColumnMetrics(nullCount=3),
    },
)
orders_assertions = data_quality_assertions_dataset.DataQualityAssertionsDatasetFacet(
    assertions=[
        data_quality_assertions_dataset.Assertion(assertion="not_null", success=True, column="id"),
        data_quality_assertions_dataset.Assertion(assertion="unique", success=True, column="id"),
        data_quality_assertions_dataset.Assertion(assertion="row_count_between", success=False),
    ]
)
clean_lineage = column_lineage_dataset.ColumnLineageDatasetFacet(
    fields={
        "amount": column_lineage_dataset.Fields(
            inputFields=[
                column_lineage_dataset.InputField(
                    namespace=DB,
                    name="shop.public.orders",
                    field="amount",
                    transformations=[column_lineage_dataset.Transformation(type="DIRECT", subtype="IDENTITY")],
                )
            ]
        )
    }
)
emit_run(
    "clean_orders",
    runs["clean_orders"],
    inputs=[
        InputDataset(
            namespace=DB,
            name="shop.public.orders",
            inputFacets={"dataQualityMetrics": orders_metrics, "dataQualityAssertions": orders_assertions},
        )
    ],
    outputs=[
        OutputDataset(
            namespace=DB,
            name="shop.public.orders_clean",
            facets={"schema": CLEAN_SCHEMA, "columnLineage": clean_lineage},
            outputFacets={
                "outputStatistics": output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet(rowCount=990, size=60000)
            },
        )
    ],
    start="2024-05-31T11:00:00+00:00",
    end="2024-05-31T11:10:00+00:00",
    sql="SELECT id, customer_id, amount FROM shop.public.orders WHERE id IS NOT NULL",
)

# 3. orders_daily fails.
emit_run(
    "orders_daily",
    runs["orders_daily"],
    inputs=[InputDataset(namespace=DB, name="shop.public.orders_clean")],
    outputs=[OutputDataset(namespace=DB, name="shop.mart.orders_daily")],
    start="2024-05-31T12:00:00+00:00",
    end="2024-05-31T12:01:00+00:00",
    end_state=RunState.FAIL,
    run_facets={
        "errorMessage": error_message_run.ErrorMessageRunFacet(
            message="division by zero in daily_totals",
            programmingLanguage="PYTHON",
            stackTrace='Traceback (most recent call last):\n  File "daily.py", line 12\nZeroDivisionError: division by zero',
        )
    },
)

# 4. A DatasetEvent: metadata about a dataset, no run.
client.emit(
    DatasetEvent(
        eventTime="2024-05-31T13:00:00+00:00",
        producer=PRODUCER,
        dataset=StaticDataset(
            namespace=DB,
            name="shop.public.customers",
            facets={
                "schema": schema_dataset.SchemaDatasetFacet(fields=[field("id", "INT"), field("email", "VARCHAR")]),
                "dataQualityMetrics": data_quality_metrics_dataset.DataQualityMetricsDatasetFacet(
                    rowCount=250,
                    columnMetrics={"email": data_quality_metrics_dataset.ColumnMetrics(nullCount=7)},
                ),
            },
        ),
    )
)

# 5. A JobEvent: a job's lineage, declared without a run.
client.emit(
    JobEvent(
        eventTime="2024-05-31T13:05:00+00:00",
        producer=PRODUCER,
        job=job("customers_agg"),
        inputs=[InputDataset(namespace=DB, name="shop.public.customers")],
        outputs=[OutputDataset(namespace=DB, name="shop.mart.customers_agg")],
    )
)

client.close()
print(json.dumps({"runs": runs, "requests": seen}))
