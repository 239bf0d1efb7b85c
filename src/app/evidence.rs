//! What a photo proves: the rules judge its facts against its visit, the customer's geofence
//! and the branch's day, and against every earlier photo (the same bytes, or the same picture
//! by its perceptual hashes). Upload and submit judge a photo here, the same way: at upload
//! against the draft as it is, at submit against the final record.

use chrono::NaiveDate;
use chrono_tz::Tz;

use super::{App, AppError};
use crate::domain::customer::{Customer, GeoPoint};
use crate::domain::finding::Finding;
use crate::domain::policy::Policy;
use crate::domain::rules::{self, EarlierCopy, Geofence, PhotoContext};
use crate::domain::visit::{ChatDateFact, ChatFacts, Photo, PhotoFacts, PhotoKind, PixelStats};
use crate::media::chat::{ChatDate, Side};
use crate::media::{ChatOutcome, Inspection, Limits};

/// What a photo is judged against.
pub(crate) struct Against<'a> {
    /// The visit's date in the branch's zone, once the record says when the visit was.
    pub visit_date: Option<NaiveDate>,
    pub customer: &'a Customer,
    pub branch_tz: Tz,
}

/// The photo's findings: its own (resolution, light, blur, time, place, edits) and reuse.
pub(crate) async fn judge_photo(app: &App, policy: &Policy, against: &Against<'_>, photo: &Photo) -> Result<Vec<Finding>, AppError> {
    let earlier_copies = earlier_copies(app, policy, photo).await?;
    let customer = against.customer;
    let customer_names: Vec<String> = customer.contact_name.iter().cloned().chain(std::iter::once(customer.name.clone())).collect();
    let ctx = PhotoContext {
        customer_names: &customer_names,
        customer_phone: customer.contact_phone.as_deref(),
        photo_id: photo.id,
        kind: photo.kind,
        geofence: geofence(policy, against.customer),
        customer_unplaced: against.customer.location.is_none(),
        visit_date: against.visit_date,
        branch_tz: against.branch_tz,
        received_at: photo.received_at,
        earlier_copies: &earlier_copies,
    };
    Ok(rules::photo_findings(policy, &ctx, &photo.facts, &photo.capture))
}

/// The customer's geofence, with the policy's radius when the customer has none.
pub(crate) fn geofence(policy: &Policy, customer: &Customer) -> Option<Geofence> {
    customer.location.map(|center| Geofence { center, radius_m: customer.geofence_radius_m.unwrap_or(policy.default_geofence_radius_m) })
}

/// Earlier photos of other visits that `photo` copies: the same bytes; for a camera photo the
/// same picture by its perceptual hashes (multi-index candidates, then a Hamming check); for a
/// chat the same text (MinHash candidates, then [`rules::screenshot::same_chat`]).
async fn earlier_copies(app: &App, policy: &Policy, photo: &Photo) -> Result<Vec<EarlierCopy>, AppError> {
    let (sha256, facts, visit, received_at) = (photo.sha256.as_str(), &photo.facts, photo.visit_id, photo.received_at);
    let mut copies: Vec<EarlierCopy> = app
        .repo
        .earlier_copies(sha256, received_at, visit)
        .await?
        .into_iter()
        .map(|(photo_id, visit_id)| EarlierCopy { photo_id, visit_id, exact: true, distance: 0, same_text: false })
        .collect();
    // Every WhatsApp (or call-log) screen looks alike to perceptual hashes (in our benchmark they
    // called 15 % of pairs of different chats copies): a screenshot's near-copies are found by its
    // text, never by its pixels.
    if let (false, Some((dhash, ahash))) = (photo.kind.is_screenshot(), facts.perceptual_hashes()) {
        for c in app.repo.hash_candidates(&dhash, ahash, received_at, visit).await? {
            if copies.iter().any(|e| e.photo_id == c.photo_id) {
                continue;
            }
            if let Some(distance) = rules::near_match(policy, (&dhash, ahash), (&c.dhash, c.ahash)) {
                copies.push(EarlierCopy { photo_id: c.photo_id, visit_id: c.visit_id, exact: false, distance, same_text: false });
            }
        }
    }
    // A screenshot of the same chat, whatever its pixels: its text, by MinHash bands, then compared.
    if let Some(chat) = facts.chat.as_ref().filter(|c| c.status == "read") {
        let bands = rules::screenshot::chat_band_keys(&chat.text);
        for earlier in app.repo.similar_chats(&bands, received_at, visit, 20).await? {
            let Some(theirs) = earlier.facts.chat.as_ref() else { continue };
            if rules::screenshot::same_chat(&chat.text, chat.header.as_deref(), &theirs.text, theirs.header.as_deref()).is_none() {
                continue;
            }
            match copies.iter_mut().find(|c| c.photo_id == earlier.id) {
                Some(known) => known.same_text = true,
                None => copies.push(EarlierCopy {
                    photo_id: earlier.id,
                    visit_id: earlier.visit_id,
                    exact: false,
                    distance: u32::MAX,
                    same_text: true,
                }),
            }
        }
    }
    copies.truncate(10);
    Ok(copies)
}

/// The policy's limits, with face detection for the photos that must show faces.
pub fn limits_for(policy: &crate::domain::policy::Policy, kind: PhotoKind) -> Limits {
    let p = &policy.photo;
    Limits {
        max_bytes: p.max_bytes,
        max_side_px: p.max_side_px,
        max_pixels: p.max_pixels,
        faces_min_px: (kind == PhotoKind::WithCustomer && p.faces_required > 0).then_some(p.faces_min_px),
    }
}

/// What the rules need from an inspection (see [`rules::resolve_capture_time`] for how a
/// camera-local EXIF time gets its zone).
pub fn facts_from(inspection: &Inspection, branch_tz: Tz) -> PhotoFacts {
    let exif = &inspection.exif;
    let (exif_taken_at, zone_source) =
        rules::resolve_capture_time(exif.datetime_original_parsed, exif.offset_original, exif.gps_time, branch_tz);
    let markers = &inspection.markers;
    PhotoFacts {
        format: inspection.format.as_str().to_string(),
        width: inspection.width,
        height: inspection.height,
        exif_datetime_original: exif.datetime_original.clone(),
        exif_offset: exif.offset_original.map(|o| o.to_string()),
        exif_taken_at,
        taken_at_zone_source: zone_source.map(String::from),
        exif_modify_date: exif.modify_date,
        gps_time: exif.gps_time,
        gps_altitude_m: exif.gps_altitude_m,
        orientation: exif.orientation,
        declared_width: exif.declared_width,
        declared_height: exif.declared_height,
        has_thumbnail: exif.has_thumbnail,
        creator_tool: markers.creator_tool.clone(),
        history_agents: markers.history_agents.clone(),
        adobe_metadata: markers.adobe_namespaces || markers.photoshop_irb,
        quantisation: markers.quantisation.map(|q| q.label()),
        iptc: markers.iptc,
        decode_warnings: inspection.decode_warnings.clone(),
        time_source: exif.time_source.map(String::from),
        gps_source: exif.gps_source.map(String::from),
        faces: inspection.faces.map(|n| n as u32),
        dhash: inspection.hash.map(|h| hex::encode(h.dhash)),
        ahash: inspection.hash.map(|h| format!("{:016x}", h.ahash)),
        pixels: inspection.pixels.map(|m| PixelStats {
            brightness: m.brightness,
            centre_brightness: m.centre_brightness,
            surround_brightness: m.surround_brightness,
            sharpness: m.sharpness,
        }),
        exif_location: exif.gps.and_then(|(lat, lon)| GeoPoint::parse(lat, lon).ok()),
        // GPSHPositioningError when written; else the DOP times a typical 5 m receiver error.
        exif_gps_accuracy_m: exif.gps_accuracy_m.or(exif.gps_dop.map(|dop| dop * 5.0)),
        make: exif.make.clone(),
        model: exif.model.clone(),
        software: exif.software.clone(),
        chat: inspection.chat.as_ref().map(chat_facts),
    }
}

/// What OCR read, as the facts keep it.
fn chat_facts(outcome: &ChatOutcome) -> ChatFacts {
    match outcome {
        ChatOutcome::NotInstalled => ChatFacts { status: "not_installed".into(), ..Default::default() },
        ChatOutcome::Failed(why) => ChatFacts { status: "failed".into(), error: Some(why.clone()), ..Default::default() },
        ChatOutcome::Read { reading, elapsed, engine } => ChatFacts {
            status: "read".into(),
            engine: Some(engine.clone()),
            error: None,
            header: reading.header.clone(),
            dates: reading
                .dates
                .iter()
                .map(|(shown, d)| {
                    let base = ChatDateFact { shown: shown.clone(), ..Default::default() };
                    match d {
                        ChatDate::Today => ChatDateFact { kind: "today".into(), ..base },
                        ChatDate::Yesterday => ChatDateFact { kind: "yesterday".into(), ..base },
                        ChatDate::Weekday(w) => ChatDateFact { kind: "weekday".into(), weekday: Some(*w), ..base },
                        ChatDate::DayMonth(day, month) => {
                            ChatDateFact { kind: "day_month".into(), day_month: Some((*day, *month)), ..base }
                        }
                        ChatDate::Date(date) => ChatDateFact { kind: "date".into(), date: Some(*date), ..base },
                    }
                })
                .collect(),
            times: reading.times.clone(),
            customer_lines: reading.lines.iter().filter(|l| l.side == Side::Customer).count() as u32,
            rep_lines: reading.lines.iter().filter(|l| l.side == Side::Rep).count() as u32,
            confident_words: reading.confident_words as u32,
            mean_confidence: (reading.mean_confidence * 10.0).round() / 10.0,
            text: reading.text.clone(),
            elapsed_ms: elapsed.as_millis() as u64,
        },
    }
}
