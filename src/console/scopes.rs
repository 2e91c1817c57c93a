//! Who may do what through the console: the API's authentication modes
//! (none, `api_key`, `jwt`; `sigv4` for signed HTTP requests), each
//! credential carrying a scope. `read` runs queries and subscriptions,
//! `start` also starts, stops, answers task tokens and runs TestState,
//! `admin` everything. An API key has the scopes its `scopes` list gives
//! (all when it has none); a JWT those its `scope` claim (or the claim
//! `[console] scope_claim` names) holds, space-separated or as a list
//! (all when it has no such claim). Without authentication (loopback only)
//! every request is `admin`.

use crate::api::bridge::Auth;
use axum::http::{HeaderMap, Method, Uri};
use base64::Engine as _;
use spate_engine::time::{Clock, SystemClock};

/// A scope; each includes the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    /// Queries and subscriptions.
    Read,
    /// Read, and starting, stopping, callbacks, TestState.
    Start,
    /// Everything.
    Admin,
}

impl Scope {
    /// The scope named `name` (`read`, `start`, `admin`).
    pub fn named(name: &str) -> Option<Scope> {
        match name {
            "read" => Some(Scope::Read),
            "start" => Some(Scope::Start),
            "admin" => Some(Scope::Admin),
            _ => None,
        }
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Start => "start",
            Scope::Admin => "admin",
        }
    }

    /// The highest scope of names, if any is one.
    pub fn highest<'a>(names: impl IntoIterator<Item = &'a str>) -> Option<Scope> {
        names.into_iter().filter_map(Scope::named).max()
    }
}

/// What a request was granted: a scope, or why it was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grant {
    /// Authenticated, with this scope (`None`: with no console scope).
    Granted(Option<Scope>),
    /// Not authenticated: why.
    Refused(String),
}

/// Authenticates one request (`body`: what was signed, for `sigv4`).
pub fn authenticate(
    auth: &Auth,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    scope_claim: &str,
) -> Grant {
    if let Err(e) = auth.check(method, uri, headers, body, SystemClock.now()) {
        return Grant::Refused(e.message);
    }
    Grant::Granted(match auth {
        Auth::None | Auth::SigV4(_) => Some(Scope::Admin),
        Auth::ApiKey(_) => match auth.key_scopes(header(headers, "x-api-key").unwrap_or("")) {
            None => Some(Scope::Admin),
            Some(scopes) => Scope::highest(scopes.iter().map(String::as_str)),
        },
        Auth::Jwt(_) => {
            let token = header(headers, "authorization")
                .and_then(|v| v.strip_prefix("Bearer "))
                .unwrap_or("")
                .trim();
            token_scope(token, scope_claim)
        }
    })
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The scope a (verified) JWT's `claim` grants: all when it has no such
/// claim, else the highest scope it names.
pub fn token_scope(token: &str, claim: &str) -> Option<Scope> {
    let claims: serde_json::Value = token
        .split('.')
        .nth(1)
        .and_then(|p| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(p.trim_end_matches('='))
                .ok()
        })
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default();
    match claims.get(claim) {
        None => Some(Scope::Admin),
        Some(serde_json::Value::String(s)) => Scope::highest(s.split_whitespace()),
        Some(serde_json::Value::Array(a)) => {
            Scope::highest(a.iter().filter_map(serde_json::Value::as_str))
        }
        Some(_) => None,
    }
}

/// Headers standing for a WebSocket's `connection_init` payload
/// (`{"x-api-key": ...}` or `{"Authorization": "Bearer ..."}`).
pub fn payload_headers(payload: &serde_json::Value) -> HeaderMap {
    let mut headers = HeaderMap::new();
    if let Some(object) = payload.as_object() {
        for (key, value) in object {
            let name = key.to_ascii_lowercase();
            if matches!(name.as_str(), "x-api-key" | "authorization")
                && let (Ok(name), Some(Ok(value))) = (
                    axum::http::HeaderName::from_bytes(name.as_bytes()),
                    value.as_str().map(axum::http::HeaderValue::from_str),
                )
            {
                headers.insert(name, value);
            }
        }
    }
    headers
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(claims: serde_json::Value) -> String {
        let part = |v: &serde_json::Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
        };
        format!(
            "{}.{}.sig",
            part(&serde_json::json!({"alg": "RS256"})),
            part(&claims)
        )
    }

    #[test]
    fn scopes_include_the_lower_ones() {
        assert!(Scope::Admin > Scope::Start && Scope::Start > Scope::Read);
        assert_eq!(
            Scope::highest(["openid", "read", "start"]),
            Some(Scope::Start)
        );
        assert_eq!(Scope::highest(["openid"]), None);
    }

    #[test]
    fn tokens_grant_what_their_claim_names() {
        assert_eq!(
            token_scope(&token(serde_json::json!({"scope": "openid read"})), "scope"),
            Some(Scope::Read)
        );
        assert_eq!(
            token_scope(&token(serde_json::json!({"roles": ["start"]})), "roles"),
            Some(Scope::Start)
        );
        assert_eq!(
            token_scope(&token(serde_json::json!({"sub": "x"})), "scope"),
            Some(Scope::Admin),
            "no claim: every scope, as before scopes existed"
        );
        assert_eq!(
            token_scope(&token(serde_json::json!({"scope": "openid"})), "scope"),
            None
        );
    }

    #[test]
    fn init_payload_keys_become_headers() {
        let headers = payload_headers(&serde_json::json!({
            "x-api-key": "k", "Authorization": "Bearer t", "other": "x"
        }));
        assert_eq!(headers.len(), 2);
        assert_eq!(header(&headers, "authorization"), Some("Bearer t"));
    }
}
