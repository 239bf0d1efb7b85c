//! actix-web handlers: parse → call `app` → map to a response body. No SQL, no storage calls.
//!
//! [`routes`] is the single table of every endpoint; the server registers exactly it, and the
//! contract test compares it with `openapi.yaml`.

mod auth;
mod calendar;
pub mod connection;
pub mod console;
mod customers;
mod dates;
pub mod error;
pub mod exports;
mod feeds;
mod follow_ups;
mod health;
mod imports;
mod json;
mod leads;
mod multipart;
pub mod photos;
mod requests;
mod responses;
mod reviews;
mod tasks;
mod tokens;
mod visits;
mod webhooks;

use actix_web::http::{header, Method, StatusCode};
use actix_web::{web, HttpResponse, ResponseError, Route};

use error::ApiError;

/// Every endpoint: method, path (OpenAPI template syntax), handler.
pub fn routes() -> Vec<(Method, &'static str, Route)> {
    vec![
        (Method::GET, "/healthz", web::get().to(health::healthz)),
        (Method::GET, "/readyz", web::get().to(health::readyz)),
        (Method::GET, "/metrics", web::get().to(health::metrics)),
        (Method::GET, "/v1/me", web::get().to(health::me)),
        (Method::GET, "/v1/tokens", web::get().to(tokens::list)),
        (Method::POST, "/v1/tokens", web::post().to(tokens::create)),
        (Method::DELETE, "/v1/tokens/{token_id}", web::delete().to(tokens::revoke)),
        (Method::POST, "/v1/me/calendar-feed", web::post().to(feeds::create)),
        (Method::DELETE, "/v1/me/calendar-feed", web::delete().to(feeds::revoke)),
        (Method::GET, "/v1/calendar-feeds/{feed_token}", web::get().to(feeds::get)),
        (Method::GET, "/v1/policy", web::get().to(health::policy)),
        (Method::GET, "/v1/policy/versions", web::get().to(health::policy_versions)),
        (Method::POST, "/v1/policy/versions", web::post().to(health::add_policy_version)),
        (Method::GET, "/v1/result-reasons", web::get().to(health::result_reasons)),
        (Method::GET, "/v1/digests/daily", web::get().to(reviews::daily_digest)),
        (Method::GET, "/v1/customers", web::get().to(customers::list)),
        (Method::POST, "/v1/customers", web::post().to(customers::create)),
        (Method::GET, "/v1/customers/{customer_id}", web::get().to(customers::get)),
        (Method::PATCH, "/v1/customers/{customer_id}", web::patch().to(customers::update)),
        (Method::GET, "/v1/customers/{customer_id}/research", web::get().to(customers::research)),
        (Method::GET, "/v1/customers/{customer_id}/place-proposal", web::get().to(customers::place_proposal)),
        (Method::POST, "/v1/customers/{customer_id}/place-proposal/accept", web::post().to(customers::accept_place)),
        (Method::POST, "/v1/customers/{customer_id}/place-proposal/reject", web::post().to(customers::reject_place)),
        (Method::GET, "/v1/tasks", web::get().to(tasks::list)),
        (Method::POST, "/v1/tasks", web::post().to(tasks::create)),
        (Method::GET, "/v1/tasks/{task_id}", web::get().to(tasks::get)),
        (Method::DELETE, "/v1/tasks/{task_id}", web::delete().to(tasks::delete)),
        (Method::POST, "/v1/tasks/{task_id}/assign", web::post().to(tasks::assign)),
        (Method::POST, "/v1/tasks/{task_id}/confirm", web::post().to(tasks::confirm)),
        (Method::POST, "/v1/tasks/{task_id}/done", web::post().to(tasks::done)),
        (Method::GET, "/v1/leads", web::get().to(leads::list)),
        (Method::GET, "/v1/reports/lead-duplicates", web::get().to(leads::duplicates)),
        (Method::PUT, "/v1/leads/{lead_id}", web::put().to(leads::put)),
        (Method::GET, "/v1/leads/{lead_id}", web::get().to(leads::get)),
        (Method::GET, "/v1/leads/{lead_id}/activities", web::get().to(leads::activities)),
        (Method::POST, "/v1/leads/{lead_id}/activities", web::post().to(leads::add_activity)),
        (Method::POST, "/v1/leads/{lead_id}/stage", web::post().to(leads::stage)),
        (Method::POST, "/v1/leads/{lead_id}/merge", web::post().to(leads::merge)),
        (Method::PUT, "/v1/leads/{lead_id}/contract", web::put().to(leads::contract)),
        (Method::GET, "/v1/leads/{lead_id}/quotations", web::get().to(follow_ups::list_quotations)),
        (Method::PUT, "/v1/leads/{lead_id}/quotations/{quotation_id}", web::put().to(follow_ups::put_quotation)),
        (Method::POST, "/v1/quotations/{quotation_id}/approve", web::post().to(follow_ups::approve)),
        (Method::POST, "/v1/quotations/{quotation_id}/reject", web::post().to(follow_ups::reject)),
        (Method::PUT, "/v1/quotations/{quotation_id}/document", web::put().to(follow_ups::put_document)),
        (Method::GET, "/v1/quotations/{quotation_id}/document", web::get().to(follow_ups::document)),
        (Method::GET, "/v1/follow-ups", web::get().to(follow_ups::list)),
        (Method::POST, "/v1/follow-ups/{follow_up_id}/done", web::post().to(follow_ups::done)),
        (Method::PUT, "/v1/service-cases/{service_case_id}", web::put().to(follow_ups::put_service_case)),
        (Method::GET, "/v1/service-cases/{service_case_id}", web::get().to(follow_ups::get_service_case)),
        (Method::GET, "/v1/visits", web::get().to(visits::list)),
        (Method::GET, "/v1/visits/{visit_id}", web::get().to(visits::get)),
        (Method::PUT, "/v1/visits/{visit_id}", web::put().to(visits::put)),
        (Method::POST, "/v1/visits/{visit_id}/submit", web::post().to(visits::submit)),
        (Method::POST, "/v1/visits/{visit_id}/reviews", web::post().to(visits::review)),
        (Method::PUT, "/v1/visits/{visit_id}/photos/{photo_id}", web::put().to(photos::put)),
        (Method::GET, "/v1/visits/{visit_id}/photos/{photo_id}/content", web::get().to(photos::content)),
        (Method::GET, "/v1/screenshots", web::get().to(photos::search_screenshots)),
        (Method::GET, "/v1/holidays/{year}", web::get().to(calendar::get)),
        (Method::PUT, "/v1/holidays/{year}", web::put().to(calendar::put)),
        (Method::POST, "/v1/imports/customers", web::post().to(imports::customers)),
        (Method::POST, "/v1/imports/volumes", web::post().to(imports::volumes)),
        (Method::POST, "/v1/imports/leads", web::post().to(imports::leads)),
        (Method::POST, "/v1/classification/run", web::post().to(imports::classify)),
        (Method::GET, "/v1/review-queue", web::get().to(reviews::queue)),
        (Method::POST, "/v1/reviews/bulk", web::post().to(reviews::bulk)),
        (Method::GET, "/v1/scorecards", web::get().to(reviews::scorecards)),
        (Method::GET, "/v1/reports/pipeline", web::get().to(leads::pipeline)),
        (Method::GET, "/v1/exports/visits.csv", web::get().to(exports::api_visits_csv)),
        (Method::GET, "/v1/exports/visits.geojson", web::get().to(exports::api_visits_geojson)),
        (Method::GET, "/v1/exports/photos.zip", web::get().to(exports::api_photos_zip)),
        (Method::GET, "/v1/exports/tasks.csv", web::get().to(exports::api_tasks_csv)),
        (Method::GET, "/v1/exports/scorecards.csv", web::get().to(exports::api_scorecards_csv)),
        (Method::GET, "/v1/exports/pipeline.csv", web::get().to(leads::pipeline_csv)),
        (Method::POST, "/v1/exports", web::post().to(exports::api_request)),
        (Method::GET, "/v1/exports", web::get().to(exports::api_list)),
        (Method::GET, "/v1/exports/{export_id}", web::get().to(exports::api_get)),
        (Method::GET, "/v1/exports/{export_id}/file", web::get().to(exports::api_file)),
        (Method::GET, "/v1/webhooks", web::get().to(webhooks::list)),
        (Method::POST, "/v1/webhooks", web::post().to(webhooks::create)),
        (Method::DELETE, "/v1/webhooks/{webhook_id}", web::delete().to(webhooks::delete)),
        (Method::GET, "/v1/webhooks/{webhook_id}/deliveries", web::get().to(webhooks::deliveries)),
    ]
}

/// Counts and times every answered request by its route template (the outermost middleware but
/// the logger, so a problem+json written by the error handlers is counted with its status), in a
/// `request` span (method, path without the query) that the repository and storage spans of the
/// request nest in.
pub async fn record_metrics(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    use tracing::Instrument;
    let started = std::time::Instant::now();
    let span =
        tracing::info_span!("request", method = %req.method(), path = %feeds::loggable_path(req.path()), status = tracing::field::Empty);
    let response = next.call(req).instrument(span.clone()).await?;
    span.record("status", response.status().as_u16());
    let request = response.request();
    if let Some(app) = request.app_data::<web::Data<crate::app::App>>() {
        let route = request.match_pattern().unwrap_or_else(|| "unmatched".to_string());
        app.metrics.observe_request(request.method().as_str(), &route, response.status().as_u16(), started.elapsed());
    }
    Ok(response)
}

/// The headers of every response that does not set its own (the console's pages set a CSP of
/// their own, see `console::session::page_headers`): nothing is sniffed into another type,
/// framed, or sent a referrer; an API body is no document, so it may load nothing.
pub fn security_headers() -> actix_web::middleware::DefaultHeaders {
    actix_web::middleware::DefaultHeaders::new()
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::REFERRER_POLICY, "no-referrer"))
        .add((header::X_FRAME_OPTIONS, "DENY"))
        .add((header::CONTENT_SECURITY_POLICY, "default-src 'none'; frame-ancestors 'none'; sandbox"))
}

/// Method and path of every endpoint, the console's pages included, for the contract test.
pub fn route_table() -> Vec<(String, String)> {
    routes().into_iter().chain(console::routes()).map(|(m, p, _)| (m.to_string(), p.to_string())).collect()
}

/// The methods some route serves `path` with (empty: no route has this path). A `{name}`
/// matches one segment; the console assets' `{path}` the rest of the path.
pub fn allowed_methods(path: &str) -> Vec<String> {
    let wanted: Vec<&str> = path.split('/').collect();
    let matches = |template: &str| {
        let parts: Vec<&str> = template.split('/').collect();
        for (i, part) in parts.iter().enumerate() {
            if *part == "{path}" {
                return wanted.len() > i && wanted[i..].iter().all(|s| !s.is_empty());
            }
            match wanted.get(i) {
                // An export's file is a name with an extension (see `console::actix_path`).
                Some(s) if *part == "{file}" => {
                    let lower = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_lowercase());
                    if !s.split_once('.').is_some_and(|(n, e)| lower(n) && lower(e)) {
                        return false;
                    }
                }
                Some(s) if part.starts_with('{') => {
                    if s.is_empty() {
                        return false;
                    }
                }
                Some(s) if s == part => {}
                _ => return false,
            }
        }
        parts.len() == wanted.len()
    };
    let mut methods: Vec<String> = route_table().into_iter().filter(|(_, t)| matches(t)).map(|(m, _)| m).collect();
    methods.sort();
    methods.dedup();
    methods
}

/// What the request log writes of a request: its method and path, without the query string
/// (which may carry a token) and with a calendar feed's secret replaced.
pub fn logged_request(req: &actix_web::dev::ServiceRequest) -> String {
    format!("{} {}", req.method(), feeds::loggable_path(req.path()))
}

/// Registers the routes, the extractor error handlers and the problem+json 404.
pub fn configure(cfg: &mut web::ServiceConfig, max_json_bytes: usize) {
    cfg.app_data(web::JsonConfig::default().limit(max_json_bytes).error_handler(error::json_error))
        .app_data(web::PathConfig::default().error_handler(error::path_error))
        .app_data(web::QueryConfig::default().error_handler(error::query_error));
    for (_, path, route) in routes() {
        cfg.route(path, route);
    }
    // The console's pages and assets are compressed for browsers that ask (images say
    // `identity`); the API's bodies are left as they are.
    let mut console_routes = Vec::new();
    for (_, path, route) in console::routes() {
        match path.strip_prefix("/hq") {
            Some(rest) => console_routes.push((console::actix_path(rest), route)),
            None => {
                cfg.route(path, route);
            }
        }
    }
    cfg.service(web::scope("/hq").wrap(actix_web::middleware::Compress::default()).configure(move |scope| {
        for (path, route) in console_routes {
            scope.route(&path, route);
        }
    }));
    cfg.default_service(web::to(not_found));
}

/// Unknown routes: `405 method_not_allowed` with `Allow` when the path is served with other
/// methods, else `404 route_not_found`.
async fn not_found(req: actix_web::HttpRequest) -> HttpResponse {
    let allowed = allowed_methods(req.path());
    if allowed.is_empty() {
        return ApiError::new(StatusCode::NOT_FOUND, "route_not_found", "no such endpoint").error_response();
    }
    let allow = allowed.join(", ");
    let mut response =
        ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", format!("this path takes {allow}")).error_response();
    if let Ok(value) = header::HeaderValue::from_str(&allow) {
        response.headers_mut().insert(header::ALLOW, value);
    }
    response
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_path_knows_the_methods_it_is_served_with() {
        assert_eq!(super::allowed_methods("/v1/tokens"), ["GET", "POST"]);
        assert_eq!(super::allowed_methods("/v1/visits/abc/photos/def"), ["PUT"]);
        assert_eq!(super::allowed_methods("/v1/exports/visits.csv"), ["GET"]);
        assert_eq!(super::allowed_methods("/hq/assets/vendor/leaflet/x.js"), ["GET"]);
        assert_eq!(super::allowed_methods("/"), ["GET"]);
        assert_eq!(super::allowed_methods("/hq/exports/list"), ["GET"]);
        assert_eq!(super::allowed_methods("/hq/exports/visits.csv"), ["GET", "POST"]);
        assert!(super::allowed_methods("/v1/visits/abc/nothing").is_empty());
        assert!(super::allowed_methods("/v1/visits/").is_empty());
        assert!(super::allowed_methods("/nope").is_empty());
    }

    #[test]
    fn a_query_string_never_reaches_the_request_log() {
        let req = actix_web::test::TestRequest::get().uri("/v1/me?access_token=fp_secret&x=1").to_srv_request();
        assert_eq!(super::logged_request(&req), "GET /v1/me");
        let feed = actix_web::test::TestRequest::get().uri("/v1/calendar-feeds/fp_feed?access_token=fp_secret").to_srv_request();
        assert_eq!(super::logged_request(&feed), "GET /v1/calendar-feeds/***");
    }
}
