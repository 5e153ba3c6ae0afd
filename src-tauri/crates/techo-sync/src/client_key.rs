//! SMART confidential clients with `private_key_jwt` (SMART App Launch 2, "asymmetric client
//! authentication"): an ES384 key pair made on this computer (the private half only ever in the
//! vault), its public JWKS for the person to register with the hospital, and the short-lived
//! signed client assertion each token request carries.

use crate::error::{Result, SyncError};
use josekit::jwk::Jwk;
use josekit::jws::{JwsHeader, ES384};
use josekit::jwt::{self, JwtPayload};
use secrecy::{ExposeSecret, SecretString};
use techo_core::ClientKey;

/// The assertion type of RFC 7523, as SMART uses it.
pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// How long an assertion is valid (SMART: at most five minutes).
const LIFETIME_SECS: u64 = 300;

fn failed(name: &str, what: &str) -> SyncError {
    SyncError::Setup { endpoint: name.to_owned(), reason: format!("could not {what}") }
}

/// A new ES384 key pair: the private JWK (secret), and the public JWKS with its `kid` (the JWK
/// thumbprint), `alg`, `use: sig`.
pub fn generate_client_key(name: &str) -> Result<ClientKey> {
    let pair = ES384.generate_key_pair().map_err(|_| failed(name, "make a signing key"))?;
    let mut private = pair.to_jwk_private_key();
    let mut public = pair.to_jwk_public_key();
    let kid = thumbprint(&public).ok_or_else(|| failed(name, "name the signing key"))?;
    for k in [&mut private, &mut public] {
        k.set_key_id(&kid);
        k.set_algorithm("ES384");
        k.set_key_use("sig");
    }
    let jwks = serde_json::json!({ "keys": [serde_json::to_value(public.as_ref()).map_err(|_| failed(name, "write the public key"))?] });
    Ok(ClientKey { kid, alg: "ES384".into(), private_jwk: SecretString::from(private.to_string()), public_jwks: jwks.to_string() })
}

/// RFC 7638 thumbprint (SHA-256, base64url) of an EC public key.
fn thumbprint(public: &Jwk) -> Option<String> {
    use sha2::{Digest, Sha256};
    let crv = public.parameter("crv")?.as_str()?;
    let x = public.parameter("x")?.as_str()?;
    let y = public.parameter("y")?.as_str()?;
    let canonical = format!(r#"{{"crv":"{crv}","kty":"EC","x":"{x}","y":"{y}"}}"#);
    Some(base64url(&Sha256::digest(canonical.as_bytes())))
}

fn base64url(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len() * 4 / 3 + 2);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        let chars = chunk.len() + 1;
        for i in 0..chars {
            out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// A signed client assertion for one token request: `iss` = `sub` = the client id, `aud` = the
/// token endpoint, `exp` five minutes ahead, a random `jti`; header `alg`, `kid`, `typ: JWT`.
pub fn client_assertion(name: &str, key: &ClientKey, client_id: &str, token_url: &str) -> Result<SecretString> {
    let jwk = Jwk::from_bytes(key.private_jwk.expose_secret().as_bytes()).map_err(|_| failed(name, "read this endpoint's signing key"))?;
    let signer = ES384.signer_from_jwk(&jwk).map_err(|_| failed(name, "use this endpoint's signing key"))?;
    let mut header = JwsHeader::new();
    header.set_token_type("JWT");
    header.set_key_id(&key.kid);
    let mut payload = JwtPayload::new();
    payload.set_issuer(client_id);
    payload.set_subject(client_id);
    payload.set_audience(vec![token_url]);
    // Whole seconds: a fractional `iat` reads as "in the future" to servers that compare it
    // with their clock's whole second (jose does).
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let now = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs);
    payload.set_expires_at(&(now + std::time::Duration::from_secs(LIFETIME_SECS)));
    payload.set_issued_at(&now);
    let mut jti = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut jti);
    payload.set_jwt_id(base64url(&jti));
    let token = jwt::encode_with_signer(&payload, &header, &signer).map_err(|_| failed(name, "sign the client assertion"))?;
    Ok(SecretString::from(token))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_key_signs_assertions_its_public_jwks_verifies() {
        let key = generate_client_key("Test").unwrap();
        assert_eq!(key.alg, "ES384");
        assert!(!key.public_jwks.contains("\"d\""), "the public set holds no private part");
        assert!(key.private_jwk.expose_secret().contains("\"d\""));
        assert!(!format!("{key:?}").contains(key.private_jwk.expose_secret()), "Debug redacts the key");
        let token = client_assertion("Test", &key, "techo", "https://auth.example/token").unwrap();
        let set: serde_json::Value = serde_json::from_str(&key.public_jwks).unwrap();
        let public = Jwk::from_bytes(set["keys"][0].to_string().as_bytes()).unwrap();
        assert_eq!(public.key_id(), Some(key.kid.as_str()));
        let verifier = ES384.verifier_from_jwk(&public).unwrap();
        let (payload, header) = jwt::decode_with_verifier(token.expose_secret(), &verifier).unwrap();
        assert_eq!(header.key_id(), Some(key.kid.as_str()));
        assert_eq!((payload.issuer(), payload.subject()), (Some("techo"), Some("techo")));
        assert_eq!(payload.audience(), Some(vec!["https://auth.example/token"]));
        assert!(payload.jwt_id().is_some_and(|j| j.len() >= 20));
        let exp = payload.expires_at().unwrap();
        assert!(exp > std::time::SystemTime::now() && exp <= std::time::SystemTime::now() + std::time::Duration::from_secs(301));
        let iat = payload.issued_at().unwrap();
        assert!(iat <= std::time::SystemTime::now(), "iat is never in the future");
        assert_eq!(iat.duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos(), 0, "whole seconds");
        // Another key's JWKS does not verify it.
        let other = generate_client_key("Test").unwrap();
        assert_ne!(other.kid, key.kid);
        let set: serde_json::Value = serde_json::from_str(&other.public_jwks).unwrap();
        let wrong = ES384.verifier_from_jwk(&Jwk::from_bytes(set["keys"][0].to_string().as_bytes()).unwrap()).unwrap();
        assert!(jwt::decode_with_verifier(token.expose_secret(), &wrong).is_err());
    }

    #[test]
    fn thumbprints_follow_rfc_7638() {
        // RFC 7638's example is RSA; check the base64url and the canonical EC member order instead.
        assert_eq!(base64url(b"\xfb\xff"), "-_8");
        assert_eq!(base64url(b"abc"), "YWJj");
        let mut jwk = Jwk::new("EC");
        jwk.set_parameter("crv", Some("P-384".into())).unwrap();
        jwk.set_parameter("x", Some("AAAA".into())).unwrap();
        jwk.set_parameter("y", Some("BBBB".into())).unwrap();
        use sha2::{Digest, Sha256};
        let want = base64url(&Sha256::digest(br#"{"crv":"P-384","kty":"EC","x":"AAAA","y":"BBBB"}"#));
        assert_eq!(thumbprint(&jwk).as_deref(), Some(want.as_str()));
    }
}
