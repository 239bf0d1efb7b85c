//! Column lists and row helpers the statements of several areas share.

use crate::domain::page::Paged;

use super::error::RepoError;

pub(crate) const CUSTOMER_COLUMNS: &str = "seq, id, code, name, customer_type, branch_id, assigned_rep_id, latitude, longitude, \
     geofence_radius_m, contact_name, contact_position, contact_phone, created_on, class, previous_level, ownership, dp, created_at, updated_at";
/// The customer columns every write binds (`push_customer` in `sql/shared.rs`).
pub(crate) const CUSTOMER_WRITE_COLUMNS: &str = "id, code, name, customer_type, branch_id, assigned_rep_id, latitude, longitude, \
     geofence_radius_m, contact_name, contact_position, contact_phone, created_on, class, ownership, dp, created_at, updated_at";
pub(crate) const TASK_COLUMNS: &str = "seq, id, customer_id, branch_id, assignee_id, task_type, required_method, due_date, status, \
     origin_visit_id, origin, note, created_by, created_at, confirmed_at, confirmed_by, confirmation_note";
/// The task columns every insert binds (`push_task` in `sql/shared.rs`).
pub(crate) const TASK_WRITE_COLUMNS: &str = "id, customer_id, branch_id, assignee_id, task_type, required_method, due_date, status, \
     origin_visit_id, origin, note, created_by, created_at, updated_at";

pub(crate) const VISIT_COLUMNS: &str = "seq, id, rep_id, branch_id, content, content_hash, visit_date, status, review_status, score, \
     deducted_points, submitted_at, revisit_task_id, needs_hq_help, review_due_date, review_escalated_at, policy_version, created_at, updated_at";
pub(crate) const PHOTO_COLUMNS: &str =
    "id, visit_id, kind, sha256, size_bytes, content_type, storage_key, capture, facts, findings, received_at";

/// The review queue's cursor packs (priority rank, seq) into one number: rank above this bit.
pub(crate) const QUEUE_RANK_SHIFT: i64 = 48;

/// Non-compliant first, then flagged, then the rest.
pub(crate) fn queue_rank(status: &str) -> i64 {
    match status {
        "non_compliant" => 0,
        "flagged" => 1,
        _ => 2,
    }
}

/// Splits `limit + 1` fetched rows into a page and the next cursor.
pub(crate) fn paginate<R, T>(
    mut rows: Vec<R>,
    limit: u32,
    seq: impl Fn(&R) -> i64,
    convert: impl Fn(R) -> Result<T, RepoError>,
) -> Result<Paged<T>, RepoError> {
    let limit = limit as usize;
    let next = if rows.len() > limit {
        rows.truncate(limit);
        rows.last().map(&seq)
    } else {
        None
    };
    let items = rows.into_iter().map(convert).collect::<Result<Vec<_>, _>>()?;
    Ok(Paged { items, next })
}

pub(crate) const LEAD_COLUMNS: &str = "seq, id, branch_id, name, company, phone, email, source, need, region, product, segment, \
     need_confirmed, budget_confirmed, expected_purchase_on, rating, stage, lost_reason, next_contact_on, assignee_id, customer_id, \
     merged_into, received_at, first_contact_due_at, first_contacted_at, sla_breached_at, closed_at, contract_value, contract_product, contract_ends_on, \
     created_by, created_at, updated_at";
pub(crate) const ACTIVITY_COLUMNS: &str = "id, lead_id, kind, occurred_at, summary, answered, actor_id, logged_at";
pub(crate) const QUOTATION_COLUMNS: &str =
    "id, lead_id, branch_id, number, revision, amount, discount_pct, note, status, sent_on, approved_by, created_by, created_at, updated_at, \
     revision_requested_at, finding, document_key, document_bytes, document_sha256";
pub(crate) const FOLLOW_UP_COLUMNS: &str =
    "seq, id, branch_id, assignee_id, lead_id, quotation_id, customer_id, service_case_id, cadence, \
     step, step_name, purpose, due_date, status, answered, note, done_at, done_by, outcome, finding, created_at";
pub(crate) const SERVICE_CASE_COLUMNS: &str = "id, branch_id, customer_id, kind, summary, completed_on, created_by, created_at";
