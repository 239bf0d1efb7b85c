//! CustomerRepo's statements, once for both backends (`Db` is the backend this copy is compiled for).

use std::collections::HashMap;

use async_trait::async_trait;
use sqlx::QueryBuilder;
use uuid::Uuid;

use super::shared::*;
use super::Db;
use crate::db::columns::*;
use crate::db::customers::{CustomerFilter, CustomerRepo, UpsertCounts};
use crate::db::dialect::Dialect;
use crate::db::error::RepoError;
use crate::db::pool::SqlRepo;
use crate::db::rows::*;
use crate::domain::customer::{Customer, CustomerClass, PlaceProposal};
use crate::domain::ids::CustomerId;
use crate::domain::page::{Page, Paged};

#[async_trait]
impl CustomerRepo for SqlRepo<Db> {
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(customer_id = %c.id))]
    async fn insert_customer(&self, c: &Customer) -> Result<(), RepoError> {
        self.write_customer(c, "").await
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(customer_id = %c.id))]
    async fn upsert_customer_by_code(&self, c: &Customer) -> Result<(), RepoError> {
        self.write_customer(
            c,
            " ON CONFLICT (code) DO UPDATE SET name = excluded.name, customer_type = excluded.customer_type, \
              branch_id = excluded.branch_id, assigned_rep_id = excluded.assigned_rep_id, latitude = excluded.latitude, \
              longitude = excluded.longitude, geofence_radius_m = excluded.geofence_radius_m, \
              contact_name = excluded.contact_name, contact_position = excluded.contact_position, \
              contact_phone = excluded.contact_phone, created_on = excluded.created_on, class = excluded.class, previous_level = excluded.previous_level, \
              ownership = excluded.ownership, dp = excluded.dp, updated_at = excluded.updated_at",
        )
        .await
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(customer_id = %c.id))]
    async fn update_customer(&self, c: &Customer) -> Result<(), RepoError> {
        sqlx::query(
            "UPDATE customers SET code = $2, name = $3, customer_type = $4, assigned_rep_id = $5, latitude = $6, \
             longitude = $7, geofence_radius_m = $8, contact_name = $9, contact_position = $10, contact_phone = $11, \
             created_on = $12, class = $13, updated_at = $14, previous_level = $15, ownership = $16, dp = $17 WHERE id = $1",
        )
        .bind(c.id.0)
        .bind(&c.code)
        .bind(&c.name)
        .bind(&c.customer_type)
        .bind(uuid_opt(c.assigned_rep_id))
        .bind(c.location.map(|p| p.latitude))
        .bind(c.location.map(|p| p.longitude))
        .bind(c.geofence_radius_m)
        .bind(&c.contact_name)
        .bind(&c.contact_position)
        .bind(&c.contact_phone)
        .bind(c.created_on)
        .bind(c.class.as_str())
        .bind(c.updated_at)
        .bind(c.previous_level.map(CustomerClass::as_str))
        .bind(c.ownership.as_str())
        .bind(&c.dp)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(customer_id = %id))]
    async fn get_customer(&self, id: CustomerId) -> Result<Option<Customer>, RepoError> {
        let row: Option<CustomerRow> = sqlx::query_as(&format!("SELECT {CUSTOMER_COLUMNS} FROM customers WHERE id = $1"))
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await?;
        row.map(TryInto::try_into).transpose()
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn list_customers(&self, f: &CustomerFilter, page: Page) -> Result<Paged<Customer>, RepoError> {
        let mut qb = QueryBuilder::<Db>::new(format!("SELECT {CUSTOMER_COLUMNS} FROM customers WHERE 1 = 1"));
        if let Some(b) = f.branch_id {
            qb.push(" AND branch_id = ").push_bind(b.0);
        }
        if let Some(r) = f.assigned_rep_id {
            qb.push(" AND assigned_rep_id = ").push_bind(r.0);
        }
        if let Some(c) = f.class {
            qb.push(" AND class = ").push_bind(c.as_str());
        }
        if let Some(q) = &f.q {
            let pattern = format!("%{}%", q.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
            qb.push(" AND (LOWER(code) LIKE ").push_bind(pattern.clone()).push(" ESCAPE '\\'");
            qb.push(" OR LOWER(name) LIKE ").push_bind(pattern).push(" ESCAPE '\\')");
        }
        push_page(&mut qb, page, "seq");
        let rows: Vec<CustomerRow> = qb.build_query_as().fetch_all(&self.pool).await?;
        paginate(rows, page.limit, |r| r.seq, TryInto::try_into)
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(count = ids.len()))]
    async fn customers_by_id(&self, ids: &[CustomerId]) -> Result<Vec<Customer>, RepoError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut qb = QueryBuilder::<Db>::new(format!("SELECT {CUSTOMER_COLUMNS} FROM customers WHERE id IN ("));
        push_uuids(&mut qb, ids.iter().map(|c| c.0));
        qb.push(")");
        let rows: Vec<CustomerRow> = qb.build_query_as().fetch_all(&self.pool).await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(count = customers.len()))]
    async fn upsert_customers(&self, customers: &[Customer]) -> Result<UpsertCounts, RepoError> {
        let mut counts = UpsertCounts::default();
        if customers.is_empty() {
            return Ok(counts);
        }
        let mut tx = self.pool.begin_with(Db::BEGIN_WRITE).await?;
        let mut qb = QueryBuilder::<Db>::new("SELECT code FROM customers WHERE code IN (");
        let mut codes = qb.separated(", ");
        for c in customers {
            codes.push_bind(&c.code);
        }
        qb.push(")");
        let existing: std::collections::HashSet<String> = qb.build_query_scalar().fetch_all(&mut *tx).await?.into_iter().collect();
        for chunk in customers.chunks(400) {
            let mut qb = QueryBuilder::<Db>::new(format!("INSERT INTO customers ({CUSTOMER_WRITE_COLUMNS}) "));
            qb.push_values(chunk, |mut b, c| push_customer(&mut b, c));
            // Only what an import carries is updated, and only when it differs.
            qb.push(
                " ON CONFLICT (code) DO UPDATE SET name = excluded.name, customer_type = excluded.customer_type, \
                 branch_id = excluded.branch_id, assigned_rep_id = excluded.assigned_rep_id, latitude = excluded.latitude, \
                 longitude = excluded.longitude, geofence_radius_m = excluded.geofence_radius_m, contact_name = excluded.contact_name, \
                 created_on = excluded.created_on, updated_at = excluded.updated_at \
                 WHERE customers.name IS DISTINCT FROM excluded.name OR customers.customer_type IS DISTINCT FROM excluded.customer_type \
                 OR customers.branch_id IS DISTINCT FROM excluded.branch_id OR customers.assigned_rep_id IS DISTINCT FROM excluded.assigned_rep_id \
                 OR customers.latitude IS DISTINCT FROM excluded.latitude OR customers.longitude IS DISTINCT FROM excluded.longitude \
                 OR customers.geofence_radius_m IS DISTINCT FROM excluded.geofence_radius_m \
                 OR customers.contact_name IS DISTINCT FROM excluded.contact_name OR customers.created_on IS DISTINCT FROM excluded.created_on",
            );
            qb.push(" RETURNING code");
            let written: Vec<String> = qb.build_query_scalar().fetch_all(&mut *tx).await?;
            for code in &written {
                if existing.contains(code) {
                    counts.updated += 1;
                } else {
                    counts.created += 1;
                }
            }
            counts.unchanged += (chunk.len() - written.len()) as u64;
        }
        tx.commit().await?;
        Ok(counts)
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(count = codes.len()))]
    async fn customer_ids_by_code(&self, codes: &[String]) -> Result<HashMap<String, CustomerId>, RepoError> {
        let mut out = HashMap::new();
        for chunk in codes.chunks(1000) {
            let mut qb = QueryBuilder::<Db>::new("SELECT code, id FROM customers WHERE code IN (");
            let mut sep = qb.separated(", ");
            for c in chunk {
                sep.push_bind(c);
            }
            qb.push(")");
            let rows: Vec<(String, Uuid)> = qb.build_query_as().fetch_all(&self.pool).await?;
            out.extend(rows.into_iter().map(|(c, id)| (c, CustomerId(id))));
        }
        Ok(out)
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(customer_id = %p.customer_id))]
    async fn propose_place(&self, p: &PlaceProposal) -> Result<bool, RepoError> {
        let n = sqlx::query(
            "INSERT INTO customer_place_proposals (customer_id, latitude, longitude, accuracy_m, source, visit_id, photo_id, proposed_at) \
             SELECT $1, $2, $3, $4, $5, $6, $7, $8 WHERE EXISTS (SELECT 1 FROM customers WHERE id = $1 AND latitude IS NULL) \
             ON CONFLICT (customer_id) DO NOTHING",
        )
        .bind(p.customer_id.0)
        .bind(p.latitude)
        .bind(p.longitude)
        .bind(p.accuracy_m)
        .bind(&p.source)
        .bind(p.visit_id.0)
        .bind(p.photo_id.0)
        .bind(p.proposed_at)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(customer_id = %customer))]
    async fn place_proposal(&self, customer: CustomerId) -> Result<Option<PlaceProposal>, RepoError> {
        place_proposal_in(&self.pool, customer).await
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(customer_id = %customer))]
    async fn accept_place(&self, customer: CustomerId, at: chrono::DateTime<chrono::Utc>) -> Result<Option<PlaceProposal>, RepoError> {
        let mut tx = self.pool.begin_with(Db::BEGIN_WRITE).await?;
        let Some(p) = place_proposal_in(&mut *tx, customer).await? else { return Ok(None) };
        sqlx::query("UPDATE customers SET latitude = $2, longitude = $3, updated_at = $4 WHERE id = $1 AND latitude IS NULL")
            .bind(customer.0)
            .bind(p.latitude)
            .bind(p.longitude)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM customer_place_proposals WHERE customer_id = $1").bind(customer.0).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(Some(p))
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(customer_id = %customer))]
    async fn reject_place(&self, customer: CustomerId) -> Result<bool, RepoError> {
        let n = sqlx::query("DELETE FROM customer_place_proposals WHERE customer_id = $1")
            .bind(customer.0)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(n == 1)
    }
}

impl SqlRepo<Db> {
    async fn write_customer(&self, c: &Customer, on_conflict: &str) -> Result<(), RepoError> {
        customer_insert(c, on_conflict).build().execute(&self.pool).await?;
        Ok(())
    }
}

type ProposalRow = (Uuid, f64, f64, Option<f64>, String, Uuid, Uuid, chrono::DateTime<chrono::Utc>);

async fn place_proposal_in<'c, E>(exec: E, customer: CustomerId) -> Result<Option<PlaceProposal>, RepoError>
where
    E: sqlx::Executor<'c, Database = Db>,
{
    let row: Option<ProposalRow> = sqlx::query_as(
        "SELECT customer_id, latitude, longitude, accuracy_m, source, visit_id, photo_id, proposed_at \
         FROM customer_place_proposals WHERE customer_id = $1",
    )
    .bind(customer.0)
    .fetch_optional(exec)
    .await?;
    Ok(row.map(|(c, latitude, longitude, accuracy_m, source, visit, photo, proposed_at)| PlaceProposal {
        customer_id: CustomerId(c),
        latitude,
        longitude,
        accuracy_m,
        source,
        visit_id: crate::domain::ids::VisitId(visit),
        photo_id: crate::domain::ids::PhotoId(photo),
        proposed_at,
    }))
}
