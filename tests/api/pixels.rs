//! Synthetic pixel findings built from the real fixtures: darkened, backlit and blurred copies
//! must be caught, the originals must not.

use fieldproof::app::photos::check_file;
use fieldproof::domain::policy::Policy;
use fieldproof::domain::visit::PhotoKind;
use image::{DynamicImage, ImageFormat, Rgb, RgbImage};

use crate::helpers::fixture;

const PHONES: [&str; 5] =
    ["samsung-galaxy-s7-edge.jpg", "iphone-6.jpg", "oppo-r7-plus.jpg", "htc-one-m8-no-gps.jpg", "canon-1d-via-lightroom.jpg"];

fn codes(bytes: &[u8]) -> Vec<&'static str> {
    let (_, _, findings) = check_file(&Policy::default(), bytes, PhotoKind::Storefront, chrono_tz::Asia::Jakarta).expect("inspects");
    findings.iter().map(|f| f.code.as_str()).collect()
}

/// The fixture reduced to 1600 px (still above 1 MP) so the synthetic edits are quick.
fn base(name: &str) -> RgbImage {
    image::load_from_memory(&fixture(name)).unwrap().resize(1600, 1600, image::imageops::FilterType::Triangle).to_rgb8()
}

fn jpeg(img: RgbImage) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(img).write_to(&mut out, ImageFormat::Jpeg).unwrap();
    out.into_inner()
}

const PIXEL_CODES: [&str; 3] = ["photo_too_dark", "photo_backlit", "photo_blurry"];

#[test]
fn the_real_photos_pass_the_pixel_checks() {
    for name in PHONES {
        let found: Vec<_> = codes(&fixture(name)).into_iter().filter(|c| PIXEL_CODES.contains(c)).collect();
        assert!(found.is_empty(), "{name}: {found:?}");
        let reduced: Vec<_> = codes(&jpeg(base(name))).into_iter().filter(|c| PIXEL_CODES.contains(c)).collect();
        assert!(reduced.is_empty(), "{name} at 1600 px: {reduced:?}");
    }
}

#[test]
fn darkened_copies_are_too_dark() {
    for name in PHONES {
        let mut img = base(name);
        img.pixels_mut().for_each(|p| p.0 = p.0.map(|c| (f32::from(c) * 0.35) as u8));
        assert!(codes(&jpeg(img)).contains(&"photo_too_dark"), "{name}");
    }
}

#[test]
fn blurred_copies_are_blurry() {
    for name in PHONES {
        let img = image::imageops::blur(&base(name), 6.0);
        assert!(codes(&jpeg(img)).contains(&"photo_blurry"), "{name}");
    }
}

#[test]
fn a_dark_subject_against_a_bright_window_is_backlit() {
    for name in PHONES {
        let mut img = base(name);
        let (w, h) = img.dimensions();
        for (x, y, p) in img.enumerate_pixels_mut() {
            let centre = (w / 4..w - w / 4).contains(&x) && (h / 4..h - h / 4).contains(&y);
            *p = if centre { Rgb(p.0.map(|c| (f32::from(c) * 0.4) as u8)) } else { Rgb(p.0.map(|c| 200u8.saturating_add(c / 5))) };
        }
        let found = codes(&jpeg(img));
        assert!(found.contains(&"photo_backlit"), "{name}: {found:?}");
    }
}

fn hashes(bytes: &[u8]) -> ([u8; 32], u64) {
    let (_, facts, _) = check_file(&Policy::default(), bytes, PhotoKind::Storefront, chrono_tz::Asia::Jakarta).unwrap();
    let d: [u8; 32] = hex::decode(facts.dhash.unwrap()).unwrap().try_into().unwrap();
    (d, u64::from_str_radix(&facts.ahash.unwrap(), 16).unwrap())
}

fn jpeg_q(img: &RgbImage, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality).encode_image(img).unwrap();
    out
}

#[test]
fn near_copies_match_and_different_photos_do_not() {
    let policy = Policy::default();
    let (mut worst, mut closest_unrelated) = (0, u32::MAX);
    for name in PHONES {
        let original = hashes(&fixture(name));
        let img = base(name);
        let (w, h) = img.dimensions();
        let brighter = {
            let mut b = img.clone();
            b.pixels_mut().for_each(|p| p.0 = p.0.map(|c| (f32::from(c) * 1.25).min(255.0) as u8));
            b
        };
        let variants = [
            ("recompressed at quality 50", jpeg_q(&img, 50)),
            ("resized to 1000 px", jpeg(image::imageops::resize(&img, 1000, 1000 * h / w, image::imageops::FilterType::Triangle))),
            ("brightened 25 %", jpeg(brighter)),
            ("cropped 2 % each side", jpeg(image::imageops::crop_imm(&img, w / 50, h / 50, w - w / 25, h - h / 25).to_image())),
        ];
        for (what, bytes) in variants {
            let copy = hashes(&bytes);
            let d = fieldproof::domain::rules::near_match(&policy, (&original.0, original.1), (&copy.0, copy.1));
            assert!(d.is_some(), "{name} {what}: not matched");
            worst = worst.max(d.unwrap());
        }
        for other in PHONES.iter().filter(|o| **o != name) {
            let o = hashes(&fixture(other));
            closest_unrelated = closest_unrelated.min(original.0.iter().zip(o.0).map(|(x, y)| (x ^ y).count_ones()).sum());
            assert_eq!(fieldproof::domain::rules::near_match(&policy, (&original.0, original.1), (&o.0, o.1)), None, "{name} vs {other}");
        }
    }
    eprintln!("largest dHash distance of a near copy: {worst} bits; closest unrelated pair: {closest_unrelated} bits");
}
