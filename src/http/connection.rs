//! The connection under the HTTP server, so that the errors actix-http answers by itself are
//! problem+json too.
//!
//! A request actix-http cannot parse — a garbage request line, `Content-Length: abc`, a head
//! above its buffer (431), one that arrives too slowly (408) — never reaches the application: the
//! HTTP/1 dispatcher writes a fixed response with an empty body (`Content-Length: 0`) and closes
//! the connection. actix offers no hook for those responses, so [`ProblemStream`] sits between
//! the dispatcher and the socket and rewrites exactly such a response — a 400, 408, 413 or 431
//! head with `content-length: 0`, at the start of a write — into the same problem+json the
//! application answers. Every response of the application's own carries a body (its errors are
//! problem+json or console pages), so nothing else can match.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A connection whose codec-level error responses are rewritten as problem+json.
pub struct ProblemStream<T> {
    inner: T,
    /// A rewritten response being written: its bytes, how many are out, and how many of the
    /// caller's bytes it stands for.
    pending: Option<(Vec<u8>, usize, usize)>,
}

impl<T> ProblemStream<T> {
    pub fn new(inner: T) -> Self {
        ProblemStream { inner, pending: None }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for ProblemStream<T> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for ProblemStream<T> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        if self.pending.is_none() {
            match rewrite(buf) {
                Some((consumed, replacement)) => self.pending = Some((replacement, 0, consumed)),
                None => return Pin::new(&mut self.inner).poll_write(cx, buf),
            }
        }
        let this = &mut *self;
        let (bytes, written, consumed) = this.pending.as_mut().expect("set above");
        while *written < bytes.len() {
            match Pin::new(&mut this.inner).poll_write(cx, &bytes[*written..]) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => *written += n,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        let consumed = *consumed;
        this.pending = None;
        Poll::Ready(Ok(consumed))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// What a codec error answers.
struct Problem {
    status: u16,
    code: &'static str,
    detail: &'static str,
}

/// The problem+json replacement of an empty-bodied codec error at the start of `buf`, and the
/// length of the original head it replaces.
fn rewrite(buf: &[u8]) -> Option<(usize, Vec<u8>)> {
    if !buf.starts_with(b"HTTP/1.") || buf.len() < 12 {
        return None;
    }
    let Problem { status, code, detail } = match &buf[9..12] {
        b"400" => Problem { status: 400, code: "malformed_request", detail: "the request could not be parsed as HTTP/1.1" },
        b"408" => Problem { status: 408, code: "request_timeout", detail: "the request head did not arrive in time" },
        b"413" => Problem { status: 413, code: "payload_too_large", detail: "the request is too large" },
        b"431" => Problem { status: 431, code: "headers_too_large", detail: "the request's headers are too large" },
        _ => return None,
    };
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = std::str::from_utf8(&buf[..end]).ok()?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next()?;
    let mut headers = Vec::new();
    let mut empty = false;
    for line in lines.filter(|l| !l.is_empty()) {
        let name = line.split(':').next().unwrap_or("").trim().to_ascii_lowercase();
        if name == "content-length" {
            empty = line[line.find(':')? + 1..].trim() == "0";
        } else if name == "content-type" || name == "transfer-encoding" {
            return None;
        } else {
            headers.push(line);
        }
    }
    if !empty {
        return None;
    }
    let status = actix_web::http::StatusCode::from_u16(status).ok()?;
    let body = super::error::ApiError::new(status, code, detail).problem_json();
    let mut out = format!("{status_line}\r\n");
    for h in headers {
        out.push_str(h);
        out.push_str("\r\n");
    }
    out.push_str(&format!(
        "content-type: application/problem+json\r\nx-content-type-options: nosniff\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    ));
    Some((end, out.into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::rewrite;

    #[test]
    fn an_empty_codec_error_becomes_a_problem() {
        let head = b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\nconnection: close\r\ndate: x\r\n\r\n";
        let (consumed, out) = rewrite(head).unwrap();
        assert_eq!(consumed, head.len());
        let text = String::from_utf8(out).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n") && head.contains("connection: close"));
        assert!(head.contains("content-type: application/problem+json"));
        assert!(head.contains(&format!("content-length: {}", body.len())));
        let problem: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!((problem["status"].as_u64(), problem["code"].as_str()), (Some(431), Some("headers_too_large")));
    }

    #[test]
    fn the_applications_own_responses_pass_untouched() {
        for head in [
            &b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/problem+json\r\ncontent-length: 90\r\n\r\n{"[..],
            b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n",
            b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n",
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n", // head not complete
            b"\x89PNG",
        ] {
            assert!(rewrite(head).is_none(), "{}", String::from_utf8_lossy(head));
        }
    }
}
