//! Photo-level rules: resolution, screenshots, capture time and place, mock locations and
//! editing. Pure: everything comes in through [`PhotoContext`], the facts and the app's capture
//! metadata.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde_json::json;

use super::common::{finding, human_distance, human_minutes, round2, Geofence};
use super::edits::edit_signs;
use crate::domain::customer::GeoPoint;
use crate::domain::finding::{Finding, FindingCode};
use crate::domain::ids::{PhotoId, VisitId};
use crate::domain::policy::Policy;
use crate::domain::time::local_date;
use crate::domain::visit::{CaptureMeta, PhotoFacts, PhotoKind, PixelStats};

/// What the photo rules know about the visit a photo belongs to.
#[derive(Debug, Clone, Copy)]
pub struct PhotoContext<'a> {
    pub photo_id: PhotoId,
    pub kind: PhotoKind,
    pub geofence: Option<Geofence>,
    /// The visit's customer has no registered place (so there is no geofence to measure
    /// against); false when there is no customer at all (`check-photo`).
    pub customer_unplaced: bool,
    /// The visit's date in the branch's zone, once the record says when it happened.
    pub visit_date: Option<NaiveDate>,
    pub branch_tz: Tz,
    /// When the server received the photo.
    pub received_at: DateTime<Utc>,
    /// Earlier photos of other visits that this one copies, exactly or nearly.
    pub earlier_copies: &'a [EarlierCopy],
    /// The names a WhatsApp chat's header may show for the customer: its contact's and the
    /// business's own.
    pub customer_names: &'a [String],
    pub customer_phone: Option<&'a str>,
}

/// An earlier photo of another visit that a photo copies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EarlierCopy {
    pub photo_id: PhotoId,
    pub visit_id: VisitId,
    /// The same bytes (SHA-256), or only the same picture (perceptual hashes).
    pub exact: bool,
    /// Hamming distance of the 256-bit dHashes (0 for exact copies; `u32::MAX` when only the
    /// chat text matched).
    pub distance: u32,
    /// A screenshot whose chat text reads the same (its OCR fingerprint).
    pub same_text: bool,
}

/// Whether two photos show the same picture. Recompressed, resized or brightened copies keep
/// their dHash within the policy's distance (with the average hash agreeing as a second
/// opinion); a slightly cropped copy shifts the dHash grid but keeps its average hash almost
/// unchanged, so a very close average hash with a dHash still far from chance (different
/// pictures differ in ~128 of 256 bits) matches too. Returns the dHash distance.
pub fn near_match(policy: &Policy, a: (&[u8; 32], u64), b: (&[u8; 32], u64)) -> Option<u32> {
    let p = &policy.photo;
    let d: u32 = a.0.iter().zip(b.0).map(|(x, y)| (x ^ y).count_ones()).sum();
    let ad = (a.1 ^ b.1).count_ones();
    let recompressed = d <= p.reuse_max_dhash_distance && ad <= p.reuse_max_ahash_distance;
    let cropped = ad <= p.reuse_crop_max_ahash_distance && d <= p.reuse_crop_max_dhash_distance;
    (recompressed || cropped).then_some(d)
}

/// The capture instant of a camera-local EXIF time: with OffsetTimeOriginal when written; else
/// with the offset implied by the GPS clock (UTC) when that is a whole quarter hour within
/// UTC−12..UTC+14 — how a phone abroad is read correctly; else in the branch's zone.
pub fn resolve_capture_time(
    local: Option<NaiveDateTime>,
    offset: Option<FixedOffset>,
    gps_time: Option<DateTime<Utc>>,
    branch_tz: Tz,
) -> (Option<DateTime<Utc>>, Option<&'static str>) {
    let Some(local) = local else { return (None, None) };
    if let Some(offset) = offset {
        return (offset.from_local_datetime(&local).single().map(|t| t.with_timezone(&Utc)), Some("exif_offset"));
    }
    if let Some(gps) = gps_time {
        let diff = (local - gps.naive_utc()).num_seconds();
        let quarters = (diff as f64 / 900.0).round() as i64;
        let residual = (diff - quarters * 900).abs();
        if residual <= 120 && (-48..=56).contains(&quarters) {
            if let Some(offset) = FixedOffset::east_opt((quarters * 900) as i32) {
                return (offset.from_local_datetime(&local).single().map(|t| t.with_timezone(&Utc)), Some("gps_clock"));
            }
        }
    }
    (branch_tz.from_local_datetime(&local).earliest().map(|t| t.with_timezone(&Utc)), Some("branch_zone"))
}

/// Whether the picture has the shape of a phone screen and no camera metadata.
fn looks_like_screenshot(policy: &Policy, facts: &PhotoFacts) -> (bool, Vec<&'static str>) {
    let mut camera_signs = Vec::new();
    if facts.make.is_some() || facts.model.is_some() {
        camera_signs.push("camera make/model");
    }
    if facts.exif_datetime_original.is_some() {
        camera_signs.push("camera capture time");
    }
    if facts.exif_location.is_some() {
        camera_signs.push("camera GPS");
    }
    let (short, long) = (facts.width.min(facts.height), facts.width.max(facts.height));
    let screen_shaped = short > 0 && short <= policy.photo.screenshot_max_short_side_px && f64::from(long) / f64::from(short) >= 1.3;
    if !screen_shaped {
        camera_signs.push("not screen-shaped");
    }
    (camera_signs.is_empty(), camera_signs)
}

/// Findings for one photo.
pub fn photo_findings(policy: &Policy, ctx: &PhotoContext, facts: &PhotoFacts, capture: &CaptureMeta) -> Vec<Finding> {
    let mut out = Vec::new();
    let id = Some(ctx.photo_id);

    let megapixels = f64::from(facts.width) * f64::from(facts.height) / 1_000_000.0;
    let min_mp = policy.photo.min_megapixels;
    let (screenshot, camera_signs) = looks_like_screenshot(policy, facts);

    if ctx.kind.is_screenshot() {
        if !screenshot {
            let (what_id, what_en) = match ctx.kind {
                PhotoKind::CallLogScreenshot => ("screenshot log panggilan", "a call-log screenshot"),
                _ => ("screenshot WhatsApp", "a WhatsApp screenshot"),
            };
            out.push(finding(
                policy,
                FindingCode::PhotoNotAScreenshot,
                id,
                json!({ "signs": camera_signs, "width": facts.width, "height": facts.height, "kind": ctx.kind.as_str(),
                        "policy": { "photo.screenshot_max_short_side_px": policy.photo.screenshot_max_short_side_px } }),
                format!("Diunggah sebagai {what_id} tetapi tampak seperti foto kamera ({}).", camera_signs.join(", ")),
                format!("Uploaded as {what_en} but looks like a camera photo ({}).", camera_signs.join(", ")),
            ));
        }
        // Screenshots carry no camera time or place: a chat's own date, contact and sides are
        // its evidence; any screenshot may be a reused one.
        // (What is no screenshot at all has no chat to judge.)
        if ctx.kind == PhotoKind::WhatsappScreenshot && screenshot {
            let chat = super::screenshot::ChatContext {
                photo_id: ctx.photo_id,
                visit_date: ctx.visit_date,
                received_at: ctx.received_at,
                branch_tz: ctx.branch_tz,
                customer_names: ctx.customer_names,
                customer_phone: ctx.customer_phone,
            };
            out.extend(super::screenshot::chat_findings(policy, &chat, facts.chat.as_ref()));
        }
        reuse_finding(policy, ctx, &mut out);
        return out;
    }

    if megapixels < min_mp {
        out.push(finding(
            policy,
            FindingCode::PhotoResolutionLow,
            id,
            json!({ "width": facts.width, "height": facts.height, "megapixels": round2(megapixels),
                    "policy": { "photo.min_megapixels": min_mp } }),
            format!("Resolusi foto {megapixels:.2} MP, minimal {min_mp} MP."),
            format!("Photo resolution is {megapixels:.2} MP; at least {min_mp} MP is required."),
        ));
    }
    if screenshot && facts.format == "png" {
        out.push(finding(
            policy,
            FindingCode::PhotoIsScreenshot,
            id,
            json!({ "kind": ctx.kind.as_str(), "format": facts.format, "width": facts.width, "height": facts.height }),
            "Foto kamera diperlukan, tetapi yang diunggah adalah screenshot.".into(),
            "A camera photo is required, but this is a screenshot.".into(),
        ));
    }

    reuse_finding(policy, ctx, &mut out);

    let signs = edit_signs(policy, facts);
    if !signs.is_empty() {
        // Strong signs make the blocking `photo_edited`; weak ones alone `photo_possibly_edited`.
        // Either way every sign is in the evidence.
        let certain = signs.iter().any(|s| s.strong);
        let shown: Vec<String> = signs.iter().filter(|s| s.strong == certain).map(|s| s.detail.clone()).collect();
        let (code, id_text, en_text) = if certain {
            (FindingCode::PhotoEdited, "Foto tampak telah diedit", "The photo appears edited")
        } else {
            (
                FindingCode::PhotoPossiblyEdited,
                "Foto mungkin telah diedit (tanda lemah, periksa)",
                "The photo may have been edited (weak signs, to check)",
            )
        };
        out.push(finding(
            policy,
            code,
            id,
            json!({ "signs": signs, "software": facts.software, "creator_tool": facts.creator_tool,
                    "quantisation": facts.quantisation, "iptc": facts.iptc,
                    "policy": { "photo.edit_modify_tolerance_minutes": policy.photo.edit_modify_tolerance_minutes } }),
            format!("{id_text}: {}.", shown.join("; ")),
            format!("{en_text}: {}.", shown.join("; ")),
        ));
    }

    if let Some(px) = facts.pixels {
        pixel_findings(policy, ctx, &px, &mut out);
    }
    let required = policy.photo.faces_required;
    if let (PhotoKind::WithCustomer, Some(faces)) = (ctx.kind, facts.faces) {
        if required > 0 && faces < required {
            out.push(finding(
                policy,
                FindingCode::PhotoFacesMissing,
                id,
                json!({ "faces": faces, "policy": { "photo.faces_required": required } }),
                format!("Foto bersama customer harus menampilkan {required} wajah; terdeteksi {faces}."),
                format!("A photo with the customer must show {required} faces; {faces} found."),
            ));
        }
    }
    time_findings(policy, ctx, facts, capture, &mut out);
    place_findings(policy, ctx, facts, capture, &mut out);
    out
}

/// `photo_reused` when the photo copies earlier evidence of another visit: the same bytes, the
/// same picture, or (screenshots) the same chat text.
fn reuse_finding(policy: &Policy, ctx: &PhotoContext, out: &mut Vec<Finding>) {
    let id = Some(ctx.photo_id);
    if !ctx.earlier_copies.is_empty() {
        let visits: Vec<String> = ctx.earlier_copies.iter().map(|c| c.visit_id.to_string()).collect();
        let exact = ctx.earlier_copies.iter().any(|c| c.exact);
        let text_only = ctx.earlier_copies.iter().all(|c| c.same_text && !c.exact && c.distance == u32::MAX);
        let (id_text, en_text) = if exact {
            ("Foto yang sama persis", "The very same photo")
        } else if text_only {
            ("Screenshot dengan isi chat yang sama", "A screenshot of the same chat text")
        } else {
            (
                "Foto yang hampir sama (dikompres ulang, diubah ukuran atau kecerahannya)",
                "A near copy of a photo (recompressed, resized or brightened)",
            )
        };
        out.push(finding(
            policy,
            FindingCode::PhotoReused,
            id,
            json!({ "match": if exact { "exact" } else if text_only { "text" } else { "near" },
                    "earlier": ctx.earlier_copies.iter().map(|c| json!({ "photo_id": c.photo_id, "visit_id": c.visit_id, "exact": c.exact,
                        "dhash_distance": (c.distance != u32::MAX).then_some(c.distance), "same_text": c.same_text })).collect::<Vec<_>>(),
                    "policy": { "photo.reuse_max_dhash_distance": policy.photo.reuse_max_dhash_distance, "photo.reuse_max_ahash_distance": policy.photo.reuse_max_ahash_distance } }),
            format!("{id_text} sudah dipakai sebagai bukti kunjungan lain ({}).", visits.join(", ")),
            format!("{en_text} was already used as evidence for another visit ({}).", visits.join(", ")),
        ));
    }
}

fn pixel_findings(policy: &Policy, ctx: &PhotoContext, px: &PixelStats, out: &mut Vec<Finding>) {
    let id = Some(ctx.photo_id);
    let p = &policy.photo;
    if px.brightness < p.dark_max_brightness {
        out.push(finding(
            policy,
            FindingCode::PhotoTooDark,
            id,
            json!({ "brightness": round2(px.brightness), "policy": { "photo.dark_max_brightness": p.dark_max_brightness } }),
            format!("Foto terlalu gelap (kecerahan {:.0}, minimal {:.0}).", px.brightness, p.dark_max_brightness),
            format!("The photo is too dark (brightness {:.0}, at least {:.0} needed).", px.brightness, p.dark_max_brightness),
        ));
    }
    let ratio = px.surround_brightness / px.centre_brightness.max(1.0);
    if px.surround_brightness >= p.backlit_min_surround && ratio >= p.backlit_min_ratio {
        out.push(finding(
            policy,
            FindingCode::PhotoBacklit,
            id,
            json!({ "centre_brightness": round2(px.centre_brightness), "surround_brightness": round2(px.surround_brightness),
                    "ratio": round2(ratio),
                    "policy": { "photo.backlit_min_surround": p.backlit_min_surround, "photo.backlit_min_ratio": p.backlit_min_ratio } }),
            format!("Foto melawan cahaya: latar {:.0}× lebih terang dari subjek.", ratio),
            format!("The photo is backlit: the surround is {:.1}× brighter than the subject.", ratio),
        ));
    }
    if px.sharpness < p.blurry_max_sharpness {
        out.push(finding(
            policy,
            FindingCode::PhotoBlurry,
            id,
            json!({ "sharpness": round2(px.sharpness), "policy": { "photo.blurry_max_sharpness": p.blurry_max_sharpness } }),
            format!("Foto buram (ketajaman {:.1}, minimal {:.0}).", px.sharpness, p.blurry_max_sharpness),
            format!("The photo is blurred (sharpness {:.1}, at least {:.0} needed).", px.sharpness, p.blurry_max_sharpness),
        ));
    }
}

fn time_findings(policy: &Policy, ctx: &PhotoContext, facts: &PhotoFacts, capture: &CaptureMeta, out: &mut Vec<Finding>) {
    let id = Some(ctx.photo_id);
    if facts.exif_taken_at.is_none() && capture.captured_at.is_none() {
        out.push(finding(
            policy,
            FindingCode::PhotoNoTimestamp,
            id,
            json!({ "exif_datetime_original": null, "app_captured_at": null }),
            "Foto tidak memiliki waktu pengambilan (EXIF maupun aplikasi).".into(),
            "The photo has no capture time (neither EXIF nor the app's).".into(),
        ));
        return;
    }

    // Every clock that speaks, compared pairwise; the server's receipt bounds them from above.
    let tolerance = i64::from(policy.photo.time_tolerance_minutes);
    let clocks: Vec<(&str, DateTime<Utc>)> = [("exif", facts.exif_taken_at), ("app", capture.captured_at), ("gps", facts.gps_time)]
        .into_iter()
        .filter_map(|(n, t)| t.map(|t| (n, t)))
        .collect();
    let mut worst: Option<(String, i64)> = None;
    for (i, (a, ta)) in clocks.iter().enumerate() {
        for (b, tb) in &clocks[i + 1..] {
            // EXIF and GPS agree by construction when the zone came from the GPS clock.
            if facts.taken_at_zone_source.as_deref() == Some("gps_clock") && [*a, *b] == ["exif", "gps"] {
                continue;
            }
            let minutes = (*ta - *tb).num_minutes().abs();
            if minutes > tolerance && worst.as_ref().is_none_or(|w| minutes > w.1) {
                worst = Some((format!("{a} vs {b}"), minutes));
            }
        }
        let ahead = (*ta - ctx.received_at).num_minutes();
        if ahead > tolerance && worst.as_ref().is_none_or(|w| ahead > w.1) {
            worst = Some((format!("{a} vs server receipt"), ahead));
        }
    }
    if let Some((pair, minutes)) = worst {
        out.push(finding(
            policy,
            FindingCode::PhotoTimeMismatch,
            id,
            json!({ "clocks": clocks.iter().map(|(n, t)| (n.to_string(), t.to_rfc3339())).collect::<std::collections::BTreeMap<_, _>>(),
                    "received_at": ctx.received_at, "worst_pair": pair, "difference_minutes": minutes,
                    "policy": { "photo.time_tolerance_minutes": tolerance } }),
            format!("Waktu foto tidak konsisten ({pair}: selisih {}, batas {tolerance} menit).", human_minutes(minutes)),
            format!("The photo's clocks disagree ({pair}: {} apart, limit {tolerance} min).", human_minutes(minutes)),
        ));
    }

    // The photo's own day, by the best clock: the camera's, else the app's.
    if let (Some(visit_date), Some(taken)) = (ctx.visit_date, facts.exif_taken_at.or(capture.captured_at)) {
        let photo_date = local_date(taken, ctx.branch_tz);
        if photo_date != visit_date {
            out.push(finding(
                policy,
                FindingCode::PhotoWrongDay,
                id,
                json!({ "photo_date": photo_date, "visit_date": visit_date, "taken_at": taken, "time_zone": ctx.branch_tz.name() }),
                format!("Foto diambil pada {photo_date}, bukan pada tanggal kunjungan {visit_date}."),
                format!("The photo was taken on {photo_date}, not on the visit date {visit_date}."),
            ));
        }
    }
}

fn place_findings(policy: &Policy, ctx: &PhotoContext, facts: &PhotoFacts, capture: &CaptureMeta, out: &mut Vec<Finding>) {
    let id = Some(ctx.photo_id);
    if capture.is_mock_location == Some(true) {
        out.push(finding(
            policy,
            FindingCode::PhotoMockLocation,
            id,
            json!({ "is_mock_location": true }),
            "Aplikasi melaporkan lokasi palsu (mock location) saat foto diambil.".into(),
            "The app reported a mock (fake) location when the photo was taken.".into(),
        ));
    }
    // Camera GPS first; the app's fix (with its accuracy) when the camera wrote none.
    let position = match (facts.exif_location, capture.location) {
        (Some(p), _) => Some((p, facts.exif_gps_accuracy_m.unwrap_or(0.0), "exif")),
        (None, Some(p)) => Some((p, capture.accuracy_m.unwrap_or(0.0), "app")),
        (None, None) => None,
    };
    let Some((point, accuracy, source)) = position else {
        out.push(finding(
            policy,
            FindingCode::PhotoNoGps,
            id,
            json!({ "exif_gps": null, "app_gps": null }),
            "Foto tidak memiliki lokasi GPS (EXIF maupun aplikasi).".into(),
            "The photo has no GPS position (neither EXIF nor the app's).".into(),
        ));
        return;
    };
    // The app's fix and the camera's should agree when both exist.
    if let (Some(exif), Some(app)) = (facts.exif_location, capture.location) {
        let apart = exif.distance_m(app);
        let allowed = policy.photo.gps_agreement_m + capture.accuracy_m.unwrap_or(0.0).clamp(0.0, 500.0);
        if apart > allowed {
            out.push(location_mismatch(policy, ctx.photo_id, exif, app, apart, allowed));
        }
    }
    let Some(fence) = ctx.geofence else {
        if ctx.customer_unplaced {
            out.push(finding(
                policy,
                FindingCode::CustomerLocationUnknown,
                id,
                json!({ "photo": { "latitude": point.latitude, "longitude": point.longitude }, "source": source, "accuracy_m": accuracy }),
                "Lokasi customer belum terdaftar: jarak foto tidak dapat diperiksa.".into(),
                "The customer has no registered place: the photo's distance cannot be checked.".into(),
            ));
        }
        return;
    };
    let distance = point.distance_m(fence.center);
    // Give the rep the benefit of the fix's stated uncertainty, bounded so a huge claimed
    // accuracy cannot excuse any distance.
    let slack = accuracy.clamp(0.0, fence.radius_m.max(100.0));
    let allowed = fence.radius_m + slack;
    if distance > allowed {
        out.push(finding(
            policy,
            FindingCode::PhotoFarFromCustomer,
            id,
            json!({ "distance_m": distance.round(), "radius_m": fence.radius_m, "accuracy_m": slack,
                    "allowed_m": allowed.round(), "source": source,
                    "photo": { "latitude": point.latitude, "longitude": point.longitude },
                    "customer": { "latitude": fence.center.latitude, "longitude": fence.center.longitude } }),
            format!("Foto diambil {} dari lokasi customer (batas {allowed:.0} m).", human_distance(distance)),
            format!("The photo was taken {} from the customer (limit {allowed:.0} m).", human_distance(distance)),
        ));
    }
}

fn location_mismatch(policy: &Policy, photo_id: PhotoId, exif: GeoPoint, app: GeoPoint, apart: f64, allowed: f64) -> Finding {
    finding(
        policy,
        FindingCode::PhotoLocationMismatch,
        Some(photo_id),
        json!({ "distance_m": apart.round(), "allowed_m": allowed.round(),
                "exif": { "latitude": exif.latitude, "longitude": exif.longitude },
                "app": { "latitude": app.latitude, "longitude": app.longitude },
                "policy": { "photo.gps_agreement_m": policy.photo.gps_agreement_m } }),
        format!("GPS kamera dan GPS aplikasi berjarak {} (batas {allowed:.0} m).", human_distance(apart)),
        format!("The camera's GPS and the app's GPS are {} apart (limit {allowed:.0} m).", human_distance(apart)),
    )
}
