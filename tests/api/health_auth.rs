use reqwest::Method;

use crate::backend_tests;
use crate::helpers::{Body, TestApp};

backend_tests!(health_and_readiness_answer_without_a_token, a_missing_or_wrong_token_is_a_401_problem, me_tells_who_and_where);

async fn health_and_readiness_answer_without_a_token(app: TestApp) {
    let r = app.send(Method::GET, "/healthz", None, Body::None).await;
    assert_eq!(r.status, 200);
    let r = app.send(Method::GET, "/readyz", None, Body::None).await;
    assert_eq!(r.status, 200);
    let expected = match app.db {
        crate::helpers::Db::Sqlite => "sqlite",
        crate::helpers::Db::Postgres => "postgres",
    };
    assert_eq!(r.json["database"], expected);
}

async fn a_missing_or_wrong_token_is_a_401_problem(app: TestApp) {
    for token in [None, Some("fp_not-a-real-token"), Some("")] {
        let r = app.send(Method::GET, "/v1/me", token, Body::None).await;
        assert_eq!(r.status, 401);
        assert_eq!(r.code(), "unauthorized");
        assert_eq!(r.headers["www-authenticate"], "Bearer");
    }
    let r = app.send(Method::GET, "/v1/visits", None, Body::None).await;
    assert_eq!((r.status, r.code()), (401, "unauthorized"));
}

async fn me_tells_who_and_where(app: TestApp) {
    let r = app.get("/v1/me", &app.rep.token).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json["role"], "sales");
    assert_eq!(r.json["branch"]["time_zone"], "Asia/Jakarta");
    let r = app.get("/v1/me", &app.hq.token).await;
    assert_eq!(r.json["role"], "hq");
    assert!(r.json["branch"].is_null());
}
