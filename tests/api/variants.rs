//! Honest phone originals as other phones, tools and networks leave them, built from the real
//! fixtures byte by byte (each change is what the named tool or firmware does, nothing else):
//! GPS written as SRATIONAL, capture time and GPS only in XMP, a ModifyDate rewritten by a
//! transfer app, an IPTC keyword added, extraneous bytes before a marker, a few bytes lost at
//! the end — and a dishonest one: an iPhone photo re-encoded with the IJG tables, its EXIF kept.

/// The JPEG's segments before the scan: (marker, start of the segment, end of it).
fn segments(jpeg: &[u8]) -> Vec<(u8, usize, usize)> {
    let mut out = Vec::new();
    let mut pos = 2;
    while pos + 4 <= jpeg.len() && jpeg[pos] == 0xFF {
        let marker = jpeg[pos + 1];
        if marker == 0xDA {
            break;
        }
        let len = usize::from(u16::from_be_bytes([jpeg[pos + 2], jpeg[pos + 3]]));
        out.push((marker, pos, pos + 2 + len));
        pos += 2 + len;
    }
    out
}

/// The start of the TIFF header inside the EXIF APP1 segment.
fn tiff_start(jpeg: &[u8]) -> usize {
    let (_, start, _) = segments(jpeg).into_iter().find(|(m, s, _)| *m == 0xE1 && jpeg[s + 4..].starts_with(b"Exif\0\0")).unwrap();
    start + 10
}

struct Tiff {
    base: usize,
    little: bool,
}

impl Tiff {
    fn u16(&self, b: &[u8], at: usize) -> u16 {
        let v = [b[self.base + at], b[self.base + at + 1]];
        if self.little {
            u16::from_le_bytes(v)
        } else {
            u16::from_be_bytes(v)
        }
    }
    fn u32(&self, b: &[u8], at: usize) -> u32 {
        let v = [b[self.base + at], b[self.base + at + 1], b[self.base + at + 2], b[self.base + at + 3]];
        if self.little {
            u32::from_le_bytes(v)
        } else {
            u32::from_be_bytes(v)
        }
    }
    fn put_u16(&self, b: &mut [u8], at: usize, v: u16) {
        let bytes = if self.little { v.to_le_bytes() } else { v.to_be_bytes() };
        b[self.base + at..self.base + at + 2].copy_from_slice(&bytes);
    }
    /// The offsets (from the TIFF start) of the entries of the IFD at `ifd`.
    fn entries(&self, b: &[u8], ifd: usize) -> Vec<usize> {
        (0..usize::from(self.u16(b, ifd))).map(|i| ifd + 2 + 12 * i).collect()
    }
    fn find(&self, b: &[u8], ifd: usize, tag: u16) -> Option<usize> {
        self.entries(b, ifd).into_iter().find(|&e| self.u16(b, e) == tag)
    }
}

fn tiff(jpeg: &[u8]) -> (Tiff, usize) {
    let base = tiff_start(jpeg);
    let t = Tiff { base, little: &jpeg[base..base + 2] == b"II" };
    let ifd0 = t.u32(jpeg, 4) as usize;
    (t, ifd0)
}

/// GPSLatitude and GPSLongitude retyped from RATIONAL (5) to SRATIONAL (10), as some Android
/// firmwares write them: the same bytes, read as signed.
pub fn gps_as_srational(mut jpeg: Vec<u8>) -> Vec<u8> {
    let (t, ifd0) = tiff(&jpeg);
    let gps_ifd = t.u32(&jpeg, t.find(&jpeg, ifd0, 0x8825).expect("a GPS IFD") + 8) as usize;
    for tag in [0x0002, 0x0004] {
        let entry = t.find(&jpeg, gps_ifd, tag).expect("GPS coordinate");
        assert_eq!(t.u16(&jpeg, entry + 2), 5);
        t.put_u16(&mut jpeg, entry + 2, 10);
    }
    jpeg
}

/// IFD0's DateTime ("ModifyDate") rewritten, as camera vendors' transfer apps do.
pub fn modify_date_rewritten(mut jpeg: Vec<u8>, to: &str) -> Vec<u8> {
    let (t, ifd0) = tiff(&jpeg);
    let entry = t.find(&jpeg, ifd0, 0x0132).expect("DateTime");
    let at = t.base + t.u32(&jpeg, entry + 8) as usize;
    assert_eq!(to.len(), 19);
    jpeg[at..at + 19].copy_from_slice(to.as_bytes());
    jpeg
}

fn insert_segment(jpeg: &[u8], after_marker: u8, marker: u8, payload: &[u8]) -> Vec<u8> {
    let (_, _, end) = segments(jpeg).into_iter().find(|(m, _, _)| *m == after_marker).unwrap();
    let mut out = jpeg[..end].to_vec();
    out.extend_from_slice(&[0xFF, marker]);
    out.extend_from_slice(&u16::try_from(payload.len() + 2).unwrap().to_be_bytes());
    out.extend_from_slice(payload);
    out.extend_from_slice(&jpeg[end..]);
    out
}

/// One IPTC keyword added after the EXIF, as `exiftool -keywords=…` writes it: an APP13
/// Photoshop 3.0 block holding only the IPTC-NAA record (resource 0x0404).
pub fn iptc_keyword_added(jpeg: &[u8], keyword: &str) -> Vec<u8> {
    let mut iptc = vec![0x1C, 2, 0, 0, 2, 0, 4]; // 2:00 record version 4
    iptc.extend_from_slice(&[0x1C, 2, 25]);
    iptc.extend_from_slice(&u16::try_from(keyword.len()).unwrap().to_be_bytes());
    iptc.extend_from_slice(keyword.as_bytes());
    let mut block = b"Photoshop 3.0\0".to_vec();
    block.extend_from_slice(b"8BIM");
    block.extend_from_slice(&0x0404u16.to_be_bytes());
    block.extend_from_slice(&[0, 0]); // empty Pascal name, padded
    block.extend_from_slice(&u32::try_from(iptc.len()).unwrap().to_be_bytes());
    block.extend_from_slice(&iptc);
    if iptc.len() % 2 == 1 {
        block.push(0);
    }
    insert_segment(jpeg, 0xE1, 0xED, &block)
}

/// The EXIF APP1 removed and an XMP packet with the same capture time and position put in its
/// place (`exif:DateTimeOriginal`, `exif:GPSLatitude`/`Longitude` in XMP's `DDD,MM.mmk` form,
/// `tiff:Make`/`Model`), as cameras that write only XMP leave a file.
pub fn xmp_only(jpeg: &[u8], taken: &str, lat: &str, lon: &str, make: &str, model: &str) -> Vec<u8> {
    let (_, start, end) = segments(jpeg).into_iter().find(|(m, s, _)| *m == 0xE1 && jpeg[s + 4..].starts_with(b"Exif\0\0")).unwrap();
    let xmp = format!(
        r#"<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" xmlns:exif="http://ns.adobe.com/exif/1.0/" xmlns:tiff="http://ns.adobe.com/tiff/1.0/" exif:DateTimeOriginal="{taken}" tiff:Make="{make}" tiff:Model="{model}"><exif:GPSLatitude>{lat}</exif:GPSLatitude><exif:GPSLongitude>{lon}</exif:GPSLongitude></rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>"#
    );
    let mut payload = b"http://ns.adobe.com/xap/1.0/\0".to_vec();
    payload.extend_from_slice(xmp.as_bytes());
    let mut out = jpeg[..start].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&u16::try_from(payload.len() + 2).unwrap().to_be_bytes());
    out.extend_from_slice(&payload);
    out.extend_from_slice(&jpeg[end..]);
    out
}

/// Junk bytes between two segments (libjpeg: "extraneous bytes before marker").
pub fn junk_before_a_marker(jpeg: &[u8]) -> Vec<u8> {
    let (_, start, _) = segments(jpeg).into_iter().find(|(m, _, _)| *m == 0xDB).unwrap();
    let mut out = jpeg[..start].to_vec();
    out.extend_from_slice(&[0x00, 0x17, 0x2A, 0x00]);
    out.extend_from_slice(&jpeg[start..]);
    out
}

/// The iPhone photo decoded and encoded again by an IJG-table encoder (the image crate's, as
/// an editor would), its original EXIF put back: Apple's camera never writes those tables.
pub fn reencoded_with_ijg_tables(jpeg: &[u8]) -> Vec<u8> {
    let img = image::load_from_memory_with_format(jpeg, image::ImageFormat::Jpeg).unwrap().to_rgb8();
    let mut encoded = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut encoded, 90).encode_image(&img).unwrap();
    let (_, start, end) = segments(jpeg).into_iter().find(|(m, s, _)| *m == 0xE1 && jpeg[s + 4..].starts_with(b"Exif\0\0")).unwrap();
    let mut out = encoded[..2].to_vec();
    out.extend_from_slice(&jpeg[start..end]);
    // Drop the encoder's own APP0 (JFIF), keep the rest.
    let rest = &encoded[2..];
    let skip = if rest.starts_with(&[0xFF, 0xE0]) { 2 + usize::from(u16::from_be_bytes([rest[2], rest[3]])) } else { 0 };
    out.extend_from_slice(&rest[skip..]);
    out
}
