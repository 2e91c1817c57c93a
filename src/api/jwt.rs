//! `jwt` authentication: OIDC bearer tokens (`Authorization: Bearer ...`)
//! verified against the issuer's keys, a JWKS file: RS256 with RSA keys,
//! HS256 with symmetric (`oct`) keys; `iss`, `aud` and `exp` (and `nbf`
//! when present) are checked. RSA verification is the few lines PKCS#1
//! v1.5 needs: one modular exponentiation with the public exponent.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// One key of a JWKS.
#[derive(Debug, Clone)]
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

/// What a token must satisfy.
#[derive(Debug, Clone)]
pub struct JwtVerifier {
    keys: Vec<Key>,
    issuer: String,
    audience: String,
}

fn b64(text: &str) -> Result<Vec<u8>, String> {
    URL_SAFE_NO_PAD
        .decode(text.trim_end_matches('='))
        .map_err(|e| format!("not base64url: {e}"))
}

impl JwtVerifier {
    /// A verifier from JWKS text, the issuer and the audience tokens must name.
    pub fn new(jwks: &str, issuer: &str, audience: &str) -> Result<JwtVerifier, String> {
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
                // Other kinds (EC) are skipped: no token can use them here.
                _ => {}
            }
        }
        if keys.is_empty() {
            return Err("the JWKS has no RSA or oct key".to_string());
        }
        Ok(JwtVerifier {
            keys,
            issuer: issuer.to_string(),
            audience: audience.to_string(),
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
        let signed = &token[..h.len() + 1 + p.len()];
        let kid = header.get("kid").and_then(|k| k.as_str());
        let alg = header.get("alg").and_then(|a| a.as_str()).unwrap_or("");
        let verified = self.keys.iter().any(|key| match (alg, key) {
            ("RS256", Key::Rsa { kid: k, n, e }) if kid.is_none() || k.as_deref() == kid => {
                rsa_pkcs1_sha256_verify(n, e, signed.as_bytes(), &signature)
            }
            ("HS256", Key::Oct { kid: k, k: secret }) if kid.is_none() || k.as_deref() == kid => {
                let mac = super::auth::hmac(secret, signed.as_bytes());
                super::auth::constant_time_eq(&mac, &signature)
            }
            _ => false,
        });
        if !verified {
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

/// Big unsigned integers as little-endian 32-bit limbs, just enough for
/// `s^e mod n`.
fn from_be(bytes: &[u8]) -> Vec<u32> {
    let mut limbs: Vec<u32> = bytes
        .rchunks(4)
        .map(|c| c.iter().fold(0u32, |acc, &b| (acc << 8) | u32::from(b)))
        .collect();
    trim(&mut limbs);
    limbs
}

fn trim(limbs: &mut Vec<u32>) {
    while limbs.last() == Some(&0) {
        limbs.pop();
    }
}

fn to_be(limbs: &[u32], len: usize) -> Vec<u8> {
    let mut out = vec![0u8; len];
    for (i, limb) in limbs.iter().enumerate() {
        for j in 0..4 {
            let at = i * 4 + j;
            if at < len {
                out[len - 1 - at] = (limb >> (8 * j)) as u8;
            }
        }
    }
    out
}

fn mul(a: &[u32], b: &[u32]) -> Vec<u32> {
    let mut out = vec![0u32; a.len() + b.len()];
    for (i, &x) in a.iter().enumerate() {
        let mut carry = 0u64;
        for (j, &y) in b.iter().enumerate() {
            let t = u64::from(out[i + j]) + u64::from(x) * u64::from(y) + carry;
            out[i + j] = t as u32;
            carry = t >> 32;
        }
        out[i + b.len()] = carry as u32;
    }
    trim(&mut out);
    out
}

fn ge(a: &[u32], b: &[u32]) -> bool {
    if a.len() != b.len() {
        return a.len() > b.len();
    }
    for (x, y) in a.iter().rev().zip(b.iter().rev()) {
        if x != y {
            return x > y;
        }
    }
    true
}

fn sub_in_place(a: &mut Vec<u32>, b: &[u32]) {
    let mut borrow = 0i64;
    for (i, limb) in a.iter_mut().enumerate() {
        let t = i64::from(*limb) - i64::from(*b.get(i).unwrap_or(&0)) - borrow;
        *limb = t.rem_euclid(1 << 32) as u32;
        borrow = i64::from(t < 0);
    }
    trim(a);
}

/// `a mod n`, bit by bit.
fn rem(a: &[u32], n: &[u32]) -> Vec<u32> {
    let mut r: Vec<u32> = Vec::with_capacity(n.len() + 1);
    for i in (0..a.len() * 32).rev() {
        // r = r * 2 + bit
        let mut carry = (a[i / 32] >> (i % 32)) & 1;
        for limb in r.iter_mut() {
            let next = *limb >> 31;
            *limb = (*limb << 1) | carry;
            carry = next;
        }
        if carry != 0 {
            r.push(carry);
        }
        if ge(&r, n) {
            sub_in_place(&mut r, n);
        }
    }
    r
}

fn modpow(base: &[u32], exponent: &[u32], n: &[u32]) -> Vec<u32> {
    let base = rem(base, n);
    let mut result = vec![1u32];
    for i in (0..exponent.len() * 32).rev() {
        result = rem(&mul(&result, &result), n);
        if (exponent[i / 32] >> (i % 32)) & 1 == 1 {
            result = rem(&mul(&result, &base), n);
        }
    }
    result
}

/// The DER prefix of a SHA-256 DigestInfo (RFC 8017, section 9.2).
const SHA256_DIGEST_INFO: [u8; 19] = [
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, 0x04, 0x20,
];

/// RSASSA-PKCS1-v1_5 verification with SHA-256 (RS256).
fn rsa_pkcs1_sha256_verify(n: &[u8], e: &[u8], message: &[u8], signature: &[u8]) -> bool {
    let n_bytes = n.iter().skip_while(|&&b| b == 0).count();
    if signature.len() != n_bytes || n_bytes < 64 {
        return false;
    }
    let (n, s) = (from_be(n), from_be(signature));
    if ge(&s, &n) {
        return false;
    }
    let em = to_be(&modpow(&s, &from_be(e), &n), n_bytes);
    let mut expected = vec![0x00, 0x01];
    expected.resize(n_bytes - SHA256_DIGEST_INFO.len() - 32 - 1, 0xff);
    expected.push(0x00);
    expected.extend_from_slice(&SHA256_DIGEST_INFO);
    expected.extend_from_slice(&Sha256::digest(message));
    super::auth::constant_time_eq(&em, &expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modular_exponentiation() {
        // Textbook RSA: n = 61 * 53, e = 17, d = 2753.
        let n = from_be(&3233u32.to_be_bytes());
        let c = modpow(&from_be(&65u32.to_be_bytes()), &from_be(&[17]), &n);
        assert_eq!(c, from_be(&2790u32.to_be_bytes()));
        assert_eq!(modpow(&c, &from_be(&2753u32.to_be_bytes()), &n), vec![65]);
        // Several limbs: (2^64 + 3)^65537 mod (2^89 - 1), checked with Python's pow().
        let base = from_be(&[1, 0, 0, 0, 0, 0, 0, 0, 3]);
        let modulus = from_be(&[1, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255]);
        let expected: u128 = EXPECTED_MULTI_LIMB;
        assert_eq!(
            modpow(&base, &from_be(&[1, 0, 1]), &modulus),
            from_be(&expected.to_be_bytes())
        );
    }

    const EXPECTED_MULTI_LIMB: u128 = 222_394_899_665_459_824_773_898_983;
}
