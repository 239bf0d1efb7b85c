//! One reduced-scale grayscale decode, and what the pixels say: brightness, backlight, blur.
//!
//! JPEG takes the fast path: jpeg-decoder's DCT-domain scaling decodes straight to about 1/8 of
//! the size (a 12 MP photo becomes ~500×380), so a check costs about what `djpeg -scale 1/8`
//! costs. PNG and WebP are decoded whole by `image` and reduced. HEIC/HEIF has no pure-Rust
//! decoder: its pixels are not judged (metrics absent), only its metadata.
//!
//! Every metric is computed on the luma image resized to [`WORK_SIDE`] on its long side, so
//! thresholds mean the same for a 2 MP and a 48 MP photo.

use std::io::Cursor;

use serde::{Deserialize, Serialize};

use super::{ImageFormat, MediaError};

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
pub struct Luma {
    pub width: u32,
    pub height: u32,
    pub pixels: Vec<u8>,
}

/// Decodes to reduced-scale luma; `None` for formats whose pixels are not judged (HEIF).
pub fn decode_luma(bytes: &[u8], format: ImageFormat) -> Result<Option<Luma>, MediaError> {
    match format {
        ImageFormat::Jpeg => jpeg_luma(bytes).map(Some),
        ImageFormat::Png | ImageFormat::Webp => {
            let fmt = if format == ImageFormat::Png { image::ImageFormat::Png } else { image::ImageFormat::WebP };
            let mut reader = image::ImageReader::with_format(Cursor::new(bytes), fmt);
            let mut limits = image::Limits::default();
            limits.max_alloc = Some(512 * 1024 * 1024);
            reader.limits(limits);
            let img = reader.decode().map_err(|e| MediaError::Unreadable(format!("decoding: {e}")))?;
            let small = img.thumbnail(WORK_SIDE * 2, WORK_SIDE * 2).to_luma8();
            Ok(Some(Luma { width: small.width(), height: small.height(), pixels: small.into_raw() }))
        }
        ImageFormat::Heif => Ok(None),
    }
}

fn jpeg_luma(bytes: &[u8]) -> Result<Luma, MediaError> {
    let mut decoder = jpeg_decoder::Decoder::new(Cursor::new(bytes));
    decoder.read_info().map_err(|e| MediaError::Unreadable(format!("JPEG header: {e}")))?;
    // Ask for the smallest DCT scale that still covers the working size.
    decoder.scale(WORK_SIDE as u16, WORK_SIDE as u16).map_err(|e| MediaError::Unreadable(format!("JPEG scale: {e}")))?;
    let pixels = decoder.decode().map_err(|e| MediaError::Unreadable(format!("JPEG data: {e}")))?;
    let info = decoder.info().ok_or_else(|| MediaError::Unreadable("JPEG without frame info".into()))?;
    let (w, h) = (u32::from(info.width), u32::from(info.height));
    let count = (w as usize) * (h as usize);
    let luma: Vec<u8> = match info.pixel_format {
        jpeg_decoder::PixelFormat::L8 => pixels,
        jpeg_decoder::PixelFormat::L16 => pixels.chunks_exact(2).map(|p| p[0]).collect(),
        jpeg_decoder::PixelFormat::RGB24 => pixels
            .chunks_exact(3)
            .map(|p| ((u32::from(p[0]) * 77 + u32::from(p[1]) * 150 + u32::from(p[2]) * 29) >> 8) as u8)
            .collect(),
        jpeg_decoder::PixelFormat::CMYK32 => pixels.chunks_exact(4).map(|p| 255 - p[3]).collect(),
    };
    if luma.len() != count || count == 0 {
        return Err(MediaError::Unreadable("JPEG decoded to an unexpected size".into()));
    }
    Ok(Luma { width: w, height: h, pixels: luma })
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
    let long = luma.width.max(luma.height);
    if long <= WORK_SIDE {
        return Luma { width: luma.width, height: luma.height, pixels: luma.pixels.clone() };
    }
    let (w, h) = if luma.width >= luma.height {
        (WORK_SIDE, ((luma.height as u64 * WORK_SIDE as u64) / luma.width as u64).max(1) as u32)
    } else {
        (((luma.width as u64 * WORK_SIDE as u64) / luma.height as u64).max(1) as u32, WORK_SIDE)
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
}
