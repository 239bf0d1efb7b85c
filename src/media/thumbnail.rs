//! The console's thumbnail of a photo: about [`THUMB_SIDE`] px on the long side, the EXIF
//! orientation applied, no metadata at all (a fresh JPEG carries no EXIF, so no GPS), and at
//! most [`THUMB_MAX_BYTES`]. A JPEG is decoded by libjpeg at the smallest DCT scale that still
//! covers the size (a 12 MP photo decodes at 1/4), so making one costs about a check.

use image::imageops::FilterType;
use image::RgbImage;

use super::error::MediaError;
use super::sniff::ImageFormat;

/// Long side of a thumbnail, in pixels.
pub const THUMB_SIDE: u32 = 480;
/// Largest thumbnail, in bytes: quality steps down until the JPEG fits.
pub const THUMB_MAX_BYTES: usize = 40 * 1024;
const QUALITIES: [f32; 5] = [78.0, 70.0, 60.0, 50.0, 40.0];

/// A JPEG thumbnail of a photo that passed inspection (`max_pixels` bounds the HEIF decode as it
/// does there).
pub fn thumbnail(bytes: &[u8], max_pixels: u64) -> Result<Vec<u8>, MediaError> {
    let format = super::sniff::sniff(bytes).ok_or(MediaError::UnsupportedFormat)?;
    thumbnail_of(bytes, format, super::exif::read(bytes).orientation, max_pixels)
}

/// [`thumbnail`] of a file of a known format; `orientation` is its EXIF orientation (1–8),
/// applied to the pixels.
fn thumbnail_of(bytes: &[u8], format: ImageFormat, orientation: Option<u16>, max_pixels: u64) -> Result<Vec<u8>, MediaError> {
    let rgb = match format {
        ImageFormat::Jpeg => {
            let _ = super::pixels::take_warnings();
            let rgb = guarded(|| jpeg_rgb(bytes));
            // The same rule as the check's decode: a file cut short is refused, a warning kept.
            super::pixels::judge_warnings()?;
            rgb?
        }
        ImageFormat::Png => {
            // Reduced while decoding to twice the thumbnail (the filter below makes the rest).
            let (w, h, rgb) = super::png_rows::png_reduced(bytes, Some(THUMB_SIDE * 2), super::png_rows::Output::Rgb)?;
            RgbImage::from_raw(w, h, rgb).ok_or_else(|| MediaError::Unreadable("PNG decoded to an unexpected size".into()))?
        }
        ImageFormat::Webp => super::pixels::decode_image(bytes, format)?.to_rgb8(),
        ImageFormat::Heif => {
            let decoded = super::pixels::decode_heif(bytes, max_pixels)?;
            let rgb: Vec<u8> = decoded.data.chunks_exact(4).flat_map(|p| [p[0], p[1], p[2]]).collect();
            RgbImage::from_raw(decoded.width, decoded.height, rgb)
                .ok_or_else(|| MediaError::Unreadable("HEIF decoded to an unexpected size".into()))?
        }
    };
    // HEIF's rotation is in its container (heifer applies it); its EXIF orientation must not be
    // applied again.
    let orientation = if format == ImageFormat::Heif { None } else { orientation };
    let small = oriented(shrink(rgb), orientation);
    guarded(|| encode_within(&small))
}

/// Runs libjpeg work, turning its unwinding fatal errors into `Unreadable`.
fn guarded<T>(work: impl FnOnce() -> Result<T, MediaError> + std::panic::UnwindSafe) -> Result<T, MediaError> {
    std::panic::catch_unwind(work).unwrap_or_else(|payload| {
        let reason = payload.downcast_ref::<String>().map(String::as_str).or_else(|| payload.downcast_ref::<&str>().copied());
        Err(MediaError::Unreadable(format!("JPEG data: {}", reason.unwrap_or("libjpeg error"))))
    })
}

fn jpeg_rgb(bytes: &[u8]) -> Result<RgbImage, MediaError> {
    use mozjpeg::{ColorSpace, Decompress};
    let unreadable = |what: &str, e: std::io::Error| MediaError::Unreadable(format!("JPEG {what}: {e}"));
    let mut decompress =
        Decompress::with_err(super::pixels::collecting_error_mgr()).from_mem(bytes).map_err(|e| unreadable("header", e))?;
    let long = decompress.width().max(decompress.height());
    let scale = [1u8, 2, 4].into_iter().find(|&n| long * usize::from(n) / 8 >= THUMB_SIDE as usize).unwrap_or(8);
    decompress.scale(scale);
    let cmyk = matches!(decompress.color_space(), ColorSpace::JCS_CMYK | ColorSpace::JCS_YCCK);
    let mut started =
        if cmyk { decompress.to_colorspace(ColorSpace::JCS_CMYK) } else { decompress.rgb() }.map_err(|e| unreadable("data", e))?;
    let (w, h) = (started.width(), started.height());
    let samples: Vec<u8> = started.read_scanlines().map_err(|e| unreadable("data", e))?;
    let rgb = if cmyk {
        // Adobe's inverted CMYK: each channel times K.
        samples.chunks_exact(4).flat_map(|p| [p[0], p[1], p[2]].map(|c| (u16::from(c) * u16::from(p[3]) / 255) as u8)).collect()
    } else {
        samples
    };
    let (Ok(w), Ok(h)) = (u32::try_from(w), u32::try_from(h)) else {
        return Err(MediaError::Unreadable("JPEG decoded to an unexpected size".into()));
    };
    RgbImage::from_raw(w, h, rgb).ok_or_else(|| MediaError::Unreadable("JPEG decoded to an unexpected size".into()))
}

/// Resized to [`THUMB_SIDE`] on the long side (never enlarged).
fn shrink(img: RgbImage) -> RgbImage {
    let (w, h) = img.dimensions();
    let long = w.max(h);
    if long <= THUMB_SIDE {
        return img;
    }
    let (nw, nh) = if w >= h {
        (THUMB_SIDE, ((u64::from(h) * u64::from(THUMB_SIDE)) / u64::from(w)).max(1) as u32)
    } else {
        (((u64::from(w) * u64::from(THUMB_SIDE)) / u64::from(h)).max(1) as u32, THUMB_SIDE)
    };
    image::imageops::resize(&img, nw, nh, FilterType::Triangle)
}

/// The pixels turned as EXIF orientation 1–8 says they should be shown.
fn oriented(img: RgbImage, orientation: Option<u16>) -> RgbImage {
    use image::imageops::{flip_horizontal, flip_vertical, rotate180, rotate270, rotate90};
    match orientation.unwrap_or(1) {
        2 => flip_horizontal(&img),
        3 => rotate180(&img),
        4 => flip_vertical(&img),
        5 => flip_horizontal(&rotate90(&img)),
        6 => rotate90(&img),
        7 => flip_horizontal(&rotate270(&img)),
        8 => rotate270(&img),
        _ => img,
    }
}

/// A baseline JPEG at the best quality of [`QUALITIES`] that fits [`THUMB_MAX_BYTES`].
fn encode_within(img: &RgbImage) -> Result<Vec<u8>, MediaError> {
    let mut last = Vec::new();
    for quality in QUALITIES {
        last = encode(img, quality)?;
        if last.len() <= THUMB_MAX_BYTES {
            break;
        }
    }
    Ok(last)
}

fn encode(img: &RgbImage, quality: f32) -> Result<Vec<u8>, MediaError> {
    let failed = |e: std::io::Error| MediaError::Unreadable(format!("encoding the thumbnail: {e}"));
    let mut compress = mozjpeg::Compress::new(mozjpeg::ColorSpace::JCS_RGB);
    // libjpeg-turbo's fast path (no trellis quantisation, which costs several times the rest
    // for a few per cent of size), with optimised Huffman tables, which cost little.
    compress.set_fastest_defaults();
    compress.set_optimize_coding(true);
    compress.set_size(img.width() as usize, img.height() as usize);
    compress.set_quality(quality);
    let mut started = compress.start_compress(Vec::with_capacity(THUMB_MAX_BYTES)).map_err(failed)?;
    started.write_scanlines(img.as_raw()).map_err(failed)?;
    started.finish().map_err(failed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn jpeg(w: u32, h: u32) -> Vec<u8> {
        // A gradient with detail, as a phone photo has.
        let img = RgbImage::from_fn(w, h, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, ((x * y) % 251) as u8]));
        encode(&img, 90.0).unwrap()
    }

    fn size_of(bytes: &[u8]) -> (u32, u32) {
        let s = imagesize::blob_size(bytes).unwrap();
        (s.width as u32, s.height as u32)
    }

    #[test]
    fn a_large_photo_becomes_a_small_jpeg_of_the_long_side() {
        let thumb = thumbnail(&jpeg(4000, 3000), 50_000_000).unwrap();
        assert_eq!(size_of(&thumb), (480, 360));
        assert!(thumb.len() <= THUMB_MAX_BYTES, "{} bytes", thumb.len());
        assert!(crate::media::exif::read(&thumb).orientation.is_none(), "no EXIF carried over");
    }

    #[test]
    fn orientation_is_applied() {
        let thumb = thumbnail_of(&jpeg(1600, 1200), ImageFormat::Jpeg, Some(6), 50_000_000).unwrap();
        assert_eq!(size_of(&thumb), (360, 480), "rotated a quarter turn");
        let thumb = thumbnail_of(&jpeg(1600, 1200), ImageFormat::Jpeg, Some(3), 50_000_000).unwrap();
        assert_eq!(size_of(&thumb), (480, 360));
    }

    #[test]
    fn small_photos_are_not_enlarged_and_png_works() {
        let img = RgbImage::from_pixel(300, 200, image::Rgb([10, 200, 30]));
        let mut png = Vec::new();
        img.write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png).unwrap();
        let thumb = thumbnail(&png, 50_000_000).unwrap();
        assert_eq!(size_of(&thumb), (300, 200));
    }

    #[test]
    fn a_truncated_jpeg_is_unreadable_not_a_panic() {
        let bytes = jpeg(1600, 1200);
        let err = thumbnail(&bytes[..bytes.len() / 3], 50_000_000).unwrap_err();
        assert!(matches!(err, MediaError::Unreadable(_)), "{err:?}");
    }
}
