//! `jwt` authentication: OIDC bearer tokens (`Authorization: Bearer ...`)
//! verified against the issuer's keys, a JWKS read from a file or fetched
//! from a URL. Signatures are checked with `ring`: RS256 with RSA keys
//! (2048 to 8192 bits), HS256 with symmetric (`oct`) keys. `iss`, `aud` and
//! `exp` (and `nbf` when present) are checked.
//!
//! A JWKS fetched from a URL is fetched before the server listens (a
//! failure stops the start), then again every `jwks_refresh_seconds`, and
//! early when a token names a key id the set does not have (at most once
//! per [`MIN_REFETCH`]), so an issuer's key rotation is picked up. A failed
//! refetch keeps the keys it had and is logged.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// One key of a JWKS.
#[derive(Debug)]
enum Key {
    Rsa {
        kid: Option<String>,
        n: Vec<u8>,
        e: Vec<u8>,
    },
    Oct {
        kid: Option<String>,
        k: Vec<u8>,
    },
}

impl Key {
    fn kid(&self) -> Option<&str> {
        match self {
            Key::Rsa { kid, .. } | Key::Oct { kid, .. } => kid.as_deref(),
        }
    }
}

#[derive(Deserialize)]
struct JwkSet {
    keys: Vec<Jwk>,
}

#[derive(Deserialize)]
struct Jwk {
    kty: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    n: Option<String>,
    #[serde(default)]
    e: Option<String>,
    #[serde(default)]
    k: Option<String>,
}

/// The most bytes of a JWKS read.
const JWKS_LIMIT: usize = 1 << 20;

/// How long a JWKS fetch may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// The least time between two fetches of a JWKS URL prompted by unknown
/// key ids.
pub const MIN_REFETCH: Duration = Duration::from_secs(10);

/// Where a JWKS fetched from a URL comes from, and how it is kept fresh.
#[derive(Debug)]
struct Remote {
    url: String,
    refresh: Duration,
    /// Woken when a token names a key id the set lacks.
    unknown_kid: tokio::sync::Notify,
}

/// What a token must satisfy. Cloning shares the keys.
#[derive(Debug, Clone)]
pub struct JwtVerifier {
    keys: Arc<RwLock<Arc<[Key]>>>,
    remote: Option<Arc<Remote>>,
    issuer: String,
    audience: String,
}

fn b64(text: &str) -> Result<Vec<u8>, String> {
    URL_SAFE_NO_PAD
        .decode(text.trim_end_matches('='))
        .map_err(|e| format!("not base64url: {e}"))
}

/// The RSA and `oct` keys of a JWKS (other kinds, such as EC, are skipped:
/// no token can use them here).
fn parse_keys(jwks: &str) -> Result<Vec<Key>, String> {
    let set: JwkSet = serde_json::from_str(jwks).map_err(|e| format!("not a JWKS: {e}"))?;
    let mut keys = Vec::new();
    for (i, k) in set.keys.into_iter().enumerate() {
        let field = |v: Option<String>, name: &str| {
            v.ok_or_else(|| format!("keys[{i}] has no `{name}`"))
                .and_then(|t| b64(&t).map_err(|e| format!("keys[{i}].{name}: {e}")))
        };
        match k.kty.as_str() {
            "RSA" => keys.push(Key::Rsa {
                kid: k.kid,
                n: field(k.n, "n")?,
                e: field(k.e, "e")?,
            }),
            "oct" => keys.push(Key::Oct {
                kid: k.kid,
                k: field(k.k, "k")?,
            }),
            _ => {}
        }
    }
    if keys.is_empty() {
        return Err("the JWKS has no RSA or oct key".to_string());
    }
    Ok(keys)
}

impl JwtVerifier {
    /// A verifier from JWKS text, the issuer and the audience tokens must name.
    pub fn new(jwks: &str, issuer: &str, audience: &str) -> Result<JwtVerifier, String> {
        Ok(JwtVerifier {
            keys: Arc::new(RwLock::new(parse_keys(jwks)?.into())),
            remote: None,
            issuer: issuer.to_string(),
            audience: audience.to_string(),
        })
    }

    /// A verifier whose JWKS is fetched from `url` by [`load`](Self::load)
    /// and again every `refresh`. It accepts no token before it is loaded.
    pub fn from_url(
        url: &str,
        refresh: Duration,
        issuer: &str,
        audience: &str,
    ) -> Result<JwtVerifier, String> {
        let uri: axum::http::Uri = url.parse().map_err(|e| format!("not a URL: {e}"))?;
        if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.host().is_none() {
            return Err(format!("{url} is not an http or https URL"));
        }
        Ok(JwtVerifier {
            keys: Arc::new(RwLock::new(Vec::new().into())),
            remote: Some(Arc::new(Remote {
                url: url.to_string(),
                refresh,
                unknown_kid: tokio::sync::Notify::new(),
            })),
            issuer: issuer.to_string(),
            audience: audience.to_string(),
        })
    }

    /// Fetches the JWKS of a URL verifier (nothing to do for a file's).
    pub async fn load(&self) -> Result<(), String> {
        let Some(remote) = &self.remote else {
            return Ok(());
        };
        let body = spate_engine::task::fetch(&remote.url, JWKS_LIMIT, FETCH_TIMEOUT).await?;
        let text = std::str::from_utf8(&body)
            .map_err(|_| format!("{}: the JWKS is not UTF-8", remote.url))?;
        let keys = parse_keys(text).map_err(|e| format!("{}: {e}", remote.url))?;
        *self.keys.write().unwrap_or_else(|p| p.into_inner()) = keys.into();
        Ok(())
    }

    /// For a URL verifier, the task that keeps its keys fresh: it refetches
    /// every `refresh`, and early (at most once per [`MIN_REFETCH`]) when a
    /// token names an unknown key id. Runs until dropped.
    pub fn keep_fresh(&self) -> Option<impl Future<Output = ()> + Send + 'static> {
        let remote = Arc::clone(self.remote.as_ref()?);
        let verifier = self.clone();
        Some(async move {
            let mut last = Instant::now();
            loop {
                tokio::select! {
                    () = tokio::time::sleep(remote.refresh) => {}
                    () = remote.unknown_kid.notified() => {
                        let wait = MIN_REFETCH.saturating_sub(last.elapsed());
                        tokio::time::sleep(wait).await;
                    }
                }
                last = Instant::now();
                if let Err(e) = verifier.load().await {
                    log::warn!("cannot refresh the JWKS, keeping the keys there were: {e}");
                }
            }
        })
    }

    /// Checks a compact JWS token at `now_secs`; the error says why not.
    pub fn verify(&self, token: &str, now_secs: i64) -> Result<(), String> {
        let mut parts = token.split('.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err("the token is not a compact JWS (header.payload.signature)".to_string());
        };
        let header: serde_json::Value =
            serde_json::from_slice(&b64(h)?).map_err(|e| format!("header: {e}"))?;
        let claims: serde_json::Value =
            serde_json::from_slice(&b64(p)?).map_err(|e| format!("payload: {e}"))?;
        let signature = b64(s)?;
        let signed = &token.as_bytes()[..h.len() + 1 + p.len()];
        let kid = header.get("kid").and_then(|k| k.as_str());
        let alg = header.get("alg").and_then(|a| a.as_str()).unwrap_or("");
        let keys = Arc::clone(&self.keys.read().unwrap_or_else(|p| p.into_inner()));
        let named = |key: &Key| kid.is_none() || key.kid() == kid;
        let verified = keys
            .iter()
            .filter(|k| named(k))
            .any(|key| match (alg, key) {
                ("RS256", Key::Rsa { n, e, .. }) => {
                    ring::signature::RsaPublicKeyComponents { n, e }
                        .verify(
                            &ring::signature::RSA_PKCS1_2048_8192_SHA256,
                            signed,
                            &signature,
                        )
                        .is_ok()
                }
                ("HS256", Key::Oct { k, .. }) => {
                    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, k);
                    ring::hmac::verify(&key, signed, &signature).is_ok()
                }
                _ => false,
            });
        if !verified {
            if let Some(remote) = &self.remote
                && !keys.iter().any(named)
            {
                remote.unknown_kid.notify_one();
            }
            return Err(format!(
                "the signature does not verify (alg {alg:?}) with any configured key"
            ));
        }
        if claims.get("iss").and_then(|v| v.as_str()) != Some(self.issuer.as_str()) {
            return Err("the token's `iss` is not the configured issuer".to_string());
        }
        let audience_ok = match claims.get("aud") {
            Some(serde_json::Value::String(a)) => *a == self.audience,
            Some(serde_json::Value::Array(list)) => list.iter().any(|a| *a == *self.audience),
            _ => false,
        };
        if !audience_ok {
            return Err("the token's `aud` does not name the configured audience".to_string());
        }
        match claims.get("exp").and_then(|v| v.as_f64()) {
            Some(exp) if exp > now_secs as f64 => {}
            Some(_) => return Err("the token has expired (`exp`)".to_string()),
            None => return Err("the token has no `exp`".to_string()),
        }
        if claims
            .get("nbf")
            .and_then(|v| v.as_f64())
            .is_some_and(|nbf| nbf > now_secs as f64)
        {
            return Err("the token is not valid yet (`nbf`)".to_string());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"a-test-secret-of-32-bytes-length";

    fn hs256(claims: &serde_json::Value, kid: &str) -> String {
        let header = URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"HS256","kid":"{kid}"}}"#));
        let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
        let signed = format!("{header}.{payload}");
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, SECRET);
        let tag = ring::hmac::sign(&key, signed.as_bytes());
        format!("{signed}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
    }

    fn jwks() -> String {
        format!(
            r#"{{"keys":[{{"kty":"EC","kid":"ec"}},{{"kty":"oct","kid":"k1","k":"{}"}}]}}"#,
            URL_SAFE_NO_PAD.encode(SECRET)
        )
    }

    #[test]
    fn tokens_are_checked_for_signature_issuer_audience_and_time() {
        let verifier = JwtVerifier::new(&jwks(), "https://issuer", "spate").unwrap();
        let good = serde_json::json!({"iss": "https://issuer", "aud": "spate", "exp": 2000});
        assert_eq!(verifier.verify(&hs256(&good, "k1"), 1000), Ok(()));
        let mut tampered = hs256(&good, "k1");
        tampered.pop();
        tampered.push('A');
        assert!(verifier.verify(&tampered, 1000).is_err());
        let expired = verifier.verify(&hs256(&good, "k1"), 2000).unwrap_err();
        assert!(expired.contains("expired"), "{expired}");
        let unknown = verifier.verify(&hs256(&good, "k2"), 1000).unwrap_err();
        assert!(unknown.contains("signature"), "{unknown}");
        let other_issuer = serde_json::json!({"iss": "https://evil", "aud": "spate", "exp": 2000});
        assert!(verifier.verify(&hs256(&other_issuer, "k1"), 1000).is_err());
        let other_audience =
            serde_json::json!({"iss": "https://issuer", "aud": ["x"], "exp": 2000});
        assert!(
            verifier
                .verify(&hs256(&other_audience, "k1"), 1000)
                .is_err()
        );
    }

    #[test]
    fn a_bad_jwks_or_url_is_refused_with_the_reason() {
        let none = JwtVerifier::new(r#"{"keys":[{"kty":"EC"}]}"#, "i", "a").unwrap_err();
        assert!(none.contains("no RSA or oct key"), "{none}");
        let missing = JwtVerifier::new(r#"{"keys":[{"kty":"RSA","n":"AQAB"}]}"#, "i", "a");
        assert_eq!(missing.unwrap_err(), "keys[0] has no `e`");
        let scheme = JwtVerifier::from_url("ftp://host/jwks", MIN_REFETCH, "i", "a");
        assert!(scheme.unwrap_err().contains("not an http or https URL"));
    }

    #[test]
    fn a_url_verifier_accepts_nothing_until_loaded() {
        let verifier = JwtVerifier::from_url(
            "http://127.0.0.1:9/jwks",
            MIN_REFETCH,
            "https://issuer",
            "spate",
        )
        .unwrap();
        let good = serde_json::json!({"iss": "https://issuer", "aud": "spate", "exp": 2000});
        assert!(verifier.verify(&hs256(&good, "k1"), 1000).is_err());
        assert!(verifier.keep_fresh().is_some());
        assert!(
            JwtVerifier::new(&jwks(), "i", "a")
                .unwrap()
                .keep_fresh()
                .is_none()
        );
    }
}
