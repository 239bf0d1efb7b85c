//! Rules on the written record at submit (RULES.md §1–§5): the method the customer's class and
//! the task allow, business hours, the summary ("Keterangan"), the standard questions, the
//! details a service complaint needs, and a refusal's reason.

use chrono::{DateTime, Timelike, Utc};
use serde_json::json;

use super::common::{finding, human_distance, human_minutes};
use super::facts::{RecordFacts, SimilarSummary, SubmitFacts};
use super::summary::{self, ASPECTS};
use crate::domain::customer::CustomerClass;
use crate::domain::finding::{Finding, FindingCode};
use crate::domain::policy::{DetailsRequired, Policy};
use crate::domain::task::RequiredMethod;
use crate::domain::time::end_of_local_day;
use crate::domain::visit::{Method, VisitContent};

pub(super) fn record_findings(policy: &Policy, facts: &SubmitFacts<'_>, record: &RecordFacts<'_>) -> Vec<Finding> {
    let c = record.content;
    let mut out = Vec::new();
    out.extend(method_not_allowed(policy, record));
    out.extend(outside_hours(policy, facts, c));
    out.extend(visit_not_confirmed(policy, facts, record));
    if c.refused {
        // A refusal is documented by its reason; the meeting's summary and questions did not happen.
        out.extend(refusal_without_reason(policy, c));
        return out;
    }
    out.extend(attendance_findings(policy, facts, record));
    let text = c.summary.as_deref().unwrap_or("");
    out.extend(summary_findings(policy, text, record.earlier_summary));
    out.extend(complaint_without_details(policy, c));
    out.extend(reason_details_missing(policy, c, record));
    out.extend(questions_unanswered(policy, c, record));
    out
}

/// A planned door visit is confirmed with the customer by phone or WhatsApp the day before at
/// the latest (SOP ch. 3 item 1, "minimal H-1"): confirmed before the visit day began in the
/// branch's zone. A visit without a task was not planned, so there was nothing to confirm.
fn visit_not_confirmed(policy: &Policy, facts: &SubmitFacts<'_>, record: &RecordFacts<'_>) -> Option<Finding> {
    if record.content.method != Method::DoorVisit || record.task_method.is_none() {
        return None;
    }
    let days = policy.visit.confirm_days_before;
    // Confirmed by the end of the day `days` before the visit's (H-1: the day before; 0: the
    // visit's own day), in the branch's zone.
    let last_day = facts.visit_date.checked_sub_days(chrono::Days::new(u64::from(days)))?;
    let needed_by = end_of_local_day(last_day, facts.branch_tz);
    let confirmed = record.task_confirmed_at;
    if confirmed.is_some_and(|at| at < needed_by) {
        return None;
    }
    let evidence = json!({ "confirmed_at": confirmed, "needed_by": needed_by, "visit_date": facts.visit_date,
                           "time_zone": facts.branch_tz.name(), "policy": { "visit.confirm_days_before": days } });
    let (id, en) = match confirmed {
        None => (
            format!("Kunjungan terencana tidak dikonfirmasi dengan customer (H-{days})."),
            format!("The planned visit was not confirmed with the customer (H-{days})."),
        ),
        Some(_) => (
            format!("Kunjungan dikonfirmasi terlambat: kurang dari H-{days}."),
            format!("The visit was confirmed too late: after H-{days}."),
        ),
    };
    Some(finding(policy, FindingCode::VisitNotConfirmed, None, evidence, id, en))
}

/// A door visit's check-in and check-out (when the app sent them): its length (SOP ch. 3 item 4,
/// 20–45 minutes), where it checked out, and whether the record was filled in before leaving
/// (step 6). The visit's phases are not checked: no software sees them.
fn attendance_findings(policy: &Policy, facts: &SubmitFacts<'_>, record: &RecordFacts<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    let (Method::DoorVisit, Some(a)) = (record.content.method, record.content.attendance) else { return out };
    let minutes = (a.check_out_at - a.check_in_at).num_minutes();
    let (min, max) = (i64::from(policy.visit.min_duration_minutes), i64::from(policy.visit.max_duration_minutes));
    let times = json!({ "check_in_at": a.check_in_at, "check_out_at": a.check_out_at, "minutes": minutes,
                        "policy": { "visit.min_duration_minutes": min, "visit.max_duration_minutes": max } });
    if minutes < min {
        out.push(finding(
            policy,
            FindingCode::VisitTooShort,
            None,
            times.clone(),
            format!("Kunjungan hanya {} (minimal {min} menit).", human_minutes(minutes)),
            format!("The visit lasted only {} (at least {min} minutes).", human_minutes(minutes)),
        ));
    } else if minutes > max {
        out.push(finding(
            policy,
            FindingCode::VisitTooLong,
            None,
            times,
            format!("Kunjungan berlangsung {} (maksimal {max} menit).", human_minutes(minutes)),
            format!("The visit lasted {} (at most {max} minutes).", human_minutes(minutes)),
        ));
    }
    if let (Some(at), Some(fence)) = (a.check_out, record.geofence) {
        let distance = at.distance_m(fence.center);
        if distance > fence.radius_m {
            out.push(finding(
                policy,
                FindingCode::CheckoutFarFromCustomer,
                None,
                json!({ "distance_m": distance.round(), "radius_m": fence.radius_m,
                        "check_out": { "latitude": at.latitude, "longitude": at.longitude },
                        "customer": { "latitude": fence.center.latitude, "longitude": fence.center.longitude },
                        "policy": { "customer.geofence_radius_m": fence.radius_m } }),
                format!("Check-out {} dari lokasi customer (batas {:.0} m).", human_distance(distance), fence.radius_m),
                format!("Checked out {} from the customer (limit {:.0} m).", human_distance(distance), fence.radius_m),
            ));
        }
    }
    let after = (facts.submitted_at - a.check_out_at).num_minutes();
    let allowed = i64::from(policy.visit.record_after_checkout_max_minutes);
    if after > allowed {
        out.push(finding(
            policy,
            FindingCode::RecordAfterCheckout,
            None,
            json!({ "check_out_at": a.check_out_at, "submitted_at": facts.submitted_at, "minutes_after": after,
                    "policy": { "visit.record_after_checkout_max_minutes": allowed } }),
            format!("Record visit dikirim {} setelah check-out (maksimal {allowed} menit).", human_minutes(after)),
            format!("The record came in {} after check-out (at most {allowed} minutes).", human_minutes(after)),
        ));
    }
    out
}

/// Door visit, WhatsApp or phone, as the class (SOP ch. 2) and the task allow.
fn method_not_allowed(policy: &Policy, record: &RecordFacts<'_>) -> Option<Finding> {
    let method = record.content.method;
    let door_levels = &policy.classes.lost_warning_door_levels;
    let (allowed, because_id, because_en): (&[Method], String, String) = match record.customer_class {
        CustomerClass::Lost => (&[Method::DoorVisit], "customer Lost wajib door visit".into(), "a Lost customer needs a door visit".into()),
        CustomerClass::LostWarning => {
            // Unknown history counts as A–D: the stricter reading.
            let previous = record.previous_level.map(CustomerClass::as_str);
            if previous.is_none_or(|p| door_levels.iter().any(|l| l == p)) {
                let was = previous.unwrap_or("?");
                (
                    &[Method::DoorVisit],
                    format!("customer Lost Warning dengan level sebelumnya {was} wajib door visit"),
                    format!("a Lost Warning customer whose previous level was {was} needs a door visit"),
                )
            } else {
                (&[Method::DoorVisit, Method::Whatsapp], String::new(), String::new())
            }
        }
        _ => (&[Method::DoorVisit, Method::Whatsapp, Method::Phone], String::new(), String::new()),
    };
    let (allowed, because_id, because_en) = if !allowed.contains(&method) {
        (allowed, because_id, because_en)
    } else {
        // WhatsApp complements the month's door visits and never replaces them (SOP ch. 2): a
        // task that asks for a door visit is not done by a chat.
        match record.task_method {
            Some(RequiredMethod::DoorVisit) if method != Method::DoorVisit => (
                &[Method::DoorVisit][..],
                "tugas ini wajib door visit; WhatsApp hanya pelengkap".into(),
                "this task needs a door visit; WhatsApp only complements it".into(),
            ),
            Some(RequiredMethod::DoorVisitOrWhatsapp) if method == Method::Phone => (
                &[Method::DoorVisit, Method::Whatsapp][..],
                "tugas ini wajib door visit atau WhatsApp".into(),
                "this task needs a door visit or WhatsApp".into(),
            ),
            _ => return None,
        }
    };
    let allowed: Vec<&str> = allowed.iter().map(|m| m.as_str()).collect();
    Some(finding(
        policy,
        FindingCode::MethodNotAllowed,
        None,
        json!({ "method": method.as_str(), "allowed": allowed, "customer_class": record.customer_class.as_str(),
                "previous_level": record.previous_level.map(CustomerClass::as_str),
                "task_required_method": record.task_method.map(RequiredMethod::as_str),
                "policy": { "classes.lost_warning_door_levels": door_levels } }),
        format!("Metode {} tidak diperbolehkan: {because_id}.", method.as_str()),
        format!("Method {} is not allowed: {because_en}.", method.as_str()),
    ))
}

/// A door visit outside the customer's business hours or in the lunch break (SOP ch. 3), judged
/// from the earliest camera photo's time, else the reported visit time, in the branch's zone.
fn outside_hours(policy: &Policy, facts: &SubmitFacts<'_>, c: &VisitContent) -> Option<Finding> {
    if c.method != Method::DoorVisit {
        return None;
    }
    let photo_time =
        facts.photos.iter().filter(|p| !p.kind.is_screenshot()).filter_map(|p| p.facts.exif_taken_at.or(p.capture.captured_at)).min();
    let (at, source): (DateTime<Utc>, &str) = match (photo_time, c.visited_at) {
        (Some(t), _) => (t, "photo"),
        (None, Some(t)) => (t, "visited_at"),
        (None, None) => return None,
    };
    let local = at.with_timezone(&facts.branch_tz);
    let minute = local.hour() * 60 + local.minute();
    let v = &policy.visit;
    let before_or_after = minute < v.business_hours_start.minutes() || minute >= v.business_hours_end.minutes();
    let lunch = minute >= v.lunch_start.minutes() && minute < v.lunch_end.minutes();
    if !before_or_after && !lunch {
        return None;
    }
    let clock = local.format("%H:%M").to_string();
    let zone = facts.branch_tz.name();
    let (id, en) = if lunch {
        (
            format!("Kunjungan pukul {clock} ({zone}) jatuh pada jam makan siang {}–{}.", v.lunch_start, v.lunch_end),
            format!("The visit at {clock} ({zone}) fell in the lunch break {}–{}.", v.lunch_start, v.lunch_end),
        )
    } else {
        (
            format!("Kunjungan pukul {clock} ({zone}) di luar jam operasional {}–{}.", v.business_hours_start, v.business_hours_end),
            format!("The visit at {clock} ({zone}) was outside business hours {}–{}.", v.business_hours_start, v.business_hours_end),
        )
    };
    Some(finding(
        policy,
        FindingCode::VisitOutsideHours,
        None,
        json!({ "local_time": clock, "time_zone": zone, "source": source, "at": at, "lunch_break": lunch,
                "policy": { "visit.business_hours_start": v.business_hours_start, "visit.business_hours_end": v.business_hours_end,
                            "visit.lunch_start": v.lunch_start, "visit.lunch_end": v.lunch_end } }),
        id,
        en,
    ))
}

fn summary_findings(policy: &Policy, text: &str, earlier: Option<SimilarSummary>) -> Vec<Finding> {
    let s = &policy.summary;
    let mut out = Vec::new();
    let sentences = summary::substantive_sentences(s, text);
    if sentences < s.min_sentences as usize {
        out.push(finding(
            policy,
            FindingCode::SummaryTooShort,
            None,
            json!({ "substantive_sentences": sentences, "policy": { "summary.min_sentences": s.min_sentences,
                    "summary.min_sentence_words": s.min_sentence_words } }),
            format!("Keterangan hanya berisi {sentences} kalimat substantif; minimal {}.", s.min_sentences),
            format!("The summary has {sentences} substantive sentence(s); at least {} are required.", s.min_sentences),
        ));
    }
    let found = summary::aspects(s, text);
    let labels = [
        ("situasi bisnis customer", "the customer's business situation"),
        ("keluhan atau masalah", "complaints or problems"),
        ("peluang atau tindak lanjut", "opportunities or action items"),
    ];
    for ((aspect, hit), (id, en)) in ASPECTS.iter().zip(found).zip(labels) {
        if hit.is_none() {
            out.push(finding(
                policy,
                FindingCode::SummaryMissingAspect,
                None,
                json!({ "aspect": aspect, "policy": format!("summary.aspect_{}", aspect.split('_').next().unwrap_or(aspect)) }),
                format!("Keterangan tidak membahas {id}."),
                format!("The summary does not cover {en}."),
            ));
        }
    }
    if summary::concrete_data(s, text).is_none() {
        out.push(finding(
            policy,
            FindingCode::SummaryNotSpecific,
            None,
            json!({ "looked_for": ["numbers", "waybill numbers", "dates", "places"],
                    "policy": ["summary.date_words", "summary.place_words"] }),
            "Keterangan tidak memuat data spesifik (angka, nomor resi, tanggal, tempat).".into(),
            "The summary has no concrete data (numbers, waybill numbers, dates, places).".into(),
        ));
    }
    if let Some(e) = earlier.filter(|e| e.similarity >= s.templated_min_similarity) {
        let pct = (e.similarity * 100.0).round();
        let whose = if e.same_rep { ("Anda sendiri", "your own") } else { ("lain", "another") };
        out.push(finding(
            policy,
            FindingCode::SummaryTemplated,
            None,
            json!({ "similar_visit_id": e.visit_id, "similarity": super::common::round2(e.similarity), "same_rep": e.same_rep,
                    "policy": { "summary.templated_min_similarity": s.templated_min_similarity } }),
            format!("Keterangan {pct}% sama dengan keterangan kunjungan {} sebelumnya ({}).", whose.0, e.visit_id),
            format!("The summary is {pct}% the same as {} earlier visit's ({}).", whose.1, e.visit_id),
        ));
    }
    out
}

/// A service complaint names the waybill and the date (SOP ch. 9), in the summary or the details.
fn complaint_without_details(policy: &Policy, c: &VisitContent) -> Option<Finding> {
    let reason = c.result_reason.as_ref()?;
    if reason.level1 != "service" {
        return None;
    }
    let text = format!("{}\n{}", c.summary.as_deref().unwrap_or(""), c.details.as_deref().unwrap_or(""));
    let waybill = summary::waybill(&text);
    let date = summary::date_mention(&policy.summary, &text);
    let mut missing = Vec::new();
    if waybill.is_none() {
        missing.push("waybill");
    }
    if date.is_none() {
        missing.push("date");
    }
    let fails = match policy.summary.complaint_details_required {
        DetailsRequired::All => !missing.is_empty(),
        DetailsRequired::Any => missing.len() == 2,
    };
    if !fails {
        return None;
    }
    let id_names: Vec<&str> = missing.iter().map(|m| if *m == "waybill" { "nomor resi" } else { "tanggal kejadian" }).collect();
    let en_names: Vec<&str> = missing.iter().map(|m| if *m == "waybill" { "waybill number" } else { "date" }).collect();
    Some(finding(
        policy,
        FindingCode::ComplaintWithoutDetails,
        None,
        json!({ "result_reason": reason, "missing": missing, "waybill": waybill, "date": date,
                "policy": { "summary.complaint_details_required": policy.summary.complaint_details_required } }),
        format!("Keluhan layanan ({}) tanpa {}.", reason.level2, id_names.join(" dan ")),
        format!("A service complaint ({}) without its {}.", reason.level2, en_names.join(" and ")),
    ))
}

/// Whether an answer says something: enough words and not a filler.
pub(super) fn substantive(policy: &Policy, answer: &str) -> bool {
    let w = summary::words(answer);
    let joined = w.join(" ");
    w.len() >= policy.visit.min_answer_words as usize && !policy.visit.filler_answers.iter().any(|f| summary::words(f).join(" ") == joined)
}

/// The result reason's own detail questions (SOP ch. 9, "Detail Follow Up" and "Langkah
/// Selanjutnya"), each required one answered.
fn reason_details_missing(policy: &Policy, c: &VisitContent, record: &RecordFacts<'_>) -> Option<Finding> {
    let reason = c.result_reason.as_ref()?;
    let missing = record.taxonomy.missing_details(reason, &c.reason_details);
    if missing.is_empty() {
        return None;
    }
    let codes: Vec<&str> = missing.iter().map(|q| q.code.as_str()).collect();
    let (id, en): (Vec<&str>, Vec<&str>) = missing.iter().map(|q| (q.label_id.as_str(), q.label_en.as_str())).unzip();
    let (label_id, label_en) =
        record.taxonomy.reason(&reason.level1, &reason.level2).map_or((&reason.level2, &reason.level2), |r| (&r.label_id, &r.label_en));
    Some(finding(
        policy,
        FindingCode::ReasonDetailsMissing,
        None,
        // The questions are the result-reason data's (`GET /v1/result-reasons`), not a number.
        json!({ "result_reason": reason, "missing": codes, "policy": "result_reasons" }),
        format!("Detail follow up \"{label_id}\" belum dijawab: {}", id.join(" ")),
        format!("The follow-up details of \"{label_en}\" leave unanswered: {}", en.join(" ")),
    ))
}

/// The 8 standard questions, plus the 5 for a Lost customer (SOP ch. 5), each answered. The
/// finding takes the gravest rule of its unanswered questions (`visit.question_rules`).
fn questions_unanswered(policy: &Policy, c: &VisitContent, record: &RecordFacts<'_>) -> Option<Finding> {
    let questions = &record.taxonomy.questions;
    let lost = record.customer_class == CustomerClass::Lost;
    let required = questions.standard.iter().chain(questions.lost.iter().filter(|_| lost));
    let unanswered: Vec<&str> =
        required.filter(|q| !c.answers.get(&q.code).is_some_and(|a| substantive(policy, a))).map(|q| q.code.as_str()).collect();
    if unanswered.is_empty() {
        return None;
    }
    let fallback = policy.rule(FindingCode::QuestionsUnanswered);
    let rule_of = |q: &str| policy.visit.question_rules.get(q).copied().unwrap_or(fallback);
    let gravest = unanswered.iter().map(|q| rule_of(q)).max_by_key(|r| (r.severity, r.penalty)).unwrap_or(fallback);
    let major: Vec<&str> = unanswered.iter().copied().filter(|q| rule_of(q).severity > fallback.severity).collect();
    let total = questions.standard.len() + if lost { questions.lost.len() } else { 0 };
    let mut f = finding(
        policy,
        FindingCode::QuestionsUnanswered,
        None,
        json!({ "unanswered": unanswered, "required": total, "lost_customer_questions": lost, "graver": major,
                "policy": { "visit.min_answer_words": policy.visit.min_answer_words } }),
        format!("{} dari {total} pertanyaan wajib belum dijawab dengan jelas: {}.", unanswered.len(), unanswered.join(", ")),
        format!("{} of {total} required questions lack a real answer: {}.", unanswered.len(), unanswered.join(", ")),
    );
    (f.severity, f.penalty) = (gravest.severity, gravest.penalty);
    Some(f)
}

fn refusal_without_reason(policy: &Policy, c: &VisitContent) -> Option<Finding> {
    if c.refusal_reason.as_deref().is_some_and(|r| substantive(policy, r)) {
        return None;
    }
    Some(finding(
        policy,
        FindingCode::RefusalWithoutReason,
        None,
        json!({ "refusal_reason": c.refusal_reason, "policy": { "visit.min_answer_words": policy.visit.min_answer_words } }),
        "Penolakan kunjungan dicatat tanpa alasan yang jelas.".into(),
        "The refusal was recorded without a real reason.".into(),
    ))
}
