//! The agents' studies page (issue 18) on a guichet running a study's leader, with the helper
//! aggregator serving real HTTP beside it (the two-process protocol itself is
//! crates/cli/tests/aggregator.rs): ten citizens with a proof of residence contribute; the page
//! shows the counts, aggregates with the helper, refuses the result while the study is open, and
//! after the close (the clock moved) computes, signs and shows the exact result with who did it;
//! the decision stated is signed and listed for the wallets, and the register of processing
//! activities names the study. Forms without the page's token are refused.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use rand_core::OsRng;
use serde_json::json;
use souverain_core::openid4vp::request::{LocalizedText, Purpose};
use souverain_core::sd_jwt::{KeyBindingParams, SdJwt};
use souverain_guichet::aggregator::{Aggregator, TOKEN_HEADER};
use souverain_guichet::keys::{Curve, load_or_create};
use souverain_guichet::{Clock, ServeOptions};
use souverain_stats::dap::{self, HpkeKeyPair};
use souverain_stats::report::make_report;
use souverain_stats::study::{
    AggregatorInfo, Derivation, Measure, Study, StudyResult, StudyUse, UnverifiedStudy, VerifiedStudy,
};
use souverain_stats::token::{TokenRequest, TokenSigningKey};
use souverain_stats::vdaf::Measurement;
use support::browser::{Browser, first_form};
use support::{Holder, PUBLIC, Server, now, residence};

fn text(fr: &str) -> LocalizedText {
    LocalizedText { fr: fr.into(), en: format!("{fr} (en)") }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[test]
fn agents_follow_aggregate_publish_and_state_the_decision() {
    support::runtime().block_on(async {
        let dir = support::temp_dir("studies-page");
        let keys = dir.join("keys");
        std::fs::create_dir_all(&keys).unwrap();
        let commune = load_or_create(&keys, "commune", Curve::Ed25519).unwrap();
        let (leader, helper, collector) =
            (HpkeKeyPair::generate(1, &mut OsRng), HpkeKeyPair::generate(2, &mut OsRng), HpkeKeyPair::generate(3, &mut OsRng));
        let token_key = TokenSigningKey::generate(&mut OsRng).unwrap();
        let helper_port = free_port();
        let opens = now() - now() % 60 - 60;
        let study = Study {
            iss: commune.public_key().did_jwk(),
            task_id: souverain_core::b64::encode([8u8; 32]),
            iat: opens,
            title: text("Jours de cantine"),
            question: text("Combien de jours ?"),
            purpose: Purpose { dpv: "https://w3id.org/dpv#ServiceOptimisation".into(), text: text("Repas") },
            eligibility_vct: "urn:souverain:vct:residence:1".into(),
            computed_from: vec![],
            computation: text("Votre choix"),
            derivation: Derivation::Choice,
            measure: Measure::Histogram { buckets: vec![text("Jamais"), text("Parfois"), text("Toujours")] },
            leader: AggregatorInfo { name: text("Mairie"), url: format!("{PUBLIC}/dap/"), hpke_config: dap::encode_config(&leader.config()) },
            helper: AggregatorInfo {
                name: text("Département"),
                url: format!("http://127.0.0.1:{helper_port}/"),
                hpke_config: dap::encode_config(&helper.config()),
            },
            collector_hpke_config: dap::encode_config(&collector.config()),
            token_key: token_key.public_key().unwrap(),
            min_batch: 10,
            noise: None,
            time_precision: 60,
            opens_at: opens,
            closes_at: opens + 3600,
            use_of_results: text("Les menus"),
        };
        let jwt = study.sign(&commune).unwrap();
        let verified: VerifiedStudy = UnverifiedStudy::parse(&jwt).verify(&commune.public_key()).unwrap();
        let task = study.task_id.clone();
        let b64 = |bytes: &[u8]| souverain_core::b64::encode(bytes);
        let studies = format!("[[studies]]\njwt = '{jwt}'\nverify_key = '{}'\n", b64(&[3u8; 16]));
        let public = commune.public_key().to_jwk().to_json();
        let helper_toml = format!(
            "role = 'helper'\ncommune_key = '{public}'\nhpke_config_id = 2\nhpke_seed = '{}'\npeer_token = 'peer'\n{studies}",
            b64(helper.seed())
        );
        let leader_toml = format!(
            "role = 'leader'\ncommune_key = '{public}'\nhpke_config_id = 1\nhpke_seed = '{}'\npeer_token = 'peer'\noperator_token = 'op'\n\
collector_seed = '{}'\ncollector_config_id = 3\nsigning_key = '{}'\n{studies}token_key = '{}'\n",
            b64(leader.seed()),
            b64(collector.seed()),
            commune.to_jwk().to_json(),
            b64(token_key.to_der().unwrap().as_slice())
        );
        std::fs::write(dir.join("leader.toml"), leader_toml).unwrap();
        // One clock for the guichet, its leader and the helper: the test moves it past the close.
        let clock = Clock::default();
        let helper_aggregator = Aggregator::open(&helper_toml, &dir.join("helper.sqlite3"), clock.clone()).unwrap();
        tokio::spawn(souverain_guichet::aggregator::serve(helper_aggregator, ([127, 0, 0, 1], helper_port).into()));
        let mut options = ServeOptions::new("127.0.0.1:0".parse().unwrap());
        options.db = Some(souverain_guichet::Database::Sqlite(dir.join("guichet.sqlite3")));
        options.keys = Some(keys.clone());
        options.public_url = Some(PUBLIC.into());
        options.clock = clock.clone();
        options.studies = Some((dir.join("leader.toml"), dir.join("leader.sqlite3")));
        let server = Server::start_options(dir.clone(), options).await;

        // The commune's signed trust list names the study by the digest of its signed text, which
        // the wallet requires before offering it.
        let list = server.get("/.well-known/souverain-trust-list").await.body;
        let payload = souverain_core::jose::UnverifiedJws::parse(list.trim())
            .unwrap()
            .verify(&commune.public_key(), souverain_core::trust_list::TRUST_LIST_TYP)
            .unwrap();
        let payload: serde_json::Value = serde_json::from_slice(payload.payload()).unwrap();
        assert_eq!(payload["studies"], json!([{"task_id": task, "title": study.title, "study_sha256": verified.digest()}]));
        assert_eq!(verified.digest().len(), 43, "base64url of 32 bytes");

        // Ten citizens: a proof of residence, a blind token, a report.
        let answers = [0usize, 1, 2, 2, 1, 2, 0, 2, 2, 1];
        for answer in answers {
            let mut holder = Holder::new();
            let credential = holder.redeem(&server, &server.offer("residence", residence()).await).await;
            let request = TokenRequest::new(&[8u8; 32], &study.token_key, &mut OsRng).unwrap();
            let kb = KeyBindingParams { nonce: &request.nonce(), aud: &study.leader.url, iat: now(), alg: None };
            let presentation = SdJwt::parse(&credential).unwrap().present(&[], &holder.key, &kb).unwrap();
            let ask = json!({"presentation": presentation, "blinded": b64(request.blinded())});
            let r = server.post_json(&format!("/dap/studies/{task}/tokens"), &ask).await;
            assert_eq!(r.status, 200, "{}", r.body);
            let signature = souverain_core::b64::decode(r.json()["blind_signature"].as_str().unwrap()).unwrap();
            let token = request.finalize(&study.token_key, &signature).unwrap().encode();
            let report = make_report(&verified, &Measurement::Bucket(answer), clock.now(), &mut OsRng).unwrap();
            let headers = [(TOKEN_HEADER, token.as_str())];
            let r = server
                .call_with("PUT", &format!("/dap/tasks/{task}/reports"), Some(dap::media_type::REPORT), &headers, &report)
                .await;
            assert_eq!(r.status, 201, "{}", r.body);
        }

        let mut agent = Browser::new(server.addr);
        let page = agent.get(&format!("{PUBLIC}/guichet/etudes")).await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page.body.contains("Jours de cantine"));
        assert!(page.body.contains("<tr><td>10</td><td>10</td><td>0</td></tr>"), "{}", page.body);
        // A form without the page's token is refused.
        let (action, fields) = first_form(&page.body);
        assert!(action.ends_with("/agreger"));
        let forged = agent.post_form(&format!("{PUBLIC}{action}"), &[]).await;
        assert_eq!(forged.status, 403, "{}", forged.body);
        // Aggregation with the helper, over HTTP.
        let done = agent.post_form(&format!("{PUBLIC}{action}"), &fields).await;
        assert_eq!(done.status, 303, "{}", done.body);
        let page = agent.get(&format!("{PUBLIC}{}", done.header("location").unwrap())).await;
        assert!(page.body.contains("10 contributions agrégées"), "{}", page.body);
        assert!(page.body.contains("<tr><td>10</td><td>0</td><td>10</td></tr>"), "{}", page.body);
        assert!(!page.body.contains("/resultat\""), "no result form while the study is open");

        // After the close: the result computed, signed, shown with who collected it.
        clock.advance(3600);
        let page = agent.get(&format!("{PUBLIC}/guichet/etudes")).await;
        let (action, fields) = first_form(&page.body);
        assert!(action.ends_with("/resultat"), "{action}");
        let done = agent.post_form(&format!("{PUBLIC}{action}"), &fields).await;
        let page = agent.get(&format!("{PUBLIC}{}", done.header("location").unwrap())).await;
        assert!(page.body.contains("Résultat calculé, signé et publié."), "{}", page.body);
        assert!(page.body.contains("<tr><td>Jamais</td><td>2</td></tr><tr><td>Parfois</td><td>3</td></tr><tr><td>Toujours</td><td>5</td></tr>"), "{}", page.body);
        let list = server.get("/dap/studies").await.json();
        let result = StudyResult::verify(list["studies"][0]["result"].as_str().unwrap(), &verified, &commune.public_key()).unwrap();
        assert_eq!((result.values, result.contributions), (vec![2, 3, 5], 10));

        // The decision, signed, listed for the wallets, shown with who stated it.
        let (action, mut fields) = first_form(&page.body);
        assert!(action.ends_with("/decision"), "{action}");
        fields.push(("fr".into(), "Deux menus le jeudi".into()));
        fields.push(("en".into(), "Two menus on Thursdays".into()));
        let done = agent.post_form(&format!("{PUBLIC}{action}"), &fields).await;
        let page = agent.get(&format!("{PUBLIC}{}", done.header("location").unwrap())).await;
        assert!(page.body.contains("Décision signée et publiée."), "{}", page.body);
        assert!(page.body.contains("Deux menus le jeudi"));
        let list = server.get("/dap/studies").await.json();
        let used = StudyUse::verify(list["studies"][0]["use"].as_str().unwrap(), &verified, &commune.public_key()).unwrap();
        assert_eq!(used.decision.en, "Two menus on Thursdays");
        let db = rusqlite::Connection::open(dir.join("leader.sqlite3")).unwrap();
        let (collected_by, use_by): (String, String) = db
            .query_row("SELECT collected_by, use_by FROM results WHERE task_id = ?1", [&task], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap();
        assert_eq!(collected_by, use_by);
        assert!(!collected_by.is_empty());
        // The register of processing activities names the study, its basis and the helper.
        let register = server.get("/api/agent/register.json").await.json();
        let row = register["activities"].as_array().unwrap().iter().find(|a| a["reference"] == format!("etude/{task}")).unwrap();
        assert_eq!(row["legal_basis_dpv"], "https://w3id.org/dpv#Consent");
        assert!(row["recipients"][0].as_str().unwrap().starts_with("Département"), "{row}");
        assert!(row["retention"].as_str().unwrap().contains("10 contributions"), "{row}");
        server.stop().await;
    });
}
