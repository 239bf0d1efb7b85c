//! The repository as a whole: which backend, its migrations, a ping.

use async_trait::async_trait;

use super::Db;
use crate::db::dialect::Dialect;
use crate::db::error::RepoError;
use crate::db::pool::SqlRepo;
use crate::db::repo::{Backend, Repo};

#[async_trait]
impl Repo for SqlRepo<Db> {
    fn backend(&self) -> Backend {
        Db::BACKEND
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn migrate(&self) -> Result<(), RepoError> {
        self.run_migrations().await
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn ping(&self) -> Result<(), RepoError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}
