//! Authentication, in the spirit of AppSync's modes: none (loopback only),
//! `sigv4` (AWS Signature Version 4 against access keys in the
//! configuration, so SDKs and the CLI work with credentials configured) and
//! `api_key` (the `x-api-key` header, with keys that expire) and `jwt`
//! (OIDC bearer tokens, see `jwt`). A missing or
//! unknown credential is `UnrecognizedClientException` (400); a wrong
//! signature or an expired key is `AccessDeniedException` (403). Either
//! way the request is refused before it is read as an action, so nothing
//! changes.

use super::errors::{ApiError, ApiResult};
use super::jwt::JwtVerifier;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use spate_engine::time::Timestamp;
use spate_ingest::config::Problem;

/// `[api.auth]` as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSection {
    /// `none` (default), `sigv4` or `api_key`.
    #[serde(default)]
    pub mode: Option<String>,
    /// For `sigv4`: the accepted access keys.
    #[serde(default)]
    pub access_keys: Vec<AccessKey>,
    /// For `api_key`: the accepted keys.
    #[serde(default)]
    pub api_keys: Vec<ApiKey>,
    /// For `jwt`: the issuer's keys, a JWKS file (or `jwks_url`).
    #[serde(default)]
    pub jwks_file: Option<std::path::PathBuf>,
    /// For `jwt`: the issuer's keys, fetched from this `http`/`https` URL
    /// (or `jwks_file`).
    #[serde(default)]
    pub jwks_url: Option<String>,
    /// For `jwt` with `jwks_url`: how often the keys are fetched again,
    /// in seconds (default 300, from 1 to 86,400).
    #[serde(default)]
    pub jwks_refresh_seconds: Option<u64>,
    /// For `jwt`: the `iss` tokens must have.
    #[serde(default)]
    pub issuer: Option<String>,
    /// For `jwt`: the `aud` tokens must name.
    #[serde(default)]
    pub audience: Option<String>,
}

/// An access key for `sigv4`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessKey {
    /// `AWS_ACCESS_KEY_ID`.
    pub access_key_id: String,
    /// `AWS_SECRET_ACCESS_KEY`.
    pub secret_access_key: String,
}

/// A key for `api_key`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKey {
    /// The `x-api-key` value.
    pub key: String,
    /// When it stops being accepted (ISO 8601, `2027-01-31T00:00:00Z`).
    #[serde(default)]
    pub expires: Option<String>,
    /// What it may do in the web console: `read`, `start`, `admin`
    /// (default: everything).
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
}

/// The scopes a key may carry.
pub const SCOPES: [&str; 3] = ["read", "start", "admin"];

/// A validated authentication mode.
#[derive(Debug, Clone, Default)]
pub enum Auth {
    /// Anyone who can connect (loopback only).
    #[default]
    None,
    /// AWS Signature Version 4, by access key id.
    SigV4(Vec<AccessKey>),
    /// `x-api-key`, with expiry and console scopes.
    ApiKey(Vec<(String, Option<Timestamp>, Option<Vec<String>>)>),
    /// OIDC bearer tokens.
    Jwt(Box<JwtVerifier>),
}

impl AuthSection {
    /// The `jwt` verifier of `jwks_file` or `jwks_url` (exactly one).
    fn jwt_keys(
        &self,
        issuer: &str,
        audience: &str,
        problems: &mut Vec<Problem>,
    ) -> Option<JwtVerifier> {
        let refresh = self.jwks_refresh_seconds.unwrap_or(300);
        if !(1..=86_400).contains(&refresh) {
            problems.push(Problem::field(
                "api.auth.jwks_refresh_seconds",
                format!("{refresh} is out of range (1 to 86400)"),
            ));
        }
        let verifier = match (&self.jwks_file, &self.jwks_url) {
            (None, None) => Err((
                "api.auth.jwks_file",
                "jwt needs the issuer's keys: jwks_file or jwks_url".to_string(),
            )),
            (Some(_), Some(_)) => Err((
                "api.auth.jwks_url",
                "give jwks_file or jwks_url, not both".to_string(),
            )),
            (Some(path), None) => std::fs::read_to_string(path)
                .map_err(|e| format!("{}: {e}", path.display()))
                .and_then(|text| JwtVerifier::new(&text, issuer, audience))
                .map_err(|e| ("api.auth.jwks_file", e)),
            (None, Some(url)) => JwtVerifier::from_url(
                url,
                std::time::Duration::from_secs(refresh),
                issuer,
                audience,
            )
            .map_err(|e| ("api.auth.jwks_url", e)),
        };
        verifier
            .map_err(|(field, e)| problems.push(Problem::field(field, e)))
            .ok()
    }

    /// Validates the section; problems name their key.
    pub fn auth(&self) -> Result<Auth, Vec<Problem>> {
        let mut problems = Vec::new();
        let auth = match self.mode.as_deref().unwrap_or("none") {
            "none" => Auth::None,
            "sigv4" => {
                if self.access_keys.is_empty() {
                    problems.push(Problem::field(
                        "api.auth.access_keys",
                        "sigv4 needs at least one access key",
                    ));
                }
                Auth::SigV4(self.access_keys.clone())
            }
            "api_key" => {
                if self.api_keys.is_empty() {
                    problems.push(Problem::field(
                        "api.auth.api_keys",
                        "api_key needs at least one key",
                    ));
                }
                let mut keys = Vec::new();
                for (i, k) in self.api_keys.iter().enumerate() {
                    let expires = k.expires.as_deref().map(|text| {
                        Timestamp::parse_checked(text).map_err(|e| {
                            problems.push(Problem::field(
                                format!("api.auth.api_keys[{i}].expires"),
                                e.to_string(),
                            ))
                        })
                    });
                    if k.key.len() < 16 {
                        problems.push(Problem::field(
                            format!("api.auth.api_keys[{i}].key"),
                            "an API key needs at least 16 characters",
                        ));
                    }
                    for scope in k.scopes.iter().flatten() {
                        if !SCOPES.contains(&scope.as_str()) {
                            problems.push(Problem::field(
                                format!("api.auth.api_keys[{i}].scopes"),
                                format!("'{scope}' is not one of read, start, admin"),
                            ));
                        }
                    }
                    keys.push((
                        k.key.clone(),
                        expires.and_then(Result::ok),
                        k.scopes.clone(),
                    ));
                }
                Auth::ApiKey(keys)
            }
            "jwt" => {
                let mut need = |field: &str, value: &Option<String>| {
                    value.clone().unwrap_or_else(|| {
                        problems.push(Problem::field(format!("api.auth.{field}"), "jwt needs it"));
                        String::new()
                    })
                };
                let issuer = need("issuer", &self.issuer);
                let audience = need("audience", &self.audience);
                let jwks = self.jwt_keys(&issuer, &audience, &mut problems);
                jwks.map_or(Auth::None, |v| Auth::Jwt(Box::new(v)))
            }
            other => {
                problems.push(Problem::field(
                    "api.auth.mode",
                    format!("'{other}' is not one of none, sigv4, api_key, jwt"),
                ));
                Auth::None
            }
        };
        if problems.is_empty() {
            Ok(auth)
        } else {
            Err(problems)
        }
    }
}

fn unrecognized(message: impl Into<String>) -> ApiError {
    ApiError::new("UnrecognizedClientException", message)
}

fn denied(message: impl Into<String>) -> ApiError {
    ApiError::new("AccessDeniedException", message).with_status(StatusCode::FORBIDDEN)
}

/// How far a signed request's `X-Amz-Date` may be from now.
const CLOCK_SKEW_SECS: i64 = 15 * 60;

impl Auth {
    /// `true` unless the mode is none.
    pub fn is_configured(&self) -> bool {
        !matches!(self, Auth::None)
    }

    /// Fetches what the mode needs before the server listens (a JWKS URL's
    /// keys), and returns the task that keeps it fresh, if any.
    pub async fn prepare(
        &self,
    ) -> Result<Option<impl Future<Output = ()> + Send + 'static>, String> {
        match self {
            Auth::Jwt(verifier) => {
                verifier.load().await?;
                Ok(verifier.keep_fresh())
            }
            _ => Ok(None),
        }
    }

    /// The console scopes of API key `given` (`None`: every scope).
    pub fn key_scopes(&self, given: &str) -> Option<&[String]> {
        match self {
            Auth::ApiKey(keys) => keys
                .iter()
                .find(|(k, _, _)| constant_time_eq(k.as_bytes(), given.as_bytes()))
                .and_then(|(_, _, scopes)| scopes.as_deref()),
            _ => None,
        }
    }

    /// Checks one request's credentials.
    pub fn check(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        body: &[u8],
        now: Timestamp,
    ) -> ApiResult<()> {
        match self {
            Auth::None => Ok(()),
            Auth::ApiKey(keys) => {
                let given = headers
                    .get("x-api-key")
                    .and_then(|v| v.to_str().ok())
                    .ok_or_else(|| {
                        unrecognized(
                            "Missing Authentication Token: the x-api-key header is missing",
                        )
                    })?;
                let (_, expires, _) = keys
                    .iter()
                    .find(|(k, _, _)| constant_time_eq(k.as_bytes(), given.as_bytes()))
                    .ok_or_else(|| {
                        unrecognized("The API key included in the request is invalid.")
                    })?;
                match expires {
                    Some(t) if *t <= now => {
                        Err(denied("The API key included in the request has expired."))
                    }
                    _ => Ok(()),
                }
            }
            Auth::SigV4(keys) => verify_sigv4(keys, method, uri, headers, body, now),
            Auth::Jwt(verifier) => {
                let token = headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.strip_prefix("Bearer "))
                    .ok_or_else(|| {
                        unrecognized(
                            "Missing Authentication Token: no `Authorization: Bearer` token",
                        )
                    })?;
                verifier
                    .verify(token.trim(), now.unix_millis() / 1000)
                    .map_err(|why| denied(format!("the bearer token is refused: {why}")))
            }
        }
    }
}

pub(super) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub(super) fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.map(|b| b ^ byte);
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(data)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The parts of an `Authorization: AWS4-HMAC-SHA256 ...` header.
struct Authorization<'a> {
    key_id: &'a str,
    scope: &'a str,
    date: &'a str,
    region: &'a str,
    service: &'a str,
    signed_headers: &'a str,
    signature: &'a str,
}

fn parse_authorization(value: &str) -> Option<Authorization<'_>> {
    let rest = value.strip_prefix("AWS4-HMAC-SHA256 ")?;
    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let (k, v) = part.trim().split_once('=')?;
        match k {
            "Credential" => credential = Some(v),
            "SignedHeaders" => signed_headers = Some(v),
            "Signature" => signature = Some(v),
            _ => {}
        }
    }
    let credential = credential?;
    let (key_id, scope) = credential.split_once('/')?;
    let mut fields = scope.split('/');
    let (date, region, service, terminal) = (
        fields.next()?,
        fields.next()?,
        fields.next()?,
        fields.next()?,
    );
    (terminal == "aws4_request" && fields.next().is_none()).then_some(Authorization {
        key_id,
        scope,
        date,
        region,
        service,
        signed_headers: signed_headers?,
        signature: signature?,
    })
}

/// `X-Amz-Date` (`20260102T030405Z`) as a timestamp.
fn amz_date(text: &str) -> Option<Timestamp> {
    let b = text.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let iso = format!(
        "{}-{}-{}T{}:{}:{}Z",
        &text[0..4],
        &text[4..6],
        &text[6..8],
        &text[9..11],
        &text[11..13],
        &text[13..15]
    );
    Timestamp::parse(&iso)
}

/// RFC 3986 encoding as SigV4 wants it (unreserved characters kept; `/`
/// kept when encoding a path).
fn uri_encode(text: &str, keep_slash: bool) -> String {
    let mut out = String::new();
    for &b in text.as_bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) || (keep_slash && b == b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn canonical_query(query: Option<&str>) -> String {
    let mut pairs: Vec<(String, String)> = query
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (uri_encode(k, false), uri_encode(v, false))
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

fn verify_sigv4(
    keys: &[AccessKey],
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    now: Timestamp,
) -> ApiResult<()> {
    let header = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            unrecognized("Missing Authentication Token: the request is not signed (SigV4)")
        })?;
    let auth = parse_authorization(header).ok_or_else(|| {
        unrecognized("the Authorization header is not an AWS4-HMAC-SHA256 signature")
    })?;
    let key = keys
        .iter()
        .find(|k| k.access_key_id == auth.key_id)
        .ok_or_else(|| unrecognized("The security token included in the request is invalid."))?;
    let date_text = headers
        .get("x-amz-date")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| denied("the signed request has no X-Amz-Date header"))?;
    let date = amz_date(date_text)
        .ok_or_else(|| denied("X-Amz-Date is not a date like 20260102T030405Z"))?;
    if (date.unix_millis() / 1000 - now.unix_millis() / 1000).abs() > CLOCK_SKEW_SECS {
        return Err(denied(
            "Signature expired: X-Amz-Date is more than 15 minutes from the server's time",
        ));
    }
    if !date_text.starts_with(auth.date) {
        return Err(denied("the credential scope's date is not X-Amz-Date's"));
    }
    let mut canonical_headers = String::new();
    for name in auth.signed_headers.split(';') {
        let values: Vec<String> = headers
            .get_all(name)
            .iter()
            .map(|v| {
                String::from_utf8_lossy(v.as_bytes())
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        if values.is_empty() {
            return Err(denied(format!("the signed header '{name}' is missing")));
        }
        canonical_headers.push_str(&format!("{name}:{}\n", values.join(",")));
    }
    let payload_hash = headers
        .get("x-amz-content-sha256")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .unwrap_or_else(|| hex(&Sha256::digest(body)));
    let canonical_request = format!(
        "{method}\n{}\n{}\n{canonical_headers}\n{}\n{payload_hash}",
        uri_encode(uri.path(), true),
        canonical_query(uri.query()),
        auth.signed_headers,
    );
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{date_text}\n{}\n{}",
        auth.scope,
        hex(&Sha256::digest(canonical_request.as_bytes()))
    );
    let mut signing = hmac(
        format!("AWS4{}", key.secret_access_key).as_bytes(),
        auth.date.as_bytes(),
    );
    for part in [auth.region, auth.service, "aws4_request"] {
        signing = hmac(&signing, part.as_bytes());
    }
    let expected = hex(&hmac(&signing, string_to_sign.as_bytes()));
    if constant_time_eq(expected.as_bytes(), auth.signature.as_bytes()) {
        Ok(())
    } else {
        Err(denied(
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231() {
        // RFC 4231, test case 2.
        assert_eq!(
            hex(&hmac(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn signatures_verify_as_aws_documents() {
        // AWS's SigV4 example (IAM ListUsers, from the General Reference).
        let keys = [AccessKey {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
        }];
        let mut headers = HeaderMap::new();
        headers.insert(
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8"
                .parse()
                .unwrap(),
        );
        headers.insert("host", "iam.amazonaws.com".parse().unwrap());
        headers.insert("x-amz-date", "20150830T123600Z".parse().unwrap());
        headers.insert(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
                .parse()
                .unwrap(),
        );
        let uri: Uri = "/?Action=ListUsers&Version=2010-05-08".parse().unwrap();
        let now = amz_date("20150830T123600Z").unwrap();
        let auth = Auth::SigV4(keys.to_vec());
        assert_eq!(auth.check(&Method::GET, &uri, &headers, b"", now), Ok(()));
        let later = now.plus(std::time::Duration::from_secs(3600));
        assert_eq!(
            auth.check(&Method::GET, &uri, &headers, b"", later)
                .unwrap_err()
                .code,
            "AccessDeniedException"
        );
        assert_eq!(
            auth.check(&Method::GET, &uri, &headers, b"x", now)
                .unwrap_err()
                .code,
            "AccessDeniedException"
        );
        headers.remove("authorization");
        assert_eq!(
            auth.check(&Method::GET, &uri, &headers, b"", now)
                .unwrap_err()
                .code,
            "UnrecognizedClientException"
        );
    }
}
