//! The SQLite repository: the embedded default. WAL mode, a busy timeout, foreign keys on, reads
//! through a memory map, and write transactions that take the write lock up front.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::Sqlite;

use super::pool::SqlRepo;

/// The backend the statements in `sql/` are compiled for here.
type Db = Sqlite;

// The same statements are compiled for each backend (see `sql/mod.rs`): a deliberate mirror.
#[allow(clippy::duplicate_mod)]
#[path = "sql/mod.rs"]
mod sql;

pub type SqliteRepo = SqlRepo<Sqlite>;

impl SqlRepo<Sqlite> {
    /// Opens (creating if missing) the database file of a `sqlite://path` URL.
    pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<Self> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true)
            // Read pages through a memory map (address space, not memory: the kernel pages the file
            // in and out) and keep 64 MiB of hot pages per connection, so an index probe is a
            // memory access, not a read() call — a near-duplicate lookup makes 330 of them.
            .pragma("mmap_size", "17179869184")
            .pragma("cache_size", "-65536");
        if let Some(parent) = options.get_filename().parent() {
            if !parent.as_os_str().is_empty() {
                std::fs::create_dir_all(parent)?;
            }
        }
        let pool = super::pool::pool_options::<Sqlite>(max_connections).connect_with(options).await?;
        Ok(Self { pool })
    }

    async fn run_migrations(&self) -> Result<(), super::error::RepoError> {
        sqlx::migrate!("./migrations/sqlite").run(&self.pool).await.map_err(Into::into)
    }
}
