//! The PostgreSQL repository, for scale-out deployments.

use std::time::Duration;

use sqlx::{PgPool, Postgres};

pub struct PgRepo {
    pool: PgPool,
}

impl PgRepo {
    pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<Self> {
        let pool = crate::db::pool_options::<Postgres>(max_connections)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await?;
        Ok(Self { pool })
    }

    async fn run_migrations(&self) -> Result<(), crate::db::RepoError> {
        sqlx::migrate!("./migrations/postgres")
            .run(&self.pool)
            .await
            .map_err(|e| crate::db::RepoError::Database(e.into()))
    }
}

crate::db::sql::impl_repo!(PgRepo, Postgres, Backend::Postgres, "BEGIN", ("key = ANY(ARRAY(SELECT jsonb_array_elements_text(", "::jsonb)::bigint))"), " FOR UPDATE SKIP LOCKED");
