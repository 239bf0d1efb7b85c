//! The one place errors become HTTP: `application/problem+json` (RFC 9457) with a stable
//! `code`. A 5xx never carries its cause; the cause goes to the log with a reference id.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use serde::Serialize;

use crate::app::AppError;
use crate::app::MediaError;

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub detail: String,
    pub fields: Vec<String>,
    /// Per-item reasons of a refused bulk request.
    pub errors: Vec<crate::app::ItemError>,
    /// The `Retry-After` of a 429 or 503, in seconds.
    pub retry_after_secs: Option<u64>,
}

#[derive(Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    kind: String,
    title: &'a str,
    status: u16,
    detail: &'a str,
    code: &'a str,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    fields: &'a [String],
    #[serde(skip_serializing_if = "<[crate::app::ItemError]>::is_empty")]
    errors: &'a [crate::app::ItemError],
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Self { status, code, detail: detail.into(), fields: Vec::new(), errors: Vec::new(), retry_after_secs: None }
    }
    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, detail)
    }
    pub fn unprocessable(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, detail)
    }

    /// The problem+json body (RFC 9457) of this error.
    pub fn problem_json(&self) -> String {
        let problem = Problem {
            kind: format!("https://fieldproof.dev/problems/{}", self.code),
            title: self.status.canonical_reason().unwrap_or("Error"),
            status: self.status.as_u16(),
            detail: &self.detail,
            code: self.code,
            fields: &self.fields,
            errors: &self.errors,
        };
        serde_json::to_string(&problem).unwrap_or_default()
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.detail)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        response.insert_header((header::CONTENT_TYPE, "application/problem+json"));
        if self.status == StatusCode::UNAUTHORIZED {
            response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        match (self.retry_after_secs, self.status) {
            (Some(secs), _) => {
                response.insert_header((header::RETRY_AFTER, secs.to_string()));
            }
            (None, StatusCode::SERVICE_UNAVAILABLE) => {
                response.insert_header((header::RETRY_AFTER, "2"));
            }
            _ => {}
        }
        response.body(self.problem_json())
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        let code = e.code();
        match e {
            AppError::Unauthorized => ApiError::new(StatusCode::UNAUTHORIZED, code, "a valid bearer token is required"),
            AppError::SignInFailed => ApiError::new(StatusCode::UNAUTHORIZED, code, e.to_string()),
            AppError::TooManyRequests { detail, retry_after_secs, .. } => {
                ApiError { retry_after_secs: Some(retry_after_secs), ..ApiError::new(StatusCode::TOO_MANY_REQUESTS, code, detail) }
            }
            AppError::Forbidden { detail, .. } => ApiError::new(StatusCode::FORBIDDEN, code, detail),
            AppError::NotFound { detail, .. } => ApiError::new(StatusCode::NOT_FOUND, code, detail),
            AppError::Conflict { detail, .. } => ApiError::new(StatusCode::CONFLICT, code, detail),
            AppError::Gone { detail, .. } => ApiError::new(StatusCode::GONE, code, detail),
            AppError::Invalid { detail, fields, .. } => ApiError { fields, ..ApiError::unprocessable(code, detail) },
            AppError::BulkRejected { ref errors } => {
                let detail = e.to_string();
                ApiError { errors: errors.clone(), ..ApiError::unprocessable(code, detail) }
            }
            AppError::Media(m) => {
                let status = match m {
                    MediaError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
                    MediaError::UnsupportedFormat => StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    _ => StatusCode::UNPROCESSABLE_ENTITY,
                };
                ApiError::new(status, code, m.to_string())
            }
            AppError::Unavailable { detail, .. } => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, code, detail),
            AppError::InsufficientStorage { detail, .. } => ApiError::new(StatusCode::INSUFFICIENT_STORAGE, code, detail),
            AppError::Internal(cause) => {
                let reference = uuid::Uuid::new_v4();
                tracing::error!(%reference, error = ?cause, "internal error");
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, code, format!("internal error (reference {reference})"))
            }
        }
    }
}

/// JSON body errors: syntax → 400 `malformed_json`; wrong types, unknown enum values, missing
/// fields → 422 `invalid_field` (serde's message names the field and what was expected).
pub fn json_error(err: actix_web::error::JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
    use actix_web::error::JsonPayloadError as E;
    let api = match &err {
        E::OverflowKnownLength { length, limit } => {
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", format!("the body is {length} bytes; the limit is {limit}"))
        }
        E::Overflow { limit } => {
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", format!("the body exceeds {limit} bytes"))
        }
        E::ContentType => ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", "send the body as application/json"),
        E::Deserialize(e) if e.is_data() => ApiError::unprocessable("invalid_field", e.to_string()),
        E::Deserialize(e) => ApiError::bad_request("malformed_json", format!("the body is not valid JSON: {e}")),
        _ => ApiError::bad_request("malformed_request", "the request body could not be read"),
    };
    api.into()
}

/// Path errors: every path parameter is a UUID.
pub fn path_error(err: actix_web::error::PathError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::bad_request("invalid_id", format!("a path parameter is not a UUID (or, for a year, a number): {err}")).into()
}

/// Query string errors.
pub fn query_error(err: actix_web::error::QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::bad_request("invalid_query", format!("invalid query parameter: {err}")).into()
}

/// The safety net: any error response that did not come from [`ApiError`] (actix's own
/// text/plain bodies) is rewritten as problem+json, so clients see one error shape everywhere.
pub fn problem_for_plain_errors<B>(
    res: actix_web::dev::ServiceResponse<B>,
) -> actix_web::Result<actix_web::middleware::ErrorHandlerResponse<B>> {
    use actix_web::middleware::ErrorHandlerResponse;
    // A problem already, or one of the console's HTML error pages.
    let is_answer = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json") || v.as_bytes().starts_with(b"text/html"));
    if is_answer {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let code = match status.as_u16() {
        404 => "route_not_found",
        405 => "method_not_allowed",
        408 => "upload_timeout",
        413 => "payload_too_large",
        415 => "unsupported_media_type",
        s if s >= 500 => "internal_error",
        _ => "request_invalid",
    };
    let problem = ApiError::new(status, code, status.canonical_reason().unwrap_or("request failed")).error_response();
    let (req, _) = res.into_parts();
    Ok(ErrorHandlerResponse::Response(actix_web::dev::ServiceResponse::new(req, problem).map_into_right_body()))
}

#[cfg(test)]
mod tests {
    use actix_web::{test, web, App, HttpResponse};

    #[actix_web::test]
    async fn plain_error_bodies_become_problems() {
        let app = test::init_service(
            App::new()
                .wrap(actix_web::middleware::ErrorHandlers::new().default_handler(super::problem_for_plain_errors))
                .route("/plain", web::get().to(|| async { HttpResponse::BadRequest().body("plain text") }))
                .route("/ok", web::get().to(|| async { HttpResponse::Ok().body("fine") })),
        )
        .await;
        let res = test::call_service(&app, test::TestRequest::get().uri("/plain").to_request()).await;
        assert_eq!(res.status(), 400);
        assert_eq!(res.headers().get("content-type").unwrap(), "application/problem+json");
        let body: serde_json::Value = test::read_body_json(res).await;
        assert_eq!(body["code"], "request_invalid");
        let res = test::call_service(&app, test::TestRequest::get().uri("/ok").to_request()).await;
        assert_eq!(test::read_body(res).await, "fine");
    }
}
