//! Turning a JSON column into a compressed one and back, row by row in Weir (SQL has no
//! zstd). The compressed form is the one `weir::store` writes and reads (`store/packed_json.rs`):
//! one zstd frame of the JSON text, at zstd's default level, without a dictionary. Used for a
//! gate decision's reasons (000019), an incident's blast radius (000020), a run's facets
//! (000021), a run's taint path (000022), a dataset's merged facets (000023) and a dataset
//! version's schema (000024).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend, FromQueryResult, TryGetable};

/// Rows converted per batch.
const BATCH: u64 = 500;

/// zstd's default level, the one the store writes with.
const LEVEL: i32 = 3;

/// Replaces `table.json` with `table.packed`, holding the same documents compressed. `key` is
/// the table's primary key column.
pub async fn pack_column<K: RowId>(
    m: &SchemaManager<'_>,
    table: &'static str,
    key: &'static str,
    json: &'static str,
    packed: &'static str,
) -> Result<(), DbErr> {
    let column = ColumnDef::new(packed).blob().not_null().default(Vec::<u8>::new()).to_owned();
    replace::<K, String>(m, (table, key), (json, Expr::col(json).cast_as("TEXT")), (packed, column), compress).await
}

/// [`pack_column`] for a column that may be NULL: it stays NULL.
pub async fn pack_nullable_column<K: RowId>(
    m: &SchemaManager<'_>,
    table: &'static str,
    key: &'static str,
    json: &'static str,
    packed: &'static str,
) -> Result<(), DbErr> {
    let column = ColumnDef::new(packed).blob().null().to_owned();
    replace::<K, String>(m, (table, key), (json, Expr::col(json).cast_as("TEXT")), (packed, column), compress).await
}

/// Replaces `table.packed` with `table.json` (`NOT NULL`, `default` for rows added meanwhile),
/// holding the documents as JSON again.
pub async fn unpack_column<K: RowId>(
    m: &SchemaManager<'_>,
    table: &'static str,
    key: &'static str,
    packed: &'static str,
    json: &'static str,
    default: &'static str,
) -> Result<(), DbErr> {
    let column = ColumnDef::new(json).json_binary().not_null().default(default).to_owned();
    replace::<K, Vec<u8>>(m, (table, key), (packed, Expr::col(packed)), (json, column), decompress).await
}

/// [`unpack_column`] for a column that may be NULL: it stays NULL.
pub async fn unpack_nullable_column<K: RowId>(
    m: &SchemaManager<'_>,
    table: &'static str,
    key: &'static str,
    packed: &'static str,
    json: &'static str,
) -> Result<(), DbErr> {
    let column = ColumnDef::new(json).json_binary().null().to_owned();
    replace::<K, Vec<u8>>(m, (table, key), (packed, Expr::col(packed)), (json, column), decompress).await
}

/// Adds column `target`, fills it with `convert` of each row's `source` (read as `V` by the
/// expression `read`; NULL stays NULL), and drops `source`.
async fn replace<K: RowId, V: TryGetable + AsRef<[u8]>>(
    m: &SchemaManager<'_>,
    (table, key): (&'static str, &'static str),
    (source, read): (&'static str, SimpleExpr),
    (target, mut column): (&'static str, ColumnDef),
    convert: fn(DatabaseBackend, &[u8]) -> Result<SimpleExpr, String>,
) -> Result<(), DbErr> {
    m.alter_table(Table::alter().table(table).add_column(&mut column).to_owned()).await?;
    let backend = m.get_database_backend();
    convert_rows(m, (table, key), read, target, |id: &K, value: Option<V>| {
        value.map(|bytes| convert(backend, bytes.as_ref()).map_err(|e| DbErr::Migration(format!("{table}.{source} of row {id}: {e}")))).transpose()
    })
    .await?;
    m.alter_table(Table::alter().table(table).drop_column(source).to_owned()).await
}

/// A JSON document's text as one zstd frame.
fn compress(_: DatabaseBackend, text: &[u8]) -> Result<SimpleExpr, String> {
    let frame = zstd::bulk::compress(text, LEVEL).map_err(|e| format!("could not be compressed: {e}"))?;
    Ok(Expr::value(frame))
}

/// A packed document as the JSON column's value.
fn decompress(backend: DatabaseBackend, frame: &[u8]) -> Result<SimpleExpr, String> {
    let text = zstd::stream::decode_all(frame)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(|| "is not a zstd frame of JSON text".to_string())?;
    Ok(match backend {
        DatabaseBackend::Postgres => Expr::cust_with_values("CAST($1 AS jsonb)", [text]),
        _ => Expr::value(text),
    })
}

/// A table's primary key: a number for most tables, text for `runs` and `run_taints` (a run's
/// id).
pub trait RowId: TryGetable + Into<Value> + Clone + std::fmt::Display + Send + Sync {}
impl RowId for i64 {}
impl RowId for String {}

#[derive(FromQueryResult)]
struct Row<K: RowId, T: TryGetable> {
    id: K,
    value: T,
}

/// Sets `target` of every row of `table` to `convert(id, value)` (`None`: leaves the row as it
/// is), where `value` is `source` read from the row: in the order of the primary key `key`, `BATCH` rows at a time, so a
/// long history is not read into memory at once.
async fn convert_rows<K: RowId, T: TryGetable>(
    m: &SchemaManager<'_>,
    (table, key): (&'static str, &'static str),
    source: SimpleExpr,
    target: &'static str,
    convert: impl Fn(&K, T) -> Result<Option<SimpleExpr>, DbErr>,
) -> Result<(), DbErr> {
    let conn = m.get_connection();
    let mut after: Option<K> = None;
    loop {
        let mut select = Query::select();
        select.expr_as(Expr::col(key), "id").expr_as(source.clone(), "value").from(table).order_by(key, Order::Asc).limit(BATCH);
        if let Some(after) = after {
            select.and_where(Expr::col(key).gt(after));
        }
        let rows = Row::<K, T>::find_by_statement(m.get_database_backend().build(&select)).all(conn).await?;
        let Some(last) = rows.last() else { return Ok(()) };
        after = Some(last.id.clone());
        for row in rows {
            let Some(value) = convert(&row.id, row.value)? else { continue };
            conn.execute(&Query::update().table(table).value(target, value).and_where(Expr::col(key).eq(row.id)).to_owned()).await?;
        }
    }
}
