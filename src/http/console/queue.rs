//! `/hq/queue`: the review queue (non-compliant first, then flagged), its filters, and the
//! decisions — one by one or in bulk, through htmx without a page reload, and as plain forms
//! without JavaScript. Every decision form carries a review id made when the page was drawn,
//! so a double click or a retried request records one review.

use std::collections::HashMap;

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::NaiveDate;
use serde::Deserialize;
use uuid::Uuid;

use super::i18n::Texts;
use super::session::{check_csrf, html, query_rest, Chrome, ConsoleError, Signed};
use super::views::{self, choices, Choice, FindingView, PhotoView};
use crate::app::reviews::{self, QueueEntry, ReviewInput};
use crate::app::visits::VisitFilter;
use crate::app::{App, AppError};
use crate::domain::finding::FindingCode;
use crate::domain::ids::{BranchId, ReviewId, UserId, VisitId};
use crate::domain::page::Page;
use crate::domain::role::Scope;
use crate::domain::visit::{Decision, ReviewStatus, VisitStatus};

/// The queue's filters as the form sends them: every field may be empty.
#[derive(Debug, Default, Deserialize)]
pub struct QueueQuery {
    #[serde(default)]
    branch_id: String,
    #[serde(default)]
    rep_id: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    review_status: String,
    #[serde(default)]
    finding_code: String,
    #[serde(default)]
    date_from: String,
    #[serde(default)]
    date_to: String,
    #[serde(default)]
    customer: String,
    /// `1`: only the visits whose rep asked for HQ's help.
    #[serde(default)]
    needs_hq_help: String,
    #[serde(default)]
    ownership: String,
    #[serde(default)]
    dp: String,
    #[serde(default)]
    cursor: String,
}

struct FilterForm {
    branches: Vec<Choice>,
    reps: Vec<Choice>,
    statuses: Vec<Choice>,
    review_statuses: Vec<Choice>,
    finding_codes: Vec<Choice>,
    date_from: String,
    date_to: String,
    customer: String,
    needs_hq_help: bool,
    ownerships: Vec<Choice>,
    dp: String,
}

/// One entry of the queue page.
pub struct EntryView {
    pub id: String,
    pub customer: String,
    pub customer_code: String,
    pub rep: String,
    pub date: String,
    pub status: &'static str,
    pub status_class: &'static str,
    pub review: &'static str,
    pub score: String,
    pub distance: String,
    /// The rep asked for HQ's help; a flagged visit's review deadline, and whether it passed.
    pub needs_hq_help: bool,
    pub review_due: String,
    pub escalated: bool,
    pub findings: Vec<FindingView>,
    pub photos: Vec<PhotoView>,
    /// The id the decision is recorded under.
    pub review_id: String,
}

impl EntryView {
    fn new(t: &Texts, e: &QueueEntry) -> EntryView {
        let v = &e.detail.visit;
        let mut findings: Vec<_> = e.detail.findings.iter().map(|f| FindingView::new(t, f)).collect();
        // The worst first.
        findings.sort_by_key(|f| match f.severity_class {
            "blocking" => 0,
            "major" => 1,
            _ => 2,
        });
        EntryView {
            id: v.id.to_string(),
            customer: e.customer.as_ref().map_or_else(|| v.content.customer_id.to_string(), |c| c.name.clone()),
            customer_code: e.customer.as_ref().map(|c| c.code.clone()).unwrap_or_default(),
            rep: e.rep_name.clone().unwrap_or_else(|| v.rep_id.to_string()),
            date: v.visit_date.map(|d| d.to_string()).unwrap_or_default(),
            status: views::visit_status(t, v.status),
            status_class: v.status.as_str(),
            review: views::review_status(t, v.review_status),
            score: v.score.map_or_else(|| "–".into(), |s| s.to_string()),
            distance: e.distance_m.map_or_else(|| t.no_distance.to_string(), views::distance),
            needs_hq_help: v.needs_hq_help,
            review_due: v.review_due_date.map(|d| d.to_string()).unwrap_or_default(),
            escalated: v.review_escalated_at.is_some(),
            findings,
            photos: e.detail.photos.iter().map(PhotoView::new).collect(),
            review_id: Uuid::new_v4().to_string(),
        }
    }
}

#[derive(Template)]
#[template(path = "console/queue.html")]
struct QueuePage {
    chrome: Chrome,
    filter: FilterForm,
    entries: Vec<EntryView>,
    next_url: Option<String>,
    /// The filter's visits as CSV (marketing: the queue is theirs).
    export_url: String,
}

/// `GET /hq/queue`.
pub async fn page(req: HttpRequest, app: web::Data<App>, signed: Signed, q: web::Query<QueueQuery>) -> Result<HttpResponse, ConsoleError> {
    let t = signed.t;
    let locale = signed.session.locale;
    let fail = |e: AppError| ConsoleError::from_app(e, locale);
    crate::app::access::require(signed.is_marketing(), "the review queue is for marketing roles").map_err(fail)?;
    let actor = &signed.session.actor;
    let q = q.into_inner();
    let customer_id = crate::app::customers::filter_id(&app, &q.customer).await.map_err(fail)?;
    let review_status = ConsoleError::field(signed.t, "review_status", &q.review_status, ReviewStatus::parse)?;
    let filter = VisitFilter {
        scope: Scope::All,
        status: ConsoleError::field(signed.t, "status", &q.status, VisitStatus::parse)?,
        review_status: None,
        rep_id: ConsoleError::field(signed.t, "rep_id", &q.rep_id, |s| Uuid::parse_str(s).ok().map(UserId))?,
        branch_id: ConsoleError::field(signed.t, "branch_id", &q.branch_id, |s| Uuid::parse_str(s).ok().map(BranchId))?,
        customer_id,
        date_from: ConsoleError::field(signed.t, "date_from", &q.date_from, |s| s.parse::<NaiveDate>().ok())?,
        date_to: ConsoleError::field(signed.t, "date_to", &q.date_to, |s| s.parse::<NaiveDate>().ok())?,
        finding_code: ConsoleError::field(signed.t, "finding_code", &q.finding_code, FindingCode::parse)?,
        needs_hq_help: (q.needs_hq_help == "1").then_some(true),
        ownership: views::customer_slice(&q.ownership, &q.dp).0,
        dp: views::customer_slice(&q.ownership, &q.dp).1,
    };
    let before = ConsoleError::field(signed.t, "cursor", &q.cursor, |s| s.parse::<i64>().ok())?;
    let paged = reviews::queue(&app, actor, filter, review_status, Page { before, limit: 50 }).await.map_err(fail)?;
    let entries = paged.items.iter().map(|e| EntryView::new(t, e)).collect();
    let next_url = paged.next.map(|seq| format!("/hq/queue?cursor={seq}{}", queue_query(&q)));
    // The same filter, exported (the queue's own order aside: every visit of the filter).
    let export_url = format!("/hq/exports/visits.csv?{}", queue_query(&q).trim_start_matches('&'));
    let filter = filter_form(&app, &signed, &q).await.map_err(fail)?;
    html(QueuePage { chrome: signed.chrome(&req, "queue"), filter, entries, next_url, export_url }.render())
}

/// The queue's filter as the rest of a query string.
fn queue_query(q: &QueueQuery) -> String {
    query_rest(&[
        ("branch_id", &q.branch_id),
        ("rep_id", &q.rep_id),
        ("status", &q.status),
        ("review_status", &q.review_status),
        ("finding_code", &q.finding_code),
        ("date_from", &q.date_from),
        ("date_to", &q.date_to),
        ("customer", &q.customer),
        ("needs_hq_help", &q.needs_hq_help),
        ("ownership", &q.ownership),
        ("dp", &q.dp),
    ])
}

async fn filter_form(app: &App, signed: &Signed, q: &QueueQuery) -> Result<FilterForm, AppError> {
    let t = signed.t;
    let actor = &signed.session.actor;
    let branches = match actor.scope() {
        Scope::All => app.repo.list_branches().await?,
        _ => app.branch_of(actor).await?.into_iter().collect(),
    };
    let rep_branch = match actor.scope() {
        Scope::All => q.branch_id.parse::<Uuid>().ok().map(BranchId),
        _ => actor.branch_id,
    };
    let reps: Vec<_> = match (actor.scope(), rep_branch) {
        (Scope::All, None) => app.repo.list_users(None).await?,
        (_, Some(b)) => app.repo.list_users(Some(b)).await?,
        (_, None) => Vec::new(),
    };
    let mut branch_choices = vec![(String::new(), t.all_branches.to_string())];
    branch_choices.extend(branches.iter().map(|b| (b.id.to_string(), format!("{} — {}", b.code, b.name))));
    let mut rep_choices = vec![(String::new(), t.any.to_string())];
    rep_choices.extend(reps.iter().filter(|u| u.role == crate::domain::role::Role::Sales).map(|u| (u.id.to_string(), u.name.clone())));
    let any = || (String::new(), t.any.to_string());
    let statuses = [VisitStatus::NonCompliant, VisitStatus::Flagged, VisitStatus::Compliant]
        .map(|s| (s.as_str().to_string(), views::visit_status(t, s).to_string()));
    let review_statuses = [ReviewStatus::Pending, ReviewStatus::Flagged, ReviewStatus::Approved, ReviewStatus::Rejected]
        .map(|s| (s.as_str().to_string(), views::review_status(t, s).to_string()));
    Ok(FilterForm {
        branches: choices(&q.branch_id, branch_choices),
        reps: choices(&q.rep_id, rep_choices),
        statuses: choices(&q.status, std::iter::once(any()).chain(statuses)),
        review_statuses: choices(&q.review_status, std::iter::once(any()).chain(review_statuses)),
        finding_codes: choices(
            &q.finding_code,
            std::iter::once(any()).chain(FindingCode::ALL.iter().map(|c| (c.as_str().to_string(), c.as_str().to_string()))),
        ),
        date_from: q.date_from.clone(),
        date_to: q.date_to.clone(),
        customer: q.customer.clone(),
        needs_hq_help: q.needs_hq_help == "1",
        ownerships: views::ownership_choices(t, &q.ownership),
        dp: q.dp.clone(),
    })
}

/// A decision as a console form sends it.
#[derive(Debug, Deserialize)]
pub struct DecisionForm {
    #[serde(rename = "_csrf", default)]
    csrf: Option<String>,
    #[serde(default)]
    id: String,
    decision: String,
    #[serde(default)]
    comment: String,
    #[serde(default)]
    deduct_points: String,
    /// Where a plain (non-htmx) form goes back to.
    #[serde(default)]
    back: String,
}

fn review_input(signed: &Signed, id: &str, decision: &str, comment: &str, deduct: &str) -> Result<ReviewInput, ConsoleError> {
    let locale = signed.session.locale;
    let invalid = |code: &'static str, detail: &str| ConsoleError::from_app(AppError::invalid(code, detail.to_string()), locale);
    let decision = Decision::parse(decision).ok_or_else(|| invalid("invalid_field", "decision is approve, reject or flag"))?;
    let deduct_points = match deduct.trim() {
        "" => 0,
        n => n.parse::<u32>().ok().filter(|n| *n <= 100).ok_or_else(|| invalid("invalid_deduction", "deduct_points is 0 to 100"))?,
    };
    let comment = comment.trim();
    if comment.chars().count() > 2000 {
        return Err(invalid("invalid_field", "the comment is at most 2000 characters"));
    }
    let id = match id.trim() {
        "" => None,
        s => Some(ReviewId(Uuid::parse_str(s).map_err(|_| invalid("invalid_field", "the review id is not a UUID"))?)),
    };
    Ok(ReviewInput { id, decision, comment: (!comment.is_empty()).then(|| comment.to_string()), deduct_points })
}

/// "Toko Maju Jaya · 2026-12-01": which visit a decided entry was (best effort: the decision is
/// recorded whatever this finds).
async fn visit_label(app: &App, v: &crate::domain::visit::Visit) -> String {
    let name = match app.repo.get_customer(v.content.customer_id).await {
        Ok(Some(c)) => c.name,
        _ => v.content.customer_id.to_string(),
    };
    format!("{name} · {}", v.visit_date.map(|d| d.to_string()).unwrap_or_default())
}

#[derive(Template)]
#[template(path = "console/decided.html")]
struct Decided {
    t: &'static Texts,
    id: String,
    /// The customer and the visit's date.
    label: String,
    decision: &'static str,
    oob: bool,
    revisit: Option<String>,
}

/// `POST /hq/visits/{visit_id}/review`: one decision. htmx gets the entry's new face; a plain
/// form goes back where it came from.
pub async fn decide(
    req: HttpRequest,
    app: web::Data<App>,
    signed: Signed,
    path: web::Path<Uuid>,
    form: web::Form<DecisionForm>,
) -> Result<HttpResponse, ConsoleError> {
    check_csrf(&req, &signed, form.csrf.as_deref())?;
    let input = review_input(&signed, &form.id, &form.decision, &form.comment, &form.deduct_points)?;
    let visit_id = VisitId(path.into_inner());
    let (review, detail, _) = reviews::review(&app, &signed.session.actor, visit_id, input)
        .await
        .map_err(|e| ConsoleError::from_app(e, signed.session.locale))?;
    if req.headers().contains_key("hx-request") {
        let revisit =
            review.revisit_task_id.or(detail.visit.revisit_task_id.filter(|_| review.decision == Decision::Reject)).map(|t| t.to_string());
        let label = visit_label(&app, &detail.visit).await;
        let decision = views::decision(signed.t, review.decision);
        let body = Decided { t: signed.t, id: visit_id.to_string(), label, decision, oob: false, revisit };
        return html(body.render());
    }
    let back = super::session::safe_next(&form.back);
    let back = if back == "/hq/queue" && form.back.is_empty() { format!("/hq/visits/{visit_id}") } else { back.to_string() };
    Ok(HttpResponse::SeeOther().insert_header((actix_web::http::header::LOCATION, back)).finish())
}

#[derive(Template)]
#[template(path = "console/bulk_done.html")]
struct BulkDone {
    t: &'static Texts,
    count: usize,
    decided: Vec<Decided>,
}

/// `POST /hq/queue/bulk`: the selected entries (`visit=<id>`, repeated; each with its review id
/// as `rid_<visit id>`) get one decision, all or none.
pub async fn bulk(req: HttpRequest, app: web::Data<App>, signed: Signed, body: web::Bytes) -> Result<HttpResponse, ConsoleError> {
    let fields: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    let one = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or("");
    check_csrf(&req, &signed, Some(one("_csrf")).filter(|s| !s.is_empty()))?;
    let locale = signed.session.locale;
    let review_ids: HashMap<&str, &str> = fields.iter().filter_map(|(k, v)| k.strip_prefix("rid_").map(|id| (id, v.as_str()))).collect();
    let mut items = Vec::new();
    for (_, visit) in fields.iter().filter(|(k, _)| k == "visit") {
        let id = Uuid::parse_str(visit)
            .map_err(|_| ConsoleError::from_app(AppError::invalid("invalid_field", "a selected visit id is not a UUID"), locale))?;
        let input = review_input(
            &signed,
            review_ids.get(visit.as_str()).copied().unwrap_or(""),
            one("decision"),
            one("comment"),
            one("deduct_points"),
        )?;
        items.push((VisitId(id), input));
    }
    if items.is_empty() {
        return Err(ConsoleError::from_app(AppError::invalid("nothing_selected", signed.t.nothing_selected), locale));
    }
    let ids: Vec<VisitId> = items.iter().map(|(v, _)| *v).collect();
    let decision = items[0].1.decision;
    let outcomes = reviews::bulk(&app, &signed.session.actor, items).await.map_err(|e| ConsoleError::from_app(e, locale))?;
    let mut decided = Vec::with_capacity(ids.len());
    for (id, o) in ids.iter().zip(&outcomes) {
        let label = match app.repo.get_visit(*id).await {
            Ok(Some(v)) => visit_label(&app, &v).await,
            _ => String::new(),
        };
        decided.push(Decided {
            t: signed.t,
            id: id.to_string(),
            label,
            decision: views::decision(signed.t, decision),
            oob: true,
            revisit: o.review.revisit_task_id.map(|t| t.to_string()),
        });
    }
    html(BulkDone { t: signed.t, count: outcomes.len(), decided }.render())
}
