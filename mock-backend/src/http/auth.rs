//! `api-key` / `Authorization: Bearer` checks with AOAI's two 401 bodies.

use super::errors;
use hyper::HeaderMap;

/// Refusal body, or None when the request may pass.
pub fn check(headers: &HeaderMap, keys: &[String]) -> Option<&'static str> {
    let accepted = |value: &str| keys.is_empty() || keys.iter().any(|k| k == value);
    if let Some(key) = headers.get("api-key") {
        return match key.to_str() {
            Ok(key) if accepted(key) => None,
            _ => Some(errors::BAD_KEY),
        };
    }
    if let Some(authorization) = headers.get(hyper::header::AUTHORIZATION) {
        let token = authorization.to_str().ok().and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        });
        return match token {
            Some(token) if !token.is_empty() && accepted(token) => None,
            _ => Some(errors::BAD_BEARER),
        };
    }
    Some(errors::MISSING_KEY)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(name: &'static str, value: &'static str) -> HeaderMap {
        let mut map = HeaderMap::new();
        map.insert(name, value.parse().unwrap());
        map
    }

    #[test]
    fn keys_and_tokens() {
        let keys = vec!["k1".to_string()];
        assert_eq!(check(&headers("api-key", "k1"), &keys), None);
        assert_eq!(
            check(&headers("api-key", "nope"), &keys),
            Some(errors::BAD_KEY)
        );
        assert_eq!(check(&headers("authorization", "Bearer k1"), &keys), None);
        assert_eq!(
            check(&headers("authorization", "Bearer x"), &keys),
            Some(errors::BAD_BEARER)
        );
        assert_eq!(check(&HeaderMap::new(), &keys), Some(errors::MISSING_KEY));
        assert_eq!(
            check(&headers("api-key", "anything"), &[]),
            None,
            "empty list accepts any key"
        );
        assert_eq!(
            check(&HeaderMap::new(), &[]),
            Some(errors::MISSING_KEY),
            "but not a missing one"
        );
    }
}
