//! DCQL, the Digital Credentials Query Language (OpenID4VP 1.0 section 6), for `dc+sd-jwt` only.
//!
//! ```text
//! JSON ──DcqlQuery::from_json──▶ DcqlQuery ──match_credentials(held)──▶ MatchResult
//!                                                 │ per query: candidates, disclosure options
//!                                                 └ per credential set: satisfiable options
//! ```
//!
//! Claim sets: the verifier lists acceptable claim combinations in preference order. Every
//! combination the held credential can satisfy is a disclosure *option*; the first one is the
//! default. Claims common to every option are *required*; the other claims of the default option
//! are *optional*: the citizen may decline them as long as what remains is still one of the
//! options ([`Candidate::selection_allowed`]). Claims that appear only in later options are never
//! offered: disclosing them would go beyond what the verifier prefers (section 6.4.1 forbids
//! sending claims that were not selected).

use serde_json::{Map, Value};

/// The only credential format this profile supports (SD-JWT VC).
pub const FORMAT_DC_SD_JWT: &str = "dc+sd-jwt";

/// Why a DCQL query was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DcqlError {
    /// The text is not JSON.
    #[error("DCQL query is not valid JSON")]
    Json,
    /// A member that must be present is missing.
    #[error("DCQL member `{field}` is missing")]
    MissingField {
        /// The member's name.
        field: &'static str,
    },
    /// A member has the wrong JSON type.
    #[error("DCQL member `{field}` has the wrong type")]
    WrongType {
        /// The member's name.
        field: &'static str,
    },
    /// An array that must be non-empty is empty.
    #[error("DCQL array `{field}` is empty")]
    EmptyArray {
        /// The member's name.
        field: &'static str,
    },
    /// An identifier is empty or has characters other than alphanumerics, `_` and `-`.
    #[error("DCQL identifier {id:?} is not made of alphanumerics, `_` and `-`")]
    InvalidId {
        /// The identifier as given.
        id: String,
    },
    /// Two credential queries share an id.
    #[error("DCQL credential id {id:?} appears twice")]
    DuplicateCredentialId {
        /// The repeated id.
        id: String,
    },
    /// Two claims queries of one credential query share an id.
    #[error("DCQL claim id {claim:?} appears twice in credential query {credential:?}")]
    DuplicateClaimId {
        /// The credential query.
        credential: String,
        /// The repeated claim id.
        claim: String,
    },
    /// The credential format is not supported (only `dc+sd-jwt` is).
    #[error("DCQL credential format {format:?} is not supported (only dc+sd-jwt)")]
    UnsupportedFormat {
        /// The format as given, e.g. `mso_mdoc`.
        format: String,
    },
    /// A DCQL feature outside this profile was used.
    #[error("DCQL feature `{feature}` is not supported")]
    Unsupported {
        /// The feature, e.g. `trusted_authorities`.
        feature: &'static str,
    },
    /// `claim_sets` is used but a claims query has no `id`.
    #[error("credential query {credential:?} uses claim_sets but a claim has no id")]
    MissingClaimId {
        /// The credential query.
        credential: String,
    },
    /// `claim_sets` is present without `claims`.
    #[error("credential query {credential:?} has claim_sets without claims")]
    ClaimSetsWithoutClaims {
        /// The credential query.
        credential: String,
    },
    /// A claim set names a claim id that does not exist.
    #[error("claim set of credential query {credential:?} names unknown claim {claim:?}")]
    UnknownClaimId {
        /// The credential query.
        credential: String,
        /// The unknown claim id.
        claim: String,
    },
    /// A credential set option names a credential query that does not exist.
    #[error("credential set names unknown credential query {id:?}")]
    UnknownCredentialId {
        /// The unknown id.
        id: String,
    },
    /// A claims path pointer is empty or holds something other than strings, nulls and
    /// non-negative integers.
    #[error("invalid claims path in credential query {credential:?}")]
    InvalidPath {
        /// The credential query.
        credential: String,
    },
    /// A `values` entry is not a string, integer or boolean, or the array is empty.
    #[error("invalid values in credential query {credential:?}")]
    InvalidValues {
        /// The credential query.
        credential: String,
    },
}

/// One component of a claims path pointer (section 7).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PathElement {
    /// An object member.
    Key(String),
    /// An array index.
    Index(u64),
    /// Every element of an array (`null`).
    All,
}

/// A claims path pointer: a non-empty list of components.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClaimPath(pub Vec<PathElement>);

impl ClaimPath {
    /// Parses a JSON claims path pointer; `None` when it is not one.
    pub fn from_json(value: &Value) -> Option<ClaimPath> {
        let items = value.as_array()?;
        if items.is_empty() {
            return None;
        }
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            out.push(match item {
                Value::String(s) => PathElement::Key(s.clone()),
                Value::Null => PathElement::All,
                Value::Number(n) => PathElement::Index(n.as_u64()?),
                _ => return None,
            });
        }
        Some(ClaimPath(out))
    }

    /// The JSON form (array of strings, integers and nulls).
    pub fn to_json(&self) -> Value {
        Value::Array(
            self.0
                .iter()
                .map(|e| match e {
                    PathElement::Key(k) => Value::String(k.clone()),
                    PathElement::Index(i) => Value::from(*i),
                    PathElement::All => Value::Null,
                })
                .collect(),
        )
    }

    /// The SD-JWT path string (a JSON Pointer, RFC 6901: `/address/locality`, `/nationalities/1`),
    /// or `None` if the path has a `null` component: such a path names several claims, which
    /// matching turns into one concrete pointer each.
    pub fn to_pointer(&self) -> Option<String> {
        let mut out = String::new();
        for e in &self.0 {
            out.push('/');
            match e {
                PathElement::Key(k) => out.push_str(&escape_pointer(k)),
                PathElement::Index(i) => out.push_str(&i.to_string()),
                PathElement::All => return None,
            }
        }
        Some(out)
    }

    /// Applies the pointer to a JSON credential (section 7.1.1): the concrete paths of the selected
    /// elements with their values; empty when processing fails or nothing is selected.
    pub fn select<'a>(&self, claims: &'a Map<String, Value>) -> Vec<(Vec<PathElement>, &'a Value)> {
        let mut selected: Vec<(Vec<PathElement>, &'a Value)> = Vec::new();
        let mut first = true;
        for e in &self.0 {
            let mut next: Vec<(Vec<PathElement>, &'a Value)> = Vec::new();
            if first {
                first = false;
                match e {
                    PathElement::Key(k) => {
                        if let Some(v) = claims.get(k) {
                            next.push((vec![e.clone()], v));
                        }
                    }
                    // The root is an object, not an array: processing error.
                    _ => return Vec::new(),
                }
            } else {
                for (path, value) in selected {
                    match (e, value) {
                        (PathElement::Key(k), Value::Object(m)) => {
                            if let Some(v) = m.get(k) {
                                next.push((extend(&path, e.clone()), v));
                            }
                        }
                        (PathElement::All, Value::Array(a)) => {
                            for (i, v) in a.iter().enumerate() {
                                next.push((extend(&path, PathElement::Index(i as u64)), v));
                            }
                        }
                        (PathElement::Index(i), Value::Array(a)) => {
                            if let Some(v) = usize::try_from(*i).ok().and_then(|i| a.get(i)) {
                                next.push((extend(&path, e.clone()), v));
                            }
                        }
                        _ => return Vec::new(),
                    }
                }
            }
            selected = next;
        }
        selected
    }
}

fn extend(path: &[PathElement], e: PathElement) -> Vec<PathElement> {
    let mut p = path.to_vec();
    p.push(e);
    p
}

fn escape_pointer(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// The JSON Pointer of a concrete path (no `null` component).
pub fn pointer_of(path: &[PathElement]) -> String {
    ClaimPath(path.to_vec()).to_pointer().unwrap_or_default()
}

/// A claims query (section 6.3).
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimsQuery {
    /// Identifier, required when the credential query has `claim_sets`.
    pub id: Option<String>,
    /// Where the claim is.
    pub path: ClaimPath,
    /// Expected values (strings, integers or booleans); the claim matches if it equals one.
    pub values: Option<Vec<Value>>,
}

/// A credential query (section 6.1) for a `dc+sd-jwt` credential.
#[derive(Debug, Clone, PartialEq)]
pub struct CredentialQuery {
    /// Identifier, key of the response's `vp_token`.
    pub id: String,
    /// Whether several credentials may answer this query.
    pub multiple: bool,
    /// Accepted `vct` values (`meta.vct_values`).
    pub vct_values: Vec<String>,
    /// The requested claims; `None` means no selectively disclosable claim.
    pub claims: Option<Vec<ClaimsQuery>>,
    /// Acceptable combinations of claim ids, in the verifier's preference order.
    pub claim_sets: Option<Vec<Vec<String>>>,
}

/// A credential set query (section 6.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialSetQuery {
    /// Each option is a list of credential query ids that together satisfy the set.
    pub options: Vec<Vec<String>>,
    /// Whether the set must be satisfied (default `true`).
    pub required: bool,
}

/// A validated DCQL query.
#[derive(Debug, Clone, PartialEq)]
pub struct DcqlQuery {
    /// The credential queries (non-empty, unique ids).
    pub credentials: Vec<CredentialQuery>,
    /// Optional constraints on which credentials to return.
    pub credential_sets: Option<Vec<CredentialSetQuery>>,
}

fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn get_id(value: Option<&Value>, field: &'static str) -> Result<Option<String>, DcqlError> {
    match value {
        None => Ok(None),
        Some(Value::String(s)) if valid_id(s) => Ok(Some(s.clone())),
        Some(Value::String(s)) => Err(DcqlError::InvalidId { id: s.clone() }),
        Some(_) => Err(DcqlError::WrongType { field }),
    }
}

fn non_empty_array<'a>(value: &'a Value, field: &'static str) -> Result<&'a Vec<Value>, DcqlError> {
    let a = value.as_array().ok_or(DcqlError::WrongType { field })?;
    if a.is_empty() {
        return Err(DcqlError::EmptyArray { field });
    }
    Ok(a)
}

fn string_list(value: &Value, field: &'static str) -> Result<Vec<String>, DcqlError> {
    non_empty_array(value, field)?
        .iter()
        .map(|v| v.as_str().map(str::to_owned).ok_or(DcqlError::WrongType { field }))
        .collect()
}

fn optional_bool(obj: &Map<String, Value>, field: &'static str, default: bool) -> Result<bool, DcqlError> {
    match obj.get(field) {
        None => Ok(default),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(DcqlError::WrongType { field }),
    }
}

impl ClaimsQuery {
    fn from_json(value: &Value, credential: &str) -> Result<ClaimsQuery, DcqlError> {
        let obj = value.as_object().ok_or(DcqlError::WrongType { field: "claims" })?;
        let id = get_id(obj.get("id"), "id")?;
        let path = obj.get("path").ok_or(DcqlError::MissingField { field: "path" })?;
        let path =
            ClaimPath::from_json(path).ok_or_else(|| DcqlError::InvalidPath { credential: credential.into() })?;
        let values = match obj.get("values") {
            None => None,
            Some(Value::Array(a))
                if !a.is_empty() && a.iter().all(|v| v.is_string() || v.is_boolean() || v.is_i64() || v.is_u64()) =>
            {
                Some(a.clone())
            }
            Some(_) => return Err(DcqlError::InvalidValues { credential: credential.into() }),
        };
        Ok(ClaimsQuery { id, path, values })
    }

    fn to_json(&self) -> Value {
        let mut m = Map::new();
        if let Some(id) = &self.id {
            m.insert("id".into(), id.clone().into());
        }
        m.insert("path".into(), self.path.to_json());
        if let Some(values) = &self.values {
            m.insert("values".into(), Value::Array(values.clone()));
        }
        Value::Object(m)
    }
}

impl CredentialQuery {
    fn from_json(value: &Value) -> Result<CredentialQuery, DcqlError> {
        let obj = value.as_object().ok_or(DcqlError::WrongType { field: "credentials" })?;
        let id = get_id(obj.get("id"), "id")?.ok_or(DcqlError::MissingField { field: "id" })?;
        let format = obj.get("format").ok_or(DcqlError::MissingField { field: "format" })?;
        let format = format.as_str().ok_or(DcqlError::WrongType { field: "format" })?;
        if format != FORMAT_DC_SD_JWT {
            return Err(DcqlError::UnsupportedFormat { format: format.into() });
        }
        if obj.contains_key("trusted_authorities") {
            return Err(DcqlError::Unsupported { feature: "trusted_authorities" });
        }
        // This profile always requires holder binding: the consent grant is signed with that key.
        if !optional_bool(obj, "require_cryptographic_holder_binding", true)? {
            return Err(DcqlError::Unsupported { feature: "require_cryptographic_holder_binding=false" });
        }
        let multiple = optional_bool(obj, "multiple", false)?;
        let meta = obj.get("meta").ok_or(DcqlError::MissingField { field: "meta" })?;
        let meta = meta.as_object().ok_or(DcqlError::WrongType { field: "meta" })?;
        let vct_values = meta.get("vct_values").ok_or(DcqlError::MissingField { field: "vct_values" })?;
        let vct_values = string_list(vct_values, "vct_values")?;
        let claims = match obj.get("claims") {
            None => None,
            Some(v) => Some(
                non_empty_array(v, "claims")?
                    .iter()
                    .map(|c| ClaimsQuery::from_json(c, &id))
                    .collect::<Result<Vec<_>, _>>()?,
            ),
        };
        if let Some(claims) = &claims {
            let mut seen = std::collections::BTreeSet::new();
            for c in claims {
                if let Some(cid) = &c.id
                    && !seen.insert(cid.as_str())
                {
                    return Err(DcqlError::DuplicateClaimId { credential: id.clone(), claim: cid.clone() });
                }
            }
        }
        let claim_sets = match obj.get("claim_sets") {
            None => None,
            Some(v) => {
                let Some(claims) = &claims else {
                    return Err(DcqlError::ClaimSetsWithoutClaims { credential: id });
                };
                if claims.iter().any(|c| c.id.is_none()) {
                    return Err(DcqlError::MissingClaimId { credential: id });
                }
                let mut sets = Vec::new();
                for set in non_empty_array(v, "claim_sets")? {
                    let set = string_list(set, "claim_sets")?;
                    for cid in &set {
                        if !claims.iter().any(|c| c.id.as_deref() == Some(cid.as_str())) {
                            return Err(DcqlError::UnknownClaimId { credential: id, claim: cid.clone() });
                        }
                    }
                    sets.push(set);
                }
                Some(sets)
            }
        };
        Ok(CredentialQuery { id, multiple, vct_values, claims, claim_sets })
    }

    fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("id".into(), self.id.clone().into());
        m.insert("format".into(), FORMAT_DC_SD_JWT.into());
        if self.multiple {
            m.insert("multiple".into(), true.into());
        }
        let mut meta = Map::new();
        meta.insert("vct_values".into(), self.vct_values.clone().into());
        m.insert("meta".into(), Value::Object(meta));
        if let Some(claims) = &self.claims {
            m.insert("claims".into(), Value::Array(claims.iter().map(ClaimsQuery::to_json).collect()));
        }
        if let Some(sets) = &self.claim_sets {
            m.insert("claim_sets".into(), sets.clone().into());
        }
        Value::Object(m)
    }
}

impl DcqlQuery {
    /// Parses and validates a DCQL query given as JSON text.
    pub fn parse(text: &str) -> Result<DcqlQuery, DcqlError> {
        let value = crate::json::parse(text.as_bytes()).map_err(|_| DcqlError::Json)?;
        DcqlQuery::from_json(&value)
    }

    /// Validates a DCQL query given as a JSON value. Unknown members are ignored (section 6).
    pub fn from_json(value: &Value) -> Result<DcqlQuery, DcqlError> {
        let obj = value.as_object().ok_or(DcqlError::WrongType { field: "dcql_query" })?;
        let creds = obj.get("credentials").ok_or(DcqlError::MissingField { field: "credentials" })?;
        let mut credentials: Vec<CredentialQuery> = Vec::new();
        for c in non_empty_array(creds, "credentials")? {
            let c = CredentialQuery::from_json(c)?;
            if credentials.iter().any(|x| x.id == c.id) {
                return Err(DcqlError::DuplicateCredentialId { id: c.id });
            }
            credentials.push(c);
        }
        let credential_sets = match obj.get("credential_sets") {
            None => None,
            Some(v) => {
                let mut sets = Vec::new();
                for s in non_empty_array(v, "credential_sets")? {
                    let so = s.as_object().ok_or(DcqlError::WrongType { field: "credential_sets" })?;
                    let options = so.get("options").ok_or(DcqlError::MissingField { field: "options" })?;
                    let mut opts = Vec::new();
                    for o in non_empty_array(options, "options")? {
                        let o = string_list(o, "options")?;
                        for id in &o {
                            if !credentials.iter().any(|c| &c.id == id) {
                                return Err(DcqlError::UnknownCredentialId { id: id.clone() });
                            }
                        }
                        opts.push(o);
                    }
                    sets.push(CredentialSetQuery { options: opts, required: optional_bool(so, "required", true)? });
                }
                Some(sets)
            }
        };
        Ok(DcqlQuery { credentials, credential_sets })
    }

    /// The JSON form, as sent in a request object.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("credentials".into(), Value::Array(self.credentials.iter().map(CredentialQuery::to_json).collect()));
        if let Some(sets) = &self.credential_sets {
            let sets = sets
                .iter()
                .map(|s| {
                    let mut o = Map::new();
                    o.insert("options".into(), s.options.clone().into());
                    if !s.required {
                        o.insert("required".into(), false.into());
                    }
                    Value::Object(o)
                })
                .collect();
            m.insert("credential_sets".into(), Value::Array(sets));
        }
        Value::Object(m)
    }

    /// The credential query with this id.
    pub fn credential(&self, id: &str) -> Option<&CredentialQuery> {
        self.credentials.iter().find(|c| c.id == id)
    }

    /// Whether a credential query must be answered: always without `credential_sets`; otherwise
    /// when it appears in an option of a required set.
    pub fn is_required(&self, id: &str) -> bool {
        match &self.credential_sets {
            None => true,
            Some(sets) => sets.iter().any(|s| s.required && s.options.iter().any(|o| o.iter().any(|x| x == id))),
        }
    }

    /// Matches the query against the credentials the wallet holds.
    pub fn match_credentials(&self, held: &[HeldCredential<'_>]) -> MatchResult {
        let queries: Vec<QueryMatch> = self
            .credentials
            .iter()
            .map(|q| QueryMatch {
                query_id: q.id.clone(),
                candidates: held.iter().filter_map(|h| q.match_credential(h)).collect(),
            })
            .collect();
        let ok = |id: &str| queries.iter().any(|m| m.query_id == id && !m.candidates.is_empty());
        let credential_sets: Vec<SetMatch> = self
            .credential_sets
            .iter()
            .flatten()
            .map(|s| SetMatch {
                required: s.required,
                satisfiable_options: (0..s.options.len())
                    .filter(|&i| s.options.get(i).is_some_and(|o| o.iter().all(|id| ok(id))))
                    .collect(),
            })
            .collect();
        let satisfiable = if self.credential_sets.is_some() {
            credential_sets.iter().all(|s| !s.required || !s.satisfiable_options.is_empty())
        } else {
            queries.iter().all(|q| !q.candidates.is_empty())
        };
        MatchResult { queries, credential_sets, satisfiable }
    }
}

/// A credential the wallet holds, as the holder knows it.
#[derive(Debug, Clone, Copy)]
pub struct HeldCredential<'a> {
    /// The wallet's own id for the credential.
    pub id: &'a str,
    /// Its `vct`.
    pub vct: &'a str,
    /// Its claims with every disclosure applied (the holder sees all of them).
    pub claims: &'a Map<String, Value>,
}

/// A held credential that can answer a credential query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The wallet's id of the credential.
    pub credential_id: String,
    /// Its `vct`.
    pub vct: String,
    /// Acceptable disclosures (JSON Pointers), in the verifier's preference order; the first is
    /// the default. Without `claim_sets` there is exactly one.
    pub options: Vec<Vec<String>>,
    /// Claims in every option: disclosing the credential means disclosing these.
    pub required: Vec<String>,
    /// Claims of the default option the citizen may decline (what remains must still be an option).
    pub optional: Vec<String>,
}

impl Candidate {
    /// Whether disclosing exactly these pointers is one of the acceptable options.
    pub fn selection_allowed(&self, disclosed: &[String]) -> bool {
        // Compared as sets (order and repetitions do not matter), without sorting: no sort code in the wasm.
        let same = |a: &[String], b: &[String]| a.iter().all(|x| b.contains(x)) && b.iter().all(|x| a.contains(x));
        self.options.iter().any(|o| same(o, disclosed))
    }
}

/// The candidates for one credential query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryMatch {
    /// The credential query id.
    pub query_id: String,
    /// Held credentials that satisfy it (empty when none).
    pub candidates: Vec<Candidate>,
}

/// Which options of one credential set query can be satisfied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetMatch {
    /// Whether the set is required.
    pub required: bool,
    /// Indices into the set's `options` whose every credential query has a candidate.
    pub satisfiable_options: Vec<usize>,
}

/// The outcome of matching a query against a wallet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchResult {
    /// One entry per credential query, in query order.
    pub queries: Vec<QueryMatch>,
    /// One entry per credential set query, in order (empty without `credential_sets`).
    pub credential_sets: Vec<SetMatch>,
    /// Whether the wallet can answer everything required.
    pub satisfiable: bool,
}

impl MatchResult {
    /// The candidates of a credential query.
    pub fn candidates(&self, query_id: &str) -> &[Candidate] {
        self.queries.iter().find(|q| q.query_id == query_id).map(|q| q.candidates.as_slice()).unwrap_or(&[])
    }
}

impl CredentialQuery {
    /// The pointers a claims query selects in a credential, after value matching; `None` if the
    /// claim is absent or no value matches (then it counts as absent, section 6.4.1).
    fn select_claim(c: &ClaimsQuery, claims: &Map<String, Value>) -> Option<Vec<String>> {
        let selected: Vec<String> = c
            .path
            .select(claims)
            .into_iter()
            .filter(|(_, v)| c.values.as_ref().is_none_or(|vals| vals.iter().any(|x| x == *v)))
            .map(|(p, _)| pointer_of(&p))
            .collect();
        if selected.is_empty() { None } else { Some(selected) }
    }

    /// Matches one held credential: `None` if it cannot answer this query.
    pub fn match_credential(&self, held: &HeldCredential<'_>) -> Option<Candidate> {
        if !self.vct_values.iter().any(|v| v == held.vct) {
            return None;
        }
        let claims = self.claims.as_deref().unwrap_or(&[]);
        let sets: Vec<Vec<usize>> = match &self.claim_sets {
            None => vec![(0..claims.len()).collect()],
            Some(sets) => sets
                .iter()
                .map(|s| {
                    s.iter()
                        .filter_map(|cid| claims.iter().position(|c| c.id.as_deref() == Some(cid.as_str())))
                        .collect()
                })
                .collect(),
        };
        let selected: Vec<Option<Vec<String>>> = claims.iter().map(|c| Self::select_claim(c, held.claims)).collect();
        let mut options: Vec<Vec<String>> = Vec::new();
        for set in sets {
            let mut pointers = Vec::new();
            let mut ok = true;
            for i in set {
                match selected.get(i) {
                    Some(Some(p)) => pointers.extend(p.iter().cloned()),
                    _ => ok = false,
                }
            }
            if ok {
                let mut seen = std::collections::BTreeSet::new();
                pointers.retain(|p| seen.insert(p.clone()));
                if !options.contains(&pointers) {
                    options.push(pointers);
                }
            }
        }
        let default = options.first()?.clone();
        let required: Vec<String> = default.iter().filter(|p| options.iter().all(|o| o.contains(p))).cloned().collect();
        let optional = default.iter().filter(|p| !required.contains(p)).cloned().collect();
        Some(Candidate {
            credential_id: held.id.into(),
            vct: held.vct.into(),
            options: options.clone(),
            required,
            optional,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pointer_escapes_and_nulls() {
        let p = ClaimPath::from_json(&json!(["a/b", "c~d", 2])).unwrap();
        assert_eq!(p.to_pointer().unwrap(), "/a~1b/c~0d/2");
        assert_eq!(ClaimPath::from_json(&json!(["x", null])).unwrap().to_pointer(), None);
        assert!(ClaimPath::from_json(&json!([])).is_none());
        assert!(ClaimPath::from_json(&json!([-1])).is_none());
        assert!(ClaimPath::from_json(&json!([1.5])).is_none());
    }

    #[test]
    fn select_expands_null() {
        let claims = json!({"nationalities": ["FR", "DE"], "a": {"b": 1}});
        let claims = claims.as_object().unwrap();
        let p = ClaimPath::from_json(&json!(["nationalities", null])).unwrap();
        let got: Vec<String> = p.select(claims).iter().map(|(p, _)| pointer_of(p)).collect();
        assert_eq!(got, ["/nationalities/0", "/nationalities/1"]);
        // A string step on an array is a processing error: nothing selected.
        assert!(ClaimPath::from_json(&json!(["nationalities", "x"])).unwrap().select(claims).is_empty());
        assert_eq!(ClaimPath::from_json(&json!(["a", "b"])).unwrap().select(claims).len(), 1);
    }
}
