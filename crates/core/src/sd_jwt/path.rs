//! Claim paths: JSON-pointer-like names for a claim inside the claim tree (RFC 6901 escaping).

use std::fmt;

/// The path of a claim: `/address/locality`, `/nationalities/1`. Segments name object members or,
/// inside arrays, decimal indices. `~1` stands for `/` and `~0` for `~` inside a segment.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct ClaimPath(Vec<String>);

/// A claim path string that is not `/`-separated JSON-pointer syntax.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClaimPathError {
    /// The path is empty or does not start with `/`.
    #[error("a claim path starts with `/`: {path:?}")]
    NoLeadingSlash {
        /// The offending path.
        path: String,
    },
    /// A `~` not followed by `0` or `1`.
    #[error("bad `~` escape in claim path {path:?}")]
    BadEscape {
        /// The offending path.
        path: String,
    },
}

impl ClaimPath {
    /// The root of the claim tree (the whole payload); never disclosable itself.
    pub fn root() -> ClaimPath {
        ClaimPath(Vec::new())
    }

    /// Builds a path from raw (unescaped) segments.
    pub fn from_segments<I: IntoIterator<Item = S>, S: Into<String>>(segments: I) -> ClaimPath {
        ClaimPath(segments.into_iter().map(Into::into).collect())
    }

    /// Parses `/a/b/0` (RFC 6901 escapes `~0` and `~1`).
    pub fn parse(text: &str) -> Result<ClaimPath, ClaimPathError> {
        let Some(rest) = text.strip_prefix('/') else {
            return Err(ClaimPathError::NoLeadingSlash { path: text.to_owned() });
        };
        let mut segments = Vec::new();
        for raw in rest.split('/') {
            let mut seg = String::with_capacity(raw.len());
            let mut chars = raw.chars();
            while let Some(c) = chars.next() {
                if c == '~' {
                    match chars.next() {
                        Some('0') => seg.push('~'),
                        Some('1') => seg.push('/'),
                        _ => return Err(ClaimPathError::BadEscape { path: text.to_owned() }),
                    }
                } else {
                    seg.push(c);
                }
            }
            segments.push(seg);
        }
        Ok(ClaimPath(segments))
    }

    /// The raw segments, unescaped.
    pub fn segments(&self) -> &[String] {
        &self.0
    }

    /// Whether this is the root path.
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// This path extended by one segment.
    pub fn child(&self, segment: impl Into<String>) -> ClaimPath {
        let mut segments = self.0.clone();
        segments.push(segment.into());
        ClaimPath(segments)
    }

    /// Whether `self` equals `other` or is one of its ancestors.
    pub fn is_prefix_of(&self, other: &ClaimPath) -> bool {
        other.0.starts_with(&self.0)
    }
}

impl fmt::Display for ClaimPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("");
        }
        for seg in &self.0 {
            f.write_str("/")?;
            f.write_str(&seg.replace('~', "~0").replace('/', "~1"))?;
        }
        Ok(())
    }
}

impl std::str::FromStr for ClaimPath {
    type Err = ClaimPathError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ClaimPath::parse(s)
    }
}

impl serde::Serialize for ClaimPath {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_display_round_trip() {
        let p = ClaimPath::parse("/address/locality").unwrap();
        assert_eq!(p.segments(), ["address", "locality"]);
        assert_eq!(p.to_string(), "/address/locality");
        let q = ClaimPath::parse("/a~1b/c~0d/0").unwrap();
        assert_eq!(q.segments(), ["a/b", "c~d", "0"]);
        assert_eq!(q.to_string(), "/a~1b/c~0d/0");
        assert!(ClaimPath::parse("address").is_err());
        assert!(ClaimPath::parse("/a~2").is_err());
        assert!(ClaimPath::parse("/address").unwrap().is_prefix_of(&p));
        assert!(!p.is_prefix_of(&ClaimPath::parse("/address").unwrap()));
    }
}
