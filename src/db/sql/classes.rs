//! ClassRepo's statements, once for both backends (`Db` is the backend this copy is compiled for).

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::types::Json;
use sqlx::QueryBuilder;
use uuid::Uuid;

use super::Db;
use crate::db::classes::{ClassRepo, VolumeSums};
use crate::db::columns::*;
use crate::db::customers::UpsertCounts;
use crate::db::dialect::Dialect;
use crate::db::error::RepoError;
use crate::db::pool::SqlRepo;
use crate::db::rows::*;
use crate::domain::classify::ClassChange;
use crate::domain::customer::{Customer, CustomerClass};
use crate::domain::ids::{BranchId, CustomerId};

/// Sets a customer's class and keeps the change, in the caller's transaction.
async fn change_class_in(tx: &mut sqlx::Transaction<'_, Db>, customer: CustomerId, ch: &ClassChange) -> Result<(), RepoError> {
    sqlx::query("UPDATE customers SET class = $2, previous_level = $3, updated_at = $4 WHERE id = $1")
        .bind(customer.0)
        .bind(ch.to_class.as_str())
        .bind(ch.previous_level.map(CustomerClass::as_str))
        .bind(ch.at)
        .execute(&mut **tx)
        .await?;
    if ch.from_class != ch.to_class {
        sqlx::query(
            "INSERT INTO customer_class_history (customer_id, at, from_class, to_class, previous_level, reason) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(customer.0)
        .bind(ch.at)
        .bind(ch.from_class.as_str())
        .bind(ch.to_class.as_str())
        .bind(ch.previous_level.map(CustomerClass::as_str))
        .bind(Json(&ch.reason))
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

#[async_trait]
impl ClassRepo for SqlRepo<Db> {
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(count = rows.len()))]
    async fn upsert_volumes(&self, rows: &[(CustomerId, NaiveDate, i64)]) -> Result<UpsertCounts, RepoError> {
        let mut counts = UpsertCounts::default();
        let mut tx = self.pool.begin_with(Db::BEGIN_WRITE).await?;
        for chunk in rows.chunks(2000) {
            let mut qb = QueryBuilder::<Db>::new("INSERT INTO shipment_volumes (customer_id, date, awb) ");
            qb.push_values(chunk, |mut b, (c, d, n)| {
                b.push_bind(c.0).push_bind(*d).push_bind(*n);
            });
            qb.push(" ON CONFLICT (customer_id, date) DO UPDATE SET awb = excluded.awb WHERE shipment_volumes.awb <> excluded.awb");
            let written = qb.build().execute(&mut *tx).await?.rows_affected();
            counts.updated += written;
            counts.unchanged += chunk.len() as u64 - written;
        }
        tx.commit().await?;
        Ok(counts)
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(customer_id = %customer))]
    async fn volume_sum(&self, customer: CustomerId, from: NaiveDate, to: NaiveDate) -> Result<i64, RepoError> {
        let sum: Option<i64> = sqlx::query_scalar(
            "SELECT CAST(SUM(awb) AS BIGINT) FROM shipment_volumes WHERE customer_id = $1 AND date >= $2 AND date <= $3",
        )
        .bind(customer.0)
        .bind(from)
        .bind(to)
        .fetch_one(&self.pool)
        .await?;
        Ok(sum.unwrap_or(0))
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(branch_id = %branch))]
    async fn volume_sums(
        &self,
        branch: BranchId,
        last_month: (NaiveDate, NaiveDate),
        same_span_end: NaiveDate,
        month_to_date: (NaiveDate, NaiveDate),
    ) -> Result<Vec<VolumeSums>, RepoError> {
        // The sums are grouped by customer alone (two months of rows), then joined to the
        // branch's customers.
        let columns: Vec<String> = CUSTOMER_COLUMNS.split(", ").map(|c| format!("c.{}", c.trim())).collect();
        let mut qb = QueryBuilder::<Db>::new(format!(
            "SELECT {}, CAST(COALESCE(s.lm, 0) AS BIGINT) AS lm, CAST(COALESCE(s.ls, 0) AS BIGINT) AS ls, \
             CAST(COALESCE(s.mtd, 0) AS BIGINT) AS mtd FROM customers c LEFT JOIN (SELECT customer_id, \
             SUM(CASE WHEN date <= ",
            columns.join(", ")
        ));
        qb.push_bind(last_month.1).push(" THEN awb END) AS lm, SUM(CASE WHEN date <= ").push_bind(same_span_end);
        qb.push(" THEN awb END) AS ls, SUM(CASE WHEN date >= ").push_bind(month_to_date.0);
        qb.push(" THEN awb END) AS mtd FROM shipment_volumes WHERE date >= ").push_bind(last_month.0);
        qb.push(" AND date <= ").push_bind(month_to_date.1);
        qb.push(" GROUP BY customer_id) s ON s.customer_id = c.id WHERE c.branch_id = ").push_bind(branch.0);
        qb.push(" ORDER BY c.seq");
        let rows = qb.build().fetch_all(&self.pool).await?;
        rows.into_iter()
            .map(|row| {
                use sqlx::{FromRow, Row};
                let customer: Customer = CustomerRow::from_row(&row)?.try_into()?;
                Ok(VolumeSums {
                    customer,
                    last_month: row.try_get("lm")?,
                    last_month_same_span: row.try_get("ls")?,
                    month_to_date: row.try_get("mtd")?,
                })
            })
            .collect()
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(customer_id = %customer))]
    async fn change_class(&self, customer: CustomerId, ch: &ClassChange) -> Result<(), RepoError> {
        let mut tx = self.pool.begin_with(Db::BEGIN_WRITE).await?;
        change_class_in(&mut tx, customer, ch).await?;
        tx.commit().await?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(count = changes.len()))]
    async fn change_classes(&self, changes: &[(CustomerId, ClassChange)]) -> Result<(), RepoError> {
        let mut tx = self.pool.begin_with(Db::BEGIN_WRITE).await?;
        for (customer, ch) in changes {
            change_class_in(&mut tx, *customer, ch).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(customer_id = %customer))]
    async fn class_history(&self, customer: CustomerId) -> Result<Vec<ClassChange>, RepoError> {
        let rows: Vec<(DateTime<Utc>, String, String, Option<String>, Json<serde_json::Value>)> = sqlx::query_as(
            "SELECT at, from_class, to_class, previous_level, reason FROM customer_class_history WHERE customer_id = $1 ORDER BY seq",
        )
        .bind(customer.0)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(at, from, to, prev, reason)| {
                let class = |s: &str| CustomerClass::parse(s).ok_or_else(|| RepoError::Corrupt(format!("class {s:?}")));
                Ok(ClassChange {
                    at,
                    from_class: class(&from)?,
                    to_class: class(&to)?,
                    previous_level: prev.as_deref().map(class).transpose()?,
                    reason: reason.0,
                })
            })
            .collect()
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(branch_id = %branch))]
    async fn door_visits_by_customer(
        &self,
        branch: BranchId,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<HashMap<CustomerId, i64>, RepoError> {
        let rows: Vec<(Uuid, i64)> = sqlx::query_as(
            "SELECT customer_id, COUNT(*) FROM visits WHERE branch_id = $1 AND status <> 'draft' AND method = 'door_visit' \
             AND visit_date >= $2 AND visit_date <= $3 GROUP BY customer_id",
        )
        .bind(branch.0)
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(c, n)| (CustomerId(c), n)).collect())
    }
}
