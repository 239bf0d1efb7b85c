//! The repository's error: what went wrong in the database's terms, translated once here from
//! sqlx's, so no layer above needs to know a SQLSTATE.

/// Why a repository call failed.
#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    /// A unique constraint refused the write. `constraint` names it the same way on both
    /// backends: `table.column` (`customers.code`), columns joined by `,` for a composite key.
    #[error("conflict on {constraint}")]
    Conflict { constraint: String },
    /// A referenced row does not exist (PostgreSQL names the constraint; SQLite does not).
    #[error("reference not found{}", constraint.as_deref().map(|c| format!(" ({c})")).unwrap_or_default())]
    ForeignKey { constraint: Option<String> },
    /// The database is busy (no connection free in time) or the connection broke under the
    /// query: safe to retry.
    #[error("database unavailable: {reason} ({source})")]
    Unavailable {
        reason: &'static str,
        #[source]
        source: sqlx::Error,
    },
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
}

impl RepoError {
    pub fn code(&self) -> &'static str {
        match self {
            RepoError::Conflict { .. } => "conflict",
            RepoError::ForeignKey { .. } => "reference_not_found",
            RepoError::Unavailable { .. } | RepoError::Database(_) | RepoError::Corrupt(_) => "database_unavailable",
        }
    }

    /// Whether this is a unique violation of `constraint` (`table.column`).
    pub fn is_conflict_on(&self, constraint: &str) -> bool {
        matches!(self, RepoError::Conflict { constraint: c } if c == constraint)
    }
}

impl From<sqlx::Error> for RepoError {
    fn from(e: sqlx::Error) -> Self {
        if let Some(db) = e.as_database_error() {
            match db.kind() {
                sqlx::error::ErrorKind::UniqueViolation => return RepoError::Conflict { constraint: unique_constraint(db) },
                sqlx::error::ErrorKind::ForeignKeyViolation => {
                    return RepoError::ForeignKey { constraint: db.constraint().map(str::to_string) }
                }
                _ => {}
            }
        }
        if matches!(e, sqlx::Error::PoolTimedOut) {
            return RepoError::Unavailable { reason: "the database is busy; retry shortly", source: e };
        }
        if connection_lost(&e) {
            return RepoError::Unavailable { reason: "the database connection was lost; retry shortly", source: e };
        }
        RepoError::Database(e)
    }
}

impl From<sqlx::migrate::MigrateError> for RepoError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        RepoError::Database(e.into())
    }
}

/// `table.column[,column…]` for a unique violation. SQLite says it in its message
/// (`UNIQUE constraint failed: customers.code`). PostgreSQL says it in the error's table and
/// detail (`Key (code)=(C-1) already exists.`); where the detail is in another language or
/// missing, the constraint's name is read instead: a column's `UNIQUE` is named
/// `<table>_<column>_key` whatever the server's language. Failing both, the backend's own name.
fn unique_constraint(db: &dyn sqlx::error::DatabaseError) -> String {
    if let Some(cols) = db.message().strip_prefix("UNIQUE constraint failed: ") {
        let mut table = None;
        let mut columns = Vec::new();
        for tc in cols.split(", ") {
            let (t, c) = tc.split_once('.').unwrap_or(("", tc));
            table.get_or_insert(t);
            columns.push(c);
        }
        return format!("{}.{}", table.unwrap_or(""), columns.join(","));
    }
    if let Some(pg) = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
        if let Some(table) = pg.table() {
            let columns =
                pg.detail().and_then(|d| d.strip_prefix("Key (")).and_then(|d| d.split_once(")=")).map(|(cols, _)| cols.replace(", ", ","));
            if let Some(columns) = columns {
                return format!("{table}.{columns}");
            }
            let column =
                pg.constraint().and_then(|n| n.strip_prefix(table)).and_then(|n| n.strip_prefix('_')).and_then(|n| n.strip_suffix("_key"));
            if let Some(column) = column {
                return format!("{table}.{column}");
            }
        }
    }
    db.constraint().map(str::to_string).unwrap_or_else(|| db.message().to_string())
}

/// The connection broke under the query — the network dropped, or PostgreSQL ended the session
/// (a restart or an administrator: SQLSTATE class 57, operator intervention, or 08, connection
/// exception). The pool drops that connection, so the same request again finds a live one.
fn connection_lost(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_) => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| code.starts_with("57P") || code.starts_with("08")),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lost_or_exhausted_database_is_unavailable() {
        let lost = RepoError::from(sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionReset)));
        assert!(matches!(lost, RepoError::Unavailable { .. }), "{lost:?}");
        assert!(matches!(RepoError::from(sqlx::Error::PoolTimedOut), RepoError::Unavailable { .. }));
        assert!(matches!(RepoError::from(sqlx::Error::RowNotFound), RepoError::Database(_)));
    }
}
