use super::*;

const BUNDLE: &[u8] = br#"{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Patient","id":"p","name":[{"text":"CANARY-\u5c71\u7530"}]}}]}"#;

fn opts() -> SealOptions<'static> {
    SealOptions::default()
}

fn secret(s: &str) -> SecretString {
    SecretString::from(s.to_owned())
}

#[test]
fn seal_open_round_trip_and_header() {
    let (jwe, key) = Package::seal(BUNDLE, &opts()).unwrap();
    let parts: Vec<&str> = jwe.split('.').collect();
    assert_eq!(parts.len(), 5);
    assert!(parts[1].is_empty(), "dir: no encrypted key");
    let header: serde_json::Value = serde_json::from_slice(&B64.decode(parts[0]).unwrap()).unwrap();
    assert_eq!(header["alg"], "dir");
    assert_eq!(header["enc"], "A256GCM");
    assert_eq!(header["cty"], FHIR_JSON);
    assert!(header.get("zip").is_none());
    assert!(!jwe.contains("CANARY"));
    assert_eq!(&open(jwe.as_bytes(), &key, None).unwrap()[..], BUNDLE);
    // Each seal has its own key and iv.
    let (jwe2, key2) = Package::seal(BUNDLE, &opts()).unwrap();
    assert_ne!(key, key2);
    assert_ne!(jwe, jwe2);
    // Surrounding whitespace (a trailing newline) is fine.
    assert_eq!(&open(format!("{jwe}\n").as_bytes(), &key, None).unwrap()[..], BUNDLE);
}

#[test]
fn empty_plaintext_round_trips() {
    let (jwe, key) = Package::seal(b"", &opts()).unwrap();
    assert!(open(jwe.as_bytes(), &key, None).unwrap().is_empty());
}

#[test]
fn key_is_redacted_and_43_chars() {
    let key = ShareKey::generate();
    assert_eq!(format!("{key:?}"), "ShareKey(<redacted>)");
    let s = key.to_base64url();
    assert_eq!(s.len(), 43);
    assert_eq!(ShareKey::from_base64url(&s).unwrap(), key);
    assert_eq!(ShareKey::from_base64url("short").unwrap_err().code(), "bad_link");
    assert_eq!(ShareKey::from_base64url(&"!".repeat(43)).unwrap_err().code(), "bad_link");
}

#[test]
fn wrong_key_is_wrong_key() {
    let (jwe, _) = Package::seal(BUNDLE, &opts()).unwrap();
    let e = open(jwe.as_bytes(), &ShareKey::generate(), None).unwrap_err();
    assert!(matches!(e, ShareError::WrongKey), "{e:?}");
    assert_eq!(e.code(), "wrong_key");
}

#[test]
fn every_flipped_byte_is_an_error_never_plaintext() {
    let (jwe, key) = Package::seal(b"{\"resourceType\":\"Bundle\"}", &opts()).unwrap();
    let bytes = jwe.as_bytes();
    for i in 0..bytes.len() {
        for bit in [0x01u8, 0x20, 0x80] {
            let mut b = bytes.to_vec();
            b[i] ^= bit;
            match open(&b, &key, None) {
                Ok(_) => panic!("flipping bit {bit:#x} of byte {i} still opened"),
                Err(e) => assert!(
                    matches!(e, ShareError::Tampered | ShareError::NotAPackage(_) | ShareError::WrongKey | ShareError::CannotOpen | ShareError::Unsupported(_)),
                    "byte {i}: {e:?}"
                ),
            }
        }
    }
}

#[test]
fn a_changed_byte_of_iv_ciphertext_or_tag_is_tampered() {
    let (jwe, key) = Package::seal(BUNDLE, &opts()).unwrap();
    let parts: Vec<String> = jwe.split('.').map(str::to_owned).collect();
    for part in [2usize, 3, 4] {
        let raw = B64.decode(&parts[part]).unwrap();
        for i in [0, raw.len() / 2, raw.len() - 1] {
            let mut r = raw.clone();
            r[i] ^= 0x01;
            let mut p = parts.clone();
            p[part] = B64.encode(&r);
            let e = open(p.join(".").as_bytes(), &key, None).unwrap_err();
            assert!(matches!(e, ShareError::Tampered), "part {part} byte {i}: {e:?}");
        }
    }
    // A changed header (still valid JSON, same kid) is caught by the AAD.
    let mut h: serde_json::Value = serde_json::from_slice(&B64.decode(&parts[0]).unwrap()).unwrap();
    h["cty"] = "text/plain".into();
    let mut p = parts.clone();
    p[0] = B64.encode(h.to_string());
    assert!(matches!(open(p.join(".").as_bytes(), &key, None).unwrap_err(), ShareError::Tampered));
    // Without a kid (another producer's package) the two cannot be told apart.
    h.as_object_mut().unwrap().remove("kid");
    p[0] = B64.encode(h.to_string());
    assert!(matches!(open(p.join(".").as_bytes(), &key, None).unwrap_err(), ShareError::CannotOpen));
}

#[test]
fn not_a_package() {
    let key = ShareKey::generate();
    for bad in [&b""[..], b"hello", b"a.b.c.d.e", b"\xff\xfe", b"{\"resourceType\":\"Bundle\"}", b"....", b"e30..AAAA.AAAA.AAAA"] {
        let e = open(bad, &key, None).unwrap_err();
        assert!(matches!(e, ShareError::NotAPackage(_) | ShareError::Unsupported(_)), "{bad:?}: {e:?}");
    }
    let hdr = |h: &str| format!("{}..{}.{}.{}", B64.encode(h), B64.encode([0u8; 12]), B64.encode(b"x"), B64.encode([0u8; 16]));
    for (h, code) in [
        (r#"{"alg":"RSA-OAEP","enc":"A256GCM"}"#, "unsupported_package"),
        (r#"{"alg":"dir","enc":"A128GCM"}"#, "unsupported_package"),
        (r#"{"alg":"dir","enc":"A256GCM","zip":"DEF"}"#, "unsupported_package"),
        (r#"{"alg":"dir","enc":"A256GCM","kid":5}"#, "not_a_package"),
        ("[]", "not_a_package"),
    ] {
        assert_eq!(open(hdr(h).as_bytes(), &key, None).unwrap_err().code(), code, "{h}");
    }
}

#[test]
fn passcode_right_wrong_missing() {
    let pc = secret("correct horse");
    let (file, key) = Package::seal(BUNDLE, &SealOptions { passcode: Some(&pc), ..opts() }).unwrap();
    assert!(file.starts_with('{'), "a passcode package is an envelope");
    assert!(!file.contains("CANARY"));
    assert_eq!(&open(file.as_bytes(), &key, Some(&pc)).unwrap()[..], BUNDLE);
    assert!(matches!(open(file.as_bytes(), &key, Some(&secret("correct horsE"))).unwrap_err(), ShareError::WrongPasscode));
    assert!(matches!(open(file.as_bytes(), &key, None).unwrap_err(), ShareError::PasscodeNeeded));
    assert!(matches!(open(file.as_bytes(), &ShareKey::generate(), Some(&pc)).unwrap_err(), ShareError::WrongKey));
    // The inner JWE alone does not open with the link key: the passcode is needed.
    let env: serde_json::Value = serde_json::from_str(&file).unwrap();
    assert!(open(env["jwe"].as_str().unwrap().as_bytes(), &key, None).is_err());
    // A changed inner ciphertext is tampered; a hostile KDF cost is refused.
    let mut e2 = env.clone();
    let jwe = env["jwe"].as_str().unwrap();
    let mut parts: Vec<String> = jwe.split('.').map(str::to_owned).collect();
    let mut ct = B64.decode(&parts[3]).unwrap();
    ct[0] ^= 1;
    parts[3] = B64.encode(&ct);
    e2["jwe"] = parts.join(".").into();
    assert!(matches!(open(e2.to_string().as_bytes(), &key, Some(&pc)).unwrap_err(), ShareError::Tampered));
    let mut e3 = env.clone();
    e3["kdf"]["m"] = (4u32 << 20).into();
    assert!(matches!(open(e3.to_string().as_bytes(), &key, Some(&pc)).unwrap_err(), ShareError::Unsupported(_)));
    // An empty passcode is refused when sealing.
    assert_eq!(Package::seal(BUNDLE, &SealOptions { passcode: Some(&secret("")), ..opts() }).unwrap_err().code(), "invalid_input");
}

#[test]
fn label_length() {
    let ok = "あ".repeat(80);
    assert!(Package::seal(BUNDLE, &SealOptions { label: Some(ok.clone()), ..opts() }).is_ok());
    let e = Package::seal(BUNDLE, &SealOptions { label: Some("あ".repeat(81)), ..opts() }).unwrap_err();
    assert!(matches!(e, ShareError::LabelTooLong { len: 81 }));
    let key = ShareKey::generate();
    assert!(shlink("p.jwe", &key, None, "U", Some(&ok)).is_ok());
    assert_eq!(shlink("p.jwe", &key, None, "U", Some(&"x".repeat(81))).unwrap_err().code(), "invalid_input");
    assert_eq!(shlink("p.jwe", &key, None, "U", Some("two\nlines")).unwrap_err().code(), "invalid_input");
}

#[test]
fn shlink_round_trip() {
    let key = ShareKey::generate();
    let link = shlink("https://example.org/p/abc", &key, Some(1_900_000_000), "U", Some("For Dr. Sato")).unwrap();
    assert!(link.starts_with("shlink:/"));
    let json: serde_json::Value = serde_json::from_slice(&B64.decode(&link["shlink:/".len()..]).unwrap()).unwrap();
    assert_eq!(json["key"].as_str().unwrap().len(), 43);
    assert_eq!(json["v"], 1);
    assert_eq!(json["flag"], "U");
    assert_eq!(json["exp"], 1_900_000_000);
    let p = parse_shlink(&link).unwrap();
    assert_eq!(p.url, "https://example.org/p/abc");
    assert_eq!(p.key, key);
    assert_eq!(p.exp, Some(1_900_000_000));
    assert_eq!(p.flag.as_deref(), Some("U"));
    assert_eq!(p.label.as_deref(), Some("For Dr. Sato"));
    assert_eq!(p.v, Some(1));
    // The viewer form.
    let viewer = format!("https://viewer.example/#{}", &*link);
    assert_eq!(parse_shlink(&viewer).unwrap(), p);
    // Flags are sorted; U and P together are refused; no flag, no exp, no label.
    let p2 = parse_shlink(&shlink("x", &key, None, "PL", None).unwrap()).unwrap();
    assert_eq!(p2.flag.as_deref(), Some("LP"));
    assert_eq!(shlink("x", &key, None, "UP", None).unwrap_err().code(), "invalid_input");
    let p3 = parse_shlink(&shlink("x", &key, None, "", None).unwrap()).unwrap();
    assert_eq!((p3.flag, p3.exp, p3.label), (None, None, None));
}

#[test]
fn malformed_links() {
    let key = ShareKey::generate();
    let enc = |j: serde_json::Value| format!("shlink:/{}", B64.encode(j.to_string()));
    let k = key.to_base64url().to_string();
    let cases: Vec<String> = vec![
        String::new(),
        "shlink:/".into(),
        "https://viewer.example/shlink:/abc".into(),
        "shlink:/!!!".into(),
        format!("shlink:/{}", B64.encode("not json")),
        enc(serde_json::json!({"url": "x"})),
        enc(serde_json::json!({"url": "x", "key": "short"})),
        enc(serde_json::json!({"url": "", "key": k})),
        enc(serde_json::json!({"url": "x", "key": k, "exp": "soon"})),
        enc(serde_json::json!({"url": "x", "key": k, "flag": "Z"})),
        enc(serde_json::json!({"url": "x", "key": k, "v": 2})),
        enc(serde_json::json!({"url": "x", "key": k, "label": "x".repeat(81)})),
    ];
    for c in cases {
        let e = parse_shlink(&c).unwrap_err();
        assert_eq!(e.code(), "bad_link", "{c}: {e}");
        assert!(!e.to_string().contains(&k), "an error never repeats the key");
    }
    // A fractional exp is accepted (floored), as JSON numbers may be.
    assert_eq!(parse_shlink(&enc(serde_json::json!({"url": "x", "key": k, "exp": 1.5}))).unwrap().exp, Some(1));
}

#[test]
fn expiry_edges() {
    let (jwe, key) = Package::seal(BUNDLE, &opts()).unwrap();
    let link = shlink("p.jwe", &key, Some(1000), "U", None).unwrap();
    assert!(open_link(&link, jwe.as_bytes(), None, 999).is_ok());
    assert!(matches!(open_link(&link, jwe.as_bytes(), None, 1000).unwrap_err(), ShareError::Expired { exp: 1000 }));
    assert!(matches!(open_link(&link, jwe.as_bytes(), None, 1001).unwrap_err(), ShareError::Expired { .. }));
    let forever = shlink("p.jwe", &key, None, "U", None).unwrap();
    let opened = open_link(&forever, jwe.as_bytes(), None, i64::MAX).unwrap();
    assert_eq!(&opened.plaintext[..], BUNDLE);
    assert_eq!(opened.link.url, "p.jwe");
}

#[test]
fn open_link_with_passcode_flag() {
    let pc = secret("1234-abcd");
    let (file, key) = Package::seal(BUNDLE, &SealOptions { passcode: Some(&pc), ..opts() }).unwrap();
    let link = shlink("p.jwe", &key, None, "P", None).unwrap();
    assert!(matches!(open_link(&link, file.as_bytes(), None, 0).unwrap_err(), ShareError::PasscodeNeeded));
    assert!(matches!(open_link(&link, file.as_bytes(), Some(&secret("nope")), 0).unwrap_err(), ShareError::WrongPasscode));
    assert_eq!(&open_link(&link, file.as_bytes(), Some(&pc), 0).unwrap().plaintext[..], BUNDLE);
}

#[test]
fn error_codes_are_stable() {
    let all = [
        (ShareError::NotAPackage("x"), "not_a_package"),
        (ShareError::Unsupported("x"), "unsupported_package"),
        (ShareError::WrongKey, "wrong_key"),
        (ShareError::Tampered, "tampered"),
        (ShareError::CannotOpen, "cannot_open"),
        (ShareError::Expired { exp: 0 }, "expired"),
        (ShareError::WrongPasscode, "wrong_passcode"),
        (ShareError::PasscodeNeeded, "passcode_needed"),
        (ShareError::BadLink("x"), "bad_link"),
        (ShareError::LabelTooLong { len: 81 }, "invalid_input"),
        (ShareError::Invalid("x"), "invalid_input"),
    ];
    for (e, code) in all {
        assert_eq!(e.code(), code);
    }
}
