//! The EXIF facts some cameras write only in XMP: `exif:DateTimeOriginal`, `exif:GPSLatitude`
//! and `exif:GPSLongitude` (XMP's own spelling, `47,12.4274N`), `exif:GPSAltitude`,
//! `exif:GPSTimeStamp`, and `tiff:Make` / `tiff:Model`. Read as exiftool reads them: the prefix
//! is whatever the packet binds to the namespace URI, and a property may be an attribute
//! (`exif:DateTimeOriginal="…"`) or an element (`<exif:DateTimeOriginal>…</…>`).

use chrono::{DateTime, FixedOffset, NaiveDateTime, Utc};

/// EXIF facts found in an XMP packet.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct XmpExif {
    /// `exif:DateTimeOriginal`, rewritten in EXIF's spelling (`YYYY:MM:DD HH:MM:SS`).
    pub datetime_original: Option<String>,
    /// The same, as local time of the camera (fractional seconds kept).
    pub datetime_original_parsed: Option<NaiveDateTime>,
    /// The offset XMP dates carry with them (`2020-05-04T18:39:11-04:00`).
    pub offset_original: Option<FixedOffset>,
    pub gps: Option<(f64, f64)>,
    pub gps_altitude_m: Option<f64>,
    pub gps_time: Option<DateTime<Utc>>,
    pub make: Option<String>,
    pub model: Option<String>,
}

const EXIF_NS: &str = "http://ns.adobe.com/exif/1.0/";
const TIFF_NS: &str = "http://ns.adobe.com/tiff/1.0/";

/// Reads the EXIF and TIFF namespaces of an XMP packet's text.
pub fn read_exif(text: &str) -> XmpExif {
    let exif = prefix_of(text, EXIF_NS).unwrap_or("exif");
    let tiff = prefix_of(text, TIFF_NS).unwrap_or("tiff");
    let get = |prefix: &str, name: &str| property(text, &format!("{prefix}:{name}"));

    let (datetime_original_parsed, offset_original) = get(exif, "DateTimeOriginal").as_deref().and_then(parse_xmp_date).unzip();
    let coordinate = |name: &str| get(exif, name).as_deref().and_then(parse_coordinate);
    let gps = match (coordinate("GPSLatitude"), coordinate("GPSLongitude")) {
        (Some(lat), Some(lon)) if (lat, lon) != (0.0, 0.0) && lat.abs() <= 90.0 && lon.abs() <= 180.0 => Some((lat, lon)),
        _ => None,
    };
    let below_sea = get(exif, "GPSAltitudeRef").is_some_and(|r| r.trim() == "1");
    let gps_altitude_m = get(exif, "GPSAltitude").as_deref().and_then(parse_number).filter(|a| a.is_finite() && *a >= 0.0).map(|a| {
        if below_sea && a != 0.0 {
            -a
        } else {
            a
        }
    });
    let gps_time = get(exif, "GPSTimeStamp").and_then(|s| DateTime::parse_from_rfc3339(s.trim()).ok()).map(|t| t.with_timezone(&Utc));
    XmpExif {
        datetime_original: datetime_original_parsed.map(|t| t.format("%Y:%m:%d %H:%M:%S").to_string()),
        datetime_original_parsed,
        offset_original: offset_original.flatten(),
        gps,
        gps_altitude_m,
        gps_time,
        make: get(tiff, "Make"),
        model: get(tiff, "Model"),
    }
}

/// The prefix a packet binds to `uri` (`xmlns:exif="http://ns.adobe.com/exif/1.0/"`).
fn prefix_of<'a>(text: &'a str, uri: &str) -> Option<&'a str> {
    let mut rest = text;
    while let Some(i) = rest.find("xmlns:") {
        let after = &rest[i + "xmlns:".len()..];
        let name_end = after.find(|c: char| c == '=' || c.is_whitespace())?;
        let value = after[name_end..].trim_start().strip_prefix('=').map(str::trim_start);
        if let Some(v) = value {
            let quoted = v.strip_prefix('"').or_else(|| v.strip_prefix('\''));
            if quoted.is_some_and(|q| q.starts_with(uri)) {
                return Some(&after[..name_end]);
            }
        }
        rest = &after[name_end..];
    }
    None
}

/// The first value of `name` written as an attribute (`name="v"`) or an element
/// (`<name>v</name>`). A longer name that starts with this one does not match.
fn property(text: &str, name: &str) -> Option<String> {
    let mut rest = text;
    while let Some(i) = rest.find(name) {
        let before = rest[..i].chars().next_back();
        let after = &rest[i + name.len()..];
        rest = after;
        if before.is_some_and(|c| c.is_alphanumeric() || c == ':' || c == '/') {
            continue; // inside another name, or a closing tag
        }
        let trimmed = after.trim_start();
        let value = if let Some(r) = trimmed.strip_prefix('=') {
            let r = r.trim_start();
            let Some(quote) = r.chars().next().filter(|c| *c == '"' || *c == '\'') else { continue };
            let r = &r[1..];
            r.find(quote).map(|end| &r[..end])
        } else if let Some(r) = after.strip_prefix('>') {
            r.find('<').map(|end| &r[..end])
        } else {
            None
        };
        if let Some(v) = value.map(str::trim).filter(|v| !v.is_empty() && v.len() <= 200) {
            return Some(v.to_string());
        }
    }
    None
}

/// An XMP date (ISO 8601: `2020-05-04T18:39:11.52-04:00`, `2020-05-04T18:39:11`,
/// `2020-05-04T18:39`), with its offset when it has one. A bare date is no capture time.
fn parse_xmp_date(s: &str) -> Option<(NaiveDateTime, Option<FixedOffset>)> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some((t.naive_local(), Some(*t.offset())));
    }
    // Minutes only, with a zone: XMP allows it, RFC 3339 wants the seconds.
    if let (Some(head), Some(zone)) = (s.get(..16), s.get(16..)) {
        if zone.starts_with(['+', '-', 'Z']) {
            if let Ok(t) = DateTime::parse_from_rfc3339(&format!("{head}:00{zone}")) {
                return Some((t.naive_local(), Some(*t.offset())));
            }
        }
    }
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y:%m:%d %H:%M:%S"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
        .map(|t| (t, None))
}

/// `DDD,MM,SSk`, `DDD,MM.mmk` (k one of N S E W) or plain decimal degrees, signed by k.
fn parse_coordinate(s: &str) -> Option<f64> {
    let s = s.trim();
    let (body, negative) = match s.chars().last()?.to_ascii_uppercase() {
        'S' | 'W' => (&s[..s.len() - 1], true),
        'N' | 'E' => (&s[..s.len() - 1], false),
        _ => (s, false),
    };
    let parts: Option<Vec<f64>> = body.split(',').map(|p| p.trim().parse::<f64>().ok()).collect();
    let parts = parts?;
    if parts.is_empty() || parts.len() > 3 {
        return None;
    }
    let magnitude = parts[0].abs() + parts.get(1).map_or(0.0, |m| m.abs() / 60.0) + parts.get(2).map_or(0.0, |s| s.abs() / 3600.0);
    let signed = if negative || parts[0] < 0.0 { -magnitude } else { magnitude };
    signed.is_finite().then_some(signed)
}

/// A rational (`1234/10`) or decimal number.
fn parse_number(s: &str) -> Option<f64> {
    match s.trim().split_once('/') {
        Some((n, d)) => {
            let (n, d) = (n.trim().parse::<f64>().ok()?, d.trim().parse::<f64>().ok()?);
            (d != 0.0).then(|| n / d)
        }
        None => s.trim().parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_and_elements_under_any_prefix() {
        let xmp = r#"<x:xmpmeta><rdf:RDF><rdf:Description xmlns:e="http://ns.adobe.com/exif/1.0/" xmlns:tiff="http://ns.adobe.com/tiff/1.0/"
            e:DateTimeOriginal="2026-11-12T09:30:05.25+07:00" tiff:Make="DJI">
            <e:GPSLatitude>6,10.5S</e:GPSLatitude><e:GPSLongitude>106,49,30E</e:GPSLongitude>
            <e:GPSAltitude>125/10</e:GPSAltitude><e:GPSAltitudeRef>1</e:GPSAltitudeRef>
            <e:GPSTimeStamp>2026-11-12T02:30:04Z</e:GPSTimeStamp></rdf:Description></rdf:RDF></x:xmpmeta>"#;
        let x = read_exif(xmp);
        assert_eq!(x.datetime_original.as_deref(), Some("2026:11:12 09:30:05"));
        assert_eq!(x.datetime_original_parsed.unwrap().format("%.3f").to_string(), ".250");
        assert_eq!(x.offset_original.unwrap().to_string(), "+07:00");
        let (lat, lon) = x.gps.unwrap();
        assert!((lat + 6.175).abs() < 1e-9 && (lon - (106.0 + 49.0 / 60.0 + 30.0 / 3600.0)).abs() < 1e-9, "{lat} {lon}");
        assert_eq!(x.gps_altitude_m, Some(-12.5));
        assert_eq!(x.gps_time.unwrap().to_rfc3339(), "2026-11-12T02:30:04+00:00");
        assert_eq!(x.make.as_deref(), Some("DJI"));
    }

    #[test]
    fn what_is_not_a_capture_fact() {
        // A bare date, a longer name, a closing tag and nonsense give nothing.
        let x =
            read_exif(r#"<d exif:DateTimeOriginal="2026-11-12" exif:GPSLatitudeX="6,10N" exif:GPSLatitude="north"></exif:GPSLongitude>"#);
        assert_eq!(x, XmpExif::default());
        assert_eq!(parse_coordinate("-6.2"), Some(-6.2));
        assert_eq!(parse_coordinate("6,12,0,1N"), None);
        assert_eq!(parse_xmp_date("2020-05-04T18:39").map(|(t, _)| t.to_string()).as_deref(), Some("2020-05-04 18:39:00"));
    }
}
