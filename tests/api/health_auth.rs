use reqwest::Method;

use crate::backend_tests;
use crate::helpers::{Body, TestApp};

backend_tests!(
    health_and_readiness_answer_without_a_token,
    a_missing_or_wrong_token_is_a_401_problem,
    me_tells_who_and_where,
    the_policy_in_force_is_served_to_any_signed_in_user,
);

async fn the_policy_in_force_is_served_to_any_signed_in_user(app: TestApp) {
    for token in [&app.rep.token, &app.hq.token] {
        let r = app.get("/v1/policy", token).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.json["default_geofence_radius_m"], 150.0);
        assert_eq!(r.json["findings"]["photo_reused"], serde_json::json!({ "severity": "blocking", "penalty": 50 }));
        // The test server runs with a smaller photo cap: what is served is what is in force.
        assert_eq!(r.json["photo"]["max_bytes"], 8 * 1024 * 1024);
    }
    let r = app.send(Method::GET, "/v1/policy", None, Body::None).await;
    assert_eq!((r.status, r.code()), (401, "unauthorized"));
}

/// An operator's file changes a threshold and a penalty without a rebuild; the finding's
/// evidence names the value it used. A typo stops the start-up with the key it is about.
#[test]
fn a_policy_file_changes_the_rules_without_a_rebuild() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("policy.toml");
    std::fs::write(&file, "[photo]\ndark_max_brightness = 130.0\n\n[findings.photo_too_dark]\npenalty = 3\n").unwrap();
    let policy = fieldproof::startup::load_policy(file.to_str().unwrap()).unwrap();
    let (_, _, findings) = fieldproof::app::photos::check_file(
        &policy,
        &crate::helpers::fixture("iphone-6.jpg"),
        fieldproof::domain::visit::PhotoKind::Storefront,
        chrono_tz::Asia::Jakarta,
    )
    .unwrap();
    let dark = findings.iter().find(|f| f.code.as_str() == "photo_too_dark").expect("darker than the operator's 130");
    let evidence = serde_json::to_value(&dark.evidence).unwrap();
    assert_eq!(evidence["policy"]["photo.dark_max_brightness"], 130.0);
    assert_eq!(dark.penalty, 3);
    let (_, _, findings) = fieldproof::app::photos::check_file(
        &fieldproof::domain::policy::Policy::default(),
        &crate::helpers::fixture("iphone-6.jpg"),
        fieldproof::domain::visit::PhotoKind::Storefront,
        chrono_tz::Asia::Jakarta,
    )
    .unwrap();
    assert!(findings.iter().all(|f| f.code.as_str() != "photo_too_dark"), "not dark by the SOP's 45");

    std::fs::write(&file, "[photo]\ndark_max_brightnes = 130.0\n").unwrap();
    let error = fieldproof::startup::load_policy(file.to_str().unwrap()).unwrap_err().to_string();
    assert!(error.contains("policy.toml") && error.contains("dark_max_brightnes"), "{error}");
    let error = fieldproof::startup::load_policy("/nonexistent/policy.toml").unwrap_err().to_string();
    assert!(error.contains("/nonexistent/policy.toml"), "{error}");
}

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
