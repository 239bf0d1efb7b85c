//! What differs between the two backends' SQL, named: the statements in `sql/` are written once
//! and use these fragments where SQLite and PostgreSQL disagree.

use sqlx::{Postgres, Sqlite};

use super::repo::Backend;

pub(crate) trait Dialect: sqlx::Database {
    const BACKEND: Backend;
    /// How a write transaction starts. SQLite takes the write lock up front (`BEGIN
    /// IMMEDIATE`), so a read-then-write transaction never fails to upgrade.
    const BEGIN_WRITE: &'static str;
    /// The predicate "`key` is in this JSON array parameter", as the text before and after the
    /// parameter: `json_each` on SQLite; on PostgreSQL an array, so the 330 probes of a
    /// near-duplicate lookup are one index scan instead of a nested loop.
    const KEY_SET: (&'static str, &'static str);
    /// How a job claim passes over rows another worker holds: `FOR UPDATE SKIP LOCKED` on
    /// PostgreSQL; nothing on SQLite, whose `BEGIN IMMEDIATE` admits one writer.
    const SKIP_LOCKED: &'static str;
}

impl Dialect for Sqlite {
    const BACKEND: Backend = Backend::Sqlite;
    const BEGIN_WRITE: &'static str = "BEGIN IMMEDIATE";
    const KEY_SET: (&'static str, &'static str) = ("key IN (SELECT value FROM json_each(", "))");
    const SKIP_LOCKED: &'static str = "";
}

impl Dialect for Postgres {
    const BACKEND: Backend = Backend::Postgres;
    const BEGIN_WRITE: &'static str = "BEGIN";
    const KEY_SET: (&'static str, &'static str) = ("key = ANY(ARRAY(SELECT jsonb_array_elements_text(", "::jsonb)::bigint))");
    const SKIP_LOCKED: &'static str = " FOR UPDATE SKIP LOCKED";
}
