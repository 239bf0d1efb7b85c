//! Duplicate leads (the CRM SOP's clean-up, "pembersihan data … untuk menghapus data
//! duplikat"): the report of open leads that look like the same person (same normalised phone,
//! same e-mail, near-same company name), on demand and weekly as `lead.duplicates_found`, and
//! the merge of one record into another.
//!
//! A merge keeps both rows: the merged lead points at the one it was merged into (and so do
//! those merged into it before), its open follow-ups are cancelled, the kept lead takes the
//! phone, e-mail or company it lacked, and its timeline shows both records' entries. Nothing
//! is deleted, so the audit trail and every earlier answer stay true.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;
use serde_json::json;

use super::leads as leads_app;
use super::{App, AppError};
use crate::db::{LeadMerge, NewJob};
use crate::domain::ids::{ActivityId, BranchId, LeadId, UserId};
use crate::domain::lead::{self, Activity, ActivityKind, DuplicateReason, Lead, Stage};
use crate::domain::role::{Actor, Role, Scope};

/// The job kind of the weekly duplicate report.
pub const DUPLICATES_JOB: &str = "lead_duplicates";
/// Open leads read per report (the most recent).
const REPORT_SCAN: u32 = 20_000;
/// Pairs a report lists at most.
const REPORT_PAIRS: usize = 1_000;
/// Names compared within one block of company names that begin alike.
const BLOCK: usize = 200;

/// One side of a duplicate pair.
#[derive(Debug, Clone, Serialize)]
pub struct LeadRef {
    pub lead_id: LeadId,
    pub name: String,
    pub company: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub stage: Stage,
    pub assignee_id: Option<UserId>,
}

impl LeadRef {
    fn of(l: &Lead) -> LeadRef {
        LeadRef {
            lead_id: l.id,
            name: l.name.clone(),
            company: l.company.clone(),
            phone: l.phone.clone(),
            email: l.email.clone(),
            stage: l.stage,
            assignee_id: l.assignee_id,
        }
    }
}

/// Two open leads that look like one person: `newer` is the one to merge into `older` by default.
#[derive(Debug, Clone, Serialize)]
pub struct DuplicatePair {
    pub branch_id: BranchId,
    pub reason: DuplicateReason,
    pub older: LeadRef,
    pub newer: LeadRef,
}

/// The pairs among `leads` (one branch's or many), found without comparing every lead with
/// every other: exact phone and e-mail by key, company names within blocks that share their
/// first letters (a typo in the first letters is missed; the SOP's clean-up is by eye anyway).
pub fn find_pairs(leads: &[Lead], threshold: f64) -> Vec<DuplicatePair> {
    let mut seen: HashSet<(LeadId, LeadId)> = HashSet::new();
    let mut pairs = Vec::new();
    let mut push = |a: &Lead, b: &Lead, reason: DuplicateReason| {
        let (older, newer) = if (a.received_at, a.id.0) <= (b.received_at, b.id.0) { (a, b) } else { (b, a) };
        if older.branch_id == newer.branch_id && older.id != newer.id && seen.insert((older.id, newer.id)) {
            pairs.push(DuplicatePair { branch_id: older.branch_id, reason, older: LeadRef::of(older), newer: LeadRef::of(newer) });
        }
    };
    let mut by_phone: HashMap<(BranchId, &str), &Lead> = HashMap::new();
    let mut by_email: HashMap<(BranchId, &str), &Lead> = HashMap::new();
    for l in leads {
        if let Some(p) = &l.phone {
            match by_phone.get(&(l.branch_id, p.as_str())) {
                Some(first) => push(first, l, DuplicateReason::SamePhone),
                None => drop(by_phone.insert((l.branch_id, p.as_str()), l)),
            }
        }
        if let Some(e) = &l.email {
            match by_email.get(&(l.branch_id, e.as_str())) {
                Some(first) => push(first, l, DuplicateReason::SameEmail),
                None => drop(by_email.insert((l.branch_id, e.as_str()), l)),
            }
        }
    }
    let mut blocks: BTreeMap<(BranchId, String), Vec<&Lead>> = BTreeMap::new();
    for l in leads {
        if let Some(c) = &l.company {
            let key = lead::company_key(c);
            if !key.is_empty() {
                blocks.entry((l.branch_id, key.chars().take(3).collect())).or_default().push(l);
            }
        }
    }
    for block in blocks.values() {
        let block = &block[..block.len().min(BLOCK)];
        for (i, a) in block.iter().enumerate() {
            for b in &block[i + 1..] {
                if let (Some(ca), Some(cb)) = (&a.company, &b.company) {
                    if lead::same_company(ca, cb, threshold) {
                        push(a, b, DuplicateReason::SimilarCompany);
                    }
                }
            }
        }
    }
    pairs.sort_by_key(|x| (x.branch_id.0, x.older.lead_id.0, x.newer.lead_id.0));
    pairs.truncate(REPORT_PAIRS);
    pairs
}

/// `GET /v1/reports/lead-duplicates`: the open leads in the caller's scope that look like the same
/// person, for branch marketing and the supervisor to merge (or leave).
pub async fn report(app: &App, actor: &Actor, branch: Option<BranchId>) -> Result<Vec<DuplicatePair>, AppError> {
    let policy = super::policies::policy_now(app).await?;
    let leads = app.repo.open_leads(actor.scope(), branch, REPORT_SCAN).await?;
    Ok(find_pairs(&leads, policy.leads.duplicate_company_similarity))
}

/// The weekly report: one `lead.duplicates_found` per branch that has pairs.
pub async fn weekly(app: &App) -> Result<usize, String> {
    let now = app.now();
    let policy = super::policies::policy_now(app).await.map_err(|e| e.to_string())?;
    let week = now.format("%G-W%V").to_string();
    let mut raised = 0;
    // Branch by branch: each its own scan and its own cap.
    for b in app.repo.list_branches().await.map_err(|e| e.to_string())? {
        let leads = app.repo.open_leads(Scope::All, Some(b.id), REPORT_SCAN).await.map_err(|e| e.to_string())?;
        let list = find_pairs(&leads, policy.leads.duplicate_company_similarity);
        if list.is_empty() {
            continue;
        }
        let branch = b.id;
        let data = json!({
            "branch_id": branch, "branch_code": b.code, "week": week, "pairs": list.len(),
            "sample": list.iter().take(20).map(|p| json!({ "older": p.older.lead_id, "newer": p.newer.lead_id, "reason": p.reason })).collect::<Vec<_>>(),
            "escalate_to": ["branch_marketing", "supervisor"],
        });
        let job: NewJob = super::events::event("lead.duplicates_found", &format!("{branch}:{week}"), now, data);
        app.repo.enqueue_job(&job, now).await.map_err(|e| e.to_string())?;
        raised += 1;
    }
    Ok(raised)
}

/// `POST /v1/leads/{id}/merge`: merges lead `id` into `into` (the record kept). The same merge
/// again returns the kept lead.
pub async fn merge(app: &App, actor: &Actor, id: LeadId, into: LeadId) -> Result<Lead, AppError> {
    super::access::require(
        matches!(actor.role, Role::Sales | Role::BranchMarketing | Role::Supervisor),
        "leads are merged by their rep and their branch",
    )?;
    if id == into {
        return Err(AppError::invalid("invalid_field", "a lead is not merged into itself"));
    }
    let source = leads_app::get(app, actor, id).await?;
    if source.merged_into == Some(into) {
        return leads_app::get(app, actor, into).await;
    }
    let source = leads_app::workable_lead(app, actor, id).await?;
    let mut target = leads_app::workable_lead(app, actor, into).await?;
    if source.branch_id != target.branch_id {
        return Err(AppError::invalid("invalid_field", "leads of two branches are not merged"));
    }
    if matches!(source.stage, Stage::Won | Stage::PastClient) {
        return Err(AppError::conflict(
            "stage_not_allowed",
            format!("a {} lead has its customer: merge the other record into it", source.stage.as_str()),
        ));
    }
    let now = app.now();
    let mut taken = Vec::new();
    if target.phone.is_none() && source.phone.is_some() {
        target.phone = source.phone.clone();
        taken.push("phone");
    }
    if target.email.is_none() && source.email.is_some() {
        target.email = source.email.clone();
        taken.push("email");
    }
    if target.company.is_none() && source.company.is_some() {
        target.company = source.company.clone();
        taken.push("company");
    }
    target.updated_at = now;
    let mut merged = source.clone();
    merged.merged_into = Some(into);
    merged.updated_at = now;
    let entry = |lead_id: LeadId, summary: String| Activity {
        id: ActivityId::new_random(),
        lead_id,
        kind: ActivityKind::System,
        occurred_at: now,
        summary,
        answered: None,
        actor_id: Some(actor.id),
        logged_at: now,
    };
    let source_entry = entry(id, format!("merged into lead {into} ({})", target.name));
    let mut summary = format!("lead {id} ({}) merged into this one", source.name);
    if !taken.is_empty() {
        summary.push_str(&format!("; took its {}", taken.join(", ")));
    }
    let target_entry = entry(into, summary);
    let audit = app.audit(actor, "lead.merged", "lead", id.to_string(), json!({ "into": into, "took": taken }));
    app.repo
        .merge_leads(LeadMerge {
            source: &merged,
            target: &target,
            source_entry: &source_entry,
            target_entry: &target_entry,
            audit: &audit,
        })
        .await
        .map_err(leads_app::changed)?;
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone, Utc};

    fn lead(n: u128, phone: Option<&str>, email: Option<&str>, company: Option<&str>) -> Lead {
        let at = Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap() + Duration::minutes(n as i64);
        Lead {
            id: LeadId(uuid::Uuid::from_u128(n)),
            branch_id: BranchId(uuid::Uuid::from_u128(1)),
            name: format!("lead {n}"),
            company: company.map(String::from),
            phone: phone.map(String::from),
            email: email.map(String::from),
            source: "web".into(),
            need: "kirim".into(),
            region: None,
            product: None,
            segment: None,
            qualification: Default::default(),
            rating: lead::Rating::Cold,
            stage: Stage::Lead,
            lost_reason: None,
            next_contact_on: None,
            assignee_id: None,
            customer_id: None,
            merged_into: None,
            received_at: at,
            first_contact_due_at: at,
            first_contacted_at: None,
            sla_breached_at: None,
            closed_at: None,
            contract: None,
            created_by: UserId(uuid::Uuid::from_u128(9)),
            created_at: at,
            updated_at: at,
        }
    }

    #[test]
    fn pairs_are_found_by_phone_email_and_company_once_each() {
        let leads = vec![
            lead(1, Some("+628111"), None, Some("PT Sinar Jaya Abadi")),
            lead(2, Some("+628111"), Some("a@b.id"), None),
            lead(3, None, Some("a@b.id"), Some("CV Sinar Jaya Abadl")),
            lead(4, Some("+628999"), None, Some("PT Sinar Mas")),
        ];
        let pairs = find_pairs(&leads, 0.93);
        let got: Vec<_> = pairs.iter().map(|p| (p.older.lead_id.0.as_u128(), p.newer.lead_id.0.as_u128(), p.reason)).collect();
        assert_eq!(
            got,
            vec![(1, 2, DuplicateReason::SamePhone), (1, 3, DuplicateReason::SimilarCompany), (2, 3, DuplicateReason::SameEmail)]
        );
    }
}
