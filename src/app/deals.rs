//! What a decided deal starts (the CRM SOP): a won deal's customer, so its visits and classes
//! follow; its contract; and, once the contract ended, the past client's reactivation contact
//! 1–2 years on (the policy's `leads.reactivation_after_months`), a follow-up task on the same
//! engine as the cadences' (the day close misses it when it is not done on its day).

use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

use super::{App, AppError};
use crate::domain::audit::AuditEntry;
use crate::domain::cadence::{FollowUp, NewFollowUp};
use crate::domain::customer::{Customer, CustomerClass, Ownership};
use crate::domain::directory::Branch;
use crate::domain::ids::{ActivityId, CustomerId, FollowUpId, UserId};
use crate::domain::lead::{self, Activity, ActivityKind, Lead, Stage};
use crate::domain::policy::LeadPolicy;
use crate::domain::time::local_date;

/// The follow-up "cadence" of a past client's reactivation (one step).
pub const REACTIVATION: &str = "reactivation";
const REACTIVATION_PURPOSE: &str =
    "Hubungi kembali mantan klien: tanyakan kebutuhan terbaru dan tawarkan kerja sama baru (CRM SOP, reaktivasi 1–2 tahun).";

/// The customer a lead becomes when it is won without naming one: class New (its visits
/// follow the New class), the lead's rep, contact and segment, with its audit entry, to be
/// written with the win (`LeadChange::customer`). Its id and code come from the lead's id, so a
/// retried win makes no second customer.
pub async fn won_customer(app: &App, actor_id: UserId, l: &Lead) -> Result<(Customer, AuditEntry), AppError> {
    let id = CustomerId(Uuid::new_v5(&l.id.0, b"customer"));
    let branch = app.branch(l.branch_id).await?;
    let now = app.now();
    let c = Customer {
        id,
        code: format!("LEAD-{}", id.0.simple().to_string().to_uppercase()),
        name: l.company.clone().unwrap_or_else(|| l.name.clone()),
        customer_type: l.segment.clone().unwrap_or_else(|| "lead".into()),
        branch_id: l.branch_id,
        assigned_rep_id: l.assignee_id,
        location: None,
        geofence_radius_m: None,
        contact_name: Some(l.name.clone()),
        contact_position: None,
        contact_phone: l.phone.clone(),
        created_on: local_date(now, branch.time_zone),
        class: CustomerClass::New,
        previous_level: None,
        ownership: Ownership::Hq,
        dp: None,
        created_at: now,
        updated_at: now,
    };
    let audit = AuditEntry {
        at: now,
        actor_id: Some(actor_id),
        action: "customer.created_from_lead".into(),
        subject_type: "customer".into(),
        subject_id: id.to_string(),
        detail: json!({ "lead_id": l.id, "code": c.code }),
    };
    Ok((c, audit))
}

/// The reactivation task of a lead that just became a past client: due on the branch's first
/// working day from `reactivation_after_months` after the contract's end, for the lead's rep.
pub async fn reactivation(app: &App, branch: &Branch, l: &Lead, policy: &LeadPolicy, now: DateTime<Utc>) -> Result<FollowUp, AppError> {
    let contract = l.contract.as_ref().ok_or_else(|| AppError::internal("a past client without its contract"))?;
    let target = lead::reactivation_date(contract.ends_on, policy.reactivation_after_months);
    let cal = super::calendar::calendar(app, branch, target).await?;
    let due_date = if cal.is_working_day(target) { target } else { cal.add_working_days(target, 1) };
    let mut f = NewFollowUp {
        id: FollowUpId(Uuid::new_v5(&l.id.0, b"reactivation")),
        branch_id: l.branch_id,
        assignee_id: l.assignee_id.unwrap_or(l.created_by),
        cadence: REACTIVATION,
        step: 0,
        step_name: REACTIVATION,
        purpose: REACTIVATION_PURPOSE,
        due_date,
    }
    .open(now);
    f.lead_id = Some(l.id);
    f.customer_id = l.customer_id;
    Ok(f)
}

/// A lead as a past client (its contract ended): the stage, the timeline entry and the
/// reactivation task, for one write.
pub async fn to_past_client(
    app: &App,
    branch: &Branch,
    mut l: Lead,
    policy: &LeadPolicy,
    actor_id: Option<UserId>,
) -> Result<(Lead, Activity, FollowUp), AppError> {
    let now = app.now();
    let follow_up = reactivation(app, branch, &l, policy, now).await?;
    l.stage = Stage::PastClient;
    l.updated_at = now;
    let ends_on = l.contract.as_ref().map(|c| c.ends_on);
    let entry = Activity {
        id: ActivityId(Uuid::new_v5(&l.id.0, b"past_client")),
        lead_id: l.id,
        kind: ActivityKind::System,
        occurred_at: now,
        summary: format!(
            "stage won → past_client (contract ended {}); reactivation contact due {}",
            ends_on.map(|d| d.to_string()).unwrap_or_default(),
            follow_up.due_date
        ),
        answered: None,
        actor_id,
        logged_at: now,
    };
    Ok((l, entry, follow_up))
}
