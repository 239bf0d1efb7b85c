//! CSV imports of customers and volumes, and the classification they feed, at a fixed clock.

use chrono::{Days, NaiveDate};
use reqwest::Method;
use serde_json::Value;

use crate::backend_tests;
use crate::helpers::{Body, Resp, TestApp};

backend_tests!(customers_import_by_code_and_report_bad_rows, volumes_classify_customers_like_with_like);

async fn csv(app: &TestApp, path: &str, token: &str, text: String) -> Resp {
    app.send(Method::POST, path, Some(token), Body::Raw("text/csv", text.into_bytes())).await
}

fn lines(r: &Resp) -> Vec<(u64, String)> {
    r.json["errors"].as_array().unwrap().iter().map(|e| (e["line"].as_u64().unwrap(), e["reason"].as_str().unwrap().to_string())).collect()
}

async fn rep_name(app: &TestApp) -> String {
    app.get("/v1/me", &app.rep.token).await.json["name"].as_str().unwrap().to_string()
}

async fn customers_import_by_code_and_report_bad_rows(app: TestApp) {
    let name = rep_name(&app).await;
    let file = format!(
        "code,name,type,branch,rep,lat,lon,radius,contact,created\n\
         K001,Toko Satu,retail,JKT,{name},-6.2,106.8,120,Bu Sari,2024-05-01\n\
         K002,\"Toko Dua, Cabang Barat\",retail,JKT,{},-6.21,106.81,,Pak Budi,2025-01-15\n\
         K003,Toko Tiga,ecommerce,JKT,,,,,,\n\
         K004,Toko Empat,retail,JKT,,-95,106.8,,,\n\
         K005,Toko Lima,retail,XXX,,,,,,\n\
         K006,Toko Enam,retail,JAP,,,,,,\n\
         K001,Toko Satu Lagi,retail,JKT,,,,,,\n",
        app.rep.id
    );
    let r = csv(&app, "/v1/imports/customers", &app.marketing.token, file.clone()).await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(
        (r.json["rows"].as_u64(), r.json["created"].as_u64(), r.json["rejected"].as_u64()),
        (Some(7), Some(3), Some(4)),
        "{}",
        r.json
    );
    let errors = lines(&r);
    assert_eq!(errors.iter().map(|e| e.0).collect::<Vec<_>>(), [5, 6, 7, 8], "{errors:?}");
    assert!(errors[0].1.contains("latitude"), "{errors:?}");
    assert!(errors[1].1.contains("XXX"), "{errors:?}");
    assert!(errors[2].1.contains("not yours"), "JKT's marketing cannot import JAP's customers: {errors:?}");
    assert!(errors[3].1.contains("already on line 2"), "{errors:?}");

    let list = app.get("/v1/customers?q=Toko%20Dua", &app.marketing.token).await;
    let dua = &list.json["items"][0];
    assert_eq!(
        (dua["name"].as_str(), dua["assigned_rep_id"].as_str()),
        (Some("Toko Dua, Cabang Barat"), Some(app.rep.id.to_string().as_str()))
    );
    assert_eq!((dua["class"].as_str(), dua["created_on"].as_str()), (Some("new"), Some("2025-01-15")));

    // The same file again changes nothing; one edited row is one update.
    let again = csv(&app, "/v1/imports/customers", &app.marketing.token, file.clone()).await;
    assert_eq!(
        (again.json["created"].as_u64(), again.json["updated"].as_u64(), again.json["unchanged"].as_u64()),
        (Some(0), Some(0), Some(3))
    );
    let edited = csv(&app, "/v1/imports/customers", &app.marketing.token, file.replace("Toko Tiga,", "Toko Tiga Baru,")).await;
    assert_eq!((edited.json["created"].as_u64(), edited.json["updated"].as_u64()), (Some(0), Some(1)));

    // Whole-file problems.
    let bad = csv(&app, "/v1/imports/customers", &app.marketing.token, "kode,nama\nK9,X\n".into()).await;
    assert_eq!((bad.status, bad.code()), (422, "import_header_invalid"));
    assert_eq!(csv(&app, "/v1/imports/customers", &app.marketing.token, String::new()).await.code(), "import_empty");
    assert_eq!(csv(&app, "/v1/imports/volumes", &app.rep.token, "customer_code,date,awb\n".into()).await.code(), "role_forbidden");
}

async fn volumes_classify_customers_like_with_like(app: TestApp) {
    app.set_now("2026-11-18T03:00:00Z".parse().unwrap()); // Wednesday 18 November, 10:00 WIB
    let rep = app.rep.id;
    let customers = format!(
        "code,name,type,branch,rep,lat,lon,radius,contact,created\n\
         LOST,Toko Hilang,retail,JKT,{rep},,,,,2024-01-01\n\
         BIG,Toko Besar,retail,JKT,{rep},,,,,2024-01-01\n\
         DOWN,Toko Turun,retail,JKT,,,,,,2024-01-01\n\
         FRESH,Toko Baru,retail,JKT,,,,,,2026-10-20\n"
    );
    assert_eq!(csv(&app, "/v1/imports/customers", &app.hq.token, customers).await.json["created"], 4);

    // October whole, November 1–17.
    let mut file = String::from("customer_code,date,awb\n");
    let day = |d: &str, n: u64| d.parse::<NaiveDate>().unwrap() + Days::new(n);
    for i in 0..31 {
        let oct = day("2026-10-01", i);
        if i < 10 {
            file += &format!("LOST,{oct},200\n");
        }
        file += &format!("BIG,{oct},600\nDOWN,{oct},20\n");
    }
    for i in 0..17 {
        let nov = day("2026-11-01", i);
        file += &format!("BIG,{nov},600\nDOWN,{nov},5\nFRESH,{nov},30\n");
    }
    file += "NOPE,2026-11-01,5\nBIG,2026-13-01,5\nBIG,2026-11-02,-4\nBIG,2026-11-02,7\n";
    let r = csv(&app, "/v1/imports/volumes", &app.marketing.token, file.clone()).await;
    assert_eq!(r.status, 200, "{}", r.json);
    let good = 10 + 31 * 2 + 17 * 3;
    assert_eq!((r.json["updated"].as_u64(), r.json["rejected"].as_u64()), (Some(good), Some(4)), "{}", r.json);
    let reasons: Vec<String> = lines(&r).into_iter().map(|e| e.1).collect();
    assert!(
        reasons[0].contains("NOPE")
            && reasons[1].contains("date")
            && reasons[2].contains("negative")
            && reasons[3].contains("already on line"),
        "{reasons:?}"
    );
    let again = csv(&app, "/v1/imports/volumes", &app.marketing.token, file).await;
    assert_eq!((again.json["updated"].as_u64(), again.json["unchanged"].as_u64()), (Some(0), Some(good)));

    let run = app.post("/v1/classification/run", &app.marketing.token, serde_json::json!({})).await;
    assert_eq!(run.status, 200, "{}", run.json);
    assert_eq!(run.json["runs"].as_array().unwrap().len(), 1, "branch marketing runs its own branch");
    assert_eq!(run.json["runs"][0]["changed"], 3, "new → lost, A, lost warning; FRESH stays new");

    let class = |code: &'static str| {
        let app = &app;
        async move {
            let list = app.get(&format!("/v1/customers?q={code}"), &app.hq.token).await;
            let id = list.json["items"][0]["id"].as_str().unwrap().to_string();
            app.get(&format!("/v1/customers/{id}"), &app.hq.token).await.json
        }
    };
    let lost: Value = class("LOST").await;
    assert_eq!((lost["class"].as_str(), lost["previous_level"].as_str()), (Some("lost"), Some("D")), "{lost}");
    let history = lost["class_history"].as_array().unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!((history[0]["from_class"].as_str(), history[0]["to_class"].as_str()), (Some("new"), Some("lost")));
    assert_eq!(history[0]["reason"]["last_month"]["awb"], 2000);
    assert_eq!((lost["volumes"]["month_to_date"]["awb"].as_i64(), lost["volumes"]["last_month"]["awb"].as_i64()), (Some(0), Some(2000)));
    assert_eq!(class("BIG").await["class"], "A");
    let down = class("DOWN").await;
    assert_eq!((down["class"].as_str(), down["previous_level"].as_str()), (Some("lost_warning"), Some("E")), "{down}");
    assert_eq!(class("FRESH").await["class"], "new");

    // The visit plan: the Lost customer a door visit within 7 working days (Friday the 27th);
    // the A customer two door visits this month (the first checkpoint, the 13th, is past: due
    // the next working day); customers without a rep get none.
    assert_eq!(run.json["runs"][0]["tasks_created"], 3);
    let tasks = app.get("/v1/tasks?assignee=me&status=open", &app.rep.token).await;
    let mut plan: Vec<(String, String)> = tasks.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["origin"] == "visit_plan")
        .map(|t| (t["task_type"].as_str().unwrap().to_string(), t["due_date"].as_str().unwrap().to_string()))
        .collect();
    plan.sort();
    assert_eq!(
        plan,
        [
            ("lost_recovery".to_string(), "2026-11-27".to_string()),
            ("routine".into(), "2026-11-19".into()),
            ("routine".into(), "2026-11-30".into())
        ]
    );

    // Again: nothing changes, nothing is planned twice.
    let rerun = app.post("/v1/classification/run", &app.hq.token, serde_json::json!({ "branch_id": app.jkt })).await;
    assert_eq!((rerun.json["runs"][0]["changed"].as_u64(), rerun.json["runs"][0]["tasks_created"].as_u64()), (Some(0), Some(0)));

    // The 1st of December: November had only 17 days of shipments for BIG (340 a day: B), and
    // nothing shipped yet this month makes no one Lost.
    app.set_now("2026-12-01T03:00:00Z".parse().unwrap());
    app.post("/v1/classification/run", &app.hq.token, serde_json::json!({})).await;
    assert_eq!(class("BIG").await["class"], "B");
    assert_ne!(class("DOWN").await["class"], "lost");
}
