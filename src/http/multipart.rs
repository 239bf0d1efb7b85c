//! Collects a photo upload from `multipart/form-data`: the `file` part (bounded by the policy's
//! size cap) and small text parts, all under one timeout and a minimum transfer rate, so a slow
//! client cannot hold a worker or an upload slot.

use std::future::Future;
use std::time::Duration;

use actix_multipart::{Multipart, MultipartError};
use actix_web::http::StatusCode;
use bytes::BytesMut;
use futures_util::StreamExt;

use super::error::ApiError;

/// The raw parts of an upload.
#[derive(Debug, Default)]
pub struct RawUpload {
    pub file: Option<(bytes::Bytes, Option<String>)>,
    pub text: Vec<(String, String)>,
}

const MAX_TEXT_PART: usize = 1024;
const MAX_PARTS: usize = 16;

fn multipart_error(e: MultipartError) -> ApiError {
    match e {
        MultipartError::ContentTypeMissing | MultipartError::ContentTypeParse | MultipartError::ContentTypeIncompatible => {
            ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", "send the photo as multipart/form-data")
        }
        other => ApiError::bad_request("multipart_invalid", format!("the multipart body is malformed or truncated: {other}")),
    }
}

/// How long a body may take before the minimum rate applies (a phone's first bytes may wait for
/// its radio to wake).
pub const PACE_GRACE: Duration = Duration::from_secs(5);

/// The slowest a body may arrive: after [`PACE_GRACE`], at least `min_bytes_per_sec` on average
/// since the read began. A trickle holds an upload slot and its memory as surely as a stall, so
/// each read waits only until the instant the bytes so far would fall below the rate: a stall and
/// a trickle end alike, in `408 upload_too_slow`. 0 turns the rate off.
pub struct Pace {
    started: tokio::time::Instant,
    min_bytes_per_sec: u64,
    received: u64,
}

impl Pace {
    pub fn new(min_bytes_per_sec: u64) -> Pace {
        Pace { started: tokio::time::Instant::now(), min_bytes_per_sec, received: 0 }
    }

    /// Awaits `read`, or fails once the body has fallen below the rate.
    pub async fn read<T>(&mut self, read: impl Future<Output = T>) -> Result<T, ApiError> {
        if self.min_bytes_per_sec == 0 {
            return Ok(read.await);
        }
        let allowed = Duration::from_secs_f64(self.received as f64 / self.min_bytes_per_sec as f64);
        tokio::time::timeout_at(self.started + PACE_GRACE + allowed, read).await.map_err(|_| {
            ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "upload_too_slow",
                format!("the body arrives slower than {} bytes a second", self.min_bytes_per_sec),
            )
        })
    }

    pub fn add(&mut self, bytes: usize) {
        self.received += bytes as u64;
    }
}

/// Reads the whole form, refusing a file above `max_file_bytes` as soon as it grows past it.
/// `body_length` (the request's Content-Length) sizes the file's buffer once, so a photo is not
/// copied again each time a growing buffer doubles, nor held in one twice its size.
pub async fn collect(
    mut form: Multipart,
    max_file_bytes: u64,
    body_length: Option<u64>,
    timeout: Duration,
    mut pace: Pace,
) -> Result<RawUpload, ApiError> {
    let read = async {
        let mut upload = RawUpload::default();
        let mut parts = 0;
        while let Some(field) = pace.read(form.next()).await? {
            let mut field = field.map_err(multipart_error)?;
            parts += 1;
            if parts > MAX_PARTS {
                return Err(ApiError::bad_request("multipart_invalid", "too many parts"));
            }
            let name = field.name().unwrap_or_default().to_string();
            if name == "file" {
                if upload.file.is_some() {
                    return Err(ApiError::bad_request("multipart_invalid", "more than one file part"));
                }
                let declared = field.content_type().map(|m| m.essence_str().to_string());
                let capacity = body_length.unwrap_or(0).min(max_file_bytes);
                let mut buf = BytesMut::with_capacity(usize::try_from(capacity).unwrap_or(0));
                while let Some(chunk) = pace.read(field.next()).await? {
                    let chunk = chunk.map_err(multipart_error)?;
                    pace.add(chunk.len());
                    if (buf.len() + chunk.len()) as u64 > max_file_bytes {
                        return Err(ApiError::new(
                            StatusCode::PAYLOAD_TOO_LARGE,
                            "photo_too_large",
                            format!("the photo exceeds {max_file_bytes} bytes"),
                        ));
                    }
                    buf.extend_from_slice(&chunk);
                }
                upload.file = Some((buf.freeze(), declared));
            } else {
                let mut buf = Vec::new();
                while let Some(chunk) = pace.read(field.next()).await? {
                    let chunk = chunk.map_err(multipart_error)?;
                    pace.add(chunk.len());
                    if buf.len() + chunk.len() > MAX_TEXT_PART {
                        return Err(ApiError::bad_request("multipart_invalid", format!("part {name:?} is too long")));
                    }
                    buf.extend_from_slice(&chunk);
                }
                let value = String::from_utf8(buf)
                    .map_err(|_| ApiError::bad_request("multipart_invalid", format!("part {name:?} is not UTF-8 text")))?;
                upload.text.push((name, value));
            }
        }
        Ok(upload)
    };
    tokio::time::timeout(timeout, read)
        .await
        .map_err(|_| ApiError::new(StatusCode::REQUEST_TIMEOUT, "upload_timeout", "the upload took too long"))?
}
