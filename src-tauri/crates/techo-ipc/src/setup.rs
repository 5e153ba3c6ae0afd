//! First run (a new vault: a chosen passphrase with its strength, or a generated recovery key),
//! importing files the person picks in a native dialog, and the app's settings (auto-lock,
//! theme, language).
//!
//! The strength meter, the recovery key's format and its confirmation live here, so that the
//! UI shows exactly what the shell enforces.

use crate::{Command, IpcError, NoArgs, VaultStatus};
use serde::{Deserialize, Serialize};
use std::fmt;

// ---------------------------------------------------------------------------------------------
// Commands

/// `generate_recovery_key`: a new random recovery key (only while no vault exists). The shell
/// keeps it in memory until `create_vault` uses it or another is generated; it is shown once.
pub struct GenerateRecoveryKeyCmd;
impl Command for GenerateRecoveryKeyCmd {
    const NAME: &'static str = "generate_recovery_key";
    type Args = NoArgs;
    type Output = GeneratedKey;
}

/// `create_vault`: creates the vault at the configured location and unlocks it.
pub struct CreateVaultCmd;
impl Command for CreateVaultCmd {
    const NAME: &'static str = "create_vault";
    type Args = CreateVaultArgs;
    type Output = CreatedVault;
}

/// `start_import`: the shell asks which files (a native dialog, or `TECHO_IMPORT_FILES`) and
/// imports them one by one in the background; the window polls `import_status`.
pub struct StartImportCmd;
impl Command for StartImportCmd {
    const NAME: &'static str = "start_import";
    type Args = StartImportArgs;
    type Output = ImportStatus;
}

/// `import_status`: the import under way or the last one (polling it is not activity).
pub struct ImportStatusCmd;
impl Command for ImportStatusCmd {
    const NAME: &'static str = "import_status";
    type Args = NoArgs;
    type Output = ImportStatus;
}

/// `app_settings`: the vault's app settings.
pub struct AppSettingsCmd;
impl Command for AppSettingsCmd {
    const NAME: &'static str = "app_settings";
    type Args = NoArgs;
    type Output = AppSettings;
}

/// `set_app_settings`: stores the settings in the vault and applies the auto-lock at once.
pub struct SetAppSettingsCmd;
impl Command for SetAppSettingsCmd {
    const NAME: &'static str = "set_app_settings";
    type Args = SetAppSettingsArgs;
    type Output = AppSettings;
}

// ---------------------------------------------------------------------------------------------
// First run

/// A generated recovery key, e.g. `K7QXM-2PLAZ-…` (6 groups of 5 base32 characters).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GeneratedKey {
    pub key: String,
    /// Its entropy in bits ([`RECOVERY_KEY_BITS`]).
    pub bits: u32,
}

impl fmt::Debug for GeneratedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GeneratedKey").field("key", &"[redacted]").field("bits", &self.bits).finish()
    }
}

/// Arguments of `create_vault`: either a chosen `passphrase` typed twice (`repeat`), or (with
/// `passphrase: None`) the generated key, confirmed by typing it back or its last two groups
/// (`key_confirmation`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateVaultArgs {
    pub passphrase: Option<String>,
    pub repeat: Option<String>,
    pub key_confirmation: Option<String>,
}

impl fmt::Debug for CreateVaultArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = |o: &Option<String>| o.as_ref().map(|_| "[redacted]");
        f.debug_struct("CreateVaultArgs")
            .field("passphrase", &r(&self.passphrase))
            .field("repeat", &r(&self.repeat))
            .field("key_confirmation", &r(&self.key_confirmation))
            .finish()
    }
}

/// The new vault, unlocked, and whether the OS keyring will unlock it on later starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedVault {
    pub status: VaultStatus,
    /// `true`: the keyring holds a key for this vault (it unlocks silently on this computer).
    pub keyring: bool,
    /// When the keyring could not be used: why (a plain sentence, no secrets).
    pub keyring_note: Option<String>,
}

/// Groups of a recovery key.
pub const RECOVERY_KEY_GROUPS: usize = 6;
/// Characters per group.
pub const RECOVERY_KEY_GROUP_LEN: usize = 5;
/// Characters of a recovery key (without the dashes).
pub const RECOVERY_KEY_CHARS: usize = RECOVERY_KEY_GROUPS * RECOVERY_KEY_GROUP_LEN;
/// Entropy of a recovery key: 5 bits per base32 character.
pub const RECOVERY_KEY_BITS: u32 = (RECOVERY_KEY_CHARS * 5) as u32;
// At least 128 bits, checked at compile time.
const _: () = assert!(RECOVERY_KEY_BITS >= 128);
/// RFC 4648 base32: no 0/1/8/9, so no O/0 or I/1 confusion.
pub const RECOVERY_KEY_ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// Formats 30 random bytes as a recovery key: each byte's low 5 bits pick a character (uniform,
/// since 256 is a multiple of 32); groups of 5 joined by `-`.
pub fn format_recovery_key(random: &[u8; RECOVERY_KEY_CHARS]) -> String {
    let mut out = String::with_capacity(RECOVERY_KEY_CHARS + RECOVERY_KEY_GROUPS);
    for (i, b) in random.iter().enumerate() {
        if i > 0 && i % RECOVERY_KEY_GROUP_LEN == 0 {
            out.push('-');
        }
        out.push(RECOVERY_KEY_ALPHABET[(b & 31) as usize] as char);
    }
    out
}

/// A typed key without spaces and dashes, upper-case.
pub fn normalize_recovery_key(typed: &str) -> String {
    typed.chars().filter(|c| !c.is_whitespace() && *c != '-').flat_map(char::to_uppercase).collect()
}

/// Whether `s` has a recovery key's shape (dashes, spaces and case aside).
pub fn is_recovery_key(s: &str) -> bool {
    let n = normalize_recovery_key(s);
    n.len() == RECOVERY_KEY_CHARS && n.bytes().all(|b| RECOVERY_KEY_ALPHABET.contains(&b))
}

/// The key as `create_vault` stores it (groups joined by `-`), from any typing of it.
pub fn canonical_recovery_key(s: &str) -> Option<String> {
    if !is_recovery_key(s) {
        return None;
    }
    let n = normalize_recovery_key(s);
    let groups: Vec<&str> = (0..RECOVERY_KEY_GROUPS).map(|g| &n[g * RECOVERY_KEY_GROUP_LEN..(g + 1) * RECOVERY_KEY_GROUP_LEN]).collect();
    Some(groups.join("-"))
}

/// Whether `typed` confirms `key`: the whole key, or its last two groups (case, spaces and
/// dashes do not matter).
pub fn recovery_key_confirms(key: &str, typed: &str) -> bool {
    let key = normalize_recovery_key(key);
    let typed = normalize_recovery_key(typed);
    let tail = 2 * RECOVERY_KEY_GROUP_LEN;
    !typed.is_empty() && key.len() == RECOVERY_KEY_CHARS && (typed == key || (typed.len() == tail && key.ends_with(&typed)))
}

/// What `techo_core::keys::check_new_passphrase` refuses, said the same way: at least 8
/// characters, at most 1024 bytes, no space at either end.
pub fn check_new_passphrase(p: &str) -> Result<(), IpcError> {
    if p.chars().count() < MIN_PASSPHRASE_CHARS {
        return Err(IpcError::invalid_input("The recovery passphrase must be at least 8 characters long."));
    }
    if p.len() > MAX_NEW_PASSPHRASE_BYTES {
        return Err(IpcError::invalid_input("The recovery passphrase must be at most 1024 bytes long."));
    }
    if p.trim() != p {
        return Err(IpcError::invalid_input("The recovery passphrase must not start or end with a space."));
    }
    Ok(())
}

/// Shortest passphrase the core accepts, in characters.
pub const MIN_PASSPHRASE_CHARS: usize = 8;
/// Longest new passphrase the core accepts, in bytes (UTF-8).
pub const MAX_NEW_PASSPHRASE_BYTES: usize = 1024;

/// Checks a chosen passphrase before a vault is made with it: what the core refuses, two
/// typings that differ, and passphrases too easy to guess (strength 0).
pub fn validate_new_passphrase(passphrase: &str, repeat: &str) -> Result<(), IpcError> {
    check_new_passphrase(passphrase)?;
    if passphrase != repeat {
        return Err(IpcError::invalid_input("The two passphrases differ: type the same one twice."));
    }
    if passphrase_strength(passphrase).score == 0 {
        return Err(IpcError::invalid_input(
            "That passphrase is too easy to guess: make it longer, avoid common words and patterns, or let Techo generate a recovery key.",
        ));
    }
    Ok(())
}

/// What the strength meter says about a passphrase.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PassphraseStrength {
    /// 0 (too easy to guess) … 4 (very strong).
    pub score: u8,
    /// A rough estimate of the guessing work, in bits.
    pub bits: u32,
    /// What would make it better (or why it is refused), most important first.
    pub hints: Vec<StrengthHint>,
}

/// One remark of the strength meter (the UI words it in the person's language).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StrengthHint {
    /// Fewer than 8 characters: refused.
    TooShort,
    /// More than 1024 bytes: refused.
    TooLong,
    /// A space at the start or end: refused.
    EdgeSpace,
    /// A common password (or one with a common password inside).
    Common,
    /// Long runs of the same character.
    Repeats,
    /// Sequences such as `abcd`, `1234`, `qwerty`.
    Sequence,
    /// Only one kind of character.
    OneKind,
    /// Longer would be stronger (e.g. a few unrelated words).
    Longer,
}

/// Passwords so common that a guesser tries them first (lower-case; matched inside too).
const COMMON: &[&str] = &[
    "password", "passw0rd", "p@ssw0rd", "123456", "1234567", "12345678", "123456789", "1234567890", "qwerty", "qwertyuiop",
    "asdfgh", "zxcvbn", "letmein", "iloveyou", "admin", "welcome", "monkey", "dragon", "abc123", "111111", "000000",
    "sunshine", "princess", "football", "baseball", "master", "shadow", "superman", "trustno1", "secret", "changeme",
    "hello", "login", "starwars", "whatever", "freedom", "pokemon", "techo", "health", "hospital", "pass", "qazwsx",
    "aaaaaa", "password1",
];

/// Keyboard rows, for sequences like `qwer` or `asdf`.
const ROWS: &[&str] = &["qwertyuiop", "asdfghjkl", "zxcvbnm", "1234567890"];

/// A rough strength estimate: effective length × log2(character pool), with repeats,
/// sequences and common passwords counting for little. Deterministic and IO-free.
pub fn passphrase_strength(p: &str) -> PassphraseStrength {
    let mut hints = Vec::new();
    let chars: Vec<char> = p.chars().collect();
    if chars.len() < MIN_PASSPHRASE_CHARS {
        hints.push(StrengthHint::TooShort);
    }
    if p.len() > MAX_NEW_PASSPHRASE_BYTES {
        hints.push(StrengthHint::TooLong);
    }
    if !p.is_empty() && p.trim() != p {
        hints.push(StrengthHint::EdgeSpace);
    }

    // The character pool.
    let (mut lower, mut upper, mut digit, mut symbol, mut other) = (false, false, false, false, false);
    for c in &chars {
        match c {
            'a'..='z' => lower = true,
            'A'..='Z' => upper = true,
            '0'..='9' => digit = true,
            c if c.is_ascii() => symbol = true,
            _ => other = true,
        }
    }
    let kinds = [lower, upper, digit, symbol, other].iter().filter(|k| **k).count();
    let pool: f64 = [(lower, 26.0), (upper, 26.0), (digit, 10.0), (symbol, 33.0), (other, 100.0)]
        .iter()
        .filter(|(k, _)| *k)
        .map(|(_, n)| n)
        .sum();

    // Effective length: a character continuing a repeat or a sequence counts a fifth.
    let lowered: Vec<char> = chars.iter().flat_map(|c| c.to_lowercase()).collect();
    let mut weights = vec![1.0f64; lowered.len()];
    let (mut repeats, mut sequence) = (false, false);
    for i in 2..lowered.len() {
        let (a, b, c) = (lowered[i - 2], lowered[i - 1], lowered[i]);
        if a == b && b == c {
            weights[i] = 0.2;
            repeats = true;
        } else if (is_step(a, b) && is_step(b, c) && (b as i64 - a as i64) == (c as i64 - b as i64))
            || ROWS.iter().any(|row| row.contains(&[a, b, c].iter().collect::<String>()))
        {
            weights[i] = 0.2;
            sequence = true;
        }
    }
    // Common passwords inside: their characters count as one word (about one character).
    let text: String = lowered.iter().collect();
    let mut common = false;
    for word in COMMON {
        let mut from = 0;
        while let Some(at) = text[from..].find(word) {
            let start = text[..from + at].chars().count();
            let n = word.chars().count();
            for (k, w) in weights.iter_mut().skip(start).take(n).enumerate() {
                *w = if k == 0 { 1.0 } else { 0.0 };
            }
            common = true;
            from += at + word.len();
        }
    }
    let effective: f64 = weights.iter().sum();
    let bits = if pool > 0.0 { (effective * pool.log2()).round() as u32 } else { 0 };

    let refused = hints.iter().any(|h| matches!(h, StrengthHint::TooShort | StrengthHint::TooLong | StrengthHint::EdgeSpace));
    let whole_is_common = COMMON.contains(&text.as_str());
    let mut score = match bits {
        0..=27 => 0,
        28..=39 => 1,
        40..=59 => 2,
        60..=79 => 3,
        _ => 4,
    };
    if refused || whole_is_common {
        score = 0;
    }
    if common {
        hints.push(StrengthHint::Common);
    }
    if repeats {
        hints.push(StrengthHint::Repeats);
    }
    if sequence {
        hints.push(StrengthHint::Sequence);
    }
    if kinds == 1 && chars.len() < 20 {
        hints.push(StrengthHint::OneKind);
    }
    if score < 3 && !refused {
        hints.push(StrengthHint::Longer);
    }
    PassphraseStrength { score, bits, hints }
}

/// `b` follows `a` by one (up or down): `ab`, `21`.
fn is_step(a: char, b: char) -> bool {
    a.is_ascii_alphanumeric() && b.is_ascii_alphanumeric() && (a as i64 - b as i64).abs() == 1
}

// ---------------------------------------------------------------------------------------------
// Import

/// Environment variable: files to import without a dialog (paths separated by the OS path
/// separator, `:` on Linux and macOS, `;` on Windows). For tests and scripted setups.
pub const IMPORT_FILES_ENV: &str = "TECHO_IMPORT_FILES";

/// Arguments of `start_import`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartImportArgs {
    /// Put everything into this person's record; `None`: each file's Patient decides (a new
    /// person when nobody matches).
    pub person_id: Option<i64>,
}

/// The import under way, or the last one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportStatus {
    /// The native dialog is open.
    pub choosing: bool,
    /// Files are being imported.
    pub running: bool,
    /// The person closed the dialog without choosing files.
    pub cancelled: bool,
    /// One entry per chosen file, in order.
    pub files: Vec<ImportFile>,
    /// Bytes read of all chosen files so far, and their total size.
    pub bytes_read: u64,
    pub total_bytes: u64,
    /// Why the import could not run at all (a locked vault…); per-file failures are in `files`.
    pub error: Option<String>,
}

/// One chosen file and what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportFile {
    /// The file's name (not its folder).
    pub name: String,
    pub outcome: ImportOutcome,
}

/// What became of one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ImportOutcome {
    Waiting,
    Reading,
    Done {
        person_id: i64,
        resources: u64,
        new: u64,
        updated: u64,
        unchanged: u64,
        merged: u64,
        skipped: u64,
    },
    /// The core's sentence; nothing of this file was stored.
    Failed { message: String },
    /// Not imported: the vault was locked meanwhile.
    Stopped,
}

/// Splits `TECHO_IMPORT_FILES` into paths (empty parts ignored).
pub fn split_import_files(value: &str, separator: char) -> Vec<String> {
    value.split(separator).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

/// Percent of `done` in `total` (0–100; an empty total reads as done).
pub fn percent(done: u64, total: u64) -> u8 {
    if total == 0 {
        return 100;
    }
    ((done.min(total) as u128 * 100) / total as u128) as u8
}

// ---------------------------------------------------------------------------------------------
// Settings

/// Auto-lock bounds and default, in minutes.
pub const MIN_AUTO_LOCK_MINUTES: u32 = 1;
pub const MAX_AUTO_LOCK_MINUTES: u32 = 120;
pub const DEFAULT_AUTO_LOCK_MINUTES: u32 = 10;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Theme {
    Light,
    Dark,
    #[default]
    System,
}

impl Theme {
    pub const ALL: [Theme; 3] = [Theme::Light, Theme::Dark, Theme::System];
    /// The stored and wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Theme::Light => "light",
            Theme::Dark => "dark",
            Theme::System => "system",
        }
    }
    /// A stored name; anything else reads as the default.
    pub fn parse(s: &str) -> Theme {
        Theme::ALL.into_iter().find(|t| t.as_str() == s).unwrap_or_default()
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    Ja,
    #[default]
    En,
}

impl Language {
    pub const ALL: [Language; 2] = [Language::Ja, Language::En];
    pub const fn as_str(self) -> &'static str {
        match self {
            Language::Ja => "ja",
            Language::En => "en",
        }
    }
    pub fn parse(s: &str) -> Language {
        Language::ALL.into_iter().find(|l| l.as_str() == s).unwrap_or_default()
    }
    /// The language's own name, for the selector.
    pub const fn native_name(self) -> &'static str {
        match self {
            Language::Ja => "日本語",
            Language::En => "English",
        }
    }
}

/// The app's settings kept in the vault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppSettings {
    pub auto_lock_minutes: u32,
    pub theme: Theme,
    pub language: Language,
    /// Set when `TECHO_AUTOLOCK_SECONDS` overrides the stored auto-lock (tests).
    pub auto_lock_override_seconds: Option<u64>,
}

/// Arguments of `set_app_settings`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetAppSettingsArgs {
    pub auto_lock_minutes: u32,
    pub theme: Theme,
    pub language: Language,
}

/// Checks the auto-lock minutes (1–120).
pub fn validate_auto_lock_minutes(minutes: u32) -> Result<(), IpcError> {
    if !(MIN_AUTO_LOCK_MINUTES..=MAX_AUTO_LOCK_MINUTES).contains(&minutes) {
        return Err(IpcError::invalid_input(format!(
            "Choose an auto-lock of {MIN_AUTO_LOCK_MINUTES} to {MAX_AUTO_LOCK_MINUTES} minutes."
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;
    use serde_json::json;

    #[test]
    fn the_core_refusals_are_mirrored() {
        assert!(check_new_passphrase("short").is_err());
        assert!(check_new_passphrase("1234567").is_err());
        assert!(check_new_passphrase("12345678").is_ok());
        assert!(check_new_passphrase(" leading space").is_err());
        assert!(check_new_passphrase("trailing space ").is_err());
        assert!(check_new_passphrase(&"あ".repeat(341)).is_ok(), "1023 bytes");
        assert_eq!(check_new_passphrase(&"あ".repeat(342)).unwrap_err().code, ErrorCode::InvalidInput, "1026 bytes");
        assert!(check_new_passphrase("ひみつのあいことば").is_ok(), "8+ characters, not bytes");
    }

    #[test]
    fn new_passphrases_must_match_and_not_be_guessable() {
        let good = "tulip harbour 47 quietly";
        assert!(validate_new_passphrase(good, good).is_ok());
        assert!(validate_new_passphrase(good, "tulip harbour 47 quietlY").is_err());
        assert!(validate_new_passphrase("password", "password").is_err());
        assert!(validate_new_passphrase("12345678", "12345678").is_err());
        assert!(validate_new_passphrase("aaaaaaaaaa", "aaaaaaaaaa").is_err());
        assert!(validate_new_passphrase("short", "short").is_err());
    }

    #[test]
    fn the_meter_ranks_passphrases() {
        let s = |p: &str| passphrase_strength(p).score;
        assert_eq!(s(""), 0);
        assert_eq!(s("abc"), 0);
        assert_eq!(s("password"), 0);
        assert_eq!(s("Password1"), 0, "a common password with a capital and a digit");
        assert_eq!(s("12345678"), 0);
        assert_eq!(s("abcdefghij"), 0, "a sequence");
        assert_eq!(s("zzzzzzzzzzzz"), 0, "repeats");
        assert!(s("qwertyuiop123") <= 1, "a keyboard row");
        assert!(s("Tr0ub4dor&3") >= 2);
        assert!(s("correct horse battery staple") >= 3);
        assert!(s("桜の花が咲く春の朝に歩く") >= 3, "Japanese characters count");
        assert_eq!(s("K7QXM-2PLAZ-VB3DE-RT6YU-NW4SC-HJ5GF"), 4, "a recovery key");
        assert!(s("a long passphrase of several words") > s("short pw"));
        // Hints.
        let h = |p: &str| passphrase_strength(p).hints;
        assert!(h("abc").contains(&StrengthHint::TooShort));
        assert!(h(" abcdefghijk").contains(&StrengthHint::EdgeSpace));
        assert!(h("mypassword!2x").contains(&StrengthHint::Common));
        assert!(h("xx1234567yy").contains(&StrengthHint::Sequence));
        assert!(h("kkkkkkkkkk").contains(&StrengthHint::Repeats));
        assert!(h("onlylowercase").contains(&StrengthHint::OneKind));
        assert_eq!(passphrase_strength(&"x".repeat(1025)).score, 0, "too long");
    }

    #[test]
    fn the_meter_is_a_stable_wire_type() {
        let st = passphrase_strength("abc");
        let wire = serde_json::to_value(&st).unwrap();
        assert_eq!(wire["hints"][0], json!("too_short"));
        assert_eq!(serde_json::from_value::<PassphraseStrength>(wire).unwrap(), st);
    }

    #[test]
    fn recovery_keys_have_six_groups_of_five_base32_characters() {
        let mut bytes = [0u8; RECOVERY_KEY_CHARS];
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = (i * 37 + 255) as u8;
        }
        let key = format_recovery_key(&bytes);
        assert_eq!(key.len(), RECOVERY_KEY_CHARS + RECOVERY_KEY_GROUPS - 1);
        let groups: Vec<&str> = key.split('-').collect();
        assert_eq!(groups.len(), 6);
        assert!(groups.iter().all(|g| g.len() == 5 && g.bytes().all(|b| RECOVERY_KEY_ALPHABET.contains(&b))));
        assert!(is_recovery_key(&key));
        assert!(is_recovery_key(&key.to_lowercase().replace('-', " ")));
        assert_eq!(canonical_recovery_key(&key.to_lowercase().replace('-', "")).as_deref(), Some(key.as_str()));
        assert!(!is_recovery_key("ABCDE-ABCDE"));
        assert!(!is_recovery_key("ABCD0-ABCDE-ABCDE-ABCDE-ABCDE-ABCDE"), "0 is not base32");
        assert_eq!(format_recovery_key(&[0; RECOVERY_KEY_CHARS]), "AAAAA-AAAAA-AAAAA-AAAAA-AAAAA-AAAAA");
        assert_eq!(format_recovery_key(&[31; RECOVERY_KEY_CHARS]), format_recovery_key(&[255; RECOVERY_KEY_CHARS]));
        // Every key the core would accept as a passphrase.
        assert!(check_new_passphrase(&key).is_ok());
        assert!(validate_new_passphrase(&key, &key).is_ok());
    }

    #[test]
    fn a_recovery_key_is_confirmed_by_all_of_it_or_its_last_two_groups() {
        let key = "K7QXM-2PLAZ-VB3DE-RT6YU-NW4SC-HJ5GF";
        assert!(recovery_key_confirms(key, key));
        assert!(recovery_key_confirms(key, "k7qxm 2plaz vb3de rt6yu nw4sc hj5gf"));
        assert!(recovery_key_confirms(key, "NW4SC-HJ5GF"));
        assert!(recovery_key_confirms(key, "nw4schj5gf"));
        assert!(!recovery_key_confirms(key, "HJ5GF"), "one group is not enough");
        assert!(!recovery_key_confirms(key, "RT6YU-NW4SC"), "not the last two");
        assert!(!recovery_key_confirms(key, ""));
        assert!(!recovery_key_confirms(key, "K7QXM-2PLAZ-VB3DE-RT6YU-NW4SC-HJ5GG"));
        assert!(!recovery_key_confirms("", ""));
    }

    #[test]
    fn secrets_never_show_in_debug() {
        let k = GeneratedKey { key: "K7QXM-2PLAZ".into(), bits: 150 };
        assert!(!format!("{k:?}").contains("K7QXM"));
        let a = CreateVaultArgs { passphrase: Some("hunter2-secret".into()), repeat: Some("hunter2-secret".into()), key_confirmation: Some("NW4SC".into()) };
        let d = format!("{a:?}");
        assert!(!d.contains("hunter2") && !d.contains("NW4SC"), "{d}");
    }

    #[test]
    fn import_inputs_and_outcomes() {
        assert_eq!(split_import_files("/a.json: /b c.ndjson::", ':'), vec!["/a.json", "/b c.ndjson"]);
        assert_eq!(split_import_files("", ':'), Vec::<String>::new());
        assert_eq!(percent(0, 0), 100);
        assert_eq!(percent(50, 200), 25);
        assert_eq!(percent(300, 200), 100);
        assert_eq!(percent(u64::MAX / 2, u64::MAX), 49);
        let done = ImportOutcome::Done { person_id: 1, resources: 3, new: 2, updated: 0, unchanged: 1, merged: 0, skipped: 0 };
        assert_eq!(serde_json::to_value(&done).unwrap()["state"], json!("done"));
        let failed = ImportOutcome::Failed { message: "Cannot import x.".into() };
        assert_eq!(serde_json::to_value(&failed).unwrap(), json!({"state": "failed", "message": "Cannot import x."}));
        let back: ImportOutcome = serde_json::from_value(json!({"state": "waiting"})).unwrap();
        assert_eq!(back, ImportOutcome::Waiting);
    }

    #[test]
    fn settings_are_checked_and_named_stably() {
        assert!(validate_auto_lock_minutes(0).is_err());
        assert!(validate_auto_lock_minutes(1).is_ok());
        assert!(validate_auto_lock_minutes(120).is_ok());
        assert!(validate_auto_lock_minutes(121).is_err());
        for t in Theme::ALL {
            assert_eq!(serde_json::to_value(t).unwrap(), json!(t.as_str()));
            assert_eq!(Theme::parse(t.as_str()), t);
        }
        for l in Language::ALL {
            assert_eq!(serde_json::to_value(l).unwrap(), json!(l.as_str()));
            assert_eq!(Language::parse(l.as_str()), l);
        }
        assert_eq!(Theme::parse("neon"), Theme::System);
        assert_eq!(Language::parse("fr"), Language::En);
        let args = SetAppSettingsArgs { auto_lock_minutes: 5, theme: Theme::Dark, language: Language::Ja };
        assert_eq!(serde_json::to_value(args).unwrap(), json!({"auto_lock_minutes": 5, "theme": "dark", "language": "ja"}));
    }
}
