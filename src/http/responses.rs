//! Response bodies. Internal fields (storage keys, a visit's content hash) never leave the server.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::requests::encode_cursor;
use crate::app::visits::VisitDetail;
use crate::domain::customer::{Customer, CustomerClass};
use crate::domain::finding::Finding;
use crate::domain::ids::{BranchId, CustomerId, PhotoId, TaskId, UserId, VisitId};
use crate::domain::page::Paged;
use crate::domain::visit::{Method, Photo, PhotoKind, PixelStats, ResultReason, Review, ReviewStatus, Visit, VisitStatus};

#[derive(Serialize)]
pub struct List<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> List<T> {
    pub fn from_paged<S>(paged: Paged<S>, f: impl Fn(S) -> T) -> Self {
        List { items: paged.items.into_iter().map(f).collect(), next_cursor: paged.next.map(encode_cursor) }
    }
}

#[derive(Serialize)]
pub struct CustomerView {
    pub id: CustomerId,
    pub code: String,
    pub name: String,
    pub customer_type: String,
    pub branch_id: BranchId,
    pub assigned_rep_id: Option<UserId>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub geofence_radius_m: Option<f64>,
    pub contact_name: Option<String>,
    pub contact_position: Option<String>,
    pub contact_phone: Option<String>,
    pub created_on: NaiveDate,
    pub class: CustomerClass,
    pub previous_level: Option<CustomerClass>,
    pub ownership: crate::domain::customer::Ownership,
    pub dp: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Customer> for CustomerView {
    fn from(c: Customer) -> Self {
        CustomerView {
            id: c.id,
            code: c.code,
            name: c.name,
            customer_type: c.customer_type,
            branch_id: c.branch_id,
            assigned_rep_id: c.assigned_rep_id,
            latitude: c.location.map(|p| p.latitude),
            longitude: c.location.map(|p| p.longitude),
            geofence_radius_m: c.geofence_radius_m,
            contact_name: c.contact_name,
            contact_position: c.contact_position,
            contact_phone: c.contact_phone,
            created_on: c.created_on,
            class: c.class,
            previous_level: c.previous_level,
            ownership: c.ownership,
            dp: c.dp,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

#[derive(Serialize)]
pub struct ExifView {
    pub datetime_original: Option<String>,
    pub offset_time_original: Option<String>,
    /// EXIF DateTime ("ModifyDate"), camera-local, `YYYY-MM-DDTHH:MM:SS`.
    pub modify_date: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub gps_altitude_m: Option<f64>,
    pub gps_time: Option<DateTime<Utc>>,
    pub gps_accuracy_m: Option<f64>,
    pub orientation: Option<u16>,
    pub declared_width: Option<u32>,
    pub declared_height: Option<u32>,
    pub has_thumbnail: bool,
    /// XMP `xmp:CreatorTool`.
    pub creator_tool: Option<String>,
    pub make: Option<String>,
    pub model: Option<String>,
    pub software: Option<String>,
    /// `exif`, or `xmp` when only the XMP packet gave the capture time.
    pub time_source: Option<String>,
    /// `exif` or `xmp`: where the GPS position came from.
    pub gps_source: Option<String>,
    /// The JPEG luminance table: `ijg:<quality>` or `other:<fingerprint>`.
    pub quantisation: Option<String>,
    /// An IPTC block is present.
    pub iptc: bool,
}

#[derive(Serialize)]
pub struct CaptureView {
    pub captured_at: Option<DateTime<Utc>>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub accuracy_m: Option<f64>,
    pub is_mock_location: Option<bool>,
}

#[derive(Serialize)]
pub struct PhotoView {
    pub id: PhotoId,
    pub visit_id: VisitId,
    pub kind: PhotoKind,
    pub format: String,
    pub content_type: String,
    pub size_bytes: u64,
    pub sha256: String,
    pub width: u32,
    pub height: u32,
    pub megapixels: f64,
    /// The capture instant from EXIF (with its offset, or in the branch's zone).
    pub taken_at: Option<DateTime<Utc>>,
    /// How `taken_at` got its zone: `exif_offset`, `gps_clock` or `branch_zone`.
    pub taken_at_zone_source: Option<String>,
    pub exif: ExifView,
    /// Brightness, backlight and sharpness from the reduced-scale decode (null only on photos stored before HEIF pixels were decoded).
    pub metrics: Option<PixelStats>,
    /// Frontal faces found (counted for `with_customer` photos only).
    pub faces: Option<u32>,
    /// What the decoder warned of and decoded past.
    pub decode_warnings: Vec<String>,
    /// What OCR read of a WhatsApp screenshot (null for other kinds).
    pub chat: Option<crate::domain::visit::ChatFacts>,
    pub capture: CaptureView,
    pub findings: Vec<Finding>,
    pub received_at: DateTime<Utc>,
    pub content_url: String,
}

impl From<Photo> for PhotoView {
    fn from(p: Photo) -> Self {
        let f = p.facts;
        PhotoView {
            content_url: format!("/v1/visits/{}/photos/{}/content", p.visit_id, p.id),
            id: p.id,
            visit_id: p.visit_id,
            kind: p.kind,
            format: f.format,
            content_type: p.content_type,
            size_bytes: p.size_bytes,
            sha256: p.sha256,
            width: f.width,
            height: f.height,
            megapixels: (f64::from(f.width) * f64::from(f.height) / 10_000.0).round() / 100.0,
            taken_at: f.exif_taken_at,
            taken_at_zone_source: f.taken_at_zone_source,
            metrics: f.pixels,
            faces: f.faces,
            exif: ExifView {
                datetime_original: f.exif_datetime_original,
                offset_time_original: f.exif_offset,
                modify_date: f.exif_modify_date.map(|d| d.format("%Y-%m-%dT%H:%M:%S").to_string()),
                latitude: f.exif_location.map(|g| g.latitude),
                longitude: f.exif_location.map(|g| g.longitude),
                gps_altitude_m: f.gps_altitude_m,
                gps_time: f.gps_time,
                gps_accuracy_m: f.exif_gps_accuracy_m,
                orientation: f.orientation,
                declared_width: f.declared_width,
                declared_height: f.declared_height,
                has_thumbnail: f.has_thumbnail,
                creator_tool: f.creator_tool,
                make: f.make,
                model: f.model,
                software: f.software,
                time_source: f.time_source,
                gps_source: f.gps_source,
                quantisation: f.quantisation,
                iptc: f.iptc,
            },
            decode_warnings: f.decode_warnings,
            chat: f.chat,
            capture: CaptureView {
                captured_at: p.capture.captured_at,
                latitude: p.capture.location.map(|g| g.latitude),
                longitude: p.capture.location.map(|g| g.longitude),
                accuracy_m: p.capture.accuracy_m,
                is_mock_location: p.capture.is_mock_location,
            },
            findings: p.findings,
            received_at: p.received_at,
        }
    }
}

#[derive(Serialize)]
pub struct VisitView {
    pub id: VisitId,
    pub rep_id: UserId,
    pub branch_id: BranchId,
    pub customer_id: CustomerId,
    pub task_id: Option<TaskId>,
    pub method: Method,
    pub contact_name: Option<String>,
    pub contact_position: Option<String>,
    pub contact_phone: Option<String>,
    pub visited_at: Option<DateTime<Utc>>,
    pub visit_date: Option<NaiveDate>,
    pub result_reason: Option<ResultReason>,
    pub reason_details: std::collections::BTreeMap<String, crate::domain::visit::DetailValue>,
    pub details: Option<String>,
    pub next_steps: Option<String>,
    pub next_follow_up_at: Option<DateTime<Utc>>,
    pub summary: Option<String>,
    pub answers: BTreeMap<String, String>,
    pub refused: bool,
    pub refusal_reason: Option<String>,
    /// Check-in and check-out, when the app sent them.
    pub attendance: Option<crate::domain::visit::Attendance>,
    pub status: VisitStatus,
    pub review_status: ReviewStatus,
    pub score: Option<u32>,
    pub deducted_points: u32,
    /// The score after reviewers' deductions, floored at 0.
    pub final_score: Option<u32>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub revisit_task_id: Option<TaskId>,
    pub needs_hq_help: bool,
    pub review_due_date: Option<NaiveDate>,
    pub review_escalated_at: Option<DateTime<Utc>>,
    pub policy_version: Option<uuid::Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub photos: Option<Vec<PhotoView>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub findings: Option<Vec<Finding>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reviews: Option<Vec<Review>>,
}

impl From<Visit> for VisitView {
    fn from(v: Visit) -> Self {
        let c = v.content;
        VisitView {
            id: v.id,
            rep_id: v.rep_id,
            branch_id: v.branch_id,
            customer_id: c.customer_id,
            task_id: c.task_id,
            method: c.method,
            contact_name: c.contact_name,
            contact_position: c.contact_position,
            contact_phone: c.contact_phone,
            visited_at: c.visited_at,
            visit_date: v.visit_date,
            result_reason: c.result_reason,
            reason_details: c.reason_details,
            details: c.details,
            next_steps: c.next_steps,
            next_follow_up_at: c.next_follow_up_at,
            summary: c.summary,
            answers: c.answers,
            refused: c.refused,
            refusal_reason: c.refusal_reason,
            attendance: c.attendance,
            status: v.status,
            review_status: v.review_status,
            score: v.score,
            deducted_points: v.deducted_points,
            final_score: v.score.map(|s| s.saturating_sub(v.deducted_points)),
            submitted_at: v.submitted_at,
            revisit_task_id: v.revisit_task_id,
            needs_hq_help: v.needs_hq_help,
            review_due_date: v.review_due_date,
            review_escalated_at: v.review_escalated_at,
            policy_version: v.policy_version,
            created_at: v.created_at,
            updated_at: v.updated_at,
            photos: None,
            findings: None,
            reviews: None,
        }
    }
}

impl From<VisitDetail> for VisitView {
    fn from(d: VisitDetail) -> Self {
        let mut view = VisitView::from(d.visit);
        view.photos = Some(d.photos.into_iter().map(PhotoView::from).collect());
        // Before submit there is no verdict (photo findings are on each photo); a draft's only
        // visit-level findings are the day close's `upload_late`.
        view.findings = Some(d.findings);
        view.reviews = Some(d.reviews);
        view
    }
}

#[derive(Serialize)]
pub struct ReviewResult {
    pub review: Review,
    pub visit: VisitView,
}
