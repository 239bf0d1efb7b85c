//! Review decisions by branch marketing and HQ: approve, reject (→ re-visit task for the same
//! rep) or flag, with a comment and an optional point deduction. Every decision is kept and
//! audited.

use super::visits::{revisit_task, visible_visit, VisitDetail};
use super::{App, AppError};
use crate::db::ReviewRecord;
use crate::domain::ids::{ReviewId, VisitId};
use crate::domain::role::Actor;
use crate::domain::time::local_date;
use crate::domain::visit::{Decision, Review, VisitStatus};

/// A validated review request.
#[derive(Debug, Clone)]
pub struct ReviewInput {
    /// Client-generated id: makes a retried request safe.
    pub id: Option<ReviewId>,
    pub decision: Decision,
    pub comment: Option<String>,
    pub deduct_points: u32,
}

/// Records a decision; returns the review, the visit as it now stands, and whether this call
/// created the review (false for a retry under the same `id`).
pub async fn review(app: &App, actor: &Actor, visit_id: VisitId, input: ReviewInput) -> Result<(Review, VisitDetail, bool), AppError> {
    if !actor.role.is_marketing() {
        return Err(AppError::forbidden("role_forbidden", "reviews need a marketing role"));
    }
    let visit = visible_visit(app, actor, visit_id).await?;
    if let Some(id) = input.id {
        if let Some(existing) = app.repo.get_review(id).await? {
            return replay(app, existing, visit, actor, &input).await;
        }
    }
    if visit.status == VisitStatus::Draft {
        return Err(AppError::conflict("visit_not_submitted", "only submitted visits can be reviewed"));
    }
    let now = app.now();
    let revisit = match input.decision {
        Decision::Reject => {
            let branch = app.branch(visit.branch_id).await?;
            Some(revisit_task(app, &visit, local_date(now, branch.time_zone), "review_reject", Some(actor.id)))
        }
        Decision::Approve | Decision::Flag => None,
    };
    let review = Review {
        id: input.id.unwrap_or_else(ReviewId::new_random),
        visit_id,
        reviewer_id: actor.id,
        decision: input.decision,
        comment: input.comment.clone(),
        deduct_points: input.deduct_points,
        revisit_task_id: None,
        created_at: now,
    };
    let audit = app.audit(actor, "visit.reviewed", "visit", visit_id.to_string(), serde_json::json!({
        "decision": review.decision.as_str(), "deduct_points": review.deduct_points, "comment": review.comment }));
    let mut reviewed = visit.clone();
    reviewed.review_status = review.decision.review_status();
    reviewed.deducted_points += review.deduct_points;
    let mut data = super::events::visit_data(&reviewed);
    data["review"] = serde_json::json!({ "review_id": review.id, "reviewer_id": review.reviewer_id, "decision": review.decision.as_str(),
                                          "comment": review.comment, "deduct_points": review.deduct_points });
    let jobs = vec![super::events::event("visit.reviewed", &review.id.to_string(), now, data)];
    let revisit_created_job = revisit.as_ref().map(super::events::task_created);
    let record = ReviewRecord { review: review.clone(), revisit_task: revisit, jobs, revisit_created_job, audit };
    if !app.repo.record_review(&record).await? {
        // A concurrent retry under the same id won the race.
        let existing = app.repo.get_review(review.id).await?.ok_or_else(|| AppError::internal("review vanished"))?;
        return replay(app, existing, visit, actor, &input).await;
    }
    let visit = app.repo.get_visit(visit_id).await?.ok_or_else(|| AppError::internal("visit vanished"))?;
    let detail = super::visits::detail(app, visit).await?;
    let stored = detail.reviews.iter().find(|r| r.id == review.id).cloned().ok_or_else(|| AppError::internal("review vanished"))?;
    Ok((stored, detail, true))
}

/// A retry under an existing id: the same review again is answered with it; anything else is
/// a conflict.
async fn replay(app: &App, existing: Review, visit: crate::domain::visit::Visit, actor: &Actor, input: &ReviewInput) -> Result<(Review, VisitDetail, bool), AppError> {
    let same = existing.visit_id == visit.id
        && existing.reviewer_id == actor.id
        && existing.decision == input.decision
        && existing.comment == input.comment
        && existing.deduct_points == input.deduct_points;
    if !same {
        return Err(AppError::conflict("review_id_conflict", "a different review is stored under this id"));
    }
    let detail = super::visits::detail(app, visit).await?;
    Ok((existing, detail, false))
}
