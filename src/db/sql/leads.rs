//! LeadRepo's statements, once for both backends (`Db` is the backend this copy is compiled for).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::QueryBuilder;
use uuid::Uuid;

use super::shared::*;
use super::Db;
use crate::db::columns::*;
use crate::db::dialect::Dialect;
use crate::db::error::RepoError;
use crate::db::jobs::NewJob;
use crate::db::leads::{LeadChange, LeadFilter, LeadMerge, LeadRepo};
use crate::db::pool::SqlRepo;
use crate::db::rows::*;
use crate::domain::audit::AuditEntry;
use crate::domain::ids::{ActivityId, BranchId, LeadId, UserId};
use crate::domain::lead::{company_key, Activity, Lead};
use crate::domain::page::{Page, Paged};
use crate::domain::pipeline::LeadFacts;
use crate::domain::role::Scope;

#[async_trait]
impl LeadRepo for SqlRepo<Db> {
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(lead_id = %l.id))]
    async fn insert_lead(&self, l: &Lead, rule: Option<usize>, audit: &AuditEntry) -> Result<bool, RepoError> {
        let mut tx = self.pool.begin_with(Db::BEGIN_WRITE).await?;
        let inserted = sqlx::query(
            "INSERT INTO leads (id, branch_id, name, company, company_key, phone, email, source, need, region, product, segment, \
             need_confirmed, budget_confirmed, expected_purchase_on, rating, stage, lost_reason, next_contact_on, assignee_id, \
             distribution_rule, customer_id, merged_into, received_at, first_contact_due_at, first_contacted_at, sla_breached_at, \
             created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, \
             $25, $26, $27, $28, $29, $30) ON CONFLICT (id) DO NOTHING",
        )
        .bind(l.id.0)
        .bind(l.branch_id.0)
        .bind(&l.name)
        .bind(&l.company)
        .bind(l.company.as_deref().map(company_key))
        .bind(&l.phone)
        .bind(&l.email)
        .bind(&l.source)
        .bind(&l.need)
        .bind(&l.region)
        .bind(&l.product)
        .bind(&l.segment)
        .bind(l.qualification.need_confirmed)
        .bind(l.qualification.budget_confirmed)
        .bind(l.qualification.expected_purchase_on)
        .bind(l.rating.as_str())
        .bind(l.stage.as_str())
        .bind(&l.lost_reason)
        .bind(l.next_contact_on)
        .bind(uuid_opt(l.assignee_id))
        .bind(rule.map(|r| r as i64))
        .bind(uuid_opt(l.customer_id))
        .bind(uuid_opt(l.merged_into))
        .bind(l.received_at)
        .bind(l.first_contact_due_at)
        .bind(l.first_contacted_at)
        .bind(l.sla_breached_at)
        .bind(l.created_by.0)
        .bind(l.created_at)
        .bind(l.updated_at)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if inserted {
            append_audit_in(&mut *tx, audit).await?;
        }
        tx.commit().await?;
        Ok(inserted)
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(lead_id = %id))]
    async fn get_lead(&self, id: LeadId) -> Result<Option<Lead>, RepoError> {
        let row: Option<LeadRow> =
            sqlx::query_as(&format!("SELECT {LEAD_COLUMNS} FROM leads WHERE id = $1")).bind(id.0).fetch_optional(&self.pool).await?;
        row.map(TryInto::try_into).transpose()
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn list_leads(&self, f: &LeadFilter, page: Page) -> Result<Paged<Lead>, RepoError> {
        let mut qb = QueryBuilder::<Db>::new(format!("SELECT {LEAD_COLUMNS} FROM leads WHERE 1 = 1"));
        push_scope(&mut qb, f.scope, "assignee_id", "branch_id");
        if let Some(b) = f.branch_id {
            qb.push(" AND branch_id = ").push_bind(b.0);
        }
        if let Some(a) = f.assignee_id {
            qb.push(" AND assignee_id = ").push_bind(a.0);
        }
        if let Some(s) = f.stage {
            qb.push(" AND stage = ").push_bind(s.as_str());
        }
        if let Some(r) = f.rating {
            qb.push(" AND rating = ").push_bind(r.as_str());
        }
        match f.sla_breached {
            Some(true) => qb.push(" AND sla_breached_at IS NOT NULL"),
            Some(false) => qb.push(" AND sla_breached_at IS NULL"),
            None => &mut qb,
        };
        if let Some(q) = &f.q {
            let pattern = format!("%{}%", q.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
            qb.push(" AND (");
            for (i, col) in ["LOWER(name)", "LOWER(company)", "phone", "email"].iter().enumerate() {
                if i > 0 {
                    qb.push(" OR ");
                }
                qb.push(format!("{col} LIKE ")).push_bind(pattern.clone()).push(" ESCAPE '\\'");
            }
            qb.push(")");
        }
        push_page(&mut qb, page, "seq");
        let rows: Vec<LeadRow> = qb.build_query_as().fetch_all(&self.pool).await?;
        paginate(rows, page.limit, |r| r.seq, TryInto::try_into)
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(branch_id = %branch))]
    async fn duplicate_candidates(
        &self,
        branch: BranchId,
        phone: Option<&str>,
        email: Option<&str>,
        with_company: bool,
        limit: u32,
    ) -> Result<Vec<Lead>, RepoError> {
        let mut qb = QueryBuilder::<Db>::new(format!("SELECT {LEAD_COLUMNS} FROM leads WHERE merged_into IS NULL AND branch_id = "));
        qb.push_bind(branch.0).push(" AND (1 = 0");
        if let Some(p) = phone {
            qb.push(" OR phone = ").push_bind(p.to_string());
        }
        if let Some(e) = email {
            qb.push(" OR email = ").push_bind(e.to_string());
        }
        if with_company {
            qb.push(" OR company_key IS NOT NULL");
        }
        qb.push(") ORDER BY seq DESC LIMIT ").push_bind(i64::from(limit));
        let rows: Vec<LeadRow> = qb.build_query_as().fetch_all(&self.pool).await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(rule))]
    async fn last_distributed(&self, rule: usize, assignees: &[UserId]) -> Result<Vec<(UserId, i64)>, RepoError> {
        if assignees.is_empty() {
            return Ok(Vec::new());
        }
        let mut qb = QueryBuilder::<Db>::new("SELECT assignee_id, MAX(seq) FROM leads WHERE distribution_rule = ");
        qb.push_bind(rule as i64).push(" AND assignee_id IN (");
        push_uuids(&mut qb, assignees.iter().map(|a| a.0));
        qb.push(") GROUP BY assignee_id");
        let rows: Vec<(Uuid, i64)> = qb.build_query_as().fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(|(u, s)| (UserId(u), s)).collect())
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(lead_id = %c.lead.id))]
    async fn change_lead(&self, c: LeadChange<'_>) -> Result<(), RepoError> {
        let mut tx = self.pool.begin_with(Db::BEGIN_WRITE).await?;
        change_lead_in(&mut tx, &c).await?;
        tx.commit().await?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(activity_id = %a.id))]
    async fn add_activity(&self, a: &Activity) -> Result<bool, RepoError> {
        let mut tx = self.pool.begin_with(Db::BEGIN_WRITE).await?;
        let inserted = insert_activity_in(&mut tx, a).await?;
        tx.commit().await?;
        Ok(inserted)
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(activity_id = %id))]
    async fn get_activity(&self, id: ActivityId) -> Result<Option<Activity>, RepoError> {
        let row: Option<ActivityRow> = sqlx::query_as(&format!("SELECT {ACTIVITY_COLUMNS} FROM lead_activities WHERE id = $1"))
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await?;
        row.map(TryInto::try_into).transpose()
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(lead_id = %lead))]
    async fn list_activities(&self, lead: LeadId) -> Result<Vec<Activity>, RepoError> {
        // With the timelines of the records merged into it.
        let rows: Vec<ActivityRow> = sqlx::query_as(&format!(
            "SELECT {ACTIVITY_COLUMNS} FROM lead_activities WHERE lead_id = $1 \
             OR lead_id IN (SELECT id FROM leads WHERE merged_into = $1) ORDER BY occurred_at, seq"
        ))
        .bind(lead.0)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(branch_id = %branch))]
    async fn ended_contracts(&self, branch: BranchId, date: chrono::NaiveDate, limit: u32) -> Result<Vec<Lead>, RepoError> {
        let rows: Vec<LeadRow> = sqlx::query_as(&format!(
            "SELECT {LEAD_COLUMNS} FROM leads WHERE branch_id = $1 AND stage = 'won' AND contract_ends_on <= $2 \
             AND merged_into IS NULL ORDER BY contract_ends_on, seq LIMIT $3"
        ))
        .bind(branch.0)
        .bind(date)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(source = %m.source.id, target = %m.target.id))]
    async fn merge_leads(&self, m: LeadMerge<'_>) -> Result<(), RepoError> {
        let mut tx = self.pool.begin_with(Db::BEGIN_WRITE).await?;
        let (s, t) = (m.source, m.target);
        let source = sqlx::query("UPDATE leads SET merged_into = $2, updated_at = $3 WHERE id = $1 AND merged_into IS NULL AND stage = $4")
            .bind(s.id.0)
            .bind(t.id.0)
            .bind(s.updated_at)
            .bind(s.stage.as_str())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let target = sqlx::query(
            "UPDATE leads SET phone = $2, email = $3, company = $4, company_key = $5, updated_at = $6 \
             WHERE id = $1 AND merged_into IS NULL AND stage = $7",
        )
        .bind(t.id.0)
        .bind(&t.phone)
        .bind(&t.email)
        .bind(&t.company)
        .bind(t.company.as_deref().map(company_key))
        .bind(t.updated_at)
        .bind(t.stage.as_str())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if source == 0 || target == 0 {
            return Err(RepoError::Conflict { constraint: "leads.stage".into() });
        }
        sqlx::query("UPDATE leads SET merged_into = $2 WHERE merged_into = $1").bind(s.id.0).bind(t.id.0).execute(&mut *tx).await?;
        sqlx::query("UPDATE follow_ups SET status = 'cancelled' WHERE lead_id = $1 AND status = 'open'")
            .bind(s.id.0)
            .execute(&mut *tx)
            .await?;
        insert_activity_in(&mut tx, m.source_entry).await?;
        insert_activity_in(&mut tx, m.target_entry).await?;
        append_audit_in(&mut *tx, m.audit).await?;
        tx.commit().await?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn open_leads(&self, scope: Scope, branch: Option<BranchId>, limit: u32) -> Result<Vec<Lead>, RepoError> {
        let mut qb = QueryBuilder::<Db>::new(format!(
            "SELECT {LEAD_COLUMNS} FROM leads WHERE merged_into IS NULL AND stage IN ('lead', 'quotation_sent', 'negotiation', 'on_hold')"
        ));
        push_scope(&mut qb, scope, "assignee_id", "branch_id");
        if let Some(b) = branch {
            qb.push(" AND branch_id = ").push_bind(b.0);
        }
        qb.push(" ORDER BY seq DESC LIMIT ").push_bind(i64::from(limit));
        let rows: Vec<LeadRow> = qb.build_query_as().fetch_all(&self.pool).await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn pipeline_leads(
        &self,
        scope: Scope,
        branch: Option<BranchId>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<LeadFacts>, RepoError> {
        let mut qb = QueryBuilder::<Db>::new(format!(
            "SELECT {LEAD_COLUMNS}, \
             EXISTS (SELECT 1 FROM quotations q WHERE q.lead_id = leads.id AND q.sent_on IS NOT NULL) AS quoted, \
             (SELECT q.amount FROM quotations q WHERE q.lead_id = leads.id AND q.sent_on IS NOT NULL \
              ORDER BY q.revision DESC LIMIT 1) AS quoted_amount \
             FROM leads WHERE merged_into IS NULL AND ((received_at >= "
        ));
        qb.push_bind(from).push(" AND received_at < ").push_bind(to);
        qb.push(") OR (closed_at >= ").push_bind(from).push(" AND closed_at < ").push_bind(to).push("))");
        push_scope(&mut qb, scope, "assignee_id", "branch_id");
        if let Some(b) = branch {
            qb.push(" AND branch_id = ").push_bind(b.0);
        }
        qb.push(" ORDER BY seq LIMIT ").push_bind(i64::from(limit));
        let rows: Vec<PipelineLeadRow> = qb.build_query_as().fetch_all(&self.pool).await?;
        rows.into_iter()
            .map(|r| {
                let lead: Lead = r.lead.try_into()?;
                let value = lead.contract.as_ref().map(|c| c.value).or(r.quoted_amount);
                Ok(LeadFacts { lead, quoted: r.quoted, value })
            })
            .collect()
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    async fn breach_first_contacts(
        &self,
        now: DateTime<Utc>,
        event: &(dyn for<'a> Fn(&'a Lead) -> NewJob + Send + Sync),
    ) -> Result<Vec<Lead>, RepoError> {
        let mut tx = self.pool.begin_with(Db::BEGIN_WRITE).await?;
        let rows: Vec<LeadRow> = sqlx::query_as(&format!(
            "SELECT {LEAD_COLUMNS} FROM leads WHERE sla_breached_at IS NULL AND first_contact_due_at < $1 \
             AND (first_contacted_at IS NULL OR first_contacted_at > first_contact_due_at) AND merged_into IS NULL ORDER BY first_contact_due_at, seq LIMIT 1000"
        ))
        .bind(now)
        .fetch_all(&mut *tx)
        .await?;
        let mut breached = Vec::with_capacity(rows.len());
        for row in rows {
            let mut lead: Lead = row.try_into()?;
            let marked = sqlx::query("UPDATE leads SET sla_breached_at = $2 WHERE id = $1 AND sla_breached_at IS NULL")
                .bind(lead.id.0)
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if marked == 0 {
                continue;
            }
            lead.sla_breached_at = Some(now);
            let job = event(&lead);
            enqueue_job_in(&mut *tx, &job, now).await?;
            breached.push(lead);
        }
        tx.commit().await?;
        Ok(breached)
    }
}

/// Saves a lead's new state with its timeline entry and audit record in the caller's
/// transaction; a move that stops the cadence cancels the lead's open follow-ups.
pub(super) async fn change_lead_in(tx: &mut sqlx::Transaction<'_, Db>, c: &LeadChange<'_>) -> Result<(), RepoError> {
    let l = c.lead;
    if let Some((customer, audit)) = c.customer {
        // Made with the win: a win that loses its race leaves no customer behind.
        if insert_customer_in(tx, customer).await? {
            append_audit_in(&mut **tx, audit).await?;
        }
    }
    let updated = sqlx::query(
        "UPDATE leads SET stage = $2, lost_reason = $3, next_contact_on = $4, assignee_id = $5, customer_id = $6, \
         updated_at = $7, closed_at = $10, contract_value = $11, contract_product = $12, contract_ends_on = $13 \
         WHERE id = $1 AND stage = $9 AND updated_at = $8 AND merged_into IS NULL",
    )
    .bind(l.id.0)
    .bind(l.stage.as_str())
    .bind(&l.lost_reason)
    .bind(l.next_contact_on)
    .bind(uuid_opt(l.assignee_id))
    .bind(uuid_opt(l.customer_id))
    .bind(l.updated_at)
    .bind(c.read_at)
    .bind(c.expected_stage.as_str())
    .bind(l.closed_at)
    .bind(l.contract.as_ref().map(|k| k.value))
    .bind(l.contract.as_ref().map(|k| k.product.clone()))
    .bind(l.contract.as_ref().map(|k| k.ends_on))
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if updated == 0 {
        return Err(RepoError::Conflict { constraint: "leads.stage".into() });
    }
    if c.stops_cadence {
        sqlx::query("UPDATE follow_ups SET status = 'cancelled' WHERE lead_id = $1 AND status = 'open'")
            .bind(l.id.0)
            .execute(&mut **tx)
            .await?;
    }
    if let Some(f) = c.follow_up {
        insert_follow_up_in(tx, f).await?;
    }
    insert_activity_in(tx, c.activity).await?;
    append_audit_in(&mut **tx, c.audit).await?;
    Ok(())
}

/// Appends an activity in the caller's transaction; a contact is the lead's first when it has
/// none (the earliest contact wins, whatever order they are logged in).
pub(super) async fn insert_activity_in(tx: &mut sqlx::Transaction<'_, Db>, a: &Activity) -> Result<bool, RepoError> {
    let inserted = sqlx::query(
        "INSERT INTO lead_activities (id, lead_id, kind, occurred_at, summary, answered, actor_id, logged_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING",
    )
    .bind(a.id.0)
    .bind(a.lead_id.0)
    .bind(a.kind.as_str())
    .bind(a.occurred_at)
    .bind(&a.summary)
    .bind(a.answered)
    .bind(uuid_opt(a.actor_id))
    .bind(a.logged_at)
    .execute(&mut **tx)
    .await?
    .rows_affected()
        == 1;
    if inserted && a.kind.is_contact() {
        sqlx::query(
            "UPDATE leads SET first_contacted_at = $2, updated_at = $3 WHERE id = $1 \
             AND (first_contacted_at IS NULL OR first_contacted_at > $2)",
        )
        .bind(a.lead_id.0)
        .bind(a.occurred_at)
        .bind(a.logged_at)
        .execute(&mut **tx)
        .await?;
    }
    Ok(inserted)
}
