//! Encrypted share packages shaped as SMART Health Links (SHL).
//!
//! A package is the FHIR Bundle a disclosure produced (techo-core's gate: this crate never sees
//! a vault), encrypted with a fresh random 256-bit key as a **compact JWE** (`alg: dir`,
//! `enc: A256GCM`, `cty: application/fhir+json`), which any JOSE library (and so any SHL
//! viewer) decrypts with the key from the link. The link is an SHL payload
//! (`shlink:/` + base64url of `{url, key, exp, flag, label, v}`).
//!
//! **Passcodes, offline.** An SHL passcode (flag `P`) is enforced by the server that hosts the
//! manifest; a file handed over on a USB stick has no server. So a passcode package is a small
//! JSON envelope (`{"v":1,"kind":"techo-shl-passcode","kdf":…,"salt":…,"check":…,"jwe":…}`)
//! whose inner JWE is encrypted under `Argon2id(password = passcode, salt, secret = link key)`:
//! neither the file with the link nor the file with the passcode opens it. `check` (16 more
//! bytes of the same Argon2id output) tells a wrong passcode from a changed file; it gives a
//! guesser nothing the ciphertext does not (each guess still costs one Argon2id). Honest limits:
//! a standard SHL viewer cannot open a passcode package (it is not a plain JWE), and someone who
//! holds both the file and the link can guess passcodes offline at Argon2id's cost, with no
//! attempt limit; a short passcode is weak.
//!
//! **Expiry, offline.** `exp` lives in the link; [`open_link`] refuses a link at or after it.
//! The recipient holds the key, so for a file this is a courtesy, not a control.
//!
//! **Why not josekit here.** The JWE is built with RustCrypto's `aes-gcm` directly (compact
//! `dir`/`A256GCM` is five base64url parts): the parts are decoded strictly, so each failure has
//! its own error (not a package, wrong key, changed file), and the crate needs no OpenSSL. The
//! interoperability is tested against `jose` (Node) in `tests/it/package.rs`.
//!
//! No database, no network, no files, no printing. Errors carry stable [`ShareError::code`]s and
//! never any package content.

use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce, Tag};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;
use rand::rngs::OsRng;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// The content type of a FHIR JSON package.
pub const FHIR_JSON: &str = "application/fhir+json";
/// The longest label an SHL payload may carry (characters).
pub const MAX_LABEL: usize = 80;
/// The largest package [`open`] reads (bytes).
pub const MAX_PACKAGE: usize = 512 << 20;
/// Argon2id cost of a new passcode package (OWASP's minimum for Argon2id: 19 MiB, 2 passes).
const KDF_M_KIB: u32 = 19 * 1024;
const KDF_T: u32 = 2;
const KDF_P: u32 = 1;
/// The most memory a package may ask of the KDF (1 GiB), so a hostile file cannot exhaust it.
const KDF_MAX_M_KIB: u32 = 1 << 20;
const ENVELOPE_KIND: &str = "techo-shl-passcode";

/// Why a package or a link could not be made or opened. The messages say what to do; none
/// contains package content or a key.
#[derive(Debug, thiserror::Error)]
pub enum ShareError {
    #[error("this file is not a share package ({0})")]
    NotAPackage(&'static str),
    #[error("this package uses {0}, which Techo cannot open (it opens JWE dir/A256GCM without compression)")]
    Unsupported(&'static str),
    #[error("the link's key does not open this package; check that the link and the file belong together")]
    WrongKey,
    #[error("the package was changed or damaged after it was made (its authentication tag does not match); ask for it again")]
    Tampered,
    #[error("the link's key does not open this package, or the package was changed; check the link, or ask for the package again")]
    CannotOpen,
    #[error("the link expired (at {exp}, Unix time); ask for a new one")]
    Expired { exp: i64 },
    #[error("the passcode is wrong")]
    WrongPasscode,
    #[error("this package is protected by a passcode; give it (--passcode)")]
    PasscodeNeeded,
    #[error("this is not a SMART Health Link ({0})")]
    BadLink(&'static str),
    #[error("the label has {len} characters; at most {MAX_LABEL} are allowed")]
    LabelTooLong { len: usize },
    #[error("{0}")]
    Invalid(&'static str),
}

impl ShareError {
    /// A stable code (CLI exit codes and IPC codes derive from it).
    pub fn code(&self) -> &'static str {
        match self {
            ShareError::NotAPackage(_) => "not_a_package",
            ShareError::Unsupported(_) => "unsupported_package",
            ShareError::WrongKey => "wrong_key",
            ShareError::Tampered => "tampered",
            ShareError::CannotOpen => "cannot_open",
            ShareError::Expired { .. } => "expired",
            ShareError::WrongPasscode => "wrong_passcode",
            ShareError::PasscodeNeeded => "passcode_needed",
            ShareError::BadLink(_) => "bad_link",
            ShareError::LabelTooLong { .. } | ShareError::Invalid(_) => "invalid_input",
        }
    }
}

pub type Result<T> = std::result::Result<T, ShareError>;

/// A package's 256-bit key: random from the OS, redacted `Debug`, zeroized on drop, not
/// `Serialize` (it leaves only inside a link, through [`shlink`]).
#[derive(Clone, Zeroize, ZeroizeOnDrop, PartialEq, Eq)]
pub struct ShareKey([u8; 32]);

impl std::fmt::Debug for ShareKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ShareKey(<redacted>)")
    }
}

impl ShareKey {
    /// A fresh key from the OS's random source.
    pub fn generate() -> ShareKey {
        let mut k = [0u8; 32];
        OsRng.fill_bytes(&mut k);
        ShareKey(k)
    }

    /// The key of a link (43 base64url characters, no padding).
    pub fn from_base64url(s: &str) -> Result<ShareKey> {
        if s.len() != 43 {
            return Err(ShareError::BadLink("its key is not 43 base64url characters"));
        }
        let mut bytes = Zeroizing::new(B64.decode(s).map_err(|_| ShareError::BadLink("its key is not base64url"))?);
        let mut k = [0u8; 32];
        k.copy_from_slice(&bytes[..32]);
        bytes.zeroize();
        Ok(ShareKey(k))
    }

    /// The key as a link carries it (43 base64url characters).
    pub fn to_base64url(&self) -> Zeroizing<String> {
        Zeroizing::new(B64.encode(self.0))
    }

    /// A short public key id (`kid`): 8 bytes of SHA-256 over a label and the key. It tells a
    /// wrong key from a changed file; 64 bits of a hash reveal nothing usable about 256 random bits.
    fn kid(&self) -> String {
        let mut h = Sha256::new();
        h.update(b"techo-shl-kid\0");
        h.update(self.0);
        B64.encode(&h.finalize()[..8])
    }
}

/// How to seal a package.
#[derive(Debug)]
pub struct SealOptions<'a> {
    /// A short description for the recipient (at most [`MAX_LABEL`] characters). Goes into the
    /// link, not the package.
    pub label: Option<String>,
    /// When the link expires (Unix seconds). Goes into the link.
    pub exp: Option<i64>,
    /// Protect the package with this passcode too (see the crate docs).
    pub passcode: Option<&'a SecretString>,
    /// The plaintext's media type (`cty`), normally [`FHIR_JSON`].
    pub content_type: String,
}

impl Default for SealOptions<'_> {
    fn default() -> Self {
        SealOptions { label: None, exp: None, passcode: None, content_type: FHIR_JSON.to_owned() }
    }
}

/// Sealing and opening packages.
pub struct Package;

impl Package {
    /// Encrypts `plaintext` under a fresh key. Returns the package file's text (a compact JWE,
    /// or with a passcode the JSON envelope around one) and the key for the link.
    pub fn seal(plaintext: &[u8], opts: &SealOptions<'_>) -> Result<(String, ShareKey)> {
        check_label(opts.label.as_deref())?;
        if opts.content_type.is_empty() || opts.content_type.len() > 100 || !opts.content_type.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(ShareError::Invalid("the content type must be a short media type such as application/fhir+json"));
        }
        let key = ShareKey::generate();
        let file = match opts.passcode {
            None => jwe_encrypt(plaintext, &key, &opts.content_type),
            Some(passcode) => {
                if passcode.expose_secret().is_empty() {
                    return Err(ShareError::Invalid("the passcode is empty"));
                }
                let mut salt = [0u8; 16];
                OsRng.fill_bytes(&mut salt);
                let kdf = Kdf { alg: "argon2id".into(), m: KDF_M_KIB, t: KDF_T, p: KDF_P };
                let (content_key, check) = derive(&kdf, passcode, &salt, &key)?;
                let env = Envelope {
                    v: 1,
                    kind: ENVELOPE_KIND.into(),
                    kid: key.kid(),
                    kdf,
                    salt: B64.encode(salt),
                    check: B64.encode(check),
                    jwe: jwe_encrypt(plaintext, &content_key, &opts.content_type),
                };
                serde_json::to_string(&env).map_err(|_| ShareError::Invalid("could not write the envelope"))?
            }
        };
        Ok((file, key))
    }
}

/// Decrypts a package (a compact JWE, or a passcode envelope) with the link's key. Reads only
/// memory; the plaintext is zeroized when dropped.
pub fn open(package: &[u8], key: &ShareKey, passcode: Option<&SecretString>) -> Result<Zeroizing<Vec<u8>>> {
    if package.len() > MAX_PACKAGE {
        return Err(ShareError::NotAPackage("it is larger than 512 MiB"));
    }
    let text = std::str::from_utf8(package).map_err(|_| ShareError::NotAPackage("it is not text"))?;
    let text = text.trim_matches(|c: char| c.is_ascii_whitespace());
    if text.starts_with('{') {
        let env: Envelope = serde_json::from_str(text).map_err(|_| ShareError::NotAPackage("it is JSON but not a passcode envelope"))?;
        if env.v != 1 || env.kind != ENVELOPE_KIND {
            return Err(ShareError::NotAPackage("it is JSON but not a passcode envelope"));
        }
        if env.kid != key.kid() {
            return Err(ShareError::WrongKey);
        }
        let Some(passcode) = passcode else { return Err(ShareError::PasscodeNeeded) };
        let salt = B64.decode(&env.salt).map_err(|_| ShareError::NotAPackage("its salt is not base64url"))?;
        let check = B64.decode(&env.check).map_err(|_| ShareError::NotAPackage("its check is not base64url"))?;
        if salt.len() != 16 || check.len() != 16 {
            return Err(ShareError::NotAPackage("its salt or check has the wrong length"));
        }
        let (content_key, expected) = derive(&env.kdf, passcode, &salt, key)?;
        if !constant_time_eq(&expected, &check) {
            return Err(ShareError::WrongPasscode);
        }
        return jwe_decrypt(&env.jwe, &content_key);
    }
    jwe_decrypt(text, key)
}

/// What a link says, with its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShlinkPayload {
    pub url: String,
    pub key: ShareKey,
    pub exp: Option<i64>,
    /// Flag letters in alphabetical order (`L`, `P`, `U`), as in the link.
    pub flag: Option<String>,
    pub label: Option<String>,
    pub v: Option<u32>,
}

impl ShlinkPayload {
    pub fn has_flag(&self, f: char) -> bool {
        self.flag.as_deref().is_some_and(|s| s.contains(f))
    }
}

#[derive(Serialize, Deserialize)]
struct WirePayload {
    url: String,
    key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    exp: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    flag: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    label: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    v: Option<u32>,
}

impl Drop for WirePayload {
    fn drop(&mut self) {
        self.key.zeroize();
    }
}

/// The `shlink:/…` link of a package: `url` (where the package is), its key, an optional
/// expiry, flags (`P` passcode, `U` the url is the file itself, `L` long-term) and label.
pub fn shlink(url: &str, key: &ShareKey, exp: Option<i64>, flags: &str, label: Option<&str>) -> Result<Zeroizing<String>> {
    check_label(label)?;
    if url.is_empty() || url.len() > 1024 || url.chars().any(char::is_control) {
        return Err(ShareError::Invalid("the package's url must be 1 to 1024 characters, without control characters"));
    }
    let flag = normalise_flags(flags)?;
    let wire = WirePayload {
        url: url.to_owned(),
        key: key.to_base64url().to_string(),
        exp: exp.map(serde_json::Value::from),
        flag,
        label: label.map(str::to_owned),
        v: Some(1),
    };
    let json = Zeroizing::new(serde_json::to_vec(&wire).map_err(|_| ShareError::Invalid("could not write the link"))?);
    Ok(Zeroizing::new(format!("shlink:/{}", B64.encode(&*json))))
}

/// Reads a link: `shlink:/…`, or a viewer URL with it after `#` (`https://viewer.example/#shlink:/…`).
pub fn parse_shlink(link: &str) -> Result<ShlinkPayload> {
    let link = link.trim();
    let body = match link.find("shlink:/") {
        Some(0) => &link["shlink:/".len()..],
        Some(i) if link[..i].ends_with('#') => &link[i + "shlink:/".len()..],
        _ => return Err(ShareError::BadLink("it does not start with shlink:/ nor contain #shlink:/")),
    };
    if body.is_empty() {
        return Err(ShareError::BadLink("nothing follows shlink:/"));
    }
    let json = Zeroizing::new(B64.decode(body).map_err(|_| ShareError::BadLink("what follows shlink:/ is not base64url"))?);
    let wire: WirePayload = serde_json::from_slice(&json).map_err(|_| ShareError::BadLink("its payload is not the JSON of a link (url, key, …)"))?;
    let key = ShareKey::from_base64url(&wire.key)?;
    if wire.url.is_empty() {
        return Err(ShareError::BadLink("its url is empty"));
    }
    let exp = match &wire.exp {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::Number(n)) => {
            let f: f64 = n.to_string().parse().map_err(|_| ShareError::BadLink("its exp is not a number"))?;
            if !f.is_finite() || f.abs() > 1e15 {
                return Err(ShareError::BadLink("its exp is out of range"));
            }
            Some(f.floor() as i64)
        }
        Some(_) => return Err(ShareError::BadLink("its exp is not a number")),
    };
    if let Some(l) = &wire.label {
        if l.chars().count() > MAX_LABEL {
            return Err(ShareError::BadLink("its label is longer than 80 characters"));
        }
    }
    if let Some(f) = &wire.flag {
        if !f.chars().all(|c| matches!(c, 'L' | 'P' | 'U')) {
            return Err(ShareError::BadLink("its flag has letters other than L, P, U"));
        }
    }
    if let Some(v) = wire.v {
        if v != 1 {
            return Err(ShareError::BadLink("its version is not 1"));
        }
    }
    Ok(ShlinkPayload { url: wire.url.clone(), key, exp, flag: wire.flag.clone(), label: wire.label.clone(), v: wire.v })
}

/// What [`open_link`] found.
#[derive(Debug)]
pub struct Opened {
    pub plaintext: Zeroizing<Vec<u8>>,
    pub link: ShlinkPayload,
}

/// Opens a package with its link: refuses an expired link (`now_unix >= exp`), asks for the
/// passcode of a `P` link, then decrypts.
pub fn open_link(link: &str, package: &[u8], passcode: Option<&SecretString>, now_unix: i64) -> Result<Opened> {
    let link = parse_shlink(link)?;
    if let Some(exp) = link.exp {
        if now_unix >= exp {
            return Err(ShareError::Expired { exp });
        }
    }
    if link.has_flag('P') && passcode.is_none() {
        return Err(ShareError::PasscodeNeeded);
    }
    let plaintext = open(package, &link.key, passcode)?;
    Ok(Opened { plaintext, link })
}

// ---------------------------------------------------------------------------------------------

fn check_label(label: Option<&str>) -> Result<()> {
    if let Some(l) = label {
        let len = l.chars().count();
        if len > MAX_LABEL {
            return Err(ShareError::LabelTooLong { len });
        }
        if l.chars().any(char::is_control) {
            return Err(ShareError::Invalid("the label must be one line without control characters"));
        }
    }
    Ok(())
}

fn normalise_flags(flags: &str) -> Result<Option<String>> {
    let mut f: Vec<char> = flags.chars().collect();
    if !f.iter().all(|c| matches!(c, 'L' | 'P' | 'U')) {
        return Err(ShareError::Invalid("link flags are L, P and U"));
    }
    f.sort_unstable();
    f.dedup();
    if f.contains(&'U') && f.contains(&'P') {
        return Err(ShareError::Invalid("a link cannot be both U (direct file) and P (passcode)"));
    }
    Ok(if f.is_empty() { None } else { Some(f.into_iter().collect()) })
}

#[derive(Serialize, Deserialize)]
struct Kdf {
    alg: String,
    m: u32,
    t: u32,
    p: u32,
}

#[derive(Serialize, Deserialize)]
struct Envelope {
    v: u32,
    kind: String,
    kid: String,
    kdf: Kdf,
    salt: String,
    check: String,
    jwe: String,
}

/// Argon2id(password = passcode, salt, secret = link key) → 48 bytes: the content key, then a
/// 16-byte check.
fn derive(kdf: &Kdf, passcode: &SecretString, salt: &[u8], key: &ShareKey) -> Result<(ShareKey, [u8; 16])> {
    if kdf.alg != "argon2id" {
        return Err(ShareError::Unsupported("a passcode key derivation other than argon2id"));
    }
    if kdf.m > KDF_MAX_M_KIB || kdf.t == 0 || kdf.t > 64 || kdf.p == 0 || kdf.p > 16 {
        return Err(ShareError::Unsupported("passcode key derivation costs out of range"));
    }
    let params = argon2::Params::new(kdf.m, kdf.t, kdf.p, Some(48)).map_err(|_| ShareError::Unsupported("passcode key derivation costs out of range"))?;
    let a = argon2::Argon2::new_with_secret(&key.0, argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
        .map_err(|_| ShareError::Invalid("the key derivation refused its secret"))?;
    let mut out = Zeroizing::new([0u8; 48]);
    a.hash_password_into(passcode.expose_secret().as_bytes(), salt, &mut *out).map_err(|_| ShareError::Invalid("the key derivation failed"))?;
    let mut k = [0u8; 32];
    k.copy_from_slice(&out[..32]);
    let mut check = [0u8; 16];
    check.copy_from_slice(&out[32..]);
    Ok((ShareKey(k), check))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Compact JWE, `dir` + `A256GCM`: header.(empty key).iv.ciphertext.tag; the AAD is the
/// header's base64url text (RFC 7516 §5.1).
fn jwe_encrypt(plaintext: &[u8], key: &ShareKey, cty: &str) -> String {
    let header = serde_json::json!({ "alg": "dir", "enc": "A256GCM", "cty": cty, "kid": key.kid() });
    let header_b64 = B64.encode(header.to_string());
    let mut iv = [0u8; 12];
    OsRng.fill_bytes(&mut iv);
    let cipher = Aes256Gcm::new_from_slice(&key.0).expect("a 32-byte key");
    let mut buf = plaintext.to_vec();
    let tag = cipher.encrypt_in_place_detached(Nonce::from_slice(&iv), header_b64.as_bytes(), &mut buf).expect("AES-GCM encrypts any size we read");
    let out = format!("{header_b64}..{}.{}.{}", B64.encode(iv), B64.encode(&buf), B64.encode(tag));
    buf.zeroize();
    out
}

fn jwe_decrypt(compact: &str, key: &ShareKey) -> Result<Zeroizing<Vec<u8>>> {
    let parts: Vec<&str> = compact.split('.').collect();
    if parts.len() != 5 {
        return Err(ShareError::NotAPackage("a compact JWE has five parts separated by dots"));
    }
    let header_raw = B64.decode(parts[0]).map_err(|_| ShareError::NotAPackage("its JWE header is not base64url"))?;
    let header: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&header_raw).map_err(|_| ShareError::NotAPackage("its JWE header is not a JSON object"))?;
    let field = |k: &str| header.get(k).and_then(|v| v.as_str());
    if field("alg") != Some("dir") {
        return Err(ShareError::Unsupported("a JWE key management other than dir"));
    }
    if field("enc") != Some("A256GCM") {
        return Err(ShareError::Unsupported("a JWE content encryption other than A256GCM"));
    }
    if header.contains_key("zip") {
        return Err(ShareError::Unsupported("compression (zip)"));
    }
    if header.contains_key("crit") {
        return Err(ShareError::Unsupported("critical JWE header extensions (crit)"));
    }
    if !parts[1].is_empty() {
        return Err(ShareError::NotAPackage("a dir JWE has an empty encrypted key"));
    }
    let iv = B64.decode(parts[2]).map_err(|_| ShareError::NotAPackage("its JWE iv is not base64url"))?;
    let mut buf = Zeroizing::new(B64.decode(parts[3]).map_err(|_| ShareError::NotAPackage("its JWE ciphertext is not base64url"))?);
    let tag = B64.decode(parts[4]).map_err(|_| ShareError::NotAPackage("its JWE tag is not base64url"))?;
    if iv.len() != 12 || tag.len() != 16 {
        return Err(ShareError::NotAPackage("its JWE iv or tag has the wrong length"));
    }
    let kid = match header.get("kid") {
        None => None,
        Some(serde_json::Value::String(k)) => Some(k.as_str()),
        Some(_) => return Err(ShareError::NotAPackage("its JWE kid is not a string")),
    };
    if let Some(k) = kid {
        if k != key.kid() {
            return Err(ShareError::WrongKey);
        }
    }
    let cipher = Aes256Gcm::new_from_slice(&key.0).expect("a 32-byte key");
    match cipher.decrypt_in_place_detached(Nonce::from_slice(&iv), parts[0].as_bytes(), &mut buf, Tag::from_slice(&tag)) {
        Ok(()) => Ok(buf),
        Err(_) if kid.is_some() => Err(ShareError::Tampered),
        Err(_) => Err(ShareError::CannotOpen),
    }
}

pub mod ips;
pub mod ips_check;
pub mod summary;

/// The language of a document or page made for people (the IPS's titles and narrative, the
/// printable summary).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    #[default]
    En,
    Ja,
}

/// Marks a Bundle from which the person's consent held something back (`Bundle.meta.tag`);
/// what was held back is never said.
pub const WITHHELD_TAG_SYSTEM: &str = "urn:techo:share";
pub const WITHHELD_TAG_CODE: &str = "withheld";

#[cfg(test)]
mod tests;
