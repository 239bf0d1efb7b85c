//! Who is signed in to the console, and the checks every console request passes: the session
//! cookie (`fp_session`: HttpOnly, SameSite=Lax, Secure behind https), the CSRF token of every
//! state-changing request (the session's own, as a form field `_csrf` or the `X-CSRF-Token`
//! header htmx sends), and the `Origin` of a POST.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::Payload;
use actix_web::http::{header, StatusCode};
use actix_web::{web, FromRequest, HttpRequest, HttpResponse, ResponseError};
use askama::Template;
use futures_util::future::LocalBoxFuture;

use super::i18n::{texts, Texts};
use crate::app::sessions::Session;
use crate::app::{App, AppError};
use crate::domain::directory::Locale;
use crate::domain::role::Role;

pub const SESSION_COOKIE: &str = "fp_session";
/// The sign-in form's own CSRF token (double-submit: cookie and field must match), since there
/// is no session yet to hold one.
pub const LOGIN_CSRF_COOKIE: &str = "fp_login_csrf";

/// How the console's cookies are made (from `[console]` in the configuration).
#[derive(Debug, Clone, Copy)]
pub struct CookiePolicy {
    pub secure: bool,
}

pub fn cookie_policy(req: &HttpRequest) -> CookiePolicy {
    req.app_data::<web::Data<CookiePolicy>>().map_or(CookiePolicy { secure: false }, |p| *p.get_ref())
}

/// A console cookie: HttpOnly, SameSite=Lax, path `/hq`, Secure behind https; `max_age` `None`
/// lasts the browser session.
pub fn cookie(req: &HttpRequest, name: &'static str, value: String) -> Cookie<'static> {
    Cookie::build(name, value).path("/hq").http_only(true).same_site(SameSite::Lax).secure(cookie_policy(req).secure).finish()
}

/// The cookie that removes one.
pub fn removal(req: &HttpRequest, name: &'static str) -> Cookie<'static> {
    let mut c = cookie(req, name, String::new());
    c.make_removal();
    c
}

/// A signed-in console request.
pub struct Signed {
    pub session: Session,
    pub t: &'static Texts,
}

impl Signed {
    pub fn is_marketing(&self) -> bool {
        self.session.actor.role.is_marketing()
    }

    /// The page frame's data: who is signed in, the token forms carry, the words.
    pub fn chrome(&self, req: &HttpRequest, active: &'static str) -> Chrome {
        Chrome {
            t: self.t,
            user_name: self.session.actor.name.clone(),
            role: role_label(self.t, self.session.actor.role),
            csrf: self.session.csrf_token.clone(),
            active,
            marketing: self.is_marketing(),
            can_deduct: req
                .app_data::<actix_web::web::Data<crate::app::App>>()
                .is_some_and(|app| app.policy.deduction_roles.contains(&self.session.actor.role)),
            here: here(req),
        }
    }
}

/// What the frame of every page shows.
pub struct Chrome {
    pub t: &'static Texts,
    pub user_name: String,
    pub role: &'static str,
    pub csrf: String,
    /// Which menu entry is this page.
    pub active: &'static str,
    pub marketing: bool,
    /// May deduct points in a review (`policy.deduction_roles`).
    pub can_deduct: bool,
    /// This page's path and query, to come back to after switching the language.
    pub here: String,
}

pub fn role_label(t: &Texts, role: Role) -> &'static str {
    match role {
        Role::Sales => t.role_sales,
        Role::BranchMarketing => t.role_branch_marketing,
        Role::Supervisor => t.role_supervisor,
        Role::Hq => t.role_hq,
        Role::Admin => t.role_admin,
    }
}

/// The request's path and query, as a safe local target (`/hq/…` only).
pub fn here(req: &HttpRequest) -> String {
    let uri = req.uri();
    let target = uri.path_and_query().map_or(uri.path(), |pq| pq.as_str());
    safe_next(target).to_string()
}

/// Where to go after signing in: a path under `/hq/`, never another site (`//evil`, `/\evil`).
pub fn safe_next(next: &str) -> &str {
    if next.starts_with("/hq/") && !next.contains("//") && !next.contains('\\') && !next.contains("/hq/login") {
        next
    } else {
        "/hq/queue"
    }
}

fn is_htmx(req: &HttpRequest) -> bool {
    req.headers().contains_key("hx-request")
}

impl FromRequest for Signed {
    type Error = ConsoleError;
    type Future = LocalBoxFuture<'static, Result<Self, ConsoleError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let app = req.app_data::<web::Data<App>>().cloned();
        let cookie = req.cookie(SESSION_COOKIE).map(|c| c.value().to_string());
        let next = here(req);
        let htmx = is_htmx(req);
        // After a one-time password only the password page (and signing out) is open.
        let on_password_page = req.path() == "/hq/password" || req.path() == "/hq/logout";
        Box::pin(async move {
            let app = app.ok_or_else(|| ConsoleError::from_app(AppError::internal("app data missing"), Locale::Id))?;
            let Some(cookie) = cookie else { return Err(ConsoleError::SignIn { next, htmx }) };
            let session = crate::app::sessions::session(&app, &cookie)
                .await
                .map_err(|e| ConsoleError::from_app(e, Locale::Id))?
                .ok_or(ConsoleError::SignIn { next, htmx })?;
            if session.must_change && !on_password_page {
                return Err(ConsoleError::Redirect("/hq/password".into()));
            }
            Ok(Signed { t: texts(session.locale), session })
        })
    }
}

/// Refuses a state-changing request that does not carry the session's CSRF token (form field
/// or header) or that comes from another origin.
pub fn check_csrf(req: &HttpRequest, signed: &Signed, field: Option<&str>) -> Result<(), ConsoleError> {
    let header = req.headers().get("x-csrf-token").and_then(|v| v.to_str().ok());
    let given = field.or(header).unwrap_or_default();
    if !same_origin(req) || !constant_time_eq(given.as_bytes(), signed.session.csrf_token.as_bytes()) {
        tracing::info!(path = req.path(), user = %signed.session.actor.id, "console request refused: CSRF token or origin");
        return Err(ConsoleError::Page {
            status: StatusCode::FORBIDDEN,
            code: "csrf_failed",
            message: signed.t.error_csrf.into(),
            t: signed.t,
        });
    }
    Ok(())
}

/// The double-submit check of the sign-in form.
pub fn check_login_csrf(req: &HttpRequest, field: &str, t: &'static Texts) -> Result<(), ConsoleError> {
    let cookie = req.cookie(LOGIN_CSRF_COOKIE).map(|c| c.value().to_string()).unwrap_or_default();
    if cookie.is_empty() || !same_origin(req) || !constant_time_eq(cookie.as_bytes(), field.as_bytes()) {
        return Err(ConsoleError::Page { status: StatusCode::FORBIDDEN, code: "csrf_failed", message: t.error_csrf.into(), t });
    }
    Ok(())
}

/// A browser names the page a POST came from in `Origin` (or, older ones, `Referer`); when it
/// does, it must be this server. (Requests without either are not from a browser's form.)
fn same_origin(req: &HttpRequest) -> bool {
    let host = req.connection_info().host().to_string();
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .or_else(|| req.headers().get(header::REFERER))
        .and_then(|v| v.to_str().ok())
        .filter(|o| *o != "null");
    match origin {
        None => true,
        Some(o) => {
            let rest = o.strip_prefix("https://").or_else(|| o.strip_prefix("http://")).unwrap_or("");
            rest.split('/').next() == Some(host.as_str())
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Why a console request ends other than with its page.
pub enum ConsoleError {
    /// No live session: to the sign-in page (an htmx request is told to go there whole).
    SignIn {
        next: String,
        htmx: bool,
    },
    Redirect(String),
    /// An error page with the status and the stable code the API would give.
    Page {
        status: StatusCode,
        code: &'static str,
        message: String,
        t: &'static Texts,
    },
}

impl std::fmt::Debug for ConsoleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

impl std::fmt::Display for ConsoleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConsoleError::SignIn { .. } => write!(f, "sign-in required"),
            ConsoleError::Redirect(to) => write!(f, "redirect to {to}"),
            ConsoleError::Page { status, code, message, .. } => write!(f, "{} {code}: {message}", status.as_u16()),
        }
    }
}

impl ConsoleError {
    /// A query parameter of a page is not valid (400 `invalid_query`, as the API says it).
    pub fn bad_query(t: &'static Texts, field: &str) -> ConsoleError {
        ConsoleError::Page { status: StatusCode::BAD_REQUEST, code: "invalid_query", message: format!("{}: {field}", t.error_other), t }
    }

    /// A query or form field of a page: empty is "not given", anything `parse` refuses is
    /// `400 invalid_query` naming the field.
    pub fn field<T>(t: &'static Texts, name: &str, value: &str, parse: impl Fn(&str) -> Option<T>) -> Result<Option<T>, ConsoleError> {
        match value.trim() {
            "" => Ok(None),
            v => parse(v).map(Some).ok_or_else(|| ConsoleError::bad_query(t, name)),
        }
    }

    /// A use case's error as a page: the API's status and code, the console's words.
    pub fn from_app(e: AppError, locale: Locale) -> ConsoleError {
        let t = texts(locale);
        let api = crate::http::error::ApiError::from(e);
        let message = match api.status {
            StatusCode::FORBIDDEN => t.error_forbidden.to_string(),
            StatusCode::NOT_FOUND => t.error_not_found.to_string(),
            s if s.is_server_error() => format!("{} ({})", t.error_other, api.detail),
            _ => api.detail.clone(),
        };
        ConsoleError::Page { status: api.status, code: api.code, message, t }
    }
}

#[derive(Template)]
#[template(path = "console/error.html")]
struct ErrorPage<'a> {
    t: &'static Texts,
    status: u16,
    code: &'a str,
    message: &'a str,
}

impl ResponseError for ConsoleError {
    fn status_code(&self) -> StatusCode {
        match self {
            ConsoleError::SignIn { htmx: true, .. } => StatusCode::UNAUTHORIZED,
            ConsoleError::SignIn { .. } | ConsoleError::Redirect(_) => StatusCode::SEE_OTHER,
            ConsoleError::Page { status, .. } => *status,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            ConsoleError::SignIn { next, htmx } => {
                let to = format!("/hq/login?next={}", urlencode(next));
                if *htmx {
                    HttpResponse::Unauthorized()
                        .content_type("text/html; charset=utf-8")
                        .insert_header(("X-Error-Code", "unauthorized"))
                        .insert_header(("HX-Redirect", to))
                        .body("<p>sign-in required</p>")
                } else {
                    HttpResponse::SeeOther().insert_header((header::LOCATION, to)).finish()
                }
            }
            ConsoleError::Redirect(to) => HttpResponse::SeeOther().insert_header((header::LOCATION, to.as_str())).finish(),
            ConsoleError::Page { status, code, message, t } => {
                let body = ErrorPage { t, status: status.as_u16(), code, message }.render().unwrap_or_else(|_| message.clone());
                page_headers(&mut HttpResponse::build(*status)).insert_header(("X-Error-Code", *code)).body(body)
            }
        }
    }
}

/// Percent-encodes a query value.
/// The non-empty fields as the rest of a query string: `&key=value…`, each value encoded.
pub fn query_rest(fields: &[(&str, &String)]) -> String {
    fields.iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| format!("&{k}={}", urlencode(v))).collect()
}

pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The console's pages may load nothing from another origin, be framed by no one, and post
/// only to themselves; the browser enforces it. (Leaflet positions its layers with inline
/// styles, so styles may be inline; scripts may not.)
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

/// The headers every console page carries.
pub fn page_headers(response: &mut actix_web::HttpResponseBuilder) -> &mut actix_web::HttpResponseBuilder {
    response
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "same-origin"))
}

/// A rendered page as a response.
pub fn html(rendered: Result<String, askama::Error>) -> Result<HttpResponse, ConsoleError> {
    let body = rendered.map_err(|e| ConsoleError::from_app(AppError::internal(format!("template: {e}")), Locale::Id))?;
    Ok(page_headers(&mut HttpResponse::Ok()).body(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_console_paths_are_followed_after_sign_in() {
        assert_eq!(safe_next("/hq/visits/1?x=2"), "/hq/visits/1?x=2");
        for bad in ["https://evil.example/hq/", "//evil.example/hq/", "/hq//evil", "/\\evil", "/v1/me", "/hq/login?next=/hq/x"] {
            assert_eq!(safe_next(bad), "/hq/queue", "{bad}");
        }
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(!constant_time_eq(b"", b"a"));
    }

    #[test]
    fn query_values_are_encoded() {
        assert_eq!(urlencode("/hq/queue?a=1&b=2 3"), "/hq/queue%3Fa%3D1%26b%3D2%203");
    }
}
