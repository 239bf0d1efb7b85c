//! The S3 store, on rust-s3: any S3-compatible service (Garage, MinIO, AWS S3), addressed
//! path-style so a bucket needs no DNS name. Same keys and promises as the filesystem store: an
//! object is written whole or not at all (one PUT), and never overwritten — the PUT carries
//! `If-None-Match: *` (atomic where the service honours it) after a HEAD that refuses a key
//! already taken (for services that ignore the header). The PUT goes to a presigned URL so the
//! photo's bytes are sent from the upload's own buffer, not copied into a second one.

use std::time::Duration;

use async_trait::async_trait;
use reqwest::header::{HeaderMap, HeaderValue, IF_NONE_MATCH};
use s3::creds::Credentials;
use s3::{Bucket, Region};

use super::keys::is_valid_key;
use super::store::{ByteStream, ObjectStore, StorageError};

/// Longest one request to the store may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

pub struct S3Store {
    bucket: Box<Bucket>,
    /// Sends the bodies of PUTs to presigned URLs, straight from the upload's buffer.
    http: reqwest::Client,
    /// Streams downloads: a connect timeout but no overall one, since the reader (a reviewer's
    /// browser) sets the pace of a streamed body.
    streaming: reqwest::Client,
}

/// Reads up to one part of a file.
async fn read_part(file: &mut tokio::fs::File) -> Result<Vec<u8>, StorageError> {
    use tokio::io::AsyncReadExt;
    let mut part = Vec::with_capacity(PART_BYTES);
    file.take(PART_BYTES as u64).read_to_end(&mut part).await?;
    Ok(part)
}

/// One part of a multipart upload (S3's minimum is 5 MiB; 10 000 parts make 160 GiB).
const PART_BYTES: usize = 16 * 1024 * 1024;

/// Lifetime of the presigned URL of one PUT.
const PRESIGN_SECS: u32 = 300;

/// Where an `s3://bucket?endpoint=…&region=…` URL points.
#[derive(Debug, PartialEq, Eq)]
pub struct S3Location {
    pub bucket: String,
    pub endpoint: Option<String>,
    pub region: String,
}

impl S3Location {
    /// Parses `s3://bucket` with optional `endpoint` (e.g. `http://127.0.0.1:3900`) and `region`
    /// (default `us-east-1`; Garage's default is `garage`).
    pub fn parse(url: &str) -> anyhow::Result<Self> {
        let parsed = reqwest::Url::parse(url).map_err(|e| anyhow::anyhow!("object store URL {url:?}: {e}"))?;
        anyhow::ensure!(parsed.scheme() == "s3", "object store URL {url:?} must start with s3://");
        let bucket = parsed.host_str().unwrap_or_default().to_string();
        anyhow::ensure!(!bucket.is_empty(), "object store URL {url:?} names no bucket");
        anyhow::ensure!(parsed.path().is_empty() || parsed.path() == "/", "object store URL {url:?}: a bucket has no path");
        let (mut endpoint, mut region) = (None, "us-east-1".to_string());
        for (name, value) in parsed.query_pairs() {
            match name.as_ref() {
                "endpoint" => {
                    let e = reqwest::Url::parse(&value).map_err(|e| anyhow::anyhow!("object store endpoint {value:?}: {e}"))?;
                    anyhow::ensure!(matches!(e.scheme(), "http" | "https"), "object store endpoint {value:?} must be http:// or https://");
                    endpoint = Some(value.trim_end_matches('/').to_string());
                }
                "region" => region = value.into_owned(),
                other => anyhow::bail!("object store URL {url:?}: unknown parameter {other:?} (endpoint, region)"),
            }
        }
        Ok(Self { bucket, endpoint, region })
    }
}

/// The keys of an S3 account. Empty ones mean `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`.
#[derive(Clone, Default)]
pub struct S3Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
}

/// The secret key never reaches a log.
impl std::fmt::Debug for S3Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Credentials").field("access_key_id", &self.access_key_id).field("secret_access_key", &"***").finish()
    }
}

impl S3Store {
    /// A store on an existing bucket.
    pub fn new(location: &S3Location, keys: &S3Credentials) -> anyhow::Result<Self> {
        let (access_key_id, secret_access_key) = (keys.access_key_id.as_str(), keys.secret_access_key.as_str());
        let region = match &location.endpoint {
            Some(endpoint) => Region::Custom { region: location.region.clone(), endpoint: endpoint.clone() },
            None => location.region.parse()?,
        };
        let credentials = if access_key_id.is_empty() {
            Credentials::from_env().map_err(|e| anyhow::anyhow!("object store credentials: {e}"))?
        } else {
            Credentials::new(Some(access_key_id), Some(secret_access_key), None, None, None)?
        };
        let bucket = Bucket::new(&location.bucket, region, credentials)?.with_path_style().with_request_timeout(REQUEST_TIMEOUT)?;
        let http = reqwest::Client::builder().timeout(REQUEST_TIMEOUT).build()?;
        let streaming = reqwest::Client::builder().connect_timeout(Duration::from_secs(10)).build()?;
        Ok(Self { bucket, http, streaming })
    }

    fn checked<'k>(&self, key: &'k str) -> Result<&'k str, StorageError> {
        if is_valid_key(key) {
            Ok(key)
        } else {
            Err(StorageError::InvalidKey(key.to_string()))
        }
    }
}

/// A request to a presigned URL failed: its message, without the URL (which carries the
/// request's signature and credential scope).
fn without_url(e: reqwest::Error) -> StorageError {
    backend(e.without_url())
}

fn backend(e: impl std::fmt::Display) -> StorageError {
    StorageError::Backend(e.to_string())
}

fn unexpected(what: &str, key: &str, status: u16) -> StorageError {
    StorageError::Backend(format!("{what} {key}: the store answered HTTP {status}"))
}

#[async_trait]
impl ObjectStore for S3Store {
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(store = "s3", key = %key, bytes = bytes.len()))]
    async fn put(&self, key: &str, bytes: bytes::Bytes) -> Result<(), StorageError> {
        let key = self.checked(key)?;
        let (_, status) = self.bucket.head_object(key).await.map_err(backend)?;
        if status == 200 {
            return Err(StorageError::AlreadyExists(key.to_string()));
        }
        // rust-s3's own PUT copies the body to sign its hash; a presigned URL (unsigned payload,
        // `If-None-Match` signed in) lets reqwest send the upload's buffer as it is.
        let mut headers = HeaderMap::new();
        headers.insert(IF_NONE_MATCH, HeaderValue::from_static("*"));
        let url = self.bucket.presign_put(key, PRESIGN_SECS, Some(headers), None).await.map_err(backend)?;
        let response = self.http.put(url).header(IF_NONE_MATCH, "*").body(bytes).send().await.map_err(without_url)?;
        match response.status().as_u16() {
            200..=299 => Ok(()),
            412 => Err(StorageError::AlreadyExists(key.to_string())),
            status => Err(unexpected("put", key, status)),
        }
    }

    /// Up to one part: one PUT of the whole file. Beyond: a multipart upload, one part at a time
    /// (rust-s3's `put_object_stream` uploads up to 100 parts at once, 800 MiB in memory).
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(store = "s3", key = %key))]
    async fn put_file(&self, key: &str, path: &std::path::Path) -> Result<(), StorageError> {
        let key = self.checked(key)?;
        let mut file = tokio::fs::File::open(path).await?;
        let first = read_part(&mut file).await?;
        if first.len() < PART_BYTES {
            return self.put(key, bytes::Bytes::from(first)).await;
        }
        let (_, status) = self.bucket.head_object(key).await.map_err(backend)?;
        if status == 200 {
            return Err(StorageError::AlreadyExists(key.to_string()));
        }
        let upload = self.bucket.initiate_multipart_upload(key, "application/octet-stream").await.map_err(backend)?;
        let result = async {
            let (mut parts, mut part, mut number) = (Vec::new(), first, 1u32);
            while !part.is_empty() {
                parts.push(
                    self.bucket
                        .put_multipart_chunk(part, key, number, &upload.upload_id, "application/octet-stream")
                        .await
                        .map_err(backend)?,
                );
                number += 1;
                part = read_part(&mut file).await?;
            }
            let done = self.bucket.complete_multipart_upload(key, &upload.upload_id, parts).await.map_err(backend)?;
            match done.status_code() {
                200..=299 => Ok(()),
                status => Err(unexpected("complete", key, status)),
            }
        }
        .await;
        if result.is_err() {
            if let Err(e) = self.bucket.abort_upload(key, &upload.upload_id).await {
                tracing::warn!(%key, error = %e, "aborting a failed multipart upload failed");
            }
        }
        result
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(store = "s3", key = %key))]
    async fn get(&self, key: &str) -> Result<Vec<u8>, StorageError> {
        use futures_util::TryStreamExt;
        let chunks: Vec<bytes::Bytes> = self.get_stream(key).await?.try_collect().await?;
        Ok(chunks.concat())
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(store = "s3", key = %key))]
    async fn get_stream(&self, key: &str) -> Result<ByteStream, StorageError> {
        use futures_util::StreamExt;
        let key = self.checked(key)?;
        let url = self.bucket.presign_get(key, PRESIGN_SECS, None).await.map_err(backend)?;
        let response = self.streaming.get(url).send().await.map_err(without_url)?;
        match response.status().as_u16() {
            200 => Ok(response.bytes_stream().map(|chunk| chunk.map_err(without_url)).boxed()),
            // A missing bucket is a broken configuration, not a missing photo.
            404 => {
                let body = response.bytes().await.unwrap_or_default();
                if body.windows(12).any(|w| w == b"NoSuchBucket") {
                    Err(StorageError::Backend(format!("get {key}: the bucket does not exist")))
                } else {
                    Err(StorageError::NotFound(key.to_string()))
                }
            }
            status => Err(unexpected("get", key, status)),
        }
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(store = "s3", key = %key))]
    async fn delete(&self, key: &str) -> Result<(), StorageError> {
        let key = self.checked(key)?;
        let response = self.bucket.delete_object(key).await.map_err(backend)?;
        match response.status_code() {
            200..=299 | 404 => Ok(()),
            status => Err(unexpected("delete", key, status)),
        }
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(store = "s3", key = %key))]
    async fn presigned_get(&self, key: &str, expires: Duration) -> Result<Option<String>, StorageError> {
        let key = self.checked(key)?;
        let secs = u32::try_from(expires.as_secs()).unwrap_or(u32::MAX).clamp(1, 604_800);
        self.bucket.presign_get(key, secs, None).await.map(Some).map_err(backend)
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(store = "s3", prefix = %prefix))]
    async fn list(&self, prefix: &str) -> Result<Vec<String>, StorageError> {
        let pages = self.bucket.list(prefix.to_string(), None).await.map_err(backend)?;
        Ok(pages.into_iter().flat_map(|page| page.contents.into_iter().map(|object| object.key)).collect())
    }

    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"), fields(store = "s3"))]
    async fn ping(&self) -> Result<(), StorageError> {
        let probe = format!("health/ping-{}", uuid::Uuid::new_v4().simple());
        self.put(&probe, bytes::Bytes::from_static(b"ok")).await?;
        self.delete(&probe).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_a_bucket_an_endpoint_and_a_region() {
        let l = S3Location::parse("s3://photos?endpoint=http://127.0.0.1:3900/&region=garage").unwrap();
        assert_eq!(l, S3Location { bucket: "photos".into(), endpoint: Some("http://127.0.0.1:3900".into()), region: "garage".into() });
        let aws = S3Location::parse("s3://fp-photos").unwrap();
        assert_eq!((aws.endpoint, aws.region.as_str()), (None, "us-east-1"));
        for bad in ["s3://", "s3://b/path", "s3://b?endpoint=ftp://x", "s3://b?bucket=x", "file:///x"] {
            assert!(S3Location::parse(bad).is_err(), "{bad}");
        }
    }
}
