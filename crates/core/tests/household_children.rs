#![allow(clippy::unwrap_used, clippy::expect_used)]
//! A parent answers for children of their household (issue 19): the household credential's
//! children are disclosed one by one, and the grant names exactly the children whose data the
//! presentation discloses. A grant naming a child the household presented does not hold, or
//! leaving out a child whose data goes, is refused.

mod openid4vp_fixtures;

use std::collections::BTreeSet;

use openid4vp_fixtures::*;
use serde_json::json;
use souverain_core::consent::{Child, DataCategory, Grant, children_in};
use souverain_core::openid4vp::dcql::DcqlQuery;
use souverain_core::openid4vp::request::RequestObject;
use souverain_core::openid4vp::response::{
    AuthorizationResponse, ResponseError, VerifiedResponse, VpToken, verify_response,
};
use souverain_core::sd_jwt::{ClaimPath, KeyBindingParams, SdJwt};
use souverain_core::sd_jwt_vc::{VcIssueParams, issue_vc};

const HOUSEHOLD_VCT: &str = "urn:souverain:vct:household:1";

/// A household credential with two children, each child's entry its own disclosure (as the
/// guichet issues it), and the request of a canteen for the household's children.
fn setup(seed: u64) -> (Keys, String, RequestObject) {
    let mut rng = TestRng::new(seed);
    let keys = keys(&mut rng);
    let claims = json!({
        "family_name": "Martin",
        "children": [
            {"given_name": "Léa", "birthdate": "2016-03-02", "school": "École Jules Ferry"},
            {"given_name": "Hugo", "birthdate": "2019-11-20", "school": "École Jules Ferry"}
        ]
    });
    let paths: Vec<ClaimPath> = ["/family_name", "/children", "/children/0", "/children/1"]
        .iter()
        .map(|p| ClaimPath::parse(p).unwrap())
        .collect();
    let params = VcIssueParams {
        iss: ISSUER,
        vct: HOUSEHOLD_VCT,
        holder: &keys.holder.public_key(),
        iat: NOW - 1000,
        nbf: None,
        exp: Some(NOW + 1_000_000),
        status: None,
        alg: None,
        decoys: 0,
        extra_header: serde_json::Map::new(),
    };
    let credential = issue_vc(&keys.issuer, claims.as_object().unwrap().clone(), &paths, &params, &mut rng).unwrap();
    let mut request = request(&keys, "nonce-children");
    request.dcql_query = DcqlQuery::from_json(&json!({"credentials": [{
        "id": "household", "format": "dc+sd-jwt", "meta": {"vct_values": [HOUSEHOLD_VCT]},
        "claims": [{"path": ["children"]}]
    }]}))
    .unwrap();
    (keys, credential, request)
}

fn child(given_name: &str, birthdate: &str) -> Child {
    Child { given_name: given_name.into(), birthdate: birthdate.into() }
}

/// The parent's answer disclosing `disclosed` of the household credential, the grant naming
/// `named`, or, when `named` is `None`, the children the presentation discloses as a wallet does.
fn answer(
    keys: &Keys,
    credential: &str,
    req: &RequestObject,
    disclosed: &[&str],
    named: Option<Vec<Child>>,
) -> AuthorizationResponse {
    let paths: Vec<ClaimPath> = disclosed.iter().map(|p| ClaimPath::parse(p).unwrap()).collect();
    let sd = SdJwt::parse(credential).unwrap();
    let params = KeyBindingParams { nonce: &req.nonce, aud: &req.client_id, iat: NOW, alg: None };
    let presentation = sd.present(&paths, &keys.holder, &params).unwrap();
    let children = named.unwrap_or_else(|| children_in(&sd.disclosed_claims(&paths).unwrap()));
    let vp_token = VpToken(vec![("household".into(), vec![presentation])]).to_json_text();
    let data = vec![DataCategory { vct: HOUSEHOLD_VCT.into(), claims: vec!["/children".into()] }];
    let grant = Grant::for_request(
        req,
        &keys.holder.public_key(),
        data,
        "fr",
        &vp_token,
        NOW,
        NOW + 86_400,
        &mut TestRng::new(3),
    )
    .for_children(children);
    AuthorizationResponse {
        vp_token,
        state: req.state.clone(),
        consent_grant: Some(grant.sign(&keys.holder).unwrap()),
        mandate: None,
    }
}

fn verify(
    keys: &Keys,
    req: &RequestObject,
    response: &AuthorizationResponse,
) -> Result<VerifiedResponse, ResponseError> {
    let issuers = vec![(ISSUER.to_owned(), keys.issuer.public_key())];
    let form = AuthorizationResponse::from_form(&response.to_form()).unwrap();
    verify_response(&form, req, issuers.as_slice(), NOW + 5, &mut BTreeSet::new())
}

#[test]
fn a_parent_answers_for_one_child_and_the_grant_names_that_child() {
    let (keys, credential, req) = setup(1);
    let verified = verify(&keys, &req, &answer(&keys, &credential, &req, &["/children/1"], None)).unwrap();
    assert_eq!(verified.grant.grant().children, vec![child("Hugo", "2019-11-20")]);
    // The verifier sees Hugo's entry only: Léa's stays undisclosed.
    let disclosed = children_in(&verified.credentials[0].1[0].claims);
    assert_eq!(disclosed, vec![child("Hugo", "2019-11-20")]);
    // The grant says who was acted for, in the record itself (a parent, not a mandate).
    let record = serde_json::to_value(verified.grant.grant()).unwrap();
    assert_eq!(record["children"], json!([{"given_name": "Hugo", "birthdate": "2019-11-20"}]));
    assert!(record.get("representative").is_none());
}

#[test]
fn the_whole_household_names_every_child() {
    let (keys, credential, req) = setup(2);
    let verified = verify(&keys, &req, &answer(&keys, &credential, &req, &["/children"], None)).unwrap();
    assert_eq!(verified.grant.grant().children, vec![child("Léa", "2016-03-02"), child("Hugo", "2019-11-20")]);
}

#[test]
fn a_child_not_in_the_household_is_refused() {
    let (keys, credential, req) = setup(3);
    // A child the household credential does not name, beside the one disclosed.
    let stranger = vec![child("Hugo", "2019-11-20"), child("Nina", "2018-05-05")];
    let e = verify(&keys, &req, &answer(&keys, &credential, &req, &["/children/1"], Some(stranger))).unwrap_err();
    assert_eq!(e, ResponseError::ChildNotInHousehold);
    // The same name with another birth date is another child.
    let twin = vec![child("Hugo", "2020-11-20")];
    let e = verify(&keys, &req, &answer(&keys, &credential, &req, &["/children/1"], Some(twin))).unwrap_err();
    assert_eq!(e, ResponseError::ChildNotInHousehold);
    // A sibling in the household whose entry is not presented: the verifier cannot tell.
    let sibling = vec![child("Hugo", "2019-11-20"), child("Léa", "2016-03-02")];
    let e = verify(&keys, &req, &answer(&keys, &credential, &req, &["/children/1"], Some(sibling))).unwrap_err();
    assert_eq!(e, ResponseError::ChildNotInHousehold);
    // Named twice while disclosed once.
    let twice = vec![child("Hugo", "2019-11-20"), child("Hugo", "2019-11-20")];
    let e = verify(&keys, &req, &answer(&keys, &credential, &req, &["/children/1"], Some(twice))).unwrap_err();
    assert_eq!(e, ResponseError::ChildNotInHousehold);
}

#[test]
fn a_child_whose_data_goes_must_be_named() {
    let (keys, credential, req) = setup(4);
    let e =
        verify(&keys, &req, &answer(&keys, &credential, &req, &["/children"], Some(vec![child("Léa", "2016-03-02")])))
            .unwrap_err();
    assert_eq!(e, ResponseError::ChildNotNamed);
    let e = verify(&keys, &req, &answer(&keys, &credential, &req, &["/children/0"], Some(vec![]))).unwrap_err();
    assert_eq!(e, ResponseError::ChildNotNamed);
}

#[test]
fn the_grant_reads_back_its_children_strictly() {
    let (keys, _, req) = setup(5);
    let grant =
        Grant::for_request(&req, &keys.holder.public_key(), vec![], "fr", "{}", NOW, NOW + 1, &mut TestRng::new(4))
            .for_children(vec![child("Léa", "2016-03-02")]);
    let text = serde_json::to_string(&grant).unwrap();
    let back: Grant = serde_json::from_str(&text).unwrap();
    assert_eq!(back, grant);
    // Without children the member is absent, and absent reads as none.
    let bare = Grant { children: vec![], ..grant };
    assert!(
        serde_json::to_value(&bare).unwrap().get("children").is_none(),
        "{}",
        serde_json::to_string(&bare).unwrap()
    );
    let back: Grant = serde_json::from_str(&serde_json::to_string(&bare).unwrap()).unwrap();
    assert!(back.children.is_empty());
}
