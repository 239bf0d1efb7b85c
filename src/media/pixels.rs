//! One reduced-scale grayscale decode, and what the pixels say: brightness, backlight, blur.
//!
//! JPEG takes the fast path: libjpeg-turbo's decoder (vendored by mozjpeg) scales in the DCT
//! domain straight to about 1/8 of the size (a 12 MP photo becomes ~500×380) and emits luma only,
//! so a check costs about what `djpeg -scale 1/8 -grayscale` costs. PNG and WebP are decoded
//! whole by `image` and reduced. HEIC/HEIF is decoded whole by heifer (pure Rust, no `unsafe`):
//! HEVC has no reduced-scale decode, so a 12 MP iPhone photo costs 0.4–0.7 s of one core —
//! see BENCHMARKS.md, and the README for why the embedded preview is not used instead.
//!
//! Every metric is computed on the luma image resized to [`WORK_SIDE`] on its long side, so
//! thresholds mean the same for a 2 MP and a 48 MP photo.

use std::io::Cursor;

use serde::{Deserialize, Serialize};

use super::error::MediaError;
use super::sniff::ImageFormat;

/// Long side of the working image, in pixels.
pub const WORK_SIDE: u32 = 384;

/// What the pixels measured. Brightness on 0–255 luma.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PixelMetrics {
    /// Mean luma of the whole image.
    pub brightness: f64,
    /// Mean luma of the central half (by side) of the image — where the subject usually is.
    pub centre_brightness: f64,
    /// Mean luma of the frame around it.
    pub surround_brightness: f64,
    /// Variance of the 4-neighbour Laplacian on the working image: low means blurred.
    pub sharpness: f64,
    /// Size of the working image.
    pub work_width: u32,
    pub work_height: u32,
}

/// A grayscale image.
#[derive(Clone)]
pub struct Luma {
    pub width: u32,
    pub height: u32,
    pub pixels: Vec<u8>,
}

/// Long side of the luma image handed on from a full decode (PNG, WebP, HEIF): twice the
/// working size, as a 1/8-scale JPEG decode gives for a typical phone photo.
const HANDOFF_SIDE: u32 = WORK_SIDE * 2;

/// Decodes to reduced-scale luma. `max_pixels` bounds what any decoder may allocate for a picture
/// the container describes (a HEIF grid's canvas and tiles, which the header check cannot see).
pub fn decode_luma(bytes: &[u8], format: ImageFormat, max_pixels: u64) -> Result<(Option<Luma>, Vec<String>), MediaError> {
    match format {
        ImageFormat::Jpeg => jpeg_luma(bytes).map(|(luma, warnings)| (Some(luma), warnings)),
        ImageFormat::Png => Ok((Some(png_luma(bytes, Some(HANDOFF_SIDE))?), Vec::new())),
        ImageFormat::Webp => {
            let small = decode_image(bytes, format)?.thumbnail(HANDOFF_SIDE, HANDOFF_SIDE).to_luma8();
            Ok((Some(Luma { width: small.width(), height: small.height(), pixels: small.into_raw() }), Vec::new()))
        }
        ImageFormat::Heif => heif_full_luma(bytes, max_pixels).map(|full| (Some(reduce_to(&full, HANDOFF_SIDE)), Vec::new())),
    }
}

/// A PNG's first frame as luma, reduced while it is decoded so its long side is at most `side`
/// (`None`: full size): memory is a row and the output, whatever the picture's size.
fn png_luma(bytes: &[u8], side: Option<u32>) -> Result<Luma, MediaError> {
    let (width, height, pixels) = super::png_rows::png_reduced(bytes, side, super::png_rows::Output::Luma)?;
    Ok(Luma { width, height, pixels })
}

/// A WebP decoded whole, its allocations bounded.
pub(super) fn decode_image(bytes: &[u8], format: ImageFormat) -> Result<image::DynamicImage, MediaError> {
    let fmt = if format == ImageFormat::Png { image::ImageFormat::Png } else { image::ImageFormat::WebP };
    let mut reader = image::ImageReader::with_format(Cursor::new(bytes), fmt);
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(512 * 1024 * 1024);
    reader.limits(limits);
    reader.decode().map_err(|e| MediaError::Unreadable(format!("decoding: {e}")))
}

/// The primary image of a HEIC/HEIF file as RGBA — grid tiles, crop and rotation applied — on
/// this thread (the caller already runs one check per core). heifer refuses any canvas or tile
/// above `max_pixels`; a panic on a hostile file is caught like libjpeg's errors.
pub(super) fn decode_heif(bytes: &[u8], max_pixels: u64) -> Result<heifer::Image<u8>, MediaError> {
    let options = heifer::Options { max_threads: 1, max_pixels: max_pixels.max(1) };
    std::panic::catch_unwind(|| heifer::decode_rgba8(bytes, &options))
        .map_err(|_| MediaError::Unreadable("HEIF data: the decoder failed".into()))?
        .map_err(|e| MediaError::Unreadable(format!("HEIF data: {e}")))
}

/// A HEIF's primary image in full-resolution luma.
fn heif_full_luma(bytes: &[u8], max_pixels: u64) -> Result<Luma, MediaError> {
    let decoded = decode_heif(bytes, max_pixels)?;
    let pixels: Vec<u8> = decoded
        .data
        .chunks_exact(4)
        .map(|p| ((299 * u32::from(p[0]) + 587 * u32::from(p[1]) + 114 * u32::from(p[2]) + 500) / 1000) as u8)
        .collect();
    if decoded.width == 0 || decoded.height == 0 || pixels.len() != decoded.width as usize * decoded.height as usize {
        return Err(MediaError::Unreadable("HEIF decoded to an unexpected size".into()));
    }
    Ok(Luma { width: decoded.width, height: decoded.height, pixels })
}

/// The whole image in grayscale at full resolution, for OCR (screenshots: a phone screen's few
/// megapixels, already bounded by the header check).
pub fn decode_full_luma(bytes: &[u8], format: ImageFormat, max_pixels: u64) -> Result<Luma, MediaError> {
    match format {
        ImageFormat::Jpeg => jpeg_luma_at(bytes, 8).map(|(luma, _)| luma),
        ImageFormat::Png => png_luma(bytes, None),
        ImageFormat::Webp => {
            let img = decode_image(bytes, format)?.to_luma8();
            Ok(Luma { width: img.width(), height: img.height(), pixels: img.into_raw() })
        }
        ImageFormat::Heif => heif_full_luma(bytes, max_pixels),
    }
}

/// The share of the image's rows that must have come from real data when the entropy-coded data
/// runs out: a few bytes missing at the very end cost a row or two (libjpeg paints them grey,
/// and the photo is judged with a warning); more is a truncated upload, refused so the phone
/// sends it again.
const MIN_DECODED_ROWS: f64 = 0.98;

fn jpeg_luma(bytes: &[u8]) -> Result<(Luma, Vec<String>), MediaError> {
    jpeg_luma_at(bytes, 0)
}

/// `scale` in eighths; 0 picks the working scale ([`jpeg_scale`]).
fn jpeg_luma_at(bytes: &[u8], scale: u8) -> Result<(Luma, Vec<String>), MediaError> {
    // libjpeg reports a fatal error by unwinding out of the C code (mozjpeg's `unwinding`
    // feature); the payload is its message. Nothing else in here can panic.
    let _ = take_warnings();
    let result = std::panic::catch_unwind(|| jpeg_luma_unguarded(bytes, scale));
    let warnings = judge_warnings();
    match result {
        Ok(Ok(luma)) => Ok((luma, warnings?)),
        Ok(Err(e)) => Err(e),
        Err(payload) => {
            let reason = payload
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| payload.downcast_ref::<&str>().copied())
                .unwrap_or("libjpeg error");
            Err(MediaError::Unreadable(format!("JPEG data: {}", reason.trim_start_matches("libjpeg fatal error: "))))
        }
    }
}

/// The DCT scale (numerator over 8) that decodes straight to the working size: the smallest
/// power of two whose output still covers [`WORK_SIDE`] on the long side.
fn jpeg_scale(width: usize, height: usize) -> u8 {
    let long = width.max(height);
    [1u8, 2, 4].into_iter().find(|&n| long * usize::from(n) / 8 >= WORK_SIDE as usize).unwrap_or(8)
}

fn jpeg_luma_unguarded(bytes: &[u8], scale: u8) -> Result<Luma, MediaError> {
    use mozjpeg::{ColorSpace, Decompress};
    let unreadable = |what: &str, e: std::io::Error| MediaError::Unreadable(format!("JPEG {what}: {e}"));
    let mut decompress = Decompress::with_err(collecting_error_mgr()).from_mem(bytes).map_err(|e| unreadable("header", e))?;
    decompress.scale(if scale == 0 { jpeg_scale(decompress.width(), decompress.height()) } else { scale });
    let cmyk = matches!(decompress.color_space(), ColorSpace::JCS_CMYK | ColorSpace::JCS_YCCK);
    let mut started =
        if cmyk { decompress.to_colorspace(ColorSpace::JCS_CMYK) } else { decompress.grayscale() }.map_err(|e| unreadable("data", e))?;
    let (w, h) = (started.width(), started.height());
    let samples: Vec<u8> = started.read_scanlines().map_err(|e| unreadable("data", e))?;
    // Adobe writes CMYK inverted; K alone is a fair stand-in for luma.
    let pixels = if cmyk { samples.chunks_exact(4).map(|p| p[3]).collect() } else { samples };
    if pixels.len() != w * h || pixels.is_empty() {
        return Err(MediaError::Unreadable("JPEG decoded to an unexpected size".into()));
    }
    let (width, height) = (u32::try_from(w), u32::try_from(h));
    match (width, height) {
        (Ok(width), Ok(height)) => Ok(Luma { width, height, pixels }),
        _ => Err(MediaError::Unreadable("JPEG decoded to an unexpected size".into())),
    }
}

/// A warning libjpeg decoded past.
#[derive(Debug, Clone)]
pub(super) struct JpegWarning {
    pub message: String,
    /// The entropy-coded data ran out (`JWRN_HIT_MARKER`, `JWRN_JPEG_EOF`): rows from `row` on
    /// are grey.
    pub data_ran_out: bool,
    /// Output rows finished when it was raised, of `rows`.
    pub row: u32,
    pub rows: u32,
}

std::thread_local! {
    /// The warnings of the decode running on this thread (one at a time per thread).
    static WARNINGS: std::cell::RefCell<Vec<JpegWarning>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The warnings the last decode on this thread raised, emptying the list.
pub(super) fn take_warnings() -> Vec<JpegWarning> {
    WARNINGS.with(|w| std::mem::take(&mut *w.borrow_mut()))
}

/// What the last decode's warnings mean: the notes to keep as evidence, or — when the data ran
/// out before [`MIN_DECODED_ROWS`] of the rows — a truncated file, refused.
pub(super) fn judge_warnings() -> Result<Vec<String>, MediaError> {
    let mut notes = Vec::new();
    for w in take_warnings() {
        if w.data_ran_out {
            // A progressive file is read whole before its first row: it ran out at row 0.
            let share = if w.rows == 0 { 0.0 } else { f64::from(w.row) / f64::from(w.rows) };
            if share < MIN_DECODED_ROWS {
                return Err(MediaError::Unreadable(format!("JPEG data: the data ends at row {} of {} (truncated)", w.row, w.rows)));
            }
            notes.push(format!("libjpeg: {} (at row {} of {}; the rest painted grey)", w.message, w.row, w.rows));
        } else {
            notes.push(format!("libjpeg: {}", w.message));
        }
    }
    notes.dedup();
    Ok(notes)
}

/// libjpeg's error manager: a fatal error unwinds (as mozjpeg's default does); warnings — data
/// that ran out before the last row, extraneous bytes before a marker, a missing end marker —
/// are collected for [`take_warnings`] and decoding goes on, as libjpeg's own tools do. The
/// caller decides what a warning means (see [`MIN_DECODED_ROWS`]).
pub(super) fn collecting_error_mgr() -> mozjpeg_sys::jpeg_error_mgr {
    use mozjpeg_sys::{jpeg_common_struct, jpeg_decompress_struct, jpeg_std_error, JWRN_HIT_MARKER, JWRN_JPEG_EOF};
    use std::os::raw::c_int;

    extern "C-unwind" fn fatal(cinfo: &mut jpeg_common_struct) {
        std::panic::resume_unwind(Box::new(message(cinfo)));
    }
    extern "C-unwind" fn warning(cinfo: &mut jpeg_common_struct, level: c_int) {
        if level >= 0 {
            return; // trace messages
        }
        // SAFETY: libjpeg calls this with the error manager it was created with, set below.
        let code = unsafe { cinfo.err.as_ref() }.map_or(0, |err| err.msg_code);
        let (row, rows) = if cinfo.is_decompressor != 0 {
            // SAFETY: a decompressor's common struct is the head of its jpeg_decompress_struct.
            let d = unsafe { &*(cinfo as *const jpeg_common_struct).cast::<jpeg_decompress_struct>() };
            (d.output_scanline, d.output_height)
        } else {
            (0, 0)
        };
        let warning = JpegWarning {
            message: message(cinfo),
            data_ran_out: code == JWRN_HIT_MARKER as c_int || code == JWRN_JPEG_EOF as c_int,
            row,
            rows,
        };
        WARNINGS.with(|w| {
            let mut w = w.borrow_mut();
            if w.len() < 16 {
                w.push(warning);
            }
        });
    }
    fn message(cinfo: &mut jpeg_common_struct) -> String {
        let mut buffer = [0u8; 200]; // JMSG_LENGTH_MAX
                                     // SAFETY: format_message writes at most JMSG_LENGTH_MAX bytes, NUL-terminated, into buffer.
        unsafe {
            if let Some(format) = cinfo.err.as_ref().and_then(|err| err.format_message) {
                let format: unsafe extern "C-unwind" fn(&mut jpeg_common_struct, *mut u8) = std::mem::transmute(format);
                format(cinfo, buffer.as_mut_ptr());
            }
        }
        let end = buffer.iter().position(|&b| b == 0).unwrap_or(buffer.len());
        String::from_utf8_lossy(&buffer[..end]).into_owned()
    }

    // SAFETY: jpeg_std_error only fills in the struct it is given.
    let mut err: mozjpeg_sys::jpeg_error_mgr = unsafe { std::mem::zeroed() };
    unsafe { jpeg_std_error(&mut err) };
    err.error_exit = Some(fatal);
    err.emit_message = Some(warning);
    err
}

/// Perceptual hashes of an image, for near-duplicate detection across visits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PerceptualHash {
    /// 256-bit difference hash: 16 rows × 16 comparisons of horizontally adjacent cells of a
    /// 17×16 reduction. Survives recompression, resizing and brightness changes.
    pub dhash: [u8; 32],
    /// 64-bit average hash (8×8 cells against their mean): the second opinion that confirms a
    /// dHash match.
    pub ahash: u64,
}

/// Both hashes of a luma image.
pub fn perceptual_hash(luma: &Luma) -> PerceptualHash {
    let grid = resize_box(luma, 17, 16);
    let mut dhash = [0u8; 32];
    for y in 0..16usize {
        for x in 0..16usize {
            if grid.pixels[y * 17 + x] < grid.pixels[y * 17 + x + 1] {
                let bit = y * 16 + x;
                dhash[bit / 8] |= 1 << (bit % 8);
            }
        }
    }
    let small = resize_box(luma, 8, 8);
    let mean = small.pixels.iter().map(|&p| u32::from(p)).sum::<u32>() / 64;
    let ahash = small.pixels.iter().enumerate().fold(0u64, |acc, (i, &p)| if u32::from(p) > mean { acc | 1 << i } else { acc });
    PerceptualHash { dhash, ahash }
}

/// Box-resizes so the long side is at most [`WORK_SIDE`].
fn to_work_size(luma: &Luma) -> Luma {
    reduce_to(luma, WORK_SIDE)
}

/// Box-resizes so the long side is at most `side`, keeping the aspect ratio.
pub(super) fn reduce_to(luma: &Luma, side: u32) -> Luma {
    let long = luma.width.max(luma.height);
    if long <= side {
        return Luma { width: luma.width, height: luma.height, pixels: luma.pixels.clone() };
    }
    let (w, h) = if luma.width >= luma.height {
        (side, ((luma.height as u64 * side as u64) / luma.width as u64).max(1) as u32)
    } else {
        (((luma.width as u64 * side as u64) / luma.height as u64).max(1) as u32, side)
    };
    resize_box(luma, w, h)
}

/// Area-average resize to exactly `w` × `h` (each output pixel averages its source block).
fn resize_box(luma: &Luma, w: u32, h: u32) -> Luma {
    let mut out = vec![0u8; (w * h) as usize];
    for y in 0..h {
        let y0 = (y as u64 * luma.height as u64 / h as u64) as u32;
        let y1 = (((y + 1) as u64 * luma.height as u64 / h as u64) as u32).max(y0 + 1);
        for x in 0..w {
            let x0 = (x as u64 * luma.width as u64 / w as u64) as u32;
            let x1 = (((x + 1) as u64 * luma.width as u64 / w as u64) as u32).max(x0 + 1);
            let mut sum = 0u32;
            for yy in y0..y1 {
                let row = (yy * luma.width) as usize;
                for xx in x0..x1 {
                    sum += u32::from(luma.pixels[row + xx as usize]);
                }
            }
            out[(y * w + x) as usize] = (sum / ((y1 - y0) * (x1 - x0))) as u8;
        }
    }
    Luma { width: w, height: h, pixels: out }
}

/// Brightness, backlight and sharpness of a luma image.
pub fn metrics(luma: &Luma) -> PixelMetrics {
    let img = to_work_size(luma);
    let (w, h) = (img.width as usize, img.height as usize);
    let px = |x: usize, y: usize| f64::from(img.pixels[y * w + x]);
    let (cx0, cx1, cy0, cy1) = (w / 4, w - w / 4, h / 4, h - h / 4);
    let (mut all, mut centre, mut centre_n) = (0.0, 0.0, 0usize);
    for y in 0..h {
        for x in 0..w {
            let v = px(x, y);
            all += v;
            if (cx0..cx1).contains(&x) && (cy0..cy1).contains(&y) {
                centre += v;
                centre_n += 1;
            }
        }
    }
    let n = (w * h).max(1);
    let surround_n = n.saturating_sub(centre_n).max(1);
    let (mut sum, mut sum_sq, mut count) = (0.0, 0.0, 0usize);
    for y in 1..h.saturating_sub(1) {
        for x in 1..w.saturating_sub(1) {
            let lap = px(x - 1, y) + px(x + 1, y) + px(x, y - 1) + px(x, y + 1) - 4.0 * px(x, y);
            sum += lap;
            sum_sq += lap * lap;
            count += 1;
        }
    }
    let sharpness = if count > 0 { sum_sq / count as f64 - (sum / count as f64).powi(2) } else { 0.0 };
    PixelMetrics {
        brightness: all / n as f64,
        centre_brightness: if centre_n > 0 { centre / centre_n as f64 } else { 0.0 },
        surround_brightness: (all - centre) / surround_n as f64,
        sharpness,
        work_width: img.width,
        work_height: img.height,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(w: u32, h: u32, f: impl Fn(u32, u32) -> u8) -> Luma {
        let mut pixels = Vec::with_capacity((w * h) as usize);
        for y in 0..h {
            for x in 0..w {
                pixels.push(f(x, y));
            }
        }
        Luma { width: w, height: h, pixels }
    }

    #[test]
    fn metrics_measure_what_they_say() {
        let flat = metrics(&image(800, 600, |_, _| 40));
        assert!((flat.brightness - 40.0).abs() < 0.01);
        assert!(flat.sharpness < 0.01);
        assert_eq!((flat.work_width, flat.work_height), (384, 288));
        let checker = metrics(&image(800, 600, |x, y| if (x / 2 + y / 2) % 2 == 0 { 0 } else { 255 }));
        assert!(checker.sharpness > 1000.0, "{}", checker.sharpness);
        let backlit = metrics(&image(400, 300, |x, y| if (100..300).contains(&x) && (75..225).contains(&y) { 30 } else { 240 }));
        assert!(backlit.surround_brightness > 200.0 && backlit.centre_brightness < 40.0, "{backlit:?}");
    }

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/photos").join(name)).unwrap()
    }

    #[test]
    fn jpeg_decodes_to_luma_at_the_working_scale() {
        // 3264 × 2448 at 1/8 is 408 × 306: the smallest DCT scale that covers 384 px.
        let luma = decode_luma(&fixture("iphone-6.jpg"), ImageFormat::Jpeg, 1 << 26).unwrap().0.unwrap();
        assert_eq!((luma.width, luma.height), (408, 306));
        // 1 532 px needs the 1/2 scale.
        assert_eq!(jpeg_scale(1532, 1034), 4);
        assert_eq!(jpeg_scale(300, 200), 8);
    }

    #[test]
    fn heic_grid_decodes_whole_to_luma_and_respects_the_pixel_limit() {
        // iPhone 11 Pro: 48 tiles of 512 × 512 make a 3024 × 4032 portrait.
        let bytes = fixture("iphone-11-pro.heic");
        let luma = decode_luma(&bytes, ImageFormat::Heif, 1 << 26).unwrap().0.unwrap();
        assert_eq!((luma.width, luma.height), (576, 768));
        let m = metrics(&luma);
        assert!(m.brightness > 20.0 && m.brightness < 235.0 && m.sharpness > 1.0, "{m:?}");
        match decode_luma(&bytes, ImageFormat::Heif, 3024 * 4000) {
            Err(MediaError::Unreadable(reason)) => assert!(reason.contains("HEIF"), "{reason}"),
            other => panic!("over the pixel limit: {:?}", other.map(|l| l.0.map(|l| (l.width, l.height)))),
        }
        assert!(matches!(decode_luma(&bytes[..bytes.len() / 2], ImageFormat::Heif, 1 << 26), Err(MediaError::Unreadable(_))));
    }

    #[test]
    fn truncated_jpeg_is_unreadable_but_a_missing_end_marker_is_not() {
        let bytes = fixture("iphone-6.jpg");
        for cut in [bytes.len() / 2, bytes.len() * 9 / 10] {
            match decode_luma(&bytes[..cut], ImageFormat::Jpeg, 1 << 26) {
                Err(MediaError::Unreadable(reason)) => assert!(reason.contains("JPEG"), "{reason}"),
                other => panic!("cut at {cut}: {:?}", other.map(|l| l.0.map(|l| (l.width, l.height)))),
            }
        }
        assert!(decode_luma(&bytes[..bytes.len() - 2], ImageFormat::Jpeg, 1 << 26).is_ok(), "only the EOI marker missing");
        let garbage: Vec<u8> = [0xFF, 0xD8, 0xFF, 0xDB].into_iter().chain(std::iter::repeat_n(0x55, 500)).collect();
        assert!(matches!(decode_luma(&garbage, ImageFormat::Jpeg, 1 << 26), Err(MediaError::Unreadable(_))));
    }
}
