//! Visits: the idempotent create/update of a draft, the submit that freezes it and runs the
//! rules, and reading them back.

use sha2::{Digest, Sha256};

use super::access::{owned_visit, visible_visit};
use super::{events, evidence, App, AppError};
pub use crate::db::VisitFilter;
use crate::db::{VerdictOutcome, VerdictRecord};
use crate::domain::customer::Customer;
use crate::domain::finding::Finding;
use crate::domain::ids::{TaskId, VisitId};
use crate::domain::page::{Page, Paged};
use crate::domain::role::{Actor, Role};
use crate::domain::rules::{self, summary, RecordFacts, SimilarSummary, SubmitFacts};
use crate::domain::task::{NewTask, RequiredMethod, Task, TaskStatus, TaskType};
use crate::domain::time::{local_date, Calendar};
use crate::domain::visit::{Method, Photo, Review, ReviewStatus, Visit, VisitContent, VisitStatus};
use chrono::NaiveDate;

/// A visit with everything that hangs off it.
#[derive(Debug, Clone)]
pub struct VisitDetail {
    pub visit: Visit,
    pub photos: Vec<Photo>,
    pub findings: Vec<Finding>,
    pub reviews: Vec<Review>,
}

impl VisitDetail {
    /// Its findings and its photos' as `actor` may see them (`access::findings_seen_by`).
    pub async fn seen_by(mut self, app: &App, actor: &Actor) -> Result<VisitDetail, AppError> {
        let photos = self.photos.iter_mut().map(|p| &mut p.findings);
        super::access::findings_seen_by(app, actor, std::iter::once(&mut self.findings).chain(photos)).await?;
        Ok(self)
    }
}

/// Whether a PUT created the visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    Created,
    Unchanged,
    Updated,
}

fn content_hash(content: &VisitContent) -> String {
    // serde_json writes struct fields in declaration order and maps sorted (BTreeMap), so
    // equal content always hashes equally.
    hex::encode(Sha256::digest(serde_json::to_vec(content).unwrap_or_default()))
}

/// `PUT /v1/visits/{id}`: creates or updates a draft. The same body again changes nothing;
/// a different body for a submitted visit is a conflict. The answer is the visit as its rep
/// may see it.
pub async fn put_visit(app: &App, actor: &Actor, id: VisitId, content: VisitContent) -> Result<(VisitDetail, Written), AppError> {
    let (visit, written) = put_record(app, actor, id, content).await?;
    Ok((detail(app, visit).await?.seen_by(app, actor).await?, written))
}

async fn put_record(app: &App, actor: &Actor, id: VisitId, content: VisitContent) -> Result<(Visit, Written), AppError> {
    super::access::require(actor.role == Role::Sales, "only sales reps record visits")?;
    let hash = content_hash(&content);
    for _attempt in 0..3 {
        let existing = app.repo.get_visit(id).await?;
        match existing {
            Some(v) if v.rep_id != actor.id => {
                return Err(AppError::not_found("visit_not_found", format!("visit {id} not found")));
            }
            Some(v) if v.content_hash == hash => return Ok((v, Written::Unchanged)),
            Some(v) if v.status != VisitStatus::Draft => {
                return Err(AppError::conflict("visit_already_submitted", "the visit was submitted; its record can no longer change"));
            }
            _ => {}
        }
        let (customer, visit_date) = validate_content(app, actor, &content).await?;
        let now = app.now();
        let visit = Visit {
            id,
            rep_id: actor.id,
            branch_id: customer.branch_id,
            content: content.clone(),
            visit_date,
            status: VisitStatus::Draft,
            review_status: ReviewStatus::Pending,
            score: None,
            deducted_points: 0,
            submitted_at: None,
            revisit_task_id: None,
            needs_hq_help: false,
            review_due_date: None,
            review_escalated_at: None,
            policy_version: None,
            content_hash: hash.clone(),
            created_at: existing.as_ref().map_or(now, |v| v.created_at),
            updated_at: now,
        };
        let written = match existing {
            None if app.repo.insert_visit(&visit).await? => Written::Created,
            Some(_) if app.repo.update_draft_visit(&visit).await? => Written::Updated,
            // A concurrent request created or submitted it meanwhile: decide again on what it wrote.
            _ => continue,
        };
        let stored = app.repo.get_visit(id).await?.ok_or_else(|| AppError::internal("visit vanished after write"))?;
        return Ok((stored, written));
    }
    Err(AppError::conflict("visit_write_contended", "the visit is being changed by another request; retry"))
}

async fn validate_content(app: &App, actor: &Actor, c: &VisitContent) -> Result<(Customer, Option<chrono::NaiveDate>), AppError> {
    let customer = match app.repo.get_customer(c.customer_id).await? {
        Some(customer) if actor.can_see_branch(customer.branch_id) => customer,
        _ => return Err(AppError::invalid("customer_not_found", format!("customer {} not found", c.customer_id))),
    };
    if let Some(task_id) = c.task_id {
        let task = match app.repo.get_task(task_id).await? {
            Some(t) if t.assignee_id == actor.id => t,
            _ => return Err(AppError::invalid("task_not_found", format!("task {task_id} not found"))),
        };
        if task.customer_id != c.customer_id {
            return Err(AppError::invalid("task_customer_mismatch", "the task is for another customer"));
        }
        if task.status != TaskStatus::Open {
            return Err(AppError::conflict("task_not_open", format!("the task is {}", task.status.as_str())));
        }
    }
    if let Some(reason) = &c.result_reason {
        if !app.taxonomy.is_valid(&reason.level1, &reason.level2) {
            return Err(AppError::invalid(
                "result_reason_unknown",
                format!("{}/{} is not a known follow-up result", reason.level1, reason.level2),
            ));
        }
    }
    if let Err(e) = app.taxonomy.check_details(c.result_reason.as_ref(), &c.reason_details) {
        return Err(AppError::invalid("reason_detail_invalid", e));
    }
    if let Some(unknown) = c.answers.keys().find(|k| !app.taxonomy.is_question(k)) {
        return Err(AppError::invalid("question_unknown", format!("{unknown:?} is not a standard question")));
    }
    if let Some(at) = c.visited_at {
        // A phone clock a few minutes fast is normal; a visit hours ahead is not.
        if at > app.now() + chrono::Duration::minutes(15) {
            return Err(AppError::invalid("visited_at_in_future", "visited_at is in the future"));
        }
        if c.next_follow_up_at.is_some_and(|next| next <= at) {
            return Err(AppError::invalid("next_follow_up_not_after_visit", "next_follow_up_at must be after visited_at"));
        }
    }
    let branch = app.branch(customer.branch_id).await?;
    let visit_date = c.visited_at.map(|at| local_date(at, branch.time_zone));
    Ok((customer, visit_date))
}

/// `POST /v1/visits/{id}/submit`: freezes the visit, runs the rules, records the verdict (and a
/// re-visit task when it fails). A repeated submit returns the stored verdict.
pub async fn submit(app: &App, actor: &Actor, id: VisitId) -> Result<VisitDetail, AppError> {
    submit_as_owner(app, actor, id).await?.seen_by(app, actor).await
}

async fn submit_as_owner(app: &App, actor: &Actor, id: VisitId) -> Result<VisitDetail, AppError> {
    for _attempt in 0..3 {
        let visit = owned_visit(app, actor, id).await?;
        if visit.status != VisitStatus::Draft {
            return detail(app, visit).await;
        }
        let missing = visit.content.missing_for_submit();
        if !missing.is_empty() {
            return Err(AppError::Invalid {
                code: "visit_incomplete",
                detail: format!("fill in before submitting: {}", missing.join(", ")),
                fields: missing.into_iter().map(String::from).collect(),
            });
        }
        let branch = app.branch(visit.branch_id).await?;
        let customer = app.repo.get_customer(visit.content.customer_id).await?.ok_or_else(|| AppError::internal("customer vanished"))?;
        let now = app.now();
        let visit_date = visit.visit_date.unwrap_or_else(|| local_date(now, branch.time_zone));
        // Photos were judged at upload against the draft as it was; judge them again against
        // the final record (its date may have changed since).
        let mut photos = app.repo.list_photos(id).await?;
        // The SOP in force on the visit's day judges it (SOP ch. 10: HQ changes it over time).
        let (policy_version, policy) = super::policies::policy_at(app, visit_date).await?;
        let against = evidence::Against { visit_date: Some(visit_date), customer: &customer, branch_tz: branch.time_zone };
        for p in &mut photos {
            p.findings = evidence::judge_photo(app, &policy, &against, p).await?;
        }
        let task = match visit.content.task_id {
            Some(task_id) => app.repo.get_task(task_id).await?,
            None => None,
        };
        let (summary_bands, earlier_summary) = earlier_summary(app, &policy, &visit).await?;
        let findings = rules::visit_findings(
            &policy,
            &SubmitFacts {
                method: visit.content.method,
                refused: visit.content.refused,
                visit_date,
                branch_tz: branch.time_zone,
                submitted_at: now,
                photos: &photos,
                record: Some(RecordFacts {
                    content: &visit.content,
                    customer_class: customer.class,
                    previous_level: customer.previous_level,
                    task_method: task.as_ref().map(|t| t.required_method),
                    task_confirmed_at: task.as_ref().and_then(|t| t.confirmed_at),
                    geofence: super::evidence::geofence(&policy, &customer),
                    taxonomy: &app.taxonomy,
                    earlier_summary,
                }),
            },
        );
        let verdict = rules::verdict(&findings);
        let today = local_date(now, branch.time_zone);
        let cal = super::calendar::calendar(app, &branch, today).await?;
        let revisit_task = (verdict.status == VisitStatus::NonCompliant)
            .then(|| super::tasks::revisit_task(app, &policy, &visit, today, &cal, "verdict_non_compliant", None));
        let new_tasks = follow_up_tasks(app, &policy, &visit, today, &cal, branch.time_zone);
        let needs_hq_help = visit.content.asks_for_help(&policy.visit.hq_help_question);
        let review_due_date = (verdict.status == VisitStatus::Flagged).then(|| {
            let v = &policy.visit;
            cal.add_working_days(
                today,
                v.branch_flagged_review_due_working_days.get(&branch.code).copied().unwrap_or(v.flagged_review_due_working_days),
            )
        });
        let mut submitted = visit.clone();
        submitted.status = verdict.status;
        submitted.score = Some(verdict.score);
        submitted.submitted_at = Some(now);
        submitted.visit_date = Some(visit_date);
        submitted.revisit_task_id = revisit_task.as_ref().map(|t| t.id);
        submitted.needs_hq_help = needs_hq_help;
        submitted.policy_version = policy_version;
        submitted.review_due_date = review_due_date;
        let key = id.to_string();
        let mut jobs = vec![events::event("visit.submitted", &key, now, events::visit_data(&submitted))];
        if verdict.status == VisitStatus::NonCompliant {
            let mut data = events::visit_data(&submitted);
            data["findings"] = serde_json::json!(findings.iter().map(|f| f.code.as_str()).collect::<Vec<_>>());
            jobs.push(events::event("visit.non_compliant", &key, now, data));
        }
        jobs.extend(new_tasks.iter().map(events::task_created));
        let record = VerdictRecord {
            visit_id: id,
            status: verdict.status,
            score: verdict.score,
            submitted_at: now,
            findings,
            photo_count: photos.len(),
            revisit_created_job: revisit_task.as_ref().map(events::task_created),
            revisit_task,
            new_tasks,
            summary_bands,
            jobs,
            completes_task: visit.content.task_id,
            needs_hq_help,
            review_due_date,
            policy_version,
            audit: app.audit(
                actor,
                "visit.submitted",
                "visit",
                id.to_string(),
                serde_json::json!({
                "status": verdict.status.as_str(), "score": verdict.score }),
            ),
        };
        match app.repo.record_verdict(&record).await? {
            VerdictOutcome::Recorded | VerdictOutcome::AlreadySubmitted => {
                let visit = app.repo.get_visit(id).await?.ok_or_else(|| AppError::internal("visit vanished"))?;
                return detail(app, visit).await;
            }
            VerdictOutcome::PhotosChanged => continue,
        }
    }
    Err(AppError::conflict("visit_write_contended", "photos kept arriving during the submit; retry"))
}

/// The summary's band keys, and the most similar earlier summary among those sharing a band
/// (exact Jaccard of their shingles). A refusal or a summary too short to be a template is
/// neither indexed nor compared.
async fn earlier_summary(
    app: &App,
    policy: &crate::domain::policy::Policy,
    visit: &Visit,
) -> Result<(Vec<i64>, Option<SimilarSummary>), AppError> {
    let text = match (&visit.content.summary, visit.content.refused) {
        (Some(text), false) => text,
        _ => return Ok((Vec::new(), None)),
    };
    if summary::words(text).len() < policy.summary.templated_min_words as usize {
        return Ok((Vec::new(), None));
    }
    let shingles = summary::shingles(text);
    let bands = summary::band_keys(&shingles);
    let candidates = app.repo.similar_summaries(&bands, visit.id, 20).await?;
    let best = candidates
        .iter()
        .map(|c| SimilarSummary {
            visit_id: c.visit_id,
            similarity: summary::jaccard(&shingles, &summary::shingles(&c.summary)),
            same_rep: c.rep_id == visit.rep_id,
        })
        .max_by(|a, b| a.similarity.total_cmp(&b.similarity));
    Ok((bands, best))
}

/// Tasks a submitted record asks for: a task for its next follow-up time (RULES.md §5), and a
/// WhatsApp follow-up in place of a refused visit (SOP ch. 2).
fn follow_up_tasks(
    app: &App,
    policy: &crate::domain::policy::Policy,
    visit: &Visit,
    today: NaiveDate,
    cal: &Calendar,
    tz: chrono_tz::Tz,
) -> Vec<Task> {
    let c = &visit.content;
    let task = |task_type, required_method, due_date, origin, note: String| {
        NewTask {
            customer_id: c.customer_id,
            branch_id: visit.branch_id,
            assignee_id: visit.rep_id,
            task_type,
            required_method,
            due_date,
            origin,
        }
        .open(TaskId::new_random(), app.now())
        .from_visit(visit.id)
        .with_note(Some(note))
        .created_by(Some(visit.rep_id))
    };
    let mut out = Vec::new();
    if let Some(at) = c.next_follow_up_at {
        let note = c.next_steps.clone().unwrap_or_else(|| format!("Follow-up agreed in visit {}", visit.id));
        out.push(task(TaskType::FollowUp, RequiredMethod::Any, local_date(at, tz), "next_follow_up", note));
    }
    if c.method == Method::DoorVisit && !c.refused && policy.visit.thank_you_task {
        let due = cal.add_working_days(today, policy.visit.thank_you_due_working_days);
        out.push(task(
            TaskType::ThankYou,
            RequiredMethod::DoorVisitOrWhatsapp,
            due,
            "thank_you",
            format!("Kirim pesan terima kasih via WhatsApp ke {} (SOP 3.1)", c.contact_name.as_deref().unwrap_or("customer")),
        ));
    }
    if c.refused {
        let due = cal.add_working_days(today, policy.visit.refusal_follow_up_due_working_days);
        let reason = c.refusal_reason.as_deref().unwrap_or("-");
        out.push(task(
            TaskType::FollowUp,
            RequiredMethod::DoorVisitOrWhatsapp,
            due,
            "refusal_follow_up",
            format!("WhatsApp follow-up: the customer refused the visit ({reason})"),
        ));
    }
    out
}

/// A visit with its photos, findings and reviews.
pub async fn detail(app: &App, visit: Visit) -> Result<VisitDetail, AppError> {
    let photos = app.repo.list_photos(visit.id).await?;
    let findings = app.repo.list_findings(visit.id).await?;
    let reviews = app.repo.list_reviews(visit.id).await?;
    Ok(VisitDetail { visit, photos, findings, reviews })
}

/// `GET /v1/visits/{id}`. Reviewers reading a rep's visit (with its GPS) are audited.
pub async fn get(app: &App, actor: &Actor, id: VisitId) -> Result<VisitDetail, AppError> {
    let visit = visible_visit(app, actor, id).await?;
    if visit.rep_id != actor.id {
        let entry = app.audit(actor, "visit.viewed", "visit", id.to_string(), serde_json::json!({}));
        app.repo.append_audit(&entry).await?;
    }
    detail(app, visit).await?.seen_by(app, actor).await
}

/// `GET /v1/visits`: the caller's scope, filtered, newest first.
pub async fn list(app: &App, actor: &Actor, mut filter: VisitFilter, page: Page) -> Result<Paged<Visit>, AppError> {
    filter.scope = actor.scope();
    Ok(app.repo.list_visits(&filter, page).await?)
}
