//! JSON request bodies, read in two steps so each kind of fault gets its own answer: the bytes
//! must be JSON (else 400 `malformed_json`, with actix's limit and content-type checks before
//! it), then the value must fit the body's type (else 422 `invalid_field`, naming the field by
//! its path). serde_json alone reports `"method": 5` as a syntax error ("expected value"), which
//! the contract calls a wrong value; and no string anywhere in a body may hold a control
//! character other than tab and line breaks (a NUL in a name is no real visit's).

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::error::ApiError;
use crate::domain::text::is_text;

/// A JSON object body deserialized into `T`.
pub struct Json<T>(pub T);

impl<T> Json<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for Json<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let value = web::Json::<Value>::from_request(req, payload);
        Box::pin(async move {
            let web::Json(value) = value.await?;
            Ok(Json(parse(value)?))
        })
    }
}

/// A body that may be left out: no body at all is `None`; anything sent must be a valid
/// [`Json`] body (an empty `text/plain` body is no body; `[]` or a wrong field is a 422).
pub struct OptionalJson<T>(pub Option<T>);

impl<T: DeserializeOwned + 'static> FromRequest for OptionalJson<T> {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let chunked = req.headers().contains_key(actix_web::http::header::TRANSFER_ENCODING);
        let length = req
            .headers()
            .get(actix_web::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        if !chunked && length.unwrap_or(0) == 0 {
            return Box::pin(async { Ok(OptionalJson(None)) });
        }
        let body = Json::<T>::from_request(req, payload);
        Box::pin(async move { Ok(OptionalJson(Some(body.await?.0))) })
    }
}

/// The value as `T`: a JSON object whose strings are text, fitting `T`'s fields.
pub fn parse<T: DeserializeOwned>(value: Value) -> Result<T, ApiError> {
    if !value.is_object() {
        return Err(ApiError::unprocessable("invalid_field", "the body must be a JSON object"));
    }
    if let Some(path) = control_character_at(&value, &mut String::new()) {
        let mut e = ApiError::unprocessable("invalid_field", format!("{path} holds a control character"));
        e.fields = vec![path];
        return Err(e);
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let mut api = ApiError::unprocessable("invalid_field", format!("{path}: {}", e.inner()));
        if path != "." {
            api.fields = vec![path];
        }
        api
    })
}

/// The path of the first string (key or value) that is not [`is_text`].
fn control_character_at(value: &Value, path: &mut String) -> Option<String> {
    let bad = |s: &str| !is_text(s);
    match value {
        Value::String(s) if bad(s) => Some(if path.is_empty() { ".".into() } else { path.clone() }),
        Value::Array(items) => items.iter().enumerate().find_map(|(i, item)| {
            let len = path.len();
            path.push_str(&format!("[{i}]"));
            let found = control_character_at(item, path);
            path.truncate(len);
            found
        }),
        Value::Object(map) => map.iter().find_map(|(key, item)| {
            let len = path.len();
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(key);
            let found = if bad(key) { Some(path.clone()) } else { control_character_at(item, path) };
            path.truncate(len);
            found
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Body {
        method: crate::domain::visit::Method,
        #[serde(default)]
        notes: Vec<String>,
    }

    #[test]
    fn a_wrong_value_is_a_field_error_naming_the_field() {
        let e = super::parse::<Body>(json!({ "method": 5 })).unwrap_err();
        assert_eq!((e.status.as_u16(), e.code), (422, "invalid_field"));
        assert_eq!(e.fields, ["method"]);
        let e = super::parse::<Body>(json!([])).unwrap_err();
        assert_eq!((e.status.as_u16(), e.code), (422, "invalid_field"));
        assert!(super::parse::<Body>(json!({ "method": "phone" })).is_ok());
    }

    #[test]
    fn control_characters_are_refused_wherever_they_are() {
        let e = super::parse::<Body>(json!({ "method": "phone", "notes": ["fine", "a\u{0}b"] })).unwrap_err();
        assert_eq!(e.fields, ["notes[1]"]);
        assert!(super::parse::<Body>(json!({ "method": "phone", "notes": ["tab\tand\r\nlines", "é ✓"] })).is_ok());
        let e = super::parse::<Body>(json!({ "method": "phone", "x\u{1b}": 1 })).unwrap_err();
        assert_eq!(e.fields, ["x\u{1b}"]);
    }
}
