//! The register of processing activities (GDPR article 30), generated from the configuration.
//!
//! One activity per purpose of each service (what the verifier side receives), and two for the
//! guichet's own processing: issuing credentials, and keeping the proof of consents. Each row
//! says who the controller and the DPO are, why, on which legal basis, about whom, which data,
//! to whom, for how long, where, and with which safeguards. The columns follow the CNIL's
//! register template ("fiche de registre"), so that a DPO can paste the CSV into it.
//!
//! Generated, never typed: the retention a row states is the one the erasure job enforces, and a
//! purpose added to the configuration is in the register at the next start.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;

use crate::App;
use crate::config::{CREDENTIAL_TYPES, Config, Erasure, ErasurePolicy, PurposeConfig, ServiceConfig};
use crate::error::{ApiError, json_response};
use crate::html::{escape, respond};

/// The CSV's columns, in the order of the CNIL's template.
pub const COLUMNS: [&str; 15] = [
    "Référence",
    "Nom du traitement",
    "Responsable du traitement",
    "Délégué à la protection des données",
    "Service et contact",
    "Finalité principale",
    "Finalité (DPV)",
    "Base légale",
    "Catégories de personnes concernées",
    "Catégories de données",
    "Données sensibles",
    "Destinataires",
    "Durée de conservation",
    "Transferts hors de l'Union européenne",
    "Mesures de sécurité",
];

/// One processing activity, a row of the register.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Activity {
    /// Stable reference: `service/purpose`, or `guichet/…` for the guichet's own processing.
    pub reference: String,
    /// Name of the processing.
    pub name: String,
    /// The controller (the commune).
    pub controller: String,
    /// How to reach the data protection officer.
    pub dpo: String,
    /// The service in charge and its contact.
    pub service: String,
    /// The purpose, as the citizen reads it.
    pub purpose: String,
    /// The purpose's W3C DPV IRI; `None` for the guichet's own processing.
    pub purpose_dpv: Option<String>,
    /// The legal basis (GDPR article 6), in words.
    pub legal_basis: String,
    /// The legal basis's DPV IRI, as configured.
    pub legal_basis_dpv: String,
    /// Categories of persons concerned.
    pub data_subjects: Vec<String>,
    /// Categories of data, each with the data it holds.
    pub data_categories: Vec<DataCategory>,
    /// Special categories (article 9) the processing may reveal; `None`: none.
    pub sensitive_data: Option<String>,
    /// Who receives the data.
    pub recipients: Vec<String>,
    /// How long the data is kept, in words.
    pub retention: String,
    /// Days the data is kept at most, when a number says it.
    pub retention_days: Option<u32>,
    /// Transfers outside the European Union.
    pub transfers_outside_eu: String,
    /// Safeguards.
    pub security_measures: Vec<String>,
}

/// A category of personal data, as the CNIL's template names them, and the data of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DataCategory {
    /// The category.
    pub category: &'static str,
    /// The data, in words.
    pub data: Vec<String>,
}

const IDENTITY: &str = "État civil, identité, données d'identification";
const PERSONAL_LIFE: &str = "Vie personnelle";
const ECONOMIC: &str = "Informations d'ordre économique et financier";
const TECHNICAL: &str = "Données de connexion et identifiants techniques";
const OTHER: &str = "Autres données";

/// The category of a claim and its name in words, from the claim path.
fn describe(path: &[String]) -> (&'static str, String) {
    let names: Vec<&str> = path.iter().map(String::as_str).collect();
    match names.as_slice() {
        ["given_name"] => (IDENTITY, "prénom".into()),
        ["family_name"] => (IDENTITY, "nom".into()),
        ["birthdate"] => (IDENTITY, "date de naissance".into()),
        ["address"] => (IDENTITY, "adresse postale".into()),
        ["address", "street_address"] => (IDENTITY, "adresse (numéro et voie)".into()),
        ["address", "postal_code"] => (IDENTITY, "code postal".into()),
        ["address", "locality"] => (IDENTITY, "commune de résidence".into()),
        ["address", "country"] => (IDENTITY, "pays de résidence".into()),
        ["since"] => (PERSONAL_LIFE, "date d'installation dans la commune".into()),
        ["children", ..] => (PERSONAL_LIFE, "enfants du foyer (prénom, date de naissance, école)".into()),
        ["bracket"] => (ECONOMIC, "tranche de quotient familial".into()),
        ["reference_year"] => (ECONOMIC, "année de référence du quotient familial".into()),
        ["verification", ..] => (IDENTITY, "niveau de garantie de l'identité vérifiée (FranceConnect)".into()),
        _ => (OTHER, path.join(".")),
    }
}

/// The categories of a set of claim paths (optional ones marked), in a stable order.
fn categories<'a>(paths: impl Iterator<Item = (&'a Vec<String>, bool)>) -> Vec<DataCategory> {
    let mut out: Vec<DataCategory> = Vec::new();
    for (path, optional) in paths {
        let (category, mut words) = describe(path);
        if optional {
            words.push_str(" (facultatif, au choix de l'habitant)");
        }
        match out.iter_mut().find(|c| c.category == category) {
            Some(c) if !c.data.contains(&words) => c.data.push(words),
            Some(_) => {}
            None => out.push(DataCategory { category, data: vec![words] }),
        }
    }
    let rank = |c: &str| [IDENTITY, PERSONAL_LIFE, ECONOMIC, TECHNICAL, OTHER].iter().position(|k| *k == c);
    out.sort_by_key(|c| rank(c.category));
    out
}

/// The legal basis in words: GDPR article 6.1, from the DPV IRI (core DPV or its EU GDPR
/// extension). An IRI this table does not know is shown as it is.
pub fn legal_basis_words(iri: &str) -> String {
    let name = iri.rsplit(['#', '/']).next().unwrap_or(iri);
    let words = match name {
        "Consent" | "A6-1-a" => "Consentement (article 6.1.a du RGPD)",
        "Contract" | "A6-1-b" => "Exécution d'un contrat (article 6.1.b du RGPD)",
        "LegalObligation" | "A6-1-c" => "Obligation légale (article 6.1.c du RGPD)",
        "VitalInterest" | "A6-1-d" => "Sauvegarde des intérêts vitaux (article 6.1.d du RGPD)",
        "PublicTask" | "OfficialAuthority" | "A6-1-e" => "Mission d'intérêt public (article 6.1.e du RGPD)",
        "LegitimateInterest" | "A6-1-f" => "Intérêt légitime (article 6.1.f du RGPD)",
        _ => return iri.to_owned(),
    };
    words.to_owned()
}

/// ISO 3166 codes of the member states of the European Union.
const EU: [&str; 27] = [
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT", "LT", "LU", "LV",
    "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
];

fn transfers(config: &Config) -> String {
    let location = config.commune.storage_location.to_ascii_uppercase();
    if EU.contains(&location.as_str()) {
        format!("Aucun : données hébergées dans l'Union européenne ({location})")
    } else {
        format!("Hébergement hors de l'Union européenne ({location}) : garanties à documenter (chapitre V du RGPD)")
    }
}

/// What the guichet does for every activity, as it is configured (the code enforces each line).
fn security_measures(config: &Config) -> Vec<String> {
    let commune = &config.commune;
    let mut out = vec![
        if commune.agent_token_sha256.is_some() {
            "Accès des agents authentifié (jeton d'agent) ; côté agents fermé à tout autre appelant".to_owned()
        } else {
            "Côté agents ouvert sur la boucle locale seulement (démonstration) ; fermé dès que le guichet est joignable \
             d'ailleurs"
                .to_owned()
        },
        "Seules les données demandées par la finalité sont conservées ; les autres sont écartées à la réception"
            .to_owned(),
        "Effacement automatique aux dates signées à l'habitant, consigné dans un journal des effacements ; \
         effacement sécurisé de la base (secure_delete)"
            .to_owned(),
        "Consentements signés par l'habitant, reçus signés par le service : chaque partie peut prouver les termes"
            .to_owned(),
        "Formulaires des agents protégés contre la falsification de requête (CSRF) ; limitation du débit par client"
            .to_owned(),
    ];
    match &commune.public_url {
        Some(url) if url.starts_with("https://") => {
            out.push("Échanges chiffrés (HTTPS, HSTS)".to_owned());
        }
        _ => out.push("Échanges en HTTP sur la boucle locale uniquement (démonstration)".to_owned()),
    }
    out
}

fn days_words(days: u32) -> String {
    if days == 1 { "1 jour".to_owned() } else { format!("{days} jours") }
}

fn service_activity(config: &Config, service: &ServiceConfig, purpose: &PurposeConfig) -> Activity {
    let paths = purpose
        .claims
        .iter()
        .flat_map(|c| c.paths.iter().map(|p| (p, false)).chain(c.optional.iter().map(|p| (p, true))));
    let mut data_subjects = vec!["Habitants usagers du service".to_owned()];
    if purpose
        .claims
        .iter()
        .any(|c| c.paths.iter().chain(&c.optional).any(|p| p.first().is_some_and(|n| n == "children")))
    {
        data_subjects.push("Enfants mineurs du foyer".to_owned());
    }
    let mut recipients = vec![format!("Agents habilités du service « {} »", service.name.fr)];
    recipients.extend(purpose.recipients.iter().cloned());
    let after_withdrawal = match service.erasure {
        Erasure::Policy(ErasurePolicy::Delete) => "effacées dès le retrait du consentement".to_owned(),
        Erasure::KeepDays(days) => format!("conservées {} après un retrait, puis effacées", days_words(days)),
    };
    Activity {
        reference: format!("{}/{}", service.id, purpose.id),
        name: format!("{} : {}", service.name.fr, purpose.text.fr),
        controller: config.commune.name.clone(),
        dpo: config.commune.contact.clone(),
        service: format!("{} ({})", service.name.fr, service.contact),
        purpose: purpose.text.fr.clone(),
        purpose_dpv: Some(purpose.dpv.clone()),
        legal_basis: legal_basis_words(&purpose.legal_basis),
        legal_basis_dpv: purpose.legal_basis.clone(),
        data_subjects,
        data_categories: categories(paths),
        sensitive_data: purpose.sensitive_data.clone(),
        recipients,
        retention: format!(
            "{} à compter du consentement, au plus ; {after_withdrawal}",
            days_words(purpose.retention_days)
        ),
        retention_days: Some(purpose.retention_days),
        transfers_outside_eu: transfers(config),
        security_measures: {
            let mut measures = security_measures(config);
            if service.emergency_plan_only {
                measures.push(
                    "Consultation par les agents seulement pendant un plan d'alerte et d'urgence déclenché par le préfet, \
enregistré au guichet (acte, agent, durée) ; refusée en dehors"
                        .to_owned(),
                );
            }
            measures
        },
    }
}

/// The guichet's own processing: issuing credentials on an agent's word.
fn issuance_activity(config: &Config) -> Activity {
    let commune = &config.commune;
    let credential_days = u32::try_from(commune.credential_lifetime / 86_400).unwrap_or(u32::MAX);
    let offer_minutes = commune.offer_lifetime.div_ceil(60);
    let mut issued = ["given_name", "family_name", "address", "since", "children", "bracket", "reference_year"]
        .iter()
        .map(|n| vec![(*n).to_owned()])
        .collect::<Vec<_>>();
    // Identity-bound credentials carry the identity's birth date and its assurance level.
    if config.citizen_identity.is_some() {
        issued.extend([vec!["birthdate".to_owned()], vec!["verification".to_owned()]]);
    }
    let mut data_categories = categories(issued.iter().map(|p| (p, false)));
    data_categories.push(DataCategory {
        category: TECHNICAL,
        data: vec![
            "empreinte de la clé publique du portefeuille".to_owned(),
            "numéro d'ordre dans la liste de révocation".to_owned(),
            "référence du dossier saisie par l'agent".to_owned(),
        ],
    });
    let types: Vec<&str> = CREDENTIAL_TYPES.iter().map(|(_, _, label)| *label).collect();
    // Data not collected from the person (GDPR art. 14): its source is said with the purpose.
    let sources = match (&config.citizen_identity, &config.api_particulier) {
        (Some(_), Some(_)) => {
            " ; identité vérifiée par FranceConnect, quotient familial obtenu auprès de la CAF ou de la MSA \
                               par API Particulier (DINUM) pour l'habitant identifié"
        }
        (Some(_), None) => " ; identité vérifiée par FranceConnect",
        _ => "",
    };
    Activity {
        reference: "guichet/emission".to_owned(),
        name: "Délivrance de justificatifs numériques".to_owned(),
        controller: commune.name.clone(),
        dpo: commune.contact.clone(),
        service: format!("Guichet de la commune ({})", commune.contact),
        purpose: format!(
            "Délivrer aux habitants, à leur demande, des justificatifs numériques : {}{sources}",
            types.join(", ")
        ),
        purpose_dpv: None,
        legal_basis: legal_basis_words("https://w3id.org/dpv#PublicTask"),
        legal_basis_dpv: "https://w3id.org/dpv#PublicTask".to_owned(),
        data_subjects: vec!["Habitants demandeurs".to_owned(), "Enfants mineurs du foyer".to_owned()],
        data_categories,
        sensitive_data: None,
        recipients: vec!["Agents habilités à émettre et révoquer les justificatifs".to_owned()],
        retention: format!(
            "Données de l'offre : jusqu'à sa remise au portefeuille, {offer_minutes} minutes au plus ; \
             justificatif émis (sans ses données) : {} (sa durée de validité), pour pouvoir le révoquer",
            days_words(credential_days)
        ),
        retention_days: Some(credential_days),
        transfers_outside_eu: transfers(config),
        security_measures: security_measures(config),
    }
}

/// The guichet's own processing: keeping the proof of each consent and withdrawal.
fn consent_proof_activity(config: &Config) -> Activity {
    let commune = &config.commune;
    let longest = config.services.iter().flat_map(|s| &s.purposes).map(|p| p.retention_days).max().unwrap_or(0);
    Activity {
        reference: "guichet/preuve-consentement".to_owned(),
        name: "Registre des consentements et des retraits".to_owned(),
        controller: commune.name.clone(),
        dpo: commune.contact.clone(),
        service: format!("Guichet de la commune ({})", commune.contact),
        purpose: "Démontrer le consentement donné et son retrait (article 7.1 du RGPD)".to_owned(),
        purpose_dpv: None,
        legal_basis: legal_basis_words("https://w3id.org/dpv#LegalObligation"),
        legal_basis_dpv: "https://w3id.org/dpv#LegalObligation".to_owned(),
        data_subjects: vec!["Habitants ayant donné un consentement".to_owned()],
        data_categories: vec![DataCategory {
            category: TECHNICAL,
            data: vec![
                "consentement signé (service, finalité, durées, chemins des données, sans leurs valeurs)".to_owned(),
                "clé publique du portefeuille".to_owned(),
                "retrait signé et reçus".to_owned(),
            ],
        }],
        sensitive_data: None,
        recipients: vec!["Délégué à la protection des données, en cas de litige".to_owned()],
        retention: format!(
            "{} après la date d'effacement des données du consentement, puis effacé",
            days_words(commune.proof_retention_days)
        ),
        retention_days: Some(longest.saturating_add(commune.proof_retention_days)),
        transfers_outside_eu: transfers(config),
        security_measures: security_measures(config),
    }
}

/// A study (issue 18): the answers of the citizens who chose to contribute, which the commune only
/// ever holds as a total (docs/statistics.md).
pub fn study_activity(config: &Config, study: &souverain_stats::study::Study) -> Activity {
    let commune = &config.commune;
    let noise = study.noise.map_or_else(
        || "aucun bruit ajouté".to_owned(),
        |n| {
            format!(
                "bruit de Laplace discret ajouté au total par chaque agrégateur (ε = {}/{})",
                n.epsilon_numerator, n.epsilon_denominator
            )
        },
    );
    Activity {
        reference: format!("etude/{}", study.task_id),
        name: format!("Étude d'intérêt général : {}", study.title.fr),
        controller: commune.name.clone(),
        dpo: commune.contact.clone(),
        service: format!("Guichet de la commune ({})", commune.contact),
        purpose: study.purpose.text.fr.clone(),
        purpose_dpv: Some(study.purpose.dpv.clone()),
        legal_basis: legal_basis_words("https://w3id.org/dpv#Consent"),
        legal_basis_dpv: "https://w3id.org/dpv#Consent".to_owned(),
        data_subjects: vec!["Habitants qui choisissent de contribuer, depuis leur portefeuille".to_owned()],
        data_categories: vec![
            DataCategory {
                category: OTHER,
                data: vec![format!(
                    "réponse à « {} », reçue en deux parts chiffrées dont la commune ne peut lire qu'une, et agrégée avec les autres",
                    study.question.fr
                )],
            },
            DataCategory {
                category: TECHNICAL,
                data: vec!["empreinte du justificatif présenté pour obtenir le jeton de contribution (une contribution par justificatif), sans son contenu".to_owned()],
            },
        ],
        sensitive_data: None,
        recipients: vec![format!(
            "{} (agrégateur indépendant : sa part de chaque réponse, illisible seule)",
            study.helper.name.fr
        ), "Habitants : le résultat publié, signé".to_owned()],
        retention: format!(
            "Parts des réponses : jusqu'à leur agrégation, puis effacées ; total : publié après la clôture, au-delà de {} contributions ; {}",
            study.min_batch, noise
        ),
        retention_days: None,
        transfers_outside_eu: transfers(config),
        security_measures: {
            let mut measures = security_measures(config);
            measures.push("Agrégation répartie (DAP, Prio3) entre la commune et un tiers indépendant ; jetons de contribution aveugles (RFC 9474)".to_owned());
            measures
        },
    }
}

/// The register as the guichet serves it: [`register`], and its studies when it runs them.
fn served_register(app: &App) -> Vec<Activity> {
    let mut out = register(&app.config);
    if let Some(leader) = app.studies.get() {
        out.extend(leader.studies().map(|s| study_activity(&app.config, s.study())));
    }
    out
}

/// The whole register: the services' purposes, then the guichet's own processing.
pub fn register(config: &Config) -> Vec<Activity> {
    let mut out: Vec<Activity> =
        config.services.iter().flat_map(|s| s.purposes.iter().map(move |p| service_activity(config, s, p))).collect();
    out.push(issuance_activity(config));
    out.push(consent_proof_activity(config));
    out
}

impl Activity {
    /// The row's cells, in the order of [`COLUMNS`]. Lists are one item per line.
    pub fn cells(&self) -> [String; COLUMNS.len()] {
        let categories = self
            .data_categories
            .iter()
            .map(|c| format!("{} : {}", c.category, c.data.join(", ")))
            .collect::<Vec<_>>()
            .join("\n");
        [
            self.reference.clone(),
            self.name.clone(),
            self.controller.clone(),
            self.dpo.clone(),
            self.service.clone(),
            self.purpose.clone(),
            self.purpose_dpv.clone().unwrap_or_default(),
            self.legal_basis.clone(),
            self.data_subjects.join("\n"),
            categories,
            self.sensitive_data.clone().unwrap_or_else(|| "Aucune".to_owned()),
            self.recipients.join("\n"),
            self.retention.clone(),
            self.transfers_outside_eu.clone(),
            self.security_measures.join("\n"),
        ]
    }
}

/// The register as CSV (RFC 4180: comma-separated, quoted where needed, CRLF line ends, UTF-8),
/// a header row of [`COLUMNS`] then one row per activity.
pub fn to_csv(activities: &[Activity]) -> Result<String, csv::Error> {
    let mut writer = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::new());
    writer.write_record(COLUMNS)?;
    for activity in activities {
        writer.write_record(activity.cells())?;
    }
    let bytes = writer.into_inner().map_err(|e| csv::Error::from(e.into_error()))?;
    // Every cell is a Rust string: the bytes are UTF-8.
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Routes: the register for agents, as a page, JSON and CSV (the agents' side: closed to the
/// public like every `/guichet/` page and `/api/agent/` path). Reading it records nothing: it
/// holds no citizen's data.
pub(crate) fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/guichet/registre", get(register_page))
        .route("/api/agent/register.json", get(register_json))
        .route("/api/agent/register.csv", get(register_csv))
}

async fn register_json(State(app): State<Arc<App>>) -> Response {
    json_response(StatusCode::OK, &serde_json::json!({ "activities": served_register(&app) }))
}

async fn register_csv(State(app): State<Arc<App>>) -> Result<Response, ApiError> {
    let csv = to_csv(&served_register(&app)).map_err(|e| ApiError::internal(&e))?;
    let mut r = ([(header::CONTENT_TYPE, "text/csv; charset=utf-8; header=present")], csv).into_response();
    r.headers_mut().insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"registre-des-traitements.csv\""),
    );
    Ok(r)
}

async fn register_page(State(app): State<Arc<App>>) -> Response {
    let mut body = String::from(
        "<p>Registre des activités de traitement (article 30 du RGPD), établi à partir de la configuration du guichet : \
         les durées indiquées sont celles que le guichet applique. \
         <a href=\"/api/agent/register.csv\">Télécharger (CSV)</a> · <a href=\"/api/agent/register.json\">JSON</a></p>",
    );
    for activity in served_register(&app) {
        body.push_str(&format!("<h2 id=\"{}\">{}</h2><dl>", escape(&activity.reference), escape(&activity.name)));
        for (column, cell) in COLUMNS.iter().zip(activity.cells()).skip(2) {
            let lines: Vec<String> = cell.lines().map(escape).collect();
            body.push_str(&format!("<dt>{}</dt><dd>{}</dd>", escape(column), lines.join("<br>")));
        }
        body.push_str("</dl>");
    }
    respond("Registre des traitements", &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legal_bases_in_words_from_core_dpv_and_its_gdpr_extension() {
        assert_eq!(legal_basis_words("https://w3id.org/dpv#Consent"), "Consentement (article 6.1.a du RGPD)");
        assert_eq!(
            legal_basis_words("https://w3id.org/dpv/legal/eu/gdpr#A6-1-e"),
            "Mission d'intérêt public (article 6.1.e du RGPD)"
        );
        assert_eq!(legal_basis_words("urn:x:unknown"), "urn:x:unknown");
    }

    #[test]
    fn claims_fall_in_their_categories_once_each() {
        let paths = [vec!["address".to_owned(), "locality".to_owned()], vec!["bracket".to_owned()]];
        let optional = [vec!["address".to_owned(), "locality".to_owned()]];
        let found = categories(paths.iter().map(|p| (p, false)).chain(optional.iter().map(|p| (p, true))));
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].category, IDENTITY);
        assert_eq!(
            found[0].data,
            ["commune de résidence", "commune de résidence (facultatif, au choix de l'habitant)"]
        );
        assert_eq!(found[1].category, ECONOMIC);
    }

    #[test]
    fn issuance_names_the_sources_of_data_not_collected_from_the_citizen() {
        let base = crate::config::DEMO_COMMUNE;
        let citizen = "[citizen_identity]\nissuer = \"https://fc.example/api/v2\"\nclient_id = \"c\"\n";
        let api = "[api_particulier]\nurl = \"https://particulier.api.gouv.fr\"\nrecipient = \"21450030500017\"\n\
                   brackets = [{ name = \"A\", up_to = 500 }, { name = \"B\" }]\n";
        let purpose = |extra: &str| issuance_activity(&Config::parse(&format!("{base}\n{extra}")).unwrap()).purpose;
        assert!(!purpose("").contains("FranceConnect"));
        assert!(purpose(citizen).contains("FranceConnect") && !purpose(citizen).contains("API Particulier"));
        assert!(purpose(&format!("{citizen}{api}")).contains("API Particulier"));
    }
}
