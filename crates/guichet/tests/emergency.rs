//! The heatwave register is read only while the prefect's emergency plan is in force (issue 19;
//! CASF art. L121-6-1), over HTTP on SQLite and PostgreSQL: a citizen's enrolment is refused to
//! agents until a plan is recorded, readable while it lasts, refused again once it ends (clock
//! moved) or is lifted; every plan stays on record with who declared and who lifted it; a service
//! that keeps no such register cannot be given a plan, and its answers are read as before.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::json;
use support::*;

const HOUR: i64 = 3600;

async fn the_register_opens_only_while_a_plan_is_in_force(backend: &Backend) {
    let server = Server::start(backend, "emergency").await;
    let mut holder = Holder::new();
    holder.redeem(&server, &server.offer("residence", residence()).await).await;
    let fetched = new_request(&server, "canicule", "inscription").await;
    let a = answer(&holder, &fetched.request, &holder.key);
    assert_eq!(server.post_form(&fetched.request.response_uri, &a.form).await.status, 200);
    let result = format!("/api/agent/requests/{}", fetched.id);
    let refused = |r: &Resp| (r.status, r.error()) == (403, "emergency_plan_not_in_force".to_owned());

    // No plan: the enrolment is kept, not read.
    assert!(refused(&server.get(&result).await));
    let status = server.get("/api/agent/services/canicule/emergency").await.json();
    assert_eq!((status["in_force"].clone(), status["plans"].as_array().unwrap().len()), (json!(null), 0));
    let page = server.get("/guichet/services/canicule").await.body;
    assert!(page.contains("Aucun plan d'alerte et d'urgence en vigueur"), "{page}");

    // Other services are read as before.
    let sport = new_request(&server, "sport", "tarif-resident").await;
    let a = answer(&holder, &sport.request, &holder.key);
    assert_eq!(server.post_form(&sport.request.response_uri, &a.form).await.status, 200);
    assert_eq!(server.get(&format!("/api/agent/requests/{}", sport.id)).await.status, 200);

    // Bad declarations change nothing.
    for (body, code) in [
        (json!({"reference": " ", "hours": 48}), "invalid_emergency_plan"),
        (json!({"reference": "Arrêté 1", "hours": 0}), "invalid_emergency_plan"),
        (json!({"reference": "Arrêté 1", "hours": 10_000}), "invalid_emergency_plan"),
        (json!({"reference": "Arrêté 1"}), "invalid_body"),
        (json!({"reference": "Arrêté 1", "hours": 48, "extra": 1}), "invalid_body"),
    ] {
        let r = server.post_json("/api/agent/services/canicule/emergency", &body).await;
        assert_eq!((r.status, r.error()), (400, code.to_owned()), "{body}");
    }
    // Only a register can be opened by a plan.
    let r = server.post_json("/api/agent/services/cantine/emergency", &json!({"reference": "A", "hours": 1})).await;
    assert_eq!((r.status, r.error()), (400, "invalid_emergency_plan".to_owned()));
    let r = server.post_json("/api/agent/services/nulle-part/emergency", &json!({"reference": "A", "hours": 1})).await;
    assert_eq!((r.status, r.error()), (404, "unknown_service".to_owned()));
    assert!(refused(&server.get(&result).await));
    assert!(server.get("/api/agent/services/canicule/emergency").await.json()["plans"].as_array().unwrap().is_empty());

    // The prefect triggers the plan for 48 hours: the register is read, and each read logged.
    let plan = json!({"reference": "Arrêté préfectoral 45-2027-07-12", "hours": 48});
    let r = server.post_json("/api/agent/services/canicule/emergency", &plan).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let declared = r.json();
    assert_eq!((declared["in_force"].clone(), declared["declared_by"].clone()), (json!(true), json!("loopback")));
    assert_eq!(declared["ends_at"].as_i64().unwrap() - declared["declared_at"].as_i64().unwrap(), 48 * HOUR);
    let read = server.get(&result).await;
    assert_eq!(read.status, 200, "{}", read.body);
    assert_eq!(read.json()["claims"][0]["claims"]["family_name"], "Martin");
    assert!(server.get("/guichet/services/canicule").await.body.contains("Arrêté préfectoral 45-2027-07-12"));

    // A minute before its end it still holds; at its end the register closes by itself.
    server.clock.advance(48 * HOUR - 60);
    assert_eq!(server.get(&result).await.status, 200);
    server.clock.advance(60);
    assert!(refused(&server.get(&result).await));
    let status = server.get("/api/agent/services/canicule/emergency").await.json();
    assert_eq!(status["in_force"], json!(null));
    assert_eq!(status["plans"][0]["in_force"], json!(false));

    // A new alert, lifted early: closed again, and the lifting on record.
    let again = json!({"reference": "Alerte canicule niveau 3", "hours": 72});
    assert_eq!(server.post_json("/api/agent/services/canicule/emergency", &again).await.status, 201);
    assert_eq!(server.get(&result).await.status, 200);
    let lifted = server.post_json("/api/agent/services/canicule/emergency/lift", &json!({})).await.json();
    assert_eq!(lifted["lifted"], 1);
    assert!(refused(&server.get(&result).await));
    let plans = server.get("/api/agent/services/canicule/emergency").await.json()["plans"].clone();
    assert_eq!(plans.as_array().unwrap().len(), 2);
    assert_eq!(
        (plans[0]["reference"].clone(), plans[0]["lifted_by"].clone()),
        (json!("Alerte canicule niveau 3"), json!("loopback"))
    );
    assert!(plans[0]["lifted_at"].is_i64());
    assert_eq!(plans[1]["lifted_at"], json!(null), "a plan that ended by itself was not lifted");
    // Lifting with nothing in force lifts nothing.
    assert_eq!(server.post_json("/api/agent/services/canicule/emergency/lift", &json!({})).await.json()["lifted"], 0);
}

support::on_both_backends!(the_register_opens_only_while_a_plan_is_in_force);
