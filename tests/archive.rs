//! The raw-event archive: gzip at first, zstd with a dictionary trained on the database's own
//! events once it holds enough of them (for the server and for `weir import`), and
//! `weir archive export` giving every event back as archived whatever its row's compression;
//! on SQLite and PostgreSQL.

mod common;

use std::io::Write;
use std::process::Command;
use std::time::{Duration, Instant};

use common::Backend;
use common::events::{dataset, run_event, run_id, schema};
use serde_json::Value;
use weir::ingest::{Format, archive_format};
use weir::store::Store;

const WEIR: &str = env!("CARGO_BIN_EXE_weir");

/// A run writing a table with a 30-column schema, as warehouse jobs send (about 2 KB).
fn event(i: usize) -> Value {
    let names: Vec<String> = (0..30).map(|c| format!("column_{c}")).collect();
    let columns: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), if i.is_multiple_of(2) { "VARCHAR" } else { "BIGINT" })).collect();
    let mut output = dataset("wh", &format!("table_{}", i % 7));
    output["facets"]["schema"] = schema(&columns);
    let time = format!("2024-05-01T10:{:02}:{:02}Z", i / 60, i % 60);
    run_event("COMPLETE", &time, &run_id(), ("etl", &format!("job_{}", i % 5)), vec![dataset("wh", "source")], vec![output])
}

/// `weir archive export` of `url` after row `after_id`, parsed line by line.
fn export(url: &str, after_id: i64) -> Vec<Value> {
    let out = Command::new(WEIR)
        .args(["archive", "export", "--database-url", url, "--after-id", &after_id.to_string()])
        .output()
        .expect("run weir archive export");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).expect("a JSON line")).collect()
}

/// The rows' compression, oldest first, and the stored payloads' sizes.
async fn formats(store: &Store) -> Vec<(i64, Format, usize)> {
    let rows = store.archived_payloads(0, 10_000).await.expect("archive");
    rows.into_iter().map(|(id, payload)| (id, archive_format(&payload).expect("gzip or zstd"), payload.len())).collect()
}

/// Rows are gzip up to a point and zstd with `dictionary` from there on; `zstd_at_least` of
/// them zstd, each smaller on average than the gzip ones (the events are alike).
fn assert_gzip_then_dictionary(rows: &[(i64, Format, usize)], dictionary: u32, zstd_at_least: usize) {
    let gzip = rows.iter().take_while(|(_, f, _)| *f == Format::Gzip).count();
    let rest = &rows[gzip..];
    assert!(rest.iter().all(|(_, f, _)| *f == Format::Zstd(Some(dictionary))), "{rows:?}");
    assert!(gzip > 0 && rest.len() >= zstd_at_least, "{gzip} gzip rows, then {} zstd rows", rest.len());
    let mean = |rows: &[(i64, Format, usize)]| rows.iter().map(|r| r.2).sum::<usize>() / rows.len();
    assert!(mean(rest) < mean(&rows[..gzip]), "zstd {} bytes vs gzip {} bytes", mean(rest), mean(&rows[..gzip]));
}

configured_backend_tests! {
    async fn the_server_trains_a_dictionary_and_every_event_exports_as_sent(app) with |c| {
        c.archive_dictionary_after = 40;
    } => {
        let events: Vec<Value> = (0..100).map(event).collect();
        for e in &events[..50] {
            app.ingest(e).await;
        }
        // Trained in the background once 40 events are stored.
        let deadline = Instant::now() + Duration::from_secs(20);
        let dictionary = loop {
            if let Some((id, _)) = app.store.newest_archive_dictionary().await.expect("dictionary") {
                break id;
            }
            assert!(Instant::now() < deadline, "no dictionary was trained");
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        // The writer switches to it right after storing it: all but the first few of the next
        // events are compressed with it.
        for e in &events[50..] {
            app.ingest(e).await;
        }
        let rows = formats(&app.store).await;
        assert_eq!(rows.len(), 100);
        assert_gzip_then_dictionary(&rows, dictionary, 40);

        assert_eq!(export(&app.database_url, 0), events);
        assert_eq!(export(&app.database_url, rows[59].0), events[60..].to_vec());
        // A retry of an event archived with gzip is still recognised as a duplicate.
        app.ingest(&events[0]).await;
        assert_eq!(app.store.raw_event_count().await.expect("count"), 100);
    }
}

async fn weir_import_trains_a_dictionary_midway(backend: Backend) {
    let Some(db) = common::empty_database(backend).await else {
        eprintln!("skipped: WEIR_TEST_DATABASE_URL is not set (CI sets it)");
        return;
    };
    let events: Vec<Value> = (0..120).map(event).collect();
    let path = std::env::temp_dir().join(format!("weir-archive-{}.ndjson", uuid::Uuid::new_v4().simple()));
    let mut file = std::fs::File::create(&path).expect("create file");
    for e in &events {
        writeln!(file, "{e}").expect("write");
    }
    let out = Command::new(WEIR)
        .arg("import")
        .arg(&path)
        .args(["--database-url", &db.url, "--batch-size", "10", "--archive-dictionary-after", "30"])
        .output()
        .expect("run weir import");
    let _ = std::fs::remove_file(&path);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let store = Store::connect(&db.url).await.expect("connect");
    let (dictionary, _) = store.newest_archive_dictionary().await.expect("read").expect("a dictionary was trained");
    // The reader parses two chunks ahead of the writer: those stay gzip.
    assert_gzip_then_dictionary(&formats(&store).await, dictionary, 60);
    assert_eq!(export(&db.url, 0), events);

    // Without its dictionary (a database restored from a backup taken before it was stored),
    // a row cannot be read: the export stops there and says which row and which dictionary.
    let db_conn = sea_orm::Database::connect(&db.url).await.expect("connect");
    sea_orm::ConnectionTrait::execute_unprepared(&db_conn, "DELETE FROM archive_dictionaries").await.expect("delete");
    let out = Command::new(WEIR).args(["archive", "export", "--database-url", &db.url]).output().expect("run weir archive export");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&format!("needs archive dictionary {dictionary}, which is not stored")), "{stderr}");
}

#[tokio::test]
async fn weir_import_trains_a_dictionary_midway_on_sqlite() {
    weir_import_trains_a_dictionary_midway(Backend::Sqlite).await;
}

#[tokio::test]
async fn weir_import_trains_a_dictionary_midway_on_postgres() {
    weir_import_trains_a_dictionary_midway(Backend::Postgres).await;
}
