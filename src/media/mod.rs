//! Pure photo inspection: sniff the format, read the dimensions from the header, read EXIF and
//! editing markers. (The SHA-256 of the bytes is taken by the caller first: a retried upload is
//! answered from it without inspecting anything.) Synchronous and allocation-bounded; callers run it on a blocking thread
//! behind a semaphore (see `app::photos`).
//!
//! Order, cheapest first, so that a bad file costs little:
//! size cap → magic bytes → a HEIF's item and tile counts → header dimensions (refuse
//! decompression bombs before any decode)
//! → EXIF and editing markers → one reduced-scale grayscale decode → brightness, backlight, blur,
//! perceptual hashes.

pub mod chat;
mod error;
mod exif;
pub mod faces;
mod isobmff;
mod markers;
pub mod ocr;
pub mod pixels;
mod png_rows;
mod sniff;
pub mod thumbnail;
mod xmp;

pub use error::MediaError;
pub use exif::ExifInfo;
pub use markers::{EditMarkers, Quantisation};
pub use pixels::{PerceptualHash, PixelMetrics};
pub use sniff::{sniff, ImageFormat};

/// Limits checked before anything is decoded, and the optional checks to run.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_bytes: u64,
    pub max_side_px: u32,
    pub max_pixels: u64,
    /// Count faces at least this many pixels tall (on the reduced-scale image); `None` skips
    /// face detection (it is only needed for photos with the customer).
    pub faces_min_px: Option<u32>,
}

/// What inspection read from a file.
#[derive(Debug, Clone, PartialEq)]
pub struct Inspection {
    pub format: ImageFormat,
    pub width: u32,
    pub height: u32,
    pub exif: ExifInfo,
    pub markers: EditMarkers,
    /// Brightness, backlight and sharpness.
    pub pixels: Option<PixelMetrics>,
    /// Perceptual hashes for near-duplicate detection; absent with the pixels.
    pub hash: Option<PerceptualHash>,
    /// Frontal faces found, when asked for and the pixels were decoded.
    pub faces: Option<usize>,
    /// What the decoder warned of and decoded past (libjpeg: extraneous bytes before a marker,
    /// data that ends a few rows early): evidence, not a refusal.
    pub decode_warnings: Vec<String>,
    /// What OCR read of a chat screenshot (set by the caller, see [`read_screenshot`]).
    pub chat: Option<ChatOutcome>,
}

/// What became of a screenshot's OCR.
#[derive(Debug, Clone, PartialEq)]
pub enum ChatOutcome {
    Read {
        reading: chat::ChatReading,
        elapsed: std::time::Duration,
        engine: String,
    },
    /// No OCR engine on this server.
    NotInstalled,
    Failed(String),
}

/// The largest screenshot OCR reads.
pub const OCR_MAX_PIXELS: usize = 16_000_000;

/// Reads a chat screenshot with `engine` (`None`: not installed): a full-resolution grayscale
/// decode, OCR, then the chat's parts from the words and their places. `inspection` is the
/// file's own, already made: its size bounds what OCR reads.
pub fn read_screenshot(engine: Option<&ocr::Tesseract>, bytes: &[u8], inspection: &Inspection, max_pixels: u64) -> ChatOutcome {
    let Some(engine) = engine else { return ChatOutcome::NotInstalled };
    // A phone screen is 1–4 MP (a long scrolling capture more); beyond this OCR would cost
    // seconds and hundreds of MB for no chat a person sends.
    let (width, height, format) = (inspection.width, inspection.height, inspection.format);
    if u64::from(width) * u64::from(height) > OCR_MAX_PIXELS as u64 {
        return ChatOutcome::Failed(format!("the screenshot is {width}×{height}; OCR reads up to {OCR_MAX_PIXELS} pixels"));
    }
    let started = std::time::Instant::now();
    let luma = match pixels::decode_full_luma(bytes, format, max_pixels) {
        Ok(l) => l,
        Err(e) => return ChatOutcome::Failed(e.to_string()),
    };
    match engine.read(&luma) {
        Ok(words) => {
            let reading = chat::read_chat(&words, luma.width, luma.height);
            ChatOutcome::Read { reading, elapsed: started.elapsed(), engine: engine.version.clone() }
        }
        Err(e) => ChatOutcome::Failed(e.to_string()),
    }
}

/// What inspecting a file will hold in memory at its peak, in bytes, estimated from its header
/// before anything is decoded (so a memory budget can be taken first, and a file beyond any
/// budget refused without decoding it). A file [`inspect`] refuses before decoding (unknown
/// format, too many bytes, sides or pixels) costs nothing. `full_luma` adds the full-size
/// grayscale copy OCR reads. The per-format figures are measured in SECURITY.md.
pub fn decode_cost(bytes: &[u8], limits: &Limits, full_luma: bool) -> u64 {
    const BASE: u64 = 4 * 1024 * 1024;
    let Some(format) = sniff(bytes).filter(|_| bytes.len() as u64 <= limits.max_bytes) else { return BASE };
    let (width, height) = match imagesize::blob_size(bytes) {
        Ok(size) => (size.width as u64, size.height as u64),
        Err(_) => match markers::jpeg_dimensions(bytes) {
            Some((w, h)) => (u64::from(w), u64::from(h)),
            None => return BASE,
        },
    };
    let pixels = width.saturating_mul(height);
    let side = u64::from(limits.max_side_px);
    if width > side || height > side || pixels > limits.max_pixels {
        return BASE;
    }
    // Per pixel of the full picture, in sixteenths of a byte.
    let sixteenths: u64 = match format {
        // A sequential JPEG is decoded a band at a time, at 1/8 scale (a progressive one's
        // coefficients are added below).
        ImageFormat::Jpeg => 2,
        // Row by row into the reduced picture: one row and the output.
        ImageFormat::Png => 1,
        // image-webp decodes whole: RGBA and the luma taken from it.
        ImageFormat::Webp => 5 * 16,
        // heifer: the decoded frame's planes (16-bit samples), RGBA, luma.
        ImageFormat::Heif => 9 * 16,
    };
    let full = if full_luma { pixels } else { 0 };
    let coefficients = if format == ImageFormat::Jpeg { markers::jpeg_coefficient_bytes(bytes).unwrap_or(0) } else { 0 };
    pixels.saturating_mul(sixteenths) / 16 + full + coefficients + BASE
}

/// Inspects a complete file. `declared` is the client's content type, if it sent a specific one.
///
/// ```
/// let err = fieldproof::media::inspect(b"hello", None, &fieldproof::media::Limits {
///     max_bytes: 1024, max_side_px: 100, max_pixels: 10_000, faces_min_px: None }).unwrap_err();
/// assert_eq!(err.code(), "photo_unsupported_format");
/// ```
pub fn inspect(bytes: &[u8], declared: Option<&str>, limits: &Limits) -> Result<Inspection, MediaError> {
    if bytes.is_empty() {
        return Err(MediaError::Empty);
    }
    if bytes.len() as u64 > limits.max_bytes {
        return Err(MediaError::TooLarge { size: bytes.len() as u64, limit: limits.max_bytes });
    }
    let format = sniff(bytes).ok_or(MediaError::UnsupportedFormat)?;
    if let Some(declared) = declared.map(str::to_ascii_lowercase) {
        if !format.accepts_declared(&declared) {
            return Err(MediaError::TypeMismatch { declared, actual: format.mime() });
        }
    }
    if format == ImageFormat::Heif {
        let counts = isobmff::heif_counts(bytes).unwrap_or_default();
        if counts.items > isobmff::MAX_HEIF_ITEMS || counts.tiles > isobmff::MAX_HEIF_TILES {
            let (max_items, max_tiles) = (isobmff::MAX_HEIF_ITEMS, isobmff::MAX_HEIF_TILES);
            return Err(MediaError::TooManyTiles { items: counts.items, tiles: counts.tiles, max_items, max_tiles });
        }
    }
    let (width, height) = match imagesize::blob_size(bytes) {
        Ok(size) => (u32::try_from(size.width).unwrap_or(u32::MAX), u32::try_from(size.height).unwrap_or(u32::MAX)),
        // libjpeg reads past extraneous bytes before a marker; so does this.
        Err(e) => markers::jpeg_dimensions(bytes).ok_or_else(|| MediaError::Unreadable(e.to_string()))?,
    };
    if width == 0 || height == 0 {
        return Err(MediaError::Unreadable("zero width or height".into()));
    }
    if width > limits.max_side_px || height > limits.max_side_px || u64::from(width) * u64::from(height) > limits.max_pixels {
        return Err(MediaError::DimensionsTooLarge { width, height, max_side: limits.max_side_px, max_pixels: limits.max_pixels });
    }
    let markers = markers::scan(bytes);
    if markers.xmp_bytes > markers::MAX_XMP_BYTES {
        let (size, limit) = (markers.xmp_bytes as u64, markers::MAX_XMP_BYTES as u64);
        return Err(MediaError::MetadataTooLarge { what: "XMP packet", size, limit });
    }
    let mut exif = exif::read(bytes);
    exif.fill_from_xmp(&markers.xmp_exif);
    let (luma, decode_warnings) = pixels::decode_luma(bytes, format, limits.max_pixels)?;
    let hash = luma.as_ref().map(pixels::perceptual_hash);
    let pixels = luma.as_ref().map(pixels::metrics);
    let faces = match (limits.faces_min_px, &luma) {
        (Some(min), Some(l)) => Some(faces::count_faces(l, min)),
        _ => None,
    };
    Ok(Inspection { format, width, height, exif, markers, pixels, hash, faces, decode_warnings, chat: None })
}
