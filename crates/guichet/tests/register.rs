//! The register of processing activities (GDPR article 30), served to agents as CSV and JSON:
//! generated from the configuration, so a changed retention is a changed register.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use souverain_guichet::config::Config;
use souverain_guichet::register::COLUMNS;
use support::{Backend, Server, temp_dir};

/// The CSV's rows, header first.
fn rows(csv_text: &str) -> Vec<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(csv_text.as_bytes());
    reader.records().map(|r| r.unwrap().iter().map(str::to_owned).collect()).collect()
}

fn column(name: &str) -> usize {
    COLUMNS.iter().position(|c| *c == name).unwrap()
}

#[tokio::test]
async fn every_configured_purpose_is_a_row_with_its_retention_and_recipients() {
    let server = Server::start(&Backend::Sqlite, "register-demo").await;
    let config = Config::demo().unwrap();
    let r = server.get("/api/agent/register.csv").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.header("content-type").unwrap().starts_with("text/csv"));
    assert!(r.body.contains("\r\n"), "RFC 4180 line ends");
    let rows = rows(&r.body);
    assert_eq!(rows[0], COLUMNS);
    let purposes: usize = config.services.iter().map(|s| s.purposes.len()).sum();
    assert_eq!(rows.len(), 1 + purposes + 2, "one row per purpose, then issuance and the consent registry");
    for service in &config.services {
        for purpose in &service.purposes {
            let reference = format!("{}/{}", service.id, purpose.id);
            let row = rows.iter().find(|r| r[0] == reference).unwrap_or_else(|| panic!("no row {reference}"));
            assert!(row[column("Durée de conservation")].starts_with(&format!("{} jours", purpose.retention_days)));
            for recipient in &purpose.recipients {
                assert!(row[column("Destinataires")].lines().any(|l| l == recipient), "{reference}: {recipient}");
            }
            assert_eq!(row[column("Finalité (DPV)")], purpose.dpv);
            assert_eq!(row[column("Responsable du traitement")], config.commune.name);
        }
    }
    // The canteen asks for the children: minors are among the persons concerned; the optional
    // street address is marked as the citizen's choice.
    let canteen = rows.iter().find(|r| r[0] == "cantine/inscription").unwrap();
    assert!(canteen[column("Catégories de personnes concernées")].contains("Enfants mineurs"));
    assert!(canteen[column("Catégories de données")].contains("adresse (numéro et voie) (facultatif"));
    // Home help keeps claims 30 days after a withdrawal, and may reveal a disability.
    let help = rows.iter().find(|r| r[0] == "aide-domicile/evaluation").unwrap();
    assert!(help[column("Durée de conservation")].contains("conservées 30 jours après un retrait"));
    assert!(help[column("Données sensibles")].contains("article 9"));
    let sport = rows.iter().find(|r| r[0] == "sport/tarif-resident").unwrap();
    assert_eq!(sport[column("Données sensibles")], "Aucune");
    assert_eq!(sport[column("Base légale")], "Consentement (article 6.1.a du RGPD)");

    let json = server.get("/api/agent/register.json").await.json();
    let activities = json["activities"].as_array().unwrap();
    assert_eq!(activities.len(), purposes + 2);
    let proof = activities.iter().find(|a| a["reference"] == "guichet/preuve-consentement").unwrap();
    assert!(
        proof["retention"].as_str().unwrap().starts_with(&format!("{} jours", config.commune.proof_retention_days))
    );

    let page = server.get("/guichet/registre").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("id=\"cantine/inscription\""));
    server.stop().await;
}

#[tokio::test]
async fn the_register_follows_the_configuration_and_stays_on_the_agents_side() {
    let dir = temp_dir("register-config");
    let text = souverain_guichet::config::DEMO_COMMUNE
        .replacen("retention_days = 180", "retention_days = 45", 1)
        .replacen("storage_location = \"FR\"", "storage_location = \"US\"", 1);
    let file = dir.join("commune.toml");
    std::fs::write(&file, &text).unwrap();
    let server = Server::start_with(&Backend::Sqlite, dir.clone(), None, Some(file)).await;
    let rows = rows(&server.get("/api/agent/register.csv").await.body);
    let sport = rows.iter().find(|r| r[0] == "sport/tarif-resident").unwrap();
    assert!(sport[column("Durée de conservation")].starts_with("45 jours"), "{sport:?}");
    assert!(sport[column("Transferts hors de l'Union européenne")].contains("hors de l'Union européenne (US)"));
    // The heatwave register says it is read only during the prefect's plan; the others do not.
    let plan = "pendant un plan d'alerte et d'urgence déclenché par le préfet";
    let heatwave = rows.iter().find(|r| r[0] == "canicule/inscription").unwrap();
    assert!(heatwave[column("Mesures de sécurité")].contains(plan), "{heatwave:?}");
    assert!(!sport[column("Mesures de sécurité")].contains(plan));
    server.stop().await;

    // With an agents' token configured, the register needs it like every agents' page.
    let dir = temp_dir("register-closed");
    let file = dir.join("commune.toml");
    let closed = text.replacen("[commune]\n", &format!("[commune]\nagent_token_sha256 = \"{}\"\n", "ab".repeat(32)), 1);
    std::fs::write(&file, closed).unwrap();
    let server = Server::start_with(&Backend::Sqlite, dir, None, Some(file)).await;
    for path in ["/api/agent/register.csv", "/api/agent/register.json", "/guichet/registre"] {
        assert_eq!(server.get(path).await.status, 401, "{path}");
    }
    server.stop().await;
}
