//! Signs that a photo was edited after the camera wrote it: editing software named in EXIF or
//! XMP, Photoshop/Camera Raw metadata, a ModifyDate well after capture, declared dimensions that
//! disagree with the real ones, and camera EXIF stripped from a photo that still names its camera.
//!
//! Phone firmware versions (`G935LKLU1APL1`, iOS `13.4.1`) and camera transfer tools are not
//! edits: the per-maker allowlist below recognises them, and the real fixtures test it.

use serde::Serialize;

use crate::domain::policy::Policy;
use crate::domain::visit::PhotoFacts;

/// One sign of editing, with what showed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EditSign {
    pub sign: &'static str,
    pub detail: String,
}

/// Editing and filter apps, matched case-insensitively as substrings of Software, CreatorTool
/// and the XMP history.
pub const EDITORS: &[&str] = &[
    "photoshop",
    "lightroom",
    "camera raw",
    "gimp",
    "snapseed",
    "picsart",
    "vsco",
    "meitu",
    "canva",
    "facetune",
    "pixlr",
    "polarr",
    "afterlight",
    "lightx",
    "airbrush",
    "beautyplus",
    "youcam",
    "remini",
    "photoscape",
    "paint.net",
    "affinity photo",
    "capture one",
    "luminar",
    "photodirector",
    "photo editor",
    "fotor",
    "inshot",
    "prisma",
    "photolab",
    "picmonkey",
    "befunky",
];

/// Software values that are firmware or transfer tools, per maker (lowercase Make prefix).
/// A value matching these is never an edit, whatever else it contains.
fn allowed_for_maker(make: &str, software: &str) -> bool {
    let make = make.to_ascii_lowercase();
    let s = software.trim();
    let version_like = |s: &str| !s.is_empty() && s.split('.').all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    // Firmware build ids: long runs of capitals and digits (Samsung G935LKLU1APL1, Sony 1.00).
    let firmware_id = |s: &str| s.len() >= 6 && s.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_' || b == b'.');
    match make.as_str() {
        m if m.starts_with("apple") => version_like(s) || s.starts_with("iOS "),
        m if m.starts_with("samsung") => firmware_id(s) || version_like(s),
        m if m.starts_with("huawei") || m.starts_with("honor") => {
            s.contains("EMUI") || s.contains("MagicUI") || firmware_id(s) || version_like(s)
        }
        m if m.starts_with("xiaomi") || m.starts_with("redmi") || m.starts_with("poco") => {
            s.contains("MIUI") || s.contains("HyperOS") || firmware_id(s) || version_like(s)
        }
        m if m.starts_with("oppo") || m.starts_with("realme") || m.starts_with("oneplus") => {
            firmware_id(s) || version_like(s) || s.contains("ColorOS")
        }
        m if m.starts_with("vivo") => s.contains("Funtouch") || firmware_id(s) || version_like(s),
        m if m.starts_with("google") => s.starts_with("HDR+") || firmware_id(s) || version_like(s),
        m if m.starts_with("canon") || m.starts_with("nikon") || m.starts_with("sony") || m.starts_with("fujifilm") => {
            s.starts_with("Firmware") || s.starts_with("Ver.") || version_like(s) || firmware_id(s)
        }
        _ => version_like(s) || firmware_id(s),
    }
}

fn editor_in(value: &str) -> Option<&'static str> {
    let lower = value.to_ascii_lowercase();
    EDITORS.iter().copied().find(|e| lower.contains(e))
}

/// Every sign of editing in `facts`; empty for an untouched camera original.
pub fn edit_signs(policy: &Policy, facts: &PhotoFacts) -> Vec<EditSign> {
    let mut signs = Vec::new();
    let make = facts.make.as_deref().unwrap_or("");
    if let Some(software) = facts.software.as_deref() {
        if !allowed_for_maker(make, software) {
            if let Some(editor) = editor_in(software) {
                signs.push(EditSign { sign: "editing_software", detail: format!("Software={software:?} ({editor})") });
            }
        }
    }
    for (what, value) in facts.creator_tool.iter().map(|v| ("CreatorTool", v)).chain(facts.history_agents.iter().map(|v| ("history", v))) {
        if allowed_for_maker(make, value) {
            continue;
        }
        if let Some(editor) = editor_in(value) {
            if !signs.iter().any(|s| s.sign == "editing_software" && s.detail.contains(value.as_str())) {
                signs.push(EditSign { sign: "editing_software", detail: format!("XMP {what}={value:?} ({editor})") });
            }
        }
    }
    if facts.adobe_metadata {
        signs.push(EditSign { sign: "adobe_metadata", detail: "Photoshop or Camera Raw metadata block".into() });
    }
    if let (Some(modified), Some(taken)) = (facts.exif_modify_date, facts.exif_datetime_original.as_deref().and_then(parse_naive)) {
        let minutes = (modified - taken).num_minutes();
        if minutes > i64::from(policy.photo.edit_modify_tolerance_minutes) {
            signs.push(EditSign { sign: "modified_after_capture", detail: format!("ModifyDate {minutes} min after DateTimeOriginal") });
        }
    }
    if let (Some(w), Some(h)) = (facts.declared_width, facts.declared_height) {
        let real = (facts.width, facts.height);
        // Either orientation is fine: cameras declare the sensor's, containers may rotate.
        if (w, h) != real && (h, w) != real && w > 0 && h > 0 {
            signs.push(EditSign { sign: "dimensions_changed", detail: format!("EXIF says {w}×{h}, the image is {}×{}", real.0, real.1) });
        }
    }
    if (facts.make.is_some() || facts.model.is_some()) && facts.exif_datetime_original.is_none() && facts.format != "png" {
        signs.push(EditSign { sign: "camera_exif_stripped", detail: format!("names a camera ({make}) but has no capture time") });
    }
    signs
}

fn parse_naive(s: &str) -> Option<chrono::NaiveDateTime> {
    chrono::NaiveDateTime::parse_from_str(s.get(..19)?, "%Y:%m:%d %H:%M:%S").ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(make: &str, software: Option<&str>) -> PhotoFacts {
        PhotoFacts {
            format: "jpeg".into(),
            width: 4032,
            height: 3024,
            make: Some(make.into()),
            software: software.map(Into::into),
            exif_datetime_original: Some("2017:02:09 19:51:38".into()),
            ..Default::default()
        }
    }

    fn signs(f: &PhotoFacts) -> Vec<&'static str> {
        edit_signs(&Policy::default(), f).into_iter().map(|s| s.sign).collect()
    }

    #[test]
    fn firmware_is_not_editing() {
        for (make, software) in [
            ("samsung", "G935LKLU1APL1"),
            ("Apple", "8.0"),
            ("Apple", "13.4.1"),
            ("OPPO", "R7plusf_11_A.10"),
            ("Canon", "Firmware Version 1.2.3"),
            ("HUAWEI", "ELE-L29 10.0.0.168(C431E22R2P5)"),
        ] {
            assert!(signs(&facts(make, Some(software))).is_empty(), "{make} {software}");
        }
    }

    #[test]
    fn editors_are_named() {
        for software in
            ["Adobe Photoshop CS6 (Windows)", "Adobe Photoshop Lightroom", "GIMP 2.10", "Snapseed 2.0", "PicsArt", "Meitu", "Canva"]
        {
            assert_eq!(signs(&facts("samsung", Some(software))), vec!["editing_software"], "{software}");
        }
        let mut f = facts("Apple", Some("13.4.1"));
        f.creator_tool = Some("VSCO".into());
        assert_eq!(signs(&f), vec!["editing_software"]);
    }

    #[test]
    fn other_signs() {
        let mut late = facts("Canon", None);
        late.exif_datetime_original = Some("2008:09:20 09:01:07".into());
        late.exif_modify_date = chrono::NaiveDateTime::parse_from_str("2008:12:19 19:06:11", "%Y:%m:%d %H:%M:%S").ok();
        assert_eq!(signs(&late), vec!["modified_after_capture"]);
        let mut resized = facts("samsung", None);
        resized.declared_width = Some(4032);
        resized.declared_height = Some(3024);
        assert!(signs(&resized).is_empty());
        resized.width = 1600;
        resized.height = 1200;
        assert_eq!(signs(&resized), vec!["dimensions_changed"]);
        let mut rotated = facts("Apple", None);
        rotated.declared_width = Some(3024);
        rotated.declared_height = Some(4032);
        assert!(signs(&rotated).is_empty(), "a rotated declaration is not a resize");
        let mut stripped = facts("samsung", None);
        stripped.exif_datetime_original = None;
        assert_eq!(signs(&stripped), vec!["camera_exif_stripped"]);
        let mut adobe = facts("samsung", None);
        adobe.adobe_metadata = true;
        assert_eq!(signs(&adobe), vec!["adobe_metadata"]);
    }
}
