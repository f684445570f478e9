//! A gate decision's reasons are kept compressed: `gate_decisions.reasons` (JSON) becomes
//! `reasons_zstd`, one zstd frame of the same JSON text.
//!
//! A decision is written once and read rarely (a job's decision history, a violation), and its
//! reasons are most of it: a run that starts against a failing input is recorded with every
//! reason in full, about 2.4 KB of JSON, and in a long-running deployment such records were
//! the largest growing part of the database. The frame is self-contained (no dictionary), so
//! a row can be read on its own; `weir::store` writes and reads it (`store/packed_json.rs`).

use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend, FromQueryResult, TryGetable};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Rows converted per statement batch.
const BATCH: u64 = 500;

/// zstd's default level, the one the store writes with.
const LEVEL: i32 = 3;

const TABLE: &str = "gate_decisions";

#[derive(FromQueryResult)]
struct Row<T: TryGetable> {
    id: i64,
    value: T,
}

/// Sets `target` of every row to `convert(id, value)`, where `value` is `source` read from the
/// row: by id, `BATCH` rows at a time, so a long history is not read into memory at once.
async fn convert_rows<T: TryGetable>(
    m: &SchemaManager<'_>,
    source: SimpleExpr,
    target: &'static str,
    convert: impl Fn(i64, T) -> Result<SimpleExpr, DbErr>,
) -> Result<(), DbErr> {
    let conn = m.get_connection();
    let mut after = 0i64;
    loop {
        let select = Query::select()
            .column("id")
            .expr_as(source.clone(), "value")
            .from(TABLE)
            .and_where(Expr::col("id").gt(after))
            .order_by("id", Order::Asc)
            .limit(BATCH)
            .to_owned();
        let rows = Row::<T>::find_by_statement(m.get_database_backend().build(&select)).all(conn).await?;
        let Some(last) = rows.last() else { return Ok(()) };
        after = last.id;
        for row in rows {
            let value = convert(row.id, row.value)?;
            conn.execute(&Query::update().table(TABLE).value(target, value).and_where(Expr::col("id").eq(row.id)).to_owned()).await?;
        }
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(TABLE).add_column(ColumnDef::new("reasons_zstd").blob().not_null().default(Vec::<u8>::new())).to_owned())
            .await?;
        convert_rows(m, Expr::col("reasons").cast_as("TEXT"), "reasons_zstd", |id, json: String| {
            let packed = zstd::bulk::compress(json.as_bytes(), LEVEL)
                .map_err(|e| DbErr::Migration(format!("compressing the reasons of gate decision {id}: {e}")))?;
            Ok(Expr::value(packed))
        })
        .await?;
        m.alter_table(Table::alter().table(TABLE).drop_column("reasons").to_owned()).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(TABLE).add_column(ColumnDef::new("reasons").json_binary().not_null().default("[]")).to_owned())
            .await?;
        let backend = m.get_database_backend();
        convert_rows(m, Expr::col("reasons_zstd"), "reasons", |id, packed: Vec<u8>| {
            let json = zstd::stream::decode_all(packed.as_slice())
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .ok_or_else(|| DbErr::Migration(format!("the reasons of gate decision {id} are not a zstd frame of JSON text")))?;
            Ok(match backend {
                DatabaseBackend::Postgres => Expr::cust_with_values("CAST($1 AS jsonb)", [json]),
                _ => Expr::value(json),
            })
        })
        .await?;
        m.alter_table(Table::alter().table(TABLE).drop_column("reasons_zstd").to_owned()).await
    }
}
