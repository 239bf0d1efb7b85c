//! The Marketing HQ console: server-rendered pages (askama) with htmx for partial updates,
//! under `/hq/`, over the same use cases as the API. Sessions and CSRF in `session.rs`, the
//! words in `i18n.rs`, the embedded static files in `assets.rs`.

mod assets;
mod customers;
mod exports;
mod i18n;
mod login;
mod map;
mod queue;
mod scorecards;
pub mod session;
mod tasks;
mod views;
mod visit;

use actix_web::http::Method;
use actix_web::{web, Route};

/// Every console page and action: method, path (OpenAPI template syntax), handler.
pub fn routes() -> Vec<(Method, &'static str, Route)> {
    vec![
        (Method::GET, "/", web::get().to(login::root)),
        (Method::GET, "/hq/", web::get().to(login::root)),
        (Method::GET, "/hq/login", web::get().to(login::login_form)),
        (Method::POST, "/hq/login", web::post().to(login::login)),
        (Method::POST, "/hq/logout", web::post().to(login::logout)),
        (Method::GET, "/hq/password", web::get().to(login::password_form)),
        (Method::POST, "/hq/password", web::post().to(login::change_password)),
        (Method::POST, "/hq/locale", web::post().to(login::set_locale)),
        (Method::GET, "/hq/assets/{path}", web::get().to(assets::get)),
        (Method::GET, "/hq/queue", web::get().to(queue::page)),
        (Method::POST, "/hq/queue/bulk", web::post().to(queue::bulk)),
        (Method::GET, "/hq/visits/{visit_id}", web::get().to(visit::page)),
        (Method::POST, "/hq/visits/{visit_id}/review", web::post().to(queue::decide)),
        (Method::GET, "/hq/visits/{visit_id}/photos/{photo_id}", web::get().to(visit::photo)),
        (Method::GET, "/hq/visits/{visit_id}/photos/{photo_id}/thumbnail", web::get().to(visit::thumbnail)),
        (Method::GET, "/hq/tasks", web::get().to(tasks::page)),
        (Method::POST, "/hq/tasks", web::post().to(tasks::add)),
        (Method::POST, "/hq/tasks/{task_id}/assign", web::post().to(tasks::assign)),
        (Method::POST, "/hq/tasks/{task_id}/delete", web::post().to(tasks::delete)),
        (Method::GET, "/hq/scorecards", web::get().to(scorecards::page)),
        (Method::GET, "/hq/map", web::get().to(map::page)),
        (Method::GET, "/hq/customers", web::get().to(customers::list)),
        (Method::GET, "/hq/customers/{customer_id}", web::get().to(customers::page)),
        (Method::POST, "/hq/customers/{customer_id}/place", web::post().to(customers::decide_place)),
        (Method::GET, "/hq/exports", web::get().to(exports::page)),
        (Method::GET, "/hq/exports/list", web::get().to(exports::list)),
        (Method::GET, "/hq/exports/files/{export_id}", web::get().to(exports::stored)),
        (Method::GET, "/hq/exports/{file}", web::get().to(exports::download)),
        (Method::POST, "/hq/exports/{file}", web::post().to(exports::request)),
    ]
}

/// The actix path of a route: `{path}` of the assets takes the rest of the path, slashes too;
/// an export's `{file}` is a file name (`visits.csv`), so that `/hq/exports/list` is never one.
pub fn actix_path(path: &str) -> String {
    path.replace("{path}", "{path:.*}").replace("{file}", FILE_SEGMENT)
}

/// What an export's `{file}` segment matches: a name with an extension.
pub const FILE_SEGMENT: &str = r"{file:[a-z]+\.[a-z]+}";
