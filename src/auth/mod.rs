//! Who may do what: API tokens, the role each one carries, and what a role permits.
//!
//! A token is a random secret handed out once (`weir token create`); only its SHA-256 is
//! stored. A request presents it as a bearer token and acts with the token's role. This module
//! knows nothing of HTTP: the API layer decides which [`Permission`] a request needs and asks
//! [`tokens::authenticate`] who is calling.

pub mod tokens;

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};

/// What a token may do. Roles are not ordered: `ingest` cannot read and `read` cannot send
/// events, so a pipeline's credential leaks no data and a dashboard's cannot forge lineage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Send OpenLineage events, nothing else (what pipeline hooks get).
    Ingest,
    /// Queries and the gate (catalogs, dashboards, orchestrators asking "may I run?").
    Read,
    /// Everything: events, queries, mutations (rules, waivers, channels).
    Admin,
}

/// What a request needs. The API layer maps each route and GraphQL operation to one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    Ingest,
    Read,
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Ingest, Role::Read, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Ingest => "ingest",
            Role::Read => "read",
            Role::Admin => "admin",
        }
    }

    pub fn allows(self, permission: Permission) -> bool {
        matches!(
            (self, permission),
            (Role::Admin, _) | (Role::Ingest, Permission::Ingest) | (Role::Read, Permission::Read)
        )
    }
}

impl Permission {
    /// The roles that have this permission, for error messages.
    pub fn roles(self) -> &'static str {
        match self {
            Permission::Ingest => "`ingest` or `admin`",
            Permission::Read => "`read` or `admin`",
            Permission::Admin => "`admin`",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Role, String> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown role `{s}`: use ingest, read or admin"))
    }
}

/// The caller a valid token identifies. Mutations record `name` as their author.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub name: String,
    pub role: Role,
}

/// A stored token, without its secret (which is never stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    pub name: String,
    pub role: Role,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_allow_only_their_own_permission_and_admin_allows_all() {
        assert!(Role::Ingest.allows(Permission::Ingest));
        assert!(!Role::Ingest.allows(Permission::Read));
        assert!(!Role::Ingest.allows(Permission::Admin));
        assert!(Role::Read.allows(Permission::Read));
        assert!(!Role::Read.allows(Permission::Ingest));
        assert!(!Role::Read.allows(Permission::Admin));
        for p in [Permission::Ingest, Permission::Read, Permission::Admin] {
            assert!(Role::Admin.allows(p));
        }
    }

    #[test]
    fn roles_parse_from_their_names_only() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        assert!("Admin".parse::<Role>().is_err());
        assert!("root".parse::<Role>().is_err());
    }
}
