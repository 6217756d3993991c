//! The agents' lists over thousands of rows: issued credentials (search, type, pages) and a
//! service's results (pages), on SQLite and on PostgreSQL, so that both backends page and match
//! alike; and the pages themselves over HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::collections::BTreeSet;

use souverain_guichet::store::{CredentialQuery, Exchange, Offer, Redeemed, RequestRow, Store};
use support::*;

const RESIDENCE: &str = "urn:souverain:vct:residence:1";
const HOUSEHOLD: &str = "urn:souverain:vct:household:1";

/// Issues credential `i` (label `label`, type `vct`) through the store as the issuance path does.
fn issue(store: &dyn Store, i: u64, label: &str, vct: &str) {
    let offer = Offer {
        code: format!("code-{i}"),
        config_id: "residence".into(),
        claims: "{}".into(),
        label: label.into(),
        tx_code_sha256: None,
        citizen_handle: None,
        identity_acr: None,
    };
    store.create_offer(&offer, 1_000, 2_000).unwrap();
    assert_eq!(store.redeem_offer(&offer.code, None, &format!("tok-{i}"), 1_100, 1_700).unwrap(), Redeemed::Done);
    let mut pick = || i;
    let mut sign = |idx: u64| Ok(format!("vc-{idx}"));
    store
        .record_credential(&offer, vct, "holder", &format!("proof-{i}"), 1_100 + i as i64, &mut pick, &mut sign)
        .unwrap();
}

/// Every page of `query`, following the cursor from each page's last row.
fn all_pages(store: &dyn Store, query: CredentialQuery<'_>) -> Vec<Vec<i64>> {
    let mut pages = Vec::new();
    let mut before = None;
    loop {
        let page: Vec<i64> =
            store.credentials(&CredentialQuery { before, ..query }).unwrap().iter().map(|c| c.id).collect();
        if page.is_empty() {
            return pages;
        }
        before = page.last().copied();
        pages.push(page);
    }
}

fn credentials_are_paged_newest_first_and_searched_as_typed(backend: &Backend) {
    let dir = backend.temp_dir("listing-credentials");
    let store = backend.open_store(&dir);
    let mut labels = Vec::new();
    for i in 0..130 {
        let (label, vct) = match i {
            7 => ("Dossier ÉCOLE 100% Ferry".to_owned(), HOUSEHOLD),
            8 => ("dossier_8".to_owned(), RESIDENCE),
            _ if i % 3 == 0 => (format!("Dossier-{i}"), HOUSEHOLD),
            _ => (format!("dossier-{i}"), RESIDENCE),
        };
        issue(&*store, i, &label, vct);
        labels.push(label);
    }
    // What a search should find, newest first, computed here without the database.
    let expected = |typed: &str| -> Vec<String> {
        let typed = typed.trim().to_ascii_lowercase();
        labels.iter().rev().filter(|l| l.to_ascii_lowercase().contains(&typed)).cloned().collect()
    };
    let everything = CredentialQuery { limit: 50, ..Default::default() };
    let pages = all_pages(&*store, everything);
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [50, 50, 30]);
    let ids: Vec<i64> = pages.concat();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first, no page repeats a row: {ids:?}");
    assert_eq!(ids.iter().collect::<BTreeSet<_>>().len(), 130);

    // Words as typed, without case on ASCII letters, `%` and `_` as text.
    let find = |search: &str, vct: Option<&str>| -> Vec<String> {
        let query = CredentialQuery { search, vct, before: None, limit: 500 };
        store.credentials(&query).unwrap().into_iter().map(|c| c.label).collect()
    };
    assert_eq!(find("DOSSIER-12", None), expected("DOSSIER-12"));
    assert_eq!(find("DOSSIER-12", None).len(), 11, "dossier-12 and dossier-120 to 129");
    assert_eq!(find("100%", None), ["Dossier ÉCOLE 100% Ferry"]);
    assert_eq!(find("%", None), ["Dossier ÉCOLE 100% Ferry"]);
    assert_eq!(find("_", None), ["dossier_8"]);
    assert_eq!(find("  école 100", None).len(), 0, "only ASCII letters match without case");
    assert_eq!(find("ÉCOLE", None), ["Dossier ÉCOLE 100% Ferry"]);
    assert!(find("nothing like it", None).is_empty());
    // A number written in full is a credential's number or its status index (here equal to i).
    let by_number = store.credentials(&CredentialQuery { search: "77", limit: 10, ..Default::default() }).unwrap();
    assert!(by_number.iter().any(|c| c.status_idx == 77), "{by_number:?}");
    assert!(by_number.iter().all(|c| c.status_idx == 77 || c.id == 77 || c.label.contains("77")));

    // The type filter, with pages.
    let households = CredentialQuery { vct: Some(HOUSEHOLD), limit: 20, ..Default::default() };
    let pages = all_pages(&*store, households);
    let count = pages.iter().map(Vec::len).sum::<usize>();
    assert_eq!(count, (0..130).filter(|i| i % 3 == 0 && *i != 8 || *i == 7).count());
    assert_eq!(pages[0].len(), 20);
    let household_ids: BTreeSet<i64> = pages.concat().into_iter().collect();
    let all: Vec<_> = store.credentials(&CredentialQuery { limit: 500, ..Default::default() }).unwrap();
    assert!(all.iter().all(|c| household_ids.contains(&c.id) == (c.vct == HOUSEHOLD)));
}

fn request(i: usize) -> RequestRow {
    RequestRow {
        id: format!("req-{i:03}"),
        service: if i.is_multiple_of(4) { "cantine".into() } else { "voirie".into() },
        purpose: "suivi".into(),
        nonce: format!("nonce-{i}"),
        state: format!("state-{i}"),
        jwt: "request.jwt".into(),
        iat: 1_000,
        exp: 1_600,
        grant_id: None,
    }
}

fn results_of_a_service_are_paged_newest_first_even_at_equal_times(backend: &Backend) {
    let dir = backend.temp_dir("listing-grants");
    let store = backend.open_store(&dir);
    for i in 0..120 {
        let q = request(i);
        store.create_request(&q).unwrap();
        let exchange = Exchange {
            request_id: q.id.clone(),
            client_id: "decentralized_identifier:did:jwk:x".into(),
            nonce: q.nonce.clone(),
            // Ids whose order differs from the insertion order, and times shared by ten answers:
            // the cursor must order by (time, id) the same way on both backends.
            grant_id: format!("urn:uuid:{:03}-{}", (i * 37) % 120, if i % 2 == 0 { "a" } else { "B" }),
            service: q.service.clone(),
            purposes: "[\"https://w3id.org/dpv#ServiceProvision\"]".into(),
            grant_jwt: format!("grant-{i}"),
            holder_jwk: "{}".into(),
            vp_token_sha256: format!("vp-{i}"),
            valid_until: 9_000,
            erasure_by: 9_000,
            receipt_jwt: format!("receipt-{i}"),
            now: 1_100 + (i / 10) as i64,
            claims: vec![],
            log_keys: souverain_guichet::data_log::GrantLogKeys::generate(None),
            mandate: None,
        };
        assert!(store.record_exchange(&exchange).unwrap());
    }
    let mut seen = Vec::new();
    let mut before: Option<(i64, String)> = None;
    let mut sizes = Vec::new();
    loop {
        let page = store.grants_of("voirie", before.as_ref().map(|(at, id)| (*at, id.as_str())), 25).unwrap();
        if page.is_empty() {
            break;
        }
        sizes.push(page.len());
        let last = page.last().unwrap();
        before = Some((last.received_at, last.id.clone()));
        seen.extend(page.into_iter().map(|g| (g.received_at, g.id, g.service)));
    }
    assert_eq!(sizes, [25, 25, 25, 15]);
    assert!(seen.iter().all(|(_, _, service)| service == "voirie"));
    assert!(seen.windows(2).all(|w| (w[0].0, &w[0].1) > (w[1].0, &w[1].1)), "strictly newest first: {seen:?}");
    assert_eq!(seen.iter().map(|s| &s.1).collect::<BTreeSet<_>>().len(), 90);
}

on_both_backends!(
    blocking: credentials_are_paged_newest_first_and_searched_as_typed,
    results_of_a_service_are_paged_newest_first_even_at_equal_times
);

/// The agents' pages over HTTP: the credentials page searches and pages, shows types by name;
/// a bad cursor is a clear 400, not a server error.
#[tokio::test]
async fn the_agents_pages_search_page_and_name_types() {
    let server = Server::start(&Backend::Sqlite, "listing-pages").await;
    let mut holder = Holder::new();
    for _ in 0..55 {
        let offer = server.offer("residence", residence()).await;
        holder.redeem(&server, &offer).await;
    }
    let page = server.get("/guichet/agent").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Justificatif de domicile"));
    assert!(!page.body.contains("urn:souverain:vct"), "types are shown by their names");
    let next = page.body.split("href=\"").find(|s| s.starts_with("/guichet/agent?")).expect("a link to older ones");
    let next = next.split('"').next().unwrap().replace("&amp;", "&");
    let older = server.get(&next).await;
    assert_eq!(older.status, 200);
    assert!(!older.body.contains("/guichet/agent?q="), "55 credentials: two pages");
    assert_eq!(server.get("/guichet/agent?avant=x").await.status, 400);
    assert_eq!(server.get("/guichet/agent?type=passport").await.status, 400);
    let none = server.get("/guichet/agent?q=no-such-file").await;
    assert!(none.body.contains("Aucune attestation ne correspond"));
    assert_eq!(server.get("/guichet/services/voirie?avant=12").await.status, 400);
    let service = server.get("/guichet/services/voirie").await;
    assert!(service.body.contains("Aucune réponse reçue"));
    server.stop().await;
}
