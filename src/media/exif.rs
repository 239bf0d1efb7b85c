//! EXIF reading with kamadak-exif: capture time, GPS and the camera's identity.
//!
//! A photo with broken or no EXIF is not an error here: it simply yields empty fields, and the
//! rules turn that into findings (`photo_no_timestamp`, `photo_no_gps`).

use std::io::Cursor;

use chrono::{FixedOffset, NaiveDateTime};
use exif::{In, Reader, Tag, Value};

/// What FieldProof reads from EXIF.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExifInfo {
    /// DateTimeOriginal as written.
    pub datetime_original: Option<String>,
    pub datetime_original_parsed: Option<NaiveDateTime>,
    /// OffsetTimeOriginal as written, when valid.
    pub offset_original: Option<FixedOffset>,
    /// Decimal degrees (latitude, longitude), signed by their reference.
    pub gps: Option<(f64, f64)>,
    /// GPSHPositioningError in metres.
    pub gps_accuracy_m: Option<f64>,
    pub make: Option<String>,
    pub model: Option<String>,
    pub software: Option<String>,
}

/// Reads EXIF from a JPEG, HEIF, PNG or WebP container.
pub fn read(bytes: &[u8]) -> ExifInfo {
    let Ok(exif) = Reader::new().read_from_container(&mut Cursor::new(bytes)) else {
        return ExifInfo::default();
    };
    let ascii = |tag: Tag| -> Option<String> {
        let field = exif.get_field(tag, In::PRIMARY)?;
        match &field.value {
            Value::Ascii(parts) => {
                let s = parts.first().map(|p| String::from_utf8_lossy(p).trim().trim_end_matches('\0').to_string())?;
                (!s.is_empty()).then_some(s)
            }
            _ => None,
        }
    };
    let rational = |tag: Tag| -> Option<Vec<f64>> {
        match &exif.get_field(tag, In::PRIMARY)?.value {
            Value::Rational(v) => Some(v.iter().map(|r| if r.denom == 0 { f64::NAN } else { r.to_f64() }).collect()),
            _ => None,
        }
    };

    let datetime_original = ascii(Tag::DateTimeOriginal);
    let datetime_original_parsed =
        datetime_original.as_deref().and_then(|s| NaiveDateTime::parse_from_str(s, "%Y:%m:%d %H:%M:%S").ok());
    let offset_original = ascii(Tag::OffsetTimeOriginal).and_then(|s| s.parse::<FixedOffset>().ok());

    let coordinate = |value: Tag, reference: Tag, negative: &str| -> Option<f64> {
        let parts = rational(value)?;
        let [deg, min, sec] = parts.get(..3)?.try_into().ok()?;
        let mut decimal = deg + min / 60.0 + sec / 3600.0;
        if ascii(reference).is_some_and(|r| r.eq_ignore_ascii_case(negative)) {
            decimal = -decimal;
        }
        decimal.is_finite().then_some(decimal)
    };
    let gps = match (
        coordinate(Tag::GPSLatitude, Tag::GPSLatitudeRef, "S"),
        coordinate(Tag::GPSLongitude, Tag::GPSLongitudeRef, "W"),
    ) {
        // 0,0 is what some firmwares write when they had no fix.
        (Some(lat), Some(lon)) if (lat, lon) != (0.0, 0.0) && lat.abs() <= 90.0 && lon.abs() <= 180.0 => Some((lat, lon)),
        _ => None,
    };
    let gps_accuracy_m = rational(Tag::GPSHPositioningError).and_then(|v| v.first().copied()).filter(|v| v.is_finite() && *v >= 0.0);

    ExifInfo {
        datetime_original,
        datetime_original_parsed,
        offset_original,
        gps,
        gps_accuracy_m,
        make: ascii(Tag::Make),
        model: ascii(Tag::Model),
        software: ascii(Tag::Software),
    }
}
