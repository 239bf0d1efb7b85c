//! Signs that a photo was edited after the camera wrote it, in two strengths.
//!
//! **Strong** — certain enough for the blocking `photo_edited`: editing software named in EXIF
//! Software or the XMP CreatorTool/history, Photoshop or Camera Raw metadata (an IPTC block
//! alone is not: cameras write one, and so does adding a keyword), declared dimensions that
//! disagree with the real ones, and a JPEG quantisation table that is the IJG standard table on
//! a phone whose own camera writes a table of its own (an editor re-encoded it).
//!
//! **Weak** — `photo_possibly_edited`, shown to HQ with the evidence: a ModifyDate well after
//! capture (camera vendors' transfer apps rewrite it), maker EXIF stripped from a photo that
//! still names its camera, a Software value that is neither firmware nor a known editor.
//!
//! Phone firmware versions (`G935LKLU1APL1`, iOS `13.4.1`) and camera apps are not edits: the
//! per-maker allowlist below recognises them, and the real fixtures test it.

use serde::Serialize;

use crate::domain::policy::Policy;
use crate::domain::visit::PhotoFacts;

/// One sign of editing, with what showed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EditSign {
    pub sign: &'static str,
    pub detail: String,
    /// Certain enough to call the photo edited (`photo_edited`); else `photo_possibly_edited`.
    pub strong: bool,
}

/// Whether a maker's own camera writes the IJG standard quantisation tables, learned from the
/// real photos in `fixtures/photos` (their luminance tables, read by `media::markers`):
/// `false` = the maker's camera has tables of its own, so an IJG table on its photo means an
/// editor or app re-encoded it. Makers not listed are not judged by their tables.
const CAMERA_WRITES_IJG: &[(&str, bool, &str)] = &[
    ("apple", false, "iphone-6.jpg: Apple's own table (other:…); iPhones' ImageIO encoder, not libjpeg"),
    ("oppo", false, "oppo-r7-plus.jpg: a table of its own"),
    ("samsung", true, "samsung-galaxy-s7-edge.jpg: IJG at quality 96"),
    ("htc", true, "htc-one-m8-no-gps.jpg: IJG at quality 95"),
];

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
    // Firmware build ids: long runs of capitals and digits (Samsung G935LKLU1APL1, Sony 1.00),
    // also with a model code, spaces and brackets (Huawei `ELE-L29 10.0.0.168(C431E22R2P5)`).
    let firmware_id = |s: &str| {
        s.len() >= 6
            && s.bytes().any(|b| b.is_ascii_digit())
            && s.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b"_.-() ".contains(&b))
    };
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
            // OPPO's build ids mix cases: `R7plusf_11_A.10`.
            let oppo_build = s.contains('_') && s.bytes().any(|b| b.is_ascii_digit()) && !s.contains(' ');
            firmware_id(s) || version_like(s) || s.contains("ColorOS") || oppo_build
        }
        m if m.starts_with("vivo") => s.contains("Funtouch") || firmware_id(s) || version_like(s),
        m if m.starts_with("google") => s.starts_with("HDR+") || firmware_id(s) || version_like(s),
        m if m.starts_with("canon") || m.starts_with("nikon") || m.starts_with("sony") || m.starts_with("fujifilm") => {
            s.starts_with("Firmware") || s.starts_with("Ver.") || version_like(s) || firmware_id(s)
        }
        _ => version_like(s) || firmware_id(s),
    }
}

/// A Software value a camera app writes: its maker's or model's name, "camera", Android.
fn camera_app(make: &str, model: &str, software: &str) -> bool {
    let s = software.to_ascii_lowercase();
    let brand = make.split_whitespace().next().unwrap_or("").to_ascii_lowercase();
    (brand.len() >= 2 && s.contains(&brand))
        || (!model.is_empty() && s.contains(&model.to_ascii_lowercase()))
        || s.contains("camera")
        || s.contains("android")
}

fn editor_in(value: &str) -> Option<&'static str> {
    let lower = value.to_ascii_lowercase();
    EDITORS.iter().copied().find(|e| lower.contains(e))
}

/// Every sign of editing in `facts`; empty for an untouched camera original.
pub fn edit_signs(policy: &Policy, facts: &PhotoFacts) -> Vec<EditSign> {
    let mut signs = Vec::new();
    let strong = |sign, detail| EditSign { sign, detail, strong: true };
    let weak = |sign, detail| EditSign { sign, detail, strong: false };
    let make = facts.make.as_deref().unwrap_or("");
    if let Some(software) = facts.software.as_deref() {
        // A named editor wins over any allowlist; what is neither an editor nor firmware nor a
        // camera app is a weak sign.
        match editor_in(software) {
            Some(editor) => signs.push(strong("editing_software", format!("Software={software:?} ({editor})"))),
            None if !allowed_for_maker(make, software) && !camera_app(make, facts.model.as_deref().unwrap_or(""), software) => {
                signs.push(weak("unknown_software", format!("Software={software:?} is neither {make} firmware nor a camera app")))
            }
            None => {}
        }
    }
    for (what, value) in facts.creator_tool.iter().map(|v| ("CreatorTool", v)).chain(facts.history_agents.iter().map(|v| ("history", v))) {
        if let Some(editor) = editor_in(value) {
            if !signs.iter().any(|s| s.sign == "editing_software" && s.detail.contains(value.as_str())) {
                signs.push(strong("editing_software", format!("XMP {what}={value:?} ({editor})")));
            }
        }
    }
    if facts.adobe_metadata {
        signs.push(strong("adobe_metadata", "Photoshop or Camera Raw metadata block".into()));
    }
    if let (Some(w), Some(h)) = (facts.declared_width, facts.declared_height) {
        let real = (facts.width, facts.height);
        // Either orientation is fine: cameras declare the sensor's, containers may rotate.
        if (w, h) != real && (h, w) != real && w > 0 && h > 0 {
            signs.push(strong("dimensions_changed", format!("EXIF says {w}×{h}, the image is {}×{}", real.0, real.1)));
        }
    }
    if let Some(quality) = facts.quantisation.as_deref().and_then(|q| q.strip_prefix("ijg:")) {
        let maker = make.to_ascii_lowercase();
        if let Some((_, _, learned)) = CAMERA_WRITES_IJG.iter().find(|(m, ijg, _)| !ijg && maker.starts_with(m)) {
            signs.push(strong(
                "editor_quantisation",
                format!("the JPEG uses the IJG standard table at quality {quality}, which {make}'s camera does not write ({learned})"),
            ));
        }
    }
    if let (Some(modified), Some(taken)) = (facts.exif_modify_date, facts.exif_datetime_original.as_deref().and_then(parse_naive)) {
        let minutes = (modified - taken).num_minutes();
        if minutes > i64::from(policy.photo.edit_modify_tolerance_minutes) {
            signs.push(weak("modified_after_capture", format!("ModifyDate {minutes} min after DateTimeOriginal")));
        }
    }
    if (facts.make.is_some() || facts.model.is_some()) && facts.exif_datetime_original.is_none() && facts.format != "png" {
        signs.push(weak("camera_exif_stripped", format!("names a camera ({make}) but has no capture time")));
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

    fn strengths(f: &PhotoFacts) -> Vec<(&'static str, bool)> {
        edit_signs(&Policy::default(), f).into_iter().map(|s| (s.sign, s.strong)).collect()
    }

    #[test]
    fn strong_and_weak_signs() {
        // A transfer tool rewriting ModifyDate, stripped maker EXIF, an unknown Software: weak.
        let mut late = facts("Canon", None);
        late.exif_modify_date = chrono::NaiveDateTime::parse_from_str("2017:03:01 10:00:00", "%Y:%m:%d %H:%M:%S").ok();
        assert_eq!(strengths(&late), vec![("modified_after_capture", false)]);
        assert_eq!(strengths(&facts("vivo", Some("Funtouch OS_9"))), vec![]);
        assert_eq!(strengths(&facts("Xiaomi", Some("Redmi Note 8 camera"))), vec![]);
        assert_eq!(strengths(&facts("samsung", Some("ExifTool-ish Renamer 3"))), vec![("unknown_software", false)]);
        assert_eq!(strengths(&facts("samsung", Some("Snapseed 2.0"))), vec![("editing_software", true)]);
        // The IJG table on an iPhone (its camera has its own) is strong; on a Samsung (whose
        // camera writes IJG) or an unknown maker it says nothing.
        let mut apple = facts("Apple", Some("13.4.1"));
        apple.quantisation = Some("ijg:90".into());
        assert_eq!(strengths(&apple), vec![("editor_quantisation", true)]);
        apple.quantisation = Some("other:1a2b3c4d".into());
        assert_eq!(strengths(&apple), vec![]);
        for make in ["samsung", "HTC", "Nokia"] {
            let mut f = facts(make, None);
            f.quantisation = Some("ijg:95".into());
            assert_eq!(strengths(&f), vec![], "{make}");
        }
    }
}
