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
    pub decision: Decision,
    pub comment: Option<String>,
    pub deduct_points: u32,
}

pub async fn review(app: &App, actor: &Actor, visit_id: VisitId, input: ReviewInput) -> Result<(Review, VisitDetail), AppError> {
    if !actor.role.is_marketing() {
        return Err(AppError::forbidden("role_forbidden", "reviews need a marketing role"));
    }
    let visit = visible_visit(app, actor, visit_id).await?;
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
        id: ReviewId::new_random(),
        visit_id,
        reviewer_id: actor.id,
        decision: input.decision,
        comment: input.comment,
        deduct_points: input.deduct_points,
        revisit_task_id: None,
        created_at: now,
    };
    let audit = app.audit(actor, "visit.reviewed", "visit", visit_id.to_string(), serde_json::json!({
        "decision": review.decision.as_str(), "deduct_points": review.deduct_points, "comment": review.comment }));
    app.repo.record_review(&ReviewRecord { review: review.clone(), revisit_task: revisit, audit }).await?;
    let visit = app.repo.get_visit(visit_id).await?.ok_or_else(|| AppError::internal("visit vanished"))?;
    let detail = super::visits::detail(app, visit).await?;
    let stored = detail.reviews.iter().find(|r| r.id == review.id).cloned().ok_or_else(|| AppError::internal("review vanished"))?;
    Ok((stored, detail))
}
