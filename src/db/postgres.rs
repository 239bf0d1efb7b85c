//! The PostgreSQL repository, for scale-out deployments.

use std::time::Duration;

use sqlx::Postgres;

use super::pool::SqlRepo;

/// The backend the statements in `sql/` are compiled for here.
type Db = Postgres;

// The same statements are compiled for each backend (see `sql/mod.rs`): a deliberate mirror.
#[allow(clippy::duplicate_mod)]
#[path = "sql/mod.rs"]
mod sql;

pub type PgRepo = SqlRepo<Postgres>;

impl SqlRepo<Postgres> {
    pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<Self> {
        let pool = super::pool::pool_options::<Postgres>(max_connections).acquire_timeout(Duration::from_secs(10)).connect(url).await?;
        Ok(Self { pool })
    }

    async fn run_migrations(&self) -> Result<(), super::error::RepoError> {
        sqlx::migrate!("./migrations/postgres").run(&self.pool).await.map_err(Into::into)
    }
}
