//! `weir token create | list | revoke`, on the database directly (like `weir migrate`), so
//! the first admin token can be made before any server runs.

use chrono::Utc;

use crate::auth::tokens;
use crate::auth::{Role, TokenRecord};
use crate::store::Store;

async fn open(database_url: &str) -> Result<Store, String> {
    let store = Store::connect(database_url).await.map_err(|e| e.to_string())?;
    store.migrate().await.map_err(|e| format!("cannot apply database migrations: {e}"))?;
    Ok(store)
}

/// Returns (the secret, for stdout alone so that `$(weir token create ...)` captures it;
/// a note for stderr).
pub async fn create(database_url: &str, name: &str, role: Role) -> Result<(String, String), String> {
    let store = open(database_url).await?;
    let (record, secret) = tokens::create(&store, name, role, Utc::now()).await.map_err(|e| e.to_string())?;
    let note = format!(
        "created token `{}` with role `{}`; it is printed once, store it now (only its hash is kept)",
        record.name, record.role
    );
    Ok((secret, note))
}

pub async fn list(database_url: &str) -> Result<String, String> {
    let store = open(database_url).await?;
    let records = tokens::list(&store).await.map_err(|e| e.to_string())?;
    Ok(table(&records))
}

pub async fn revoke(database_url: &str, name: &str) -> Result<String, String> {
    let store = open(database_url).await?;
    let record = tokens::revoke(&store, name, Utc::now()).await.map_err(|e| e.to_string())?;
    Ok(format!("revoked token `{}` (role `{}`)", record.name, record.role))
}

fn table(records: &[TokenRecord]) -> String {
    let mut rows = vec![["NAME".to_string(), "ROLE".into(), "CREATED".into(), "REVOKED".into()]];
    for r in records {
        rows.push([
            r.name.clone(),
            r.role.to_string(),
            r.created_at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            r.revoked_at.map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string()).unwrap_or_else(|| "-".into()),
        ]);
    }
    let widths: Vec<usize> = (0..4).map(|i| rows.iter().map(|r| r[i].len()).max().unwrap_or(0)).collect();
    rows.iter()
        .map(|r| {
            let cells: Vec<String> = r.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
            cells.join("  ").trim_end().to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}
