//! Signing in and out, the password page, the language switch, and where `/` and `/hq/` lead.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::i18n::{texts, Texts, EN, ID};
use super::session::{
    check_csrf, check_login_csrf, cookie, html, removal, safe_next, ConsoleError, Signed, LOGIN_CSRF_COOKIE, SESSION_COOKIE,
};
use crate::app::{sessions, App, AppError};
use crate::domain::directory::Locale;
use crate::domain::role::Role;

/// The page a role starts on: marketing the review queue, a rep their tasks.
pub fn start_page(role: Role) -> &'static str {
    if role.is_marketing() {
        "/hq/queue"
    } else {
        "/hq/tasks"
    }
}

fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header((header::LOCATION, to)).finish()
}

/// `GET /` and `GET /hq/`: to the console.
pub async fn root() -> HttpResponse {
    see_other("/hq/queue")
}

#[derive(Template)]
#[template(path = "console/login.html")]
struct LoginPage<'a> {
    t: &'static Texts,
    other: &'static Texts,
    csrf: String,
    next: &'a str,
    error: Option<String>,
    login: &'a str,
}

#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
    lang: Option<String>,
}

/// The language of a page nobody is signed in to: `?lang=`, else the browser's preference.
fn guest_locale(req: &HttpRequest, lang: Option<&str>) -> Locale {
    if let Some(l) = lang.and_then(Locale::parse) {
        return l;
    }
    let accept = req.headers().get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or("");
    match accept.split(',').next().map(|l| l.trim().to_ascii_lowercase()) {
        Some(l) if l.starts_with("en") => Locale::En,
        _ => Locale::Id,
    }
}

fn login_page(
    req: &HttpRequest,
    locale: Locale,
    next: &str,
    login: &str,
    error: Option<String>,
    status: actix_web::http::StatusCode,
) -> HttpResponse {
    let csrf = crate::app::auth::new_token();
    let t = texts(locale);
    let other = if locale == Locale::Id { &EN } else { &ID };
    let body = LoginPage { t, other, csrf: csrf.clone(), next, error, login }.render().unwrap_or_default();
    super::session::page_headers(&mut HttpResponse::build(status)).cookie(cookie(req, LOGIN_CSRF_COOKIE, csrf)).body(body)
}

/// `GET /hq/login`.
pub async fn login_form(req: HttpRequest, q: web::Query<LoginQuery>) -> HttpResponse {
    let locale = guest_locale(&req, q.lang.as_deref());
    // No `next`: after signing in, the user's own start page.
    let next = q.next.as_deref().filter(|n| !n.is_empty()).map_or("", safe_next);
    login_page(&req, locale, next, "", None, actix_web::http::StatusCode::OK)
}

#[derive(Deserialize)]
pub struct LoginForm {
    login: String,
    password: String,
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    next: String,
    #[serde(default)]
    lang: String,
}

/// `POST /hq/login`: a session cookie and on to the page asked for (or the password page,
/// after a one-time password).
pub async fn login(req: HttpRequest, app: web::Data<App>, form: web::Form<LoginForm>) -> Result<HttpResponse, ConsoleError> {
    let form = form.into_inner();
    let locale = guest_locale(&req, Some(&form.lang));
    let t = texts(locale);
    check_login_csrf(&req, &form.csrf, t)?;
    let address = req.peer_addr().map(|a| a.ip().to_string());
    let next = if form.next.is_empty() { "" } else { safe_next(&form.next) };
    match sessions::sign_in(&app, form.login.trim(), &form.password, address.as_deref()).await {
        Ok(signed_in) => {
            let to = if signed_in.session.must_change {
                "/hq/password"
            } else if form.next.is_empty() || (!signed_in.session.actor.role.is_marketing() && next.starts_with("/hq/queue")) {
                // A rep sent to the queue (which is not theirs) starts on their tasks instead.
                start_page(signed_in.session.actor.role)
            } else {
                next
            };
            Ok(HttpResponse::SeeOther()
                .insert_header((header::LOCATION, to))
                .cookie(cookie(&req, SESSION_COOKIE, signed_in.cookie))
                .cookie(removal(&req, LOGIN_CSRF_COOKIE))
                .finish())
        }
        Err(AppError::SignInFailed) => {
            Ok(login_page(&req, locale, next, &form.login, Some(t.sign_in_failed.into()), actix_web::http::StatusCode::UNAUTHORIZED))
        }
        Err(AppError::TooManyRequests { retry_after_secs, .. }) => {
            let mut page = login_page(
                &req,
                locale,
                next,
                &form.login,
                Some(format!("{} ({retry_after_secs} s)", t.sign_in_throttled)),
                actix_web::http::StatusCode::TOO_MANY_REQUESTS,
            );
            page.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from(retry_after_secs));
            Ok(page)
        }
        Err(e) => Err(ConsoleError::from_app(e, locale)),
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(rename = "_csrf", default)]
    pub csrf: Option<String>,
}

/// `POST /hq/logout`.
pub async fn logout(
    req: HttpRequest,
    app: web::Data<App>,
    signed: Signed,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, ConsoleError> {
    check_csrf(&req, &signed, form.csrf.as_deref())?;
    sessions::sign_out(&app, &signed.session).await.map_err(|e| ConsoleError::from_app(e, signed.session.locale))?;
    Ok(HttpResponse::SeeOther().insert_header((header::LOCATION, "/hq/login")).cookie(removal(&req, SESSION_COOKIE)).finish())
}

#[derive(Template)]
#[template(path = "console/password.html")]
struct PasswordPage {
    chrome: super::session::Chrome,
    must_change: bool,
    error: Option<String>,
}

/// `GET /hq/password`.
pub async fn password_form(req: HttpRequest, signed: Signed) -> Result<HttpResponse, ConsoleError> {
    let must_change = signed.session.must_change;
    html(PasswordPage { chrome: signed.chrome(&req, "password"), must_change, error: None }.render())
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(rename = "_csrf", default)]
    csrf: Option<String>,
    current: String,
    new: String,
    repeat: String,
}

/// `POST /hq/password`.
pub async fn change_password(
    req: HttpRequest,
    app: web::Data<App>,
    signed: Signed,
    form: web::Form<PasswordForm>,
) -> Result<HttpResponse, ConsoleError> {
    check_csrf(&req, &signed, form.csrf.as_deref())?;
    let t = signed.t;
    let error = if form.new != form.repeat {
        Some(t.passwords_differ.to_string())
    } else {
        match sessions::change_password(&app, &signed.session, &form.current, &form.new).await {
            Ok(()) => return Ok(see_other(start_page(signed.session.actor.role))),
            Err(AppError::Invalid { code: "password_wrong", .. }) => Some(t.sign_in_failed.to_string()),
            Err(AppError::Invalid { code, .. }) => Some(format!("{} ({code})", t.password_rules)),
            Err(e) => return Err(ConsoleError::from_app(e, signed.session.locale)),
        }
    };
    let must_change = signed.session.must_change;
    let body = PasswordPage { chrome: signed.chrome(&req, "password"), must_change, error }.render();
    let mut response = html(body)?;
    *response.status_mut() = actix_web::http::StatusCode::UNPROCESSABLE_ENTITY;
    Ok(response)
}

#[derive(Deserialize)]
pub struct LocaleForm {
    #[serde(rename = "_csrf", default)]
    csrf: Option<String>,
    locale: String,
    #[serde(default)]
    back: String,
}

/// `POST /hq/locale`: remembers the language and goes back to the page.
pub async fn set_locale(
    req: HttpRequest,
    app: web::Data<App>,
    signed: Signed,
    form: web::Form<LocaleForm>,
) -> Result<HttpResponse, ConsoleError> {
    check_csrf(&req, &signed, form.csrf.as_deref())?;
    let locale = Locale::parse(&form.locale)
        .ok_or_else(|| ConsoleError::from_app(AppError::invalid("invalid_locale", "the language is id or en"), signed.session.locale))?;
    sessions::set_locale(&app, &signed.session, locale).await.map_err(|e| ConsoleError::from_app(e, signed.session.locale))?;
    Ok(see_other(safe_next(&form.back)))
}
