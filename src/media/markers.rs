//! Editing traces outside EXIF: the XMP packet (`xmp:CreatorTool`, Camera Raw / Photoshop
//! namespaces, history agents) and Photoshop's APP13 resource block. Reads only JPEG APP
//! segments (before the image data) and PNG text chunks, so it costs microseconds.

/// What the file's non-EXIF metadata says about the tools that touched it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EditMarkers {
    /// `xmp:CreatorTool`, when present.
    pub creator_tool: Option<String>,
    /// `stEvt:softwareAgent` entries of the XMP history.
    pub history_agents: Vec<String>,
    /// The XMP carries Photoshop (`photoshop:`) or Camera Raw / Lightroom (`crs:`) settings.
    pub adobe_namespaces: bool,
    /// A Photoshop 3.0 image resource block (APP13) is present.
    pub photoshop_irb: bool,
}

const XMP_JPEG: &[u8] = b"http://ns.adobe.com/xap/1.0/\0";

/// Scans a JPEG's APP segments or a PNG's text chunks; anything else yields nothing.
pub fn scan(bytes: &[u8]) -> EditMarkers {
    let mut markers = EditMarkers::default();
    if bytes.starts_with(&[0xFF, 0xD8]) {
        let mut pos = 2usize;
        // At most 64 segments: real files have a handful before the image data.
        for _ in 0..64 {
            if pos + 4 > bytes.len() || bytes[pos] != 0xFF {
                break;
            }
            let marker = bytes[pos + 1];
            if marker == 0xDA || marker == 0xD9 {
                break; // start of scan / end of image: no more metadata
            }
            let len = usize::from(u16::from_be_bytes([bytes[pos + 2], bytes[pos + 3]]));
            let start = pos + 4;
            let end = (pos + 2 + len).min(bytes.len());
            if len < 2 || start > end {
                break;
            }
            let payload = &bytes[start..end];
            match marker {
                0xE1 if payload.starts_with(XMP_JPEG) => read_xmp(&payload[XMP_JPEG.len()..], &mut markers),
                0xED if payload.starts_with(b"Photoshop 3.0\0") => markers.photoshop_irb = true,
                _ => {}
            }
            pos = pos + 2 + len;
        }
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        let mut pos = 8usize;
        for _ in 0..256 {
            if pos + 8 > bytes.len() {
                break;
            }
            let len = u32::from_be_bytes(bytes[pos..pos + 4].try_into().unwrap_or([0; 4])) as usize;
            let kind = &bytes[pos + 4..pos + 8];
            let start = pos + 8;
            let Some(end) = start.checked_add(len).filter(|e| *e <= bytes.len()) else { break };
            if kind == b"IDAT" || kind == b"IEND" {
                break;
            }
            if kind == b"iTXt" || kind == b"tEXt" {
                let chunk = &bytes[start..end];
                if chunk.starts_with(b"XML:com.adobe.xmp\0") {
                    read_xmp(chunk, &mut markers);
                } else if let Some(value) = chunk.strip_prefix(b"Software\0") {
                    markers.creator_tool.get_or_insert_with(|| String::from_utf8_lossy(value).trim().to_string());
                }
            }
            pos = end + 4; // skip the CRC
        }
    }
    markers
}

fn read_xmp(xmp: &[u8], markers: &mut EditMarkers) {
    let text = String::from_utf8_lossy(&xmp[..xmp.len().min(256 * 1024)]);
    if let Some(tool) = value_of(&text, "xmp:CreatorTool") {
        markers.creator_tool = Some(tool);
    }
    let mut rest = text.as_ref();
    while let Some(i) = rest.find("stEvt:softwareAgent") {
        rest = &rest[i + "stEvt:softwareAgent".len()..];
        if let Some(agent) = value_after(rest) {
            if !markers.history_agents.contains(&agent) && markers.history_agents.len() < 16 {
                markers.history_agents.push(agent);
            }
        }
    }
    markers.adobe_namespaces = text.contains("xmlns:photoshop=") || text.contains("xmlns:crs=");
}

/// The value of `name="…"` or `<name>…</name>`.
fn value_of(text: &str, name: &str) -> Option<String> {
    let i = text.find(name)?;
    value_after(&text[i + name.len()..])
}

fn value_after(rest: &str) -> Option<String> {
    let rest = rest.trim_start();
    let value = if let Some(r) = rest.strip_prefix('=') {
        let r = r.trim_start();
        let quote = r.chars().next().filter(|c| *c == '"' || *c == '\'')?;
        let r = &r[1..];
        &r[..r.find(quote)?]
    } else if let Some(r) = rest.strip_prefix('>') {
        &r[..r.find('<')?]
    } else {
        return None;
    };
    let value = value.trim();
    (!value.is_empty() && value.len() <= 200).then(|| value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg_with_app1_xmp(xmp: &str) -> Vec<u8> {
        let mut payload = XMP_JPEG.to_vec();
        payload.extend_from_slice(xmp.as_bytes());
        let mut out = vec![0xFF, 0xD8, 0xFF, 0xE1];
        out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
        out.extend_from_slice(&payload);
        out.extend_from_slice(&[0xFF, 0xDA, 0, 2]);
        out
    }

    #[test]
    fn xmp_tools_and_history_are_read() {
        let xmp = r#"<x:xmpmeta><rdf:Description xmlns:crs="http://ns.adobe.com/camera-raw-settings/1.0/"
            xmp:CreatorTool="Snapseed 2.0"><stEvt:softwareAgent>Adobe Photoshop Lightroom 2.0</stEvt:softwareAgent>
            </rdf:Description></x:xmpmeta>"#;
        let m = scan(&jpeg_with_app1_xmp(xmp));
        assert_eq!(m.creator_tool.as_deref(), Some("Snapseed 2.0"));
        assert_eq!(m.history_agents, vec!["Adobe Photoshop Lightroom 2.0".to_string()]);
        assert!(m.adobe_namespaces);
    }

    #[test]
    fn broken_segments_end_the_scan_quietly() {
        for bytes in [&b"\xFF\xD8\xFF\xE1\xFF\xFF"[..], b"\xFF\xD8\xFF\xE1\x00\x00", b"\xFF\xD8", b"\x89PNG\r\n\x1a\n\xFF\xFF\xFF\xFFiTXt"]
        {
            assert_eq!(scan(bytes), EditMarkers::default());
        }
    }
}
