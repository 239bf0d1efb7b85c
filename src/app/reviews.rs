//! Review decisions by branch marketing and HQ: approve, reject (→ re-visit task for the same
//! rep) or flag, with a comment and an optional point deduction. Every decision is kept and
//! audited.

use std::collections::HashMap;

use super::access::visible_visit;
use super::tasks::revisit_task;
use super::visits::VisitDetail;
use super::{App, AppError, ItemError};
use crate::db::ReviewRecord;
use crate::domain::ids::{ReviewId, VisitId};
use crate::domain::role::Actor;
use crate::domain::time::local_date;
use crate::domain::visit::{Decision, Review, Visit, VisitStatus};

/// A validated review request.
#[derive(Debug, Clone)]
pub struct ReviewInput {
    /// Client-generated id: makes a retried request safe.
    pub id: Option<ReviewId>,
    pub decision: Decision,
    pub comment: Option<String>,
    pub deduct_points: u32,
}

/// What one decision will do.
enum Prepared {
    /// A retry of a review stored under the same id: nothing to write.
    Replay(Review),
    New(Box<ReviewRecord>),
}

/// Checks one decision on a visit the actor can see and builds what recording it writes.
async fn prepare(app: &App, actor: &Actor, visit: &Visit, input: &ReviewInput) -> Result<Prepared, AppError> {
    if let Some(id) = input.id {
        if let Some(existing) = app.repo.get_review(id).await? {
            return replay(existing, visit, actor, input).map(Prepared::Replay);
        }
    }
    if visit.status == VisitStatus::Draft {
        return Err(AppError::conflict("visit_not_submitted", "only submitted visits can be reviewed"));
    }
    // Who may deduct, and how a re-visit is due: the policy in force today.
    let policy = super::policies::policy_now(app).await?;
    if input.deduct_points > 0 && !policy.deduction_roles.contains(&actor.role) {
        return Err(AppError::forbidden(
            "deduction_forbidden",
            format!("a {} may decide but not deduct points (policy.deduction_roles)", actor.role.as_str()),
        ));
    }
    let now = app.now();
    let revisit = match input.decision {
        Decision::Reject => {
            let branch = app.branch(visit.branch_id).await?;
            let today = local_date(now, branch.time_zone);
            let cal = super::calendar::calendar(app, &branch, today).await?;
            Some(revisit_task(app, &policy, visit, today, &cal, "review_reject", Some(actor.id)))
        }
        Decision::Approve | Decision::Flag => None,
    };
    let review = Review {
        id: input.id.unwrap_or_else(ReviewId::new_random),
        visit_id: visit.id,
        reviewer_id: actor.id,
        decision: input.decision,
        comment: input.comment.clone(),
        deduct_points: input.deduct_points,
        revisit_task_id: None,
        created_at: now,
    };
    let audit = app.audit(
        actor,
        "visit.reviewed",
        "visit",
        visit.id.to_string(),
        serde_json::json!({
        "decision": review.decision.as_str(), "deduct_points": review.deduct_points, "comment": review.comment }),
    );
    let mut reviewed = visit.clone();
    reviewed.review_status = review.decision.review_status();
    reviewed.deducted_points += review.deduct_points;
    let mut data = super::events::visit_data(&reviewed);
    data["review"] = serde_json::json!({ "review_id": review.id, "reviewer_id": review.reviewer_id, "decision": review.decision.as_str(),
                                          "comment": review.comment, "deduct_points": review.deduct_points });
    let jobs = vec![super::events::event("visit.reviewed", &review.id.to_string(), now, data)];
    let revisit_created_job = revisit.as_ref().map(super::events::task_created);
    Ok(Prepared::New(Box::new(ReviewRecord { review, revisit_task: revisit, jobs, revisit_created_job, audit })))
}

/// Records a decision; returns the review, the visit as it now stands (as the reviewer may see
/// it), and whether this call created the review (false for a retry under the same `id`).
pub async fn review(app: &App, actor: &Actor, visit_id: VisitId, input: ReviewInput) -> Result<(Review, VisitDetail, bool), AppError> {
    let (review, detail, created) = decide(app, actor, visit_id, input).await?;
    Ok((review, detail.seen_by(app, actor).await?, created))
}

async fn decide(app: &App, actor: &Actor, visit_id: VisitId, input: ReviewInput) -> Result<(Review, VisitDetail, bool), AppError> {
    super::access::require(actor.role.is_marketing(), "reviews need a marketing role")?;
    let visit = visible_visit(app, actor, visit_id).await?;
    let record = match prepare(app, actor, &visit, &input).await? {
        Prepared::Replay(existing) => return Ok((existing, super::visits::detail(app, visit).await?, false)),
        Prepared::New(record) => record,
    };
    if !app.repo.record_review(&record).await? {
        // A concurrent retry under the same id won the race.
        let existing = app.repo.get_review(record.review.id).await?.ok_or_else(|| AppError::internal("review vanished"))?;
        let existing = replay(existing, &visit, actor, &input)?;
        return Ok((existing, super::visits::detail(app, visit).await?, false));
    }
    let visit = app.repo.get_visit(visit_id).await?.ok_or_else(|| AppError::internal("visit vanished"))?;
    let detail = super::visits::detail(app, visit).await?;
    let stored = detail.reviews.iter().find(|r| r.id == record.review.id).cloned().ok_or_else(|| AppError::internal("review vanished"))?;
    if stored.decision == Decision::Approve {
        propose_place(app, &detail.visit, Some(&detail.photos)).await;
    }
    Ok((stored, detail, true))
}

/// One item's outcome in a bulk decision.
pub struct BulkOutcome {
    pub review: Review,
    pub created: bool,
}

/// `POST /v1/reviews/bulk`: many decisions at once, all or nothing. Every item is checked first;
/// if any is refused, nothing is written and each refusal is reported with its index. Items
/// with an `id` already stored (a retried request) are answered with the stored review.
pub async fn bulk(app: &App, actor: &Actor, items: Vec<(VisitId, ReviewInput)>) -> Result<Vec<BulkOutcome>, AppError> {
    super::access::require(actor.role.is_marketing(), "reviews need a marketing role")?;
    let mut errors = Vec::new();
    let mut prepared = Vec::with_capacity(items.len());
    let mut seen = std::collections::HashSet::new();
    for (index, (visit_id, input)) in items.iter().enumerate() {
        let outcome = async {
            if !seen.insert(*visit_id) {
                return Err(AppError::invalid("duplicate_visit", format!("visit {visit_id} appears twice in the request")));
            }
            let visit = visible_visit(app, actor, *visit_id).await?;
            prepare(app, actor, &visit, input).await
        }
        .await;
        match outcome {
            Ok(p) => prepared.push(p),
            Err(e @ (AppError::Internal(_) | AppError::Unavailable { .. })) => return Err(e),
            Err(e) => errors.push(ItemError { index, code: e.code(), detail: e.to_string() }),
        }
    }
    if !errors.is_empty() {
        return Err(AppError::BulkRejected { errors });
    }
    let records: Vec<ReviewRecord> = prepared
        .iter()
        .filter_map(|p| match p {
            Prepared::New(r) => Some((**r).clone()),
            Prepared::Replay(_) => None,
        })
        .collect();
    if let Some(i) = app.repo.record_reviews(&records).await? {
        let index = prepared.iter().enumerate().filter(|(_, p)| matches!(p, Prepared::New(_))).nth(i).map_or(0, |(index, _)| index);
        return Err(AppError::BulkRejected {
            errors: vec![ItemError {
                index,
                code: "review_id_conflict",
                detail: "a concurrent request stored a review under this id; retry".into(),
            }],
        });
    }
    let mut out = Vec::with_capacity(prepared.len());
    for p in prepared {
        out.push(match p {
            Prepared::Replay(review) => BulkOutcome { review, created: false },
            Prepared::New(r) => {
                let review = app.repo.get_review(r.review.id).await?.ok_or_else(|| AppError::internal("review vanished"))?;
                if review.decision == Decision::Approve {
                    if let Some(visit) = app.repo.get_visit(review.visit_id).await? {
                        propose_place(app, &visit, None).await;
                    }
                }
                BulkOutcome { review, created: true }
            }
        });
    }
    Ok(out)
}

/// An approved door visit proposes its customer's place when the customer has none. The review
/// stands whatever happens here: a failure is logged, and the next approval proposes again.
async fn propose_place(app: &App, visit: &Visit, photos: Option<&[crate::domain::visit::Photo]>) {
    match super::customers::propose_place_from(app, visit, photos).await {
        Ok(true) => tracing::info!(visit_id = %visit.id, "a place was proposed for the visit's customer"),
        Ok(false) => {}
        Err(e) => tracing::warn!(visit_id = %visit.id, error = %e, "proposing the customer's place failed"),
    }
}

/// A retry under an existing id: the same review again is answered with it; anything else is
/// a conflict.
fn replay(existing: Review, visit: &Visit, actor: &Actor, input: &ReviewInput) -> Result<Review, AppError> {
    let same = existing.visit_id == visit.id
        && existing.reviewer_id == actor.id
        && existing.decision == input.decision
        && existing.comment == input.comment
        && existing.deduct_points == input.deduct_points;
    if !same {
        return Err(AppError::conflict("review_id_conflict", "a different review is stored under this id"));
    }
    Ok(existing)
}

/// One entry of the review queue: the visit with its photos, findings and reviews, and what a
/// reviewer needs beside it.
pub struct QueueEntry {
    pub detail: VisitDetail,
    pub customer: Option<crate::domain::customer::Customer>,
    pub rep_name: Option<String>,
    /// How far the farthest camera photo was taken from the customer's place, in metres.
    pub distance_m: Option<f64>,
}

/// `GET /v1/review-queue`: submitted visits awaiting review (pending or flagged unless another
/// review status is asked for) in the caller's scope, non-compliant first, then flagged, newest
/// first within each. Reading GPS evidence in bulk is audited once per page.
pub async fn queue(
    app: &App,
    actor: &Actor,
    mut filter: crate::db::VisitFilter,
    review_status: Option<crate::domain::visit::ReviewStatus>,
    page: crate::domain::page::Page,
) -> Result<crate::domain::page::Paged<QueueEntry>, AppError> {
    use crate::domain::visit::ReviewStatus;
    super::access::require(actor.role.is_marketing(), "the review queue is for marketing roles")?;
    filter.scope = actor.scope();
    let statuses = review_status.map_or_else(|| vec![ReviewStatus::Pending, ReviewStatus::Flagged], |s| vec![s]);
    let paged = app.repo.review_queue(&filter, &statuses, page).await?;
    let mut items = Vec::with_capacity(paged.items.len());
    for mut entry in entries(app, paged.items).await? {
        entry.detail = entry.detail.seen_by(app, actor).await?;
        items.push(entry);
    }
    if !items.is_empty() {
        let ids: Vec<String> = items.iter().map(|e| e.detail.visit.id.to_string()).collect();
        app.repo
            .append_audit(&app.audit(actor, "review_queue.viewed", "visit", ids.join(","), serde_json::json!({ "visits": ids.len() })))
            .await?;
    }
    Ok(crate::domain::page::Paged { items, next: paged.next })
}

/// Visits with their photos, findings, reviews, customers and reps, and each one's distance
/// from its customer: five queries, whatever the number of visits (the queue's page, an
/// export's page).
pub(crate) async fn entries(app: &App, visits: Vec<Visit>) -> Result<Vec<QueueEntry>, AppError> {
    let visit_ids: Vec<_> = visits.iter().map(|v| v.id).collect();
    let mut customer_ids: Vec<_> = visits.iter().map(|v| v.content.customer_id).collect();
    customer_ids.sort_by_key(|c| c.0);
    customer_ids.dedup();
    let mut rep_ids: Vec<_> = visits.iter().map(|v| v.rep_id).collect();
    rep_ids.sort_by_key(|r| r.0);
    rep_ids.dedup();
    let evidence = app.repo.visits_evidence(&visit_ids).await?;
    let customers: HashMap<_, _> = app.repo.customers_by_id(&customer_ids).await?.into_iter().map(|c| (c.id, c)).collect();
    let reps: HashMap<_, _> = app.repo.users_by_id(&rep_ids).await?.into_iter().map(|u| (u.id, u.name)).collect();
    let mut photos: HashMap<_, Vec<_>> = HashMap::new();
    for p in evidence.photos {
        photos.entry(p.visit_id).or_default().push(p);
    }
    let mut findings: HashMap<_, Vec<_>> = HashMap::new();
    for (v, f) in evidence.findings {
        findings.entry(v).or_default().push(f);
    }
    let mut reviews: HashMap<_, Vec<_>> = HashMap::new();
    for r in evidence.reviews {
        reviews.entry(r.visit_id).or_default().push(r);
    }
    let mut items = Vec::with_capacity(visits.len());
    for visit in visits {
        let customer = customers.get(&visit.content.customer_id).cloned();
        let rep_name = reps.get(&visit.rep_id).cloned();
        let detail = VisitDetail {
            photos: photos.remove(&visit.id).unwrap_or_default(),
            findings: findings.remove(&visit.id).unwrap_or_default(),
            reviews: reviews.remove(&visit.id).unwrap_or_default(),
            visit,
        };
        let distance_m = customer.as_ref().and_then(|c| c.location).and_then(|home| {
            detail
                .photos
                .iter()
                .filter(|p| !p.kind.is_screenshot())
                .filter_map(|p| p.facts.exif_location.or(p.capture.location))
                .map(|at| (home.distance_m(at) * 10.0).round() / 10.0)
                .reduce(f64::max)
        });
        items.push(QueueEntry { detail, customer, rep_name, distance_m });
    }
    Ok(items)
}
