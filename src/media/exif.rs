//! EXIF reading with kamadak-exif: capture time, GPS, the camera's identity and the fields that
//! betray editing.
//!
//! A photo with broken or no EXIF is not an error here: it yields what could be read
//! (`continue_on_error`), and the rules turn absences into findings (`photo_no_timestamp`,
//! `photo_no_gps`). Two container quirks are handled: WebP files whose EXIF chunk starts with the
//! JPEG-style `Exif\0\0` prefix, and HEIC files that keep their EXIF at the end (kamadak-exif
//! follows the `iloc` offsets wherever they point).

use std::io::Cursor;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use exif::{Exif, In, Reader, Tag, Value};

/// What FieldProof reads from EXIF.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExifInfo {
    /// DateTimeOriginal as written.
    pub datetime_original: Option<String>,
    /// DateTimeOriginal with SubSecTimeOriginal, as local time of the camera.
    pub datetime_original_parsed: Option<NaiveDateTime>,
    /// OffsetTimeOriginal as written, when valid.
    pub offset_original: Option<FixedOffset>,
    /// DateTime (the "ModifyDate"), as local time of the camera.
    pub modify_date: Option<NaiveDateTime>,
    /// Decimal degrees (latitude, longitude), signed by their reference.
    pub gps: Option<(f64, f64)>,
    /// Metres above sea level (negative below).
    pub gps_altitude_m: Option<f64>,
    /// GPSDateStamp + GPSTimeStamp: the satellite clock, in UTC.
    pub gps_time: Option<DateTime<Utc>>,
    /// GPSHPositioningError in metres.
    pub gps_accuracy_m: Option<f64>,
    /// GPSDOP (dilution of precision), when no positioning error is given.
    pub gps_dop: Option<f64>,
    pub make: Option<String>,
    pub model: Option<String>,
    pub software: Option<String>,
    pub orientation: Option<u16>,
    /// PixelXDimension / PixelYDimension: what the camera says it wrote.
    pub declared_width: Option<u32>,
    pub declared_height: Option<u32>,
    /// Whether IFD1 holds a thumbnail.
    pub has_thumbnail: bool,
    /// Fields kamadak-exif could not read and skipped.
    pub skipped_errors: usize,
    /// Where the capture time came from: `exif`, or `xmp` when only the XMP packet had it.
    pub time_source: Option<&'static str>,
    /// Where the GPS position came from: `exif` or `xmp`.
    pub gps_source: Option<&'static str>,
}

impl ExifInfo {
    /// Fills what EXIF lacks from the XMP packet's EXIF namespace (some phones and action or
    /// thermal cameras write capture time and GPS only there), recording the source.
    pub fn fill_from_xmp(&mut self, xmp: &super::xmp::XmpExif) {
        if self.datetime_original_parsed.is_none() && xmp.datetime_original_parsed.is_some() {
            self.datetime_original = xmp.datetime_original.clone();
            self.datetime_original_parsed = xmp.datetime_original_parsed;
            self.offset_original = self.offset_original.or(xmp.offset_original);
            self.time_source = Some("xmp");
        }
        if self.gps.is_none() && xmp.gps.is_some() {
            self.gps = xmp.gps;
            self.gps_altitude_m = self.gps_altitude_m.or(xmp.gps_altitude_m);
            self.gps_time = self.gps_time.or(xmp.gps_time);
            self.gps_source = Some("xmp");
        }
        if self.make.is_none() && self.model.is_none() {
            self.make = xmp.make.clone();
            self.model = xmp.model.clone();
        }
    }
}

/// Reads EXIF from a JPEG, HEIF, PNG or WebP container.
pub fn read(bytes: &[u8]) -> ExifInfo {
    let mut reader = Reader::new();
    reader.continue_on_error(true);
    let parsed = match reader.read_from_container(&mut Cursor::new(bytes)) {
        Ok(exif) => Some((exif, 0)),
        Err(e) => {
            let mut skipped = 0;
            match e.distill_partial_result(|errors| skipped = errors.len()) {
                Ok(exif) => Some((exif, skipped)),
                Err(_) => webp_with_jpeg_prefix(bytes, &reader),
            }
        }
    };
    match parsed {
        Some((exif, skipped)) => extract(&exif, skipped),
        None => ExifInfo::default(),
    }
}

/// Some WebP writers store `Exif\0\0` + TIFF in the EXIF chunk; the standard wants TIFF alone.
fn webp_with_jpeg_prefix(bytes: &[u8], reader: &Reader) -> Option<(Exif, usize)> {
    if bytes.len() < 12 || &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WEBP" {
        return None;
    }
    let mut pos = 12usize;
    while pos + 8 <= bytes.len() {
        let fourcc = &bytes[pos..pos + 4];
        let size = u32::from_le_bytes(bytes[pos + 4..pos + 8].try_into().ok()?) as usize;
        let start = pos + 8;
        let end = start.checked_add(size)?.min(bytes.len());
        if fourcc == b"EXIF" {
            let payload = &bytes[start..end];
            let tiff = payload.strip_prefix(b"Exif\0\0").unwrap_or(payload);
            return match reader.read_raw(tiff.to_vec()) {
                Ok(exif) => Some((exif, 0)),
                Err(e) => e.distill_partial_result(|_| {}).ok().map(|exif| (exif, 1)),
            };
        }
        pos = start.checked_add(size)?.checked_add(size % 2)?;
    }
    None
}

fn extract(exif: &Exif, skipped_errors: usize) -> ExifInfo {
    let ascii = |tag: Tag| -> Option<String> {
        let field = exif.get_field(tag, In::PRIMARY)?;
        match &field.value {
            Value::Ascii(parts) => {
                let s =
                    parts.first().map(|p| String::from_utf8_lossy(p).trim_matches(|c: char| c == '\0' || c.is_whitespace()).to_string())?;
                (!s.is_empty()).then_some(s)
            }
            _ => None,
        }
    };
    let rational = |tag: Tag| numbers(&exif.get_field(tag, In::PRIMARY)?.value);
    let uint = |tag: Tag| exif.get_field(tag, In::PRIMARY).and_then(|f| f.value.get_uint(0));

    let datetime_original = ascii(Tag::DateTimeOriginal);
    let subsec = ascii(Tag::SubSecTimeOriginal).filter(|s| s.bytes().all(|b| b.is_ascii_digit()));
    let datetime_original_parsed = datetime_original.as_deref().and_then(parse_exif_datetime).map(|t| match &subsec {
        Some(digits) => with_subsec(t, digits),
        None => t,
    });
    let offset_original = ascii(Tag::OffsetTimeOriginal).and_then(|s| s.parse::<FixedOffset>().ok());

    let coordinate = |value: Tag, reference: Tag, negative: &str| -> Option<f64> {
        let decimal = degrees(&rational(value)?)?;
        // A signed value carries its own sign (exiftool keeps it); a reference of S or W
        // makes a positive one negative.
        let south_or_west = ascii(reference).is_some_and(|r| r.trim().to_ascii_uppercase().starts_with(negative));
        Some(if south_or_west && decimal > 0.0 { -decimal } else { decimal })
    };
    let gps = match (coordinate(Tag::GPSLatitude, Tag::GPSLatitudeRef, "S"), coordinate(Tag::GPSLongitude, Tag::GPSLongitudeRef, "W")) {
        // 0,0 is what some firmwares write when they had no fix.
        (Some(lat), Some(lon)) if (lat, lon) != (0.0, 0.0) && lat.abs() <= 90.0 && lon.abs() <= 180.0 => Some((lat, lon)),
        _ => None,
    };
    let first_finite = |tag: Tag| rational(tag).and_then(|v| v.first().copied()).filter(|v| v.is_finite() && *v >= 0.0);
    let gps_altitude_m =
        first_finite(Tag::GPSAltitude).map(|alt| if uint(Tag::GPSAltitudeRef) == Some(1) && alt != 0.0 { -alt } else { alt });
    let gps_time = ascii(Tag::GPSDateStamp).and_then(|d| NaiveDate::parse_from_str(&d, "%Y:%m:%d").ok()).and_then(|date| {
        let hms = rational(Tag::GPSTimeStamp)?;
        let (h, m, s) = (*hms.first()?, hms.get(1).copied().unwrap_or(0.0), hms.get(2).copied().unwrap_or(0.0));
        if !(0.0..24.0).contains(&h) || !(0.0..60.0).contains(&m) || !(0.0..61.0).contains(&s) {
            return None;
        }
        let secs = h * 3600.0 + m * 60.0 + s;
        let whole = secs.floor() as u32;
        let nanos = ((secs - secs.floor()) * 1e9).round().min(999_999_999.0) as u32;
        let time = NaiveTime::from_num_seconds_from_midnight_opt(whole.min(86_399), nanos)?;
        Some(date.and_time(time).and_utc())
    });

    ExifInfo {
        datetime_original,
        datetime_original_parsed,
        offset_original,
        modify_date: ascii(Tag::DateTime).as_deref().and_then(parse_exif_datetime),
        gps,
        gps_altitude_m,
        gps_time,
        gps_accuracy_m: first_finite(Tag::GPSHPositioningError),
        gps_dop: first_finite(Tag::GPSDOP),
        make: ascii(Tag::Make),
        model: ascii(Tag::Model),
        software: ascii(Tag::Software),
        orientation: uint(Tag::Orientation).and_then(|o| u16::try_from(o).ok()),
        declared_width: uint(Tag::PixelXDimension),
        declared_height: uint(Tag::PixelYDimension),
        has_thumbnail: exif.get_field(Tag::JPEGInterchangeFormat, In::THUMBNAIL).is_some(),
        skipped_errors,
        time_source: datetime_original_parsed.map(|_| "exif"),
        gps_source: gps.map(|_| "exif"),
    }
}

/// A field's numbers whatever type it was written with: RATIONAL as the standard wants, and
/// SRATIONAL, SHORT, LONG, their signed forms, FLOAT and DOUBLE as some phones write them (exiftool
/// reads them all). A zero denominator gives NaN, which the callers refuse.
fn numbers(value: &Value) -> Option<Vec<f64>> {
    let ratio = |n: f64, d: f64| if d == 0.0 { f64::NAN } else { n / d };
    let v: Vec<f64> = match value {
        Value::Rational(v) => v.iter().map(|r| ratio(f64::from(r.num), f64::from(r.denom))).collect(),
        Value::SRational(v) => v.iter().map(|r| ratio(f64::from(r.num), f64::from(r.denom))).collect(),
        Value::Short(v) => v.iter().map(|&n| f64::from(n)).collect(),
        Value::Long(v) => v.iter().map(|&n| f64::from(n)).collect(),
        Value::Byte(v) => v.iter().map(|&n| f64::from(n)).collect(),
        Value::SShort(v) => v.iter().map(|&n| f64::from(n)).collect(),
        Value::SLong(v) => v.iter().map(|&n| f64::from(n)).collect(),
        Value::SByte(v) => v.iter().map(|&n| f64::from(n)).collect(),
        Value::Float(v) => v.iter().map(|&n| f64::from(n)).collect(),
        Value::Double(v) => v.clone(),
        _ => return None,
    };
    (!v.is_empty()).then_some(v)
}

/// Degrees from one to three numbers (degrees; degrees and minutes; degrees, minutes and
/// seconds), as exiftool accepts them: a count other than three is read as far as it goes.
/// The sign of the degrees applies to the whole.
fn degrees(parts: &[f64]) -> Option<f64> {
    let deg = *parts.first()?;
    let min = parts.get(1).copied().unwrap_or(0.0);
    let sec = parts.get(2).copied().unwrap_or(0.0);
    let magnitude = deg.abs() + min.abs() / 60.0 + sec.abs() / 3600.0;
    let decimal = if deg < 0.0 || (deg == 0.0 && (min < 0.0 || sec < 0.0)) { -magnitude } else { magnitude };
    decimal.is_finite().then_some(decimal)
}

/// `YYYY:MM:DD HH:MM:SS`, also with `-` date separators or a `T`, as some writers do.
fn parse_exif_datetime(s: &str) -> Option<NaiveDateTime> {
    let s = s.get(..19)?;
    ["%Y:%m:%d %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y:%m:%dT%H:%M:%S"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
}

fn with_subsec(t: NaiveDateTime, digits: &str) -> NaiveDateTime {
    let digits = &digits[..digits.len().min(9)];
    let nanos = digits.parse::<u32>().unwrap_or(0) * 10u32.pow(9 - digits.len() as u32);
    t.with_nanosecond_checked(nanos)
}

trait WithNanos {
    fn with_nanosecond_checked(self, nanos: u32) -> NaiveDateTime;
}

impl WithNanos for NaiveDateTime {
    fn with_nanosecond_checked(self, nanos: u32) -> NaiveDateTime {
        use chrono::Timelike;
        self.with_nanosecond(nanos).unwrap_or(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A JPEG whose EXIF IFDs loop (IFD0's next IFD is IFD0; and IFD0's Exif pointer points at
    /// IFD0): kamadak-exif refuses an IFD it has visited, so the read ends at once, keeping what
    /// it read before the loop.
    #[test]
    fn an_ifd_loop_ends_the_read() {
        let loops: [&[u8]; 2] = [
            b"MM\0\x2a\0\0\0\x08\0\x01\x01\0\0\x03\0\0\0\x01\0\x14\0\0\0\0\0\x08",
            b"MM\0\x2a\0\0\0\x08\0\x02\x01\x0f\0\x02\0\0\0\x04ACM\0\x87\x69\0\x04\0\0\0\x01\0\0\0\x08\0\0\0\0",
        ];
        for tiff in loops {
            let mut app1 = b"Exif\0\0".to_vec();
            app1.extend_from_slice(tiff);
            let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE1];
            jpeg.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
            jpeg.extend_from_slice(&app1);
            jpeg.extend_from_slice(&[0xFF, 0xD9]);
            let started = std::time::Instant::now();
            let info = read(&jpeg);
            assert!(started.elapsed() < std::time::Duration::from_secs(1));
            assert_eq!(info.datetime_original, None);
        }
    }

    #[test]
    fn exif_datetimes_in_their_spellings() {
        let cases = [
            ("2017:02:09 19:51:38", Some("2017-02-09T19:51:38")),
            ("2015-06-29T18:19:12+01:00", Some("2015-06-29T18:19:12")),
            ("2014:09:16 14:05:12\0", Some("2014-09-16T14:05:12")),
            ("    :  :     :  :  ", None),
            ("2014:13:40 99:00:00", None),
            ("", None),
        ];
        for (input, expected) in cases {
            let got = parse_exif_datetime(input).map(|t| t.format("%Y-%m-%dT%H:%M:%S").to_string());
            assert_eq!(got.as_deref(), expected, "{input:?}");
        }
        let t = parse_exif_datetime("2017:02:09 19:51:38").unwrap();
        assert_eq!(with_subsec(t, "05").format("%.3f").to_string(), ".050");
    }

    #[test]
    fn webp_exif_with_a_jpeg_style_prefix_is_read() {
        // The HTC photo's EXIF (its APP1 payload) inside a WebP EXIF chunk, prefix and all.
        let jpeg: &[u8] = include_bytes!("../../fixtures/photos/htc-one-m8-no-gps.jpg");
        assert_eq!(&jpeg[2..4], &[0xFF, 0xE1]);
        let len = usize::from(u16::from_be_bytes([jpeg[4], jpeg[5]]));
        let app1 = &jpeg[6..4 + len];
        assert!(app1.starts_with(b"Exif\0\0"));
        let mut chunk = b"EXIF".to_vec();
        chunk.extend_from_slice(&(app1.len() as u32).to_le_bytes());
        chunk.extend_from_slice(app1);
        if app1.len() % 2 == 1 {
            chunk.push(0);
        }
        let mut webp = b"RIFF".to_vec();
        webp.extend_from_slice(&((4 + chunk.len()) as u32).to_le_bytes());
        webp.extend_from_slice(b"WEBP");
        webp.extend_from_slice(&chunk);
        let info = read(&webp);
        assert_eq!(info.datetime_original.as_deref(), Some("2014:03:25 17:14:14"));
        assert_eq!(info.make.as_deref(), Some("HTC"));
    }

    #[test]
    fn garbage_has_no_exif() {
        for bytes in [&b"\xFF\xD8\xFF\xE1\x00\x10Exif\0\0MM\0*garbage"[..], b"RIFF\x20\0\0\0WEBPEXIF\x08\0\0\0Exif\0\0MM"] {
            assert_eq!(ExifInfo { skipped_errors: 0, ..read(bytes) }, ExifInfo::default());
        }
    }
}
