//! `/hq/visits/{id}`: the whole record, every photo (thumbnail, full size on click through the
//! audited content route), the facts each finding used, a map of each photo's position against
//! the customer's registered place and geofence, the timeline, the reviews and the tasks.
//! Reps see their own visits here too, without the decision controls.

use std::collections::HashMap;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Serialize;
use uuid::Uuid;

use super::i18n::Texts;
use super::session::{html, Chrome, ConsoleError, Signed};
use super::views::{self, optional, FindingView, PhotoView};
use crate::app::photos::PhotoContent;
use crate::app::{App, AppError};
use crate::domain::directory::Locale;
use crate::domain::ids::{PhotoId, VisitId};
use crate::domain::visit::{Photo, VisitStatus};

struct Fact {
    label: &'static str,
    value: String,
}

struct PhotoPanel {
    photo: PhotoView,
    facts: Vec<Fact>,
    findings: Vec<FindingView>,
    /// A WhatsApp screenshot's text as OCR read it, shown beside it.
    chat_text: Option<String>,
}

struct TimelineStep {
    label: &'static str,
    at: String,
}

struct ReviewView {
    decision: &'static str,
    by: String,
    at: String,
    comment: String,
    deduct_points: u32,
}

struct TaskView {
    id: String,
    kind: &'static str,
    due: String,
    status: &'static str,
}

/// What the map script draws (`map.js`): the customer's place and radius, and each photo.
#[derive(Serialize)]
struct MapData {
    customer: Option<MapPoint>,
    radius_m: f64,
    photos: Vec<MapPoint>,
    labels: MapLabels,
}

#[derive(Serialize)]
struct MapPoint {
    lat: f64,
    lon: f64,
    label: String,
    accuracy_m: Option<f64>,
}

#[derive(Serialize)]
struct MapLabels {
    customer: &'static str,
    photo: &'static str,
    geofence: &'static str,
}

#[derive(Template)]
#[template(path = "console/visit.html")]
struct VisitPage {
    chrome: Chrome,
    id: String,
    customer: String,
    customer_code: String,
    rep: String,
    status: &'static str,
    status_class: &'static str,
    review: &'static str,
    score: String,
    record: Vec<Fact>,
    answers: Vec<(String, String)>,
    /// The result reason's detail questions and their answers, in the taxonomy's order.
    reason_details: Vec<(String, String)>,
    needs_hq_help: bool,
    review_due: String,
    escalated: bool,
    summary: String,
    visit_findings: Vec<FindingView>,
    photos: Vec<PhotoPanel>,
    map_json: String,
    has_positions: bool,
    timeline: Vec<TimelineStep>,
    reviews: Vec<ReviewView>,
    task: Option<TaskView>,
    revisit: Option<TaskView>,
    can_decide: bool,
    review_id: String,
}

/// The result reason as people read it: both levels' labels in the page's language.
fn reason_label(app: &App, locale: Locale, reason: Option<&crate::domain::visit::ResultReason>) -> String {
    let Some(r) = reason else { return String::new() };
    let Some(level) = app.taxonomy.levels.iter().find(|l| l.code == r.level1) else { return format!("{} › {}", r.level1, r.level2) };
    let pick = |id: &str, en: &str| if locale == Locale::En { en.to_string() } else { id.to_string() };
    let l2 = level.reasons.iter().find(|x| x.code == r.level2).map_or_else(|| r.level2.clone(), |x| pick(&x.label_id, &x.label_en));
    format!("{} › {l2}", pick(&level.label_id, &level.label_en))
}

/// The standard (and Lost-customer) questions answered, as asked and in the SOP's order; an
/// answer to a question the taxonomy no longer has keeps its code.
fn answers(app: &App, locale: Locale, c: &crate::domain::visit::VisitContent) -> Vec<(String, String)> {
    let q = &app.taxonomy.questions;
    let asked = q.standard.iter().chain(&q.lost);
    let label = |l: &crate::domain::reasons::Label| match (&l.label_en, locale) {
        (Some(en), Locale::En) => en.clone(),
        _ => l.label_id.clone(),
    };
    let mut out: Vec<(String, String)> = asked.filter_map(|l| c.answers.get(&l.code).map(|a| (label(l), a.clone()))).collect();
    out.extend(c.answers.iter().filter(|(k, _)| !app.taxonomy.is_question(k)).map(|(k, v)| (k.clone(), v.clone())));
    out
}

/// Each detail question of the record's reason, with its answer ("–" when none).
fn reason_details(app: &App, t: &Texts, locale: Locale, c: &crate::domain::visit::VisitContent) -> Vec<(String, String)> {
    use crate::domain::visit::DetailValue;
    let Some(r) = c.result_reason.as_ref().and_then(|r| app.taxonomy.reason(&r.level1, &r.level2)) else { return Vec::new() };
    r.details
        .iter()
        .map(|q| {
            let label = if locale == Locale::En { q.label_en.clone() } else { q.label_id.clone() };
            let answer = match c.reason_details.get(&q.code) {
                Some(DetailValue::Text(s)) => s.clone(),
                Some(DetailValue::YesNo(b)) => (if *b { t.yes } else { t.no }).to_string(),
                Some(DetailValue::Number(n)) => n.to_string(),
                None => "–".to_string(),
            };
            (label, answer)
        })
        .collect()
}

fn photo_facts(t: &Texts, p: &Photo, tz: chrono_tz::Tz) -> Vec<Fact> {
    let f = &p.facts;
    let position = f.exif_location.or(p.capture.location);
    let mut facts = vec![
        Fact { label: t.kind, value: p.kind.as_str().to_string() },
        Fact { label: t.taken_at, value: f.exif_taken_at.map_or_else(|| t.unknown.to_string(), |at| views::local_time(at, tz)) },
        Fact {
            label: t.position,
            value: position.map_or_else(
                || t.unknown.to_string(),
                |g| {
                    let accuracy = f.exif_gps_accuracy_m.or(p.capture.accuracy_m).map(|a| format!(" ± {a:.0} m")).unwrap_or_default();
                    format!("{:.6}, {:.6}{accuracy}", g.latitude, g.longitude)
                },
            ),
        },
        Fact {
            label: t.camera,
            value: optional(&[f.make.clone(), f.model.clone()].into_iter().flatten().reduce(|a, b| format!("{a} {b}")), t),
        },
        Fact { label: t.size, value: format!("{} × {} px, {} kB, {}", f.width, f.height, p.size_bytes / 1024, f.format) },
    ];
    if let Some(px) = f.pixels {
        facts.push(Fact { label: t.brightness, value: format!("{:.0} / 255", px.brightness) });
        facts.push(Fact { label: t.sharpness, value: format!("{:.1}", px.sharpness) });
    }
    if let Some(n) = f.faces {
        facts.push(Fact { label: t.faces, value: n.to_string() });
    }
    if let Some(s) = &f.software {
        facts.push(Fact { label: "Software", value: s.clone() });
    }
    if let Some(chat) = &f.chat {
        if chat.status == "read" {
            facts.push(Fact { label: t.chat_contact, value: optional(&chat.header, t) });
            let dates: Vec<&str> = chat.dates.iter().map(|d| d.shown.as_str()).collect();
            facts.push(Fact { label: t.chat_dates, value: if dates.is_empty() { t.unknown.to_string() } else { dates.join(", ") } });
            facts.push(Fact { label: t.chat_sides, value: format!("{} / {}", chat.customer_lines, chat.rep_lines) });
        } else {
            facts.push(Fact { label: t.chat_read, value: format!("{} ({})", t.chat_not_read, chat.status) });
        }
    }
    facts
}

/// `GET /hq/visits/{visit_id}`.
pub async fn page(req: HttpRequest, app: web::Data<App>, signed: Signed, path: web::Path<Uuid>) -> Result<HttpResponse, ConsoleError> {
    let t = signed.t;
    let locale = signed.session.locale;
    let fail = |e: AppError| ConsoleError::from_app(e, locale);
    let actor = &signed.session.actor;
    let detail = crate::app::visits::get(&app, actor, VisitId(path.into_inner())).await.map_err(fail)?;
    let v = &detail.visit;
    let branch = app.repo.get_branch(v.branch_id).await.map_err(|e| fail(e.into()))?;
    let tz = branch.as_ref().map_or(chrono_tz::Asia::Jakarta, |b| b.time_zone);
    let customer = app.repo.get_customer(v.content.customer_id).await.map_err(|e| fail(e.into()))?;
    let mut people: Vec<_> = detail.reviews.iter().map(|r| r.reviewer_id).collect();
    people.push(v.rep_id);
    let names: HashMap<_, _> =
        app.repo.users_by_id(&people).await.map_err(|e| fail(e.into()))?.into_iter().map(|u| (u.id, u.name)).collect();
    let task_view = |task: crate::domain::task::Task| TaskView {
        id: task.id.to_string(),
        kind: task.task_type.as_str(),
        due: task.due_date.to_string(),
        status: task.status.as_str(),
    };
    let task = match v.content.task_id {
        Some(id) => app.repo.get_task(id).await.map_err(|e| fail(e.into()))?.map(task_view),
        None => None,
    };
    let revisit = match v.revisit_task_id.or_else(|| detail.reviews.iter().rev().find_map(|r| r.revisit_task_id)) {
        Some(id) => app.repo.get_task(id).await.map_err(|e| fail(e.into()))?.map(task_view),
        None => None,
    };
    let c = &v.content;
    let record = vec![
        Fact { label: t.visit_date, value: v.visit_date.map(|d| d.to_string()).unwrap_or_else(|| t.unknown.into()) },
        Fact { label: t.method, value: c.method.as_str().to_string() },
        Fact {
            label: t.contact,
            value: [c.contact_name.clone(), c.contact_position.clone(), c.contact_phone.clone()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" · "),
        },
        Fact { label: t.reasons, value: reason_label(&app, locale, c.result_reason.as_ref()) },
        Fact { label: t.result, value: [c.details.clone(), c.next_steps.clone()].into_iter().flatten().collect::<Vec<_>>().join(" — ") },
    ];
    let mut by_photo: HashMap<PhotoId, Vec<FindingView>> = HashMap::new();
    let mut visit_findings = Vec::new();
    for f in &detail.findings {
        match f.photo_id {
            Some(p) => by_photo.entry(p).or_default().push(FindingView::new(t, f)),
            None => visit_findings.push(FindingView::new(t, f)),
        }
    }
    let photos: Vec<PhotoPanel> = detail
        .photos
        .iter()
        .map(|p| PhotoPanel {
            photo: PhotoView::new(p),
            facts: photo_facts(t, p, tz),
            findings: by_photo.remove(&p.id).unwrap_or_default(),
            chat_text: p.facts.chat.as_ref().filter(|c| c.status == "read").map(|c| c.text.clone()),
        })
        .collect();
    // Findings of photos no longer listed (none today) still show, with the visit's.
    visit_findings.extend(by_photo.into_values().flatten());
    let map = MapData {
        customer: customer
            .as_ref()
            .and_then(|c| c.location.map(|g| MapPoint { lat: g.latitude, lon: g.longitude, label: c.name.clone(), accuracy_m: None })),
        radius_m: customer.as_ref().and_then(|c| c.geofence_radius_m).unwrap_or(app.policy.default_geofence_radius_m),
        photos: detail
            .photos
            .iter()
            .filter_map(|p| {
                let g = p.facts.exif_location.or(p.capture.location)?;
                Some(MapPoint {
                    lat: g.latitude,
                    lon: g.longitude,
                    label: format!("{} · {}", p.kind.as_str(), p.id),
                    accuracy_m: p.facts.exif_gps_accuracy_m.or(p.capture.accuracy_m),
                })
            })
            .collect(),
        labels: MapLabels { customer: t.map_legend_customer, photo: t.map_legend_photo, geofence: t.map_legend_geofence },
    };
    let has_positions = map.customer.is_some() || !map.photos.is_empty();
    // Written without `<`, `>` or `&`: no value can end the script element the JSON sits in.
    let map_json = super::views::script_json(&map);
    let mut timeline = Vec::new();
    if let Some(at) = c.visited_at {
        timeline.push(TimelineStep { label: t.visited, at: views::local_time(at, tz) });
    }
    for p in &detail.photos {
        timeline.push(TimelineStep { label: t.uploaded, at: views::local_time(p.received_at, tz) });
    }
    if let Some(at) = v.submitted_at {
        timeline.push(TimelineStep { label: t.submitted, at: views::local_time(at, tz) });
    }
    for r in &detail.reviews {
        timeline.push(TimelineStep { label: t.reviewed, at: views::local_time(r.created_at, tz) });
    }
    let reviews = detail
        .reviews
        .iter()
        .map(|r| ReviewView {
            decision: views::decision(t, r.decision),
            by: names.get(&r.reviewer_id).cloned().unwrap_or_else(|| r.reviewer_id.to_string()),
            at: views::local_time(r.created_at, tz),
            comment: r.comment.clone().unwrap_or_default(),
            deduct_points: r.deduct_points,
        })
        .collect();
    let page = VisitPage {
        chrome: signed.chrome(&req, if signed.is_marketing() { "queue" } else { "tasks" }),
        id: v.id.to_string(),
        customer: customer.as_ref().map_or_else(|| c.customer_id.to_string(), |c| c.name.clone()),
        customer_code: customer.as_ref().map(|c| c.code.clone()).unwrap_or_default(),
        rep: names.get(&v.rep_id).cloned().unwrap_or_else(|| v.rep_id.to_string()),
        status: views::visit_status(t, v.status),
        status_class: v.status.as_str(),
        review: views::review_status(t, v.review_status),
        score: v.score.map_or_else(|| "–".into(), |s| s.to_string()),
        record,
        answers: answers(&app, locale, c),
        reason_details: reason_details(&app, t, locale, c),
        needs_hq_help: v.needs_hq_help,
        review_due: v.review_due_date.map(|d| d.to_string()).unwrap_or_default(),
        escalated: v.review_escalated_at.is_some(),
        summary: c.summary.clone().unwrap_or_default(),
        visit_findings,
        photos,
        map_json,
        has_positions,
        timeline,
        reviews,
        task,
        revisit,
        can_decide: signed.is_marketing() && v.status != VisitStatus::Draft,
        review_id: Uuid::new_v4().to_string(),
    };
    html(page.render())
}

/// `GET /hq/visits/{visit_id}/photos/{photo_id}/thumbnail`: made once, then cached by the
/// browser (a photo's bytes never change under its id).
pub async fn thumbnail(app: web::Data<App>, signed: Signed, path: web::Path<(Uuid, Uuid)>) -> Result<HttpResponse, ConsoleError> {
    let (visit, photo) = path.into_inner();
    let bytes = crate::app::photos::thumbnail(&app, &signed.session.actor, VisitId(visit), PhotoId(photo))
        .await
        .map_err(|e| ConsoleError::from_app(e, signed.session.locale))?;
    Ok(HttpResponse::Ok()
        .content_type("image/jpeg")
        .insert_header((header::CACHE_CONTROL, "private, max-age=86400, immutable"))
        .insert_header((header::CONTENT_ENCODING, "identity"))
        .body(bytes))
}

/// `GET /hq/visits/{visit_id}/photos/{photo_id}`: the original, through the audited content use
/// case, always as bytes from this origin (never a link into the object store).
pub async fn photo(app: web::Data<App>, signed: Signed, path: web::Path<(Uuid, Uuid)>) -> Result<HttpResponse, ConsoleError> {
    let (visit, photo) = path.into_inner();
    let content = crate::app::photos::content(&app, &signed.session.actor, VisitId(visit), PhotoId(photo), false)
        .await
        .map_err(|e| ConsoleError::from_app(e, signed.session.locale))?;
    match content {
        PhotoContent::Bytes(photo, stream) => {
            use futures_util::StreamExt;
            let body = stream.map(|chunk| {
                chunk.map_err(|e| {
                    tracing::warn!(error = %e, "photo download cut short by the object store");
                    actix_web::error::ErrorInternalServerError("object store")
                })
            });
            Ok(HttpResponse::Ok()
                // Opened in a tab to be looked at (the API's copy is an attachment): inline,
                // but under nosniff and a sandboxing CSP, so it can only ever be an image.
                .insert_header((header::CONTENT_DISPOSITION, crate::http::photos::disposition(&photo, "inline")))
                .content_type(photo.content_type.as_str())
                .insert_header((header::CACHE_CONTROL, "private, max-age=3600"))
                .insert_header((header::CONTENT_ENCODING, "identity"))
                .no_chunking(photo.size_bytes)
                .streaming(body))
        }
        PhotoContent::Link(_) => {
            Err(ConsoleError::from_app(AppError::internal("a link was given where bytes were asked for"), signed.session.locale))
        }
    }
}
