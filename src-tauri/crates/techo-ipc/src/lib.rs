//! techo-ipc: the typed contract between Techo's Yew UI (wasm32) and the Tauri shell (native).
//!
//! Every command is a zero-sized marker type implementing [`Command`]: its wire name, the
//! arguments object the UI sends (its fields are the shell command's parameter names) and the
//! value the shell answers with. Errors always travel as [`IpcError`]: a stable
//! [`ErrorCode`] for the UI to branch on plus one plain sentence for people.
//!
//! This crate depends on serde only, so that it builds for both targets.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::fmt;

mod consent;
pub use consent::*;
mod sync;
pub use sync::*;
mod vitals;
pub use vitals::*;
mod setup;
pub use setup::*;
mod record;
pub use record::*;
mod share;
pub use share::*;

/// Longest passphrase the shell accepts, in characters.
pub const MAX_PASSPHRASE_CHARS: usize = 1024;

/// A command of the shell: its wire name and its request/response types.
pub trait Command {
    /// The Tauri command's name (the Rust function's name in the shell).
    const NAME: &'static str;
    /// The arguments object; each field is one parameter of the shell's command.
    type Args: Serialize + DeserializeOwned;
    /// What the command answers with when it succeeds.
    type Output: Serialize + DeserializeOwned;
}

/// Arguments of commands that take none (serializes to `{}`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoArgs {}

/// `vault_status`: is there a vault at the configured path, and is it unlocked?
pub struct VaultStatusCmd;
impl Command for VaultStatusCmd {
    const NAME: &'static str = "vault_status";
    type Args = NoArgs;
    type Output = VaultStatus;
}

/// `unlock_with_keyring`: unlock with the key kept in the OS keyring.
pub struct UnlockWithKeyringCmd;
impl Command for UnlockWithKeyringCmd {
    const NAME: &'static str = "unlock_with_keyring";
    type Args = NoArgs;
    type Output = VaultStatus;
}

/// `unlock_with_passphrase`: unlock with the vault's passphrase.
pub struct UnlockWithPassphraseCmd;
impl Command for UnlockWithPassphraseCmd {
    const NAME: &'static str = "unlock_with_passphrase";
    type Args = UnlockWithPassphraseArgs;
    type Output = VaultStatus;
}

/// `lock`: close the vault and forget its key.
pub struct LockCmd;
impl Command for LockCmd {
    const NAME: &'static str = "lock";
    type Args = NoArgs;
    type Output = VaultStatus;
}

/// `add_person`: a new person in the vault (a family member whose record you keep); answers
/// the persons again.
pub struct AddPersonCmd;
impl Command for AddPersonCmd {
    const NAME: &'static str = "add_person";
    type Args = PersonFields;
    type Output = Vec<PersonSummary>;
}

/// `rename_person`: a person's shown name and relationship; answers the persons again.
pub struct RenamePersonCmd;
impl Command for RenamePersonCmd {
    const NAME: &'static str = "rename_person";
    type Args = RenamePersonArgs;
    type Output = Vec<PersonSummary>;
}

/// A person's name and relationship to you.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonFields {
    pub display_name: String,
    /// One of [`RELATIONSHIPS`], or `None`.
    pub relationship: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenamePersonArgs {
    pub person_id: i64,
    pub display_name: String,
    /// `None` keeps the relationship as it is.
    pub relationship: Option<String>,
}

/// The relationships the app offers (`self` is you: entries you make for others name you).
pub const RELATIONSHIPS: &[&str] = &["self", "spouse", "mother", "father", "child", "sibling", "grandparent", "other"];

/// Longest person name, in characters.
pub const MAX_PERSON_NAME_CHARS: usize = 200;

/// Checks a person's name (1–200 characters once trimmed) and relationship (one offered).
pub fn validate_person(display_name: &str, relationship: Option<&str>) -> Result<(), IpcError> {
    let n = display_name.trim().chars().count();
    if n == 0 || n > MAX_PERSON_NAME_CHARS {
        return Err(IpcError::invalid_input(format!("Give the person a name of 1 to {MAX_PERSON_NAME_CHARS} characters.")));
    }
    if relationship.is_some_and(|r| !RELATIONSHIPS.contains(&r)) {
        return Err(IpcError::invalid_input("Choose the relationship from the list."));
    }
    Ok(())
}

/// `person_summaries`: the persons in the unlocked vault with their resource counts.
pub struct PersonSummariesCmd;
impl Command for PersonSummariesCmd {
    const NAME: &'static str = "person_summaries";
    type Args = NoArgs;
    type Output = Vec<PersonSummary>;
}

/// `timeline`: one page of a person's records across all sources, newest first.
pub struct TimelineCmd;
impl Command for TimelineCmd {
    const NAME: &'static str = "timeline";
    type Args = TimelineArgs;
    type Output = TimelinePage;
}

/// `search`: full-text search in one person's records (Japanese matches inside words).
pub struct SearchCmd;
impl Command for SearchCmd {
    const NAME: &'static str = "search";
    type Args = SearchArgs;
    type Output = Vec<RecordRow>;
}

/// `record`: one record with its sources, versions and JSON.
pub struct RecordCmd;
impl Command for RecordCmd {
    const NAME: &'static str = "record";
    type Args = RecordArgs;
    type Output = RecordView;
}

/// `keep_alive`: the person is using the window; postpones the auto-lock and answers the status.
pub struct KeepAliveCmd;
impl Command for KeepAliveCmd {
    const NAME: &'static str = "keep_alive";
    type Args = NoArgs;
    type Output = VaultStatus;
}

/// Largest page the shell sends at once: lists are paged, never shipped whole.
pub const MAX_PAGE: u32 = 200;
/// Longest search text, in characters.
pub const MAX_SEARCH_CHARS: usize = 200;

/// Every command's wire name: the shell registers exactly these and the capability allows
/// exactly these (the shell's build script feeds this list to `tauri_build`).
pub const COMMAND_NAMES: &[&str] = &[
    VaultStatusCmd::NAME,
    UnlockWithKeyringCmd::NAME,
    UnlockWithPassphraseCmd::NAME,
    LockCmd::NAME,
    PersonSummariesCmd::NAME,
    TimelineCmd::NAME,
    SearchCmd::NAME,
    RecordCmd::NAME,
    KeepAliveCmd::NAME,
    AddPersonCmd::NAME,
    RenamePersonCmd::NAME,
    EndpointsCmd::NAME,
    AddDemoHospitalCmd::NAME,
    AddEndpointCmd::NAME,
    BeginSignInCmd::NAME,
    SignOutCmd::NAME,
    SyncNowCmd::NAME,
    SyncStatusCmd::NAME,
    SetSyncIntervalCmd::NAME,
    VitalKindsCmd::NAME,
    AddVitalCmd::NAME,
    VitalsCmd::NAME,
    AddDiaryCmd::NAME,
    DiariesCmd::NAME,
    DiaryOptionsCmd::NAME,
    BpHandbookCmd::NAME,
    SetBpTargetCmd::NAME,
    DeleteEntryCmd::NAME,
    ConsentGetCmd::NAME,
    ConsentChangeCmd::NAME,
    AuditListCmd::NAME,
    AuditVerifyCmd::NAME,
    ResearchStatusCmd::NAME,
    RecordSourcesCmd::NAME,
    RecordVersionCmd::NAME,
    LabTestsCmd::NAME,
    LabResultsCmd::NAME,
    // First run, import, settings (setup.rs).
    GenerateRecoveryKeyCmd::NAME,
    CreateVaultCmd::NAME,
    StartImportCmd::NAME,
    ImportStatusCmd::NAME,
    AppSettingsCmd::NAME,
    SetAppSettingsCmd::NAME,
    // Sharing and the package viewer (share.rs).
    ShareCreateCmd::NAME,
    ShareSummaryCmd::NAME,
    PackageOpenCmd::NAME,
    PackageSummaryCmd::NAME,
    PackageRowsCmd::NAME,
    PackageResourceCmd::NAME,
    PackageCloseCmd::NAME,
    PackageKeepCmd::NAME,
];

/// Arguments of `unlock_with_passphrase`.
///
/// The shell moves the passphrase into a `secrecy::SecretString` as soon as it arrives.
/// `Debug` is written by hand so that it never prints the passphrase.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnlockWithPassphraseArgs {
    pub passphrase: String,
}

impl fmt::Debug for UnlockWithPassphraseArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnlockWithPassphraseArgs")
            .field("passphrase", &"[redacted]")
            .finish()
    }
}

/// The state of the configured vault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VaultStatus {
    /// The vault folder the shell uses (from `TECHO_VAULT` or the platform default);
    /// `None` when no default location can be determined.
    pub vault_path: Option<String>,
    /// Whether a vault exists at that path.
    pub exists: bool,
    /// Whether this app currently holds the vault unlocked.
    pub unlocked: bool,
    /// The vault locks itself after this many seconds without use.
    pub auto_lock_seconds: u64,
}

/// One person of the vault with the number of resources attached to them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonSummary {
    pub id: i64,
    pub display_name: String,
    pub relationship: Option<String>,
    /// Who shared this record into the vault (a family member's record kept from packages).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_by: Option<String>,
    pub resource_count: u64,
    /// Resource counts by FHIR resource type, e.g. `("Observation", 1200)`.
    pub by_type: Vec<TypeCount>,
}

/// The number of resources of one FHIR resource type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypeCount {
    pub resource_type: String,
    pub count: u64,
}

/// Where a timeline page ends: the last row's date and record id (keyset paging).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineCursor {
    pub clinical_date: Option<String>,
    pub record_id: i64,
}

/// Arguments of `timeline`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineArgs {
    pub person_id: i64,
    /// The page after this cursor; `None` for the newest page.
    pub after: Option<TimelineCursor>,
    /// 1 ..= [`MAX_PAGE`].
    pub limit: u32,
    /// Category, source and days (`record.rs`); `None`: the whole record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<TimelineFilter>,
}

/// A page of the timeline, and the cursor of the next page when there is one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelinePage {
    pub rows: Vec<RecordRow>,
    pub next: Option<TimelineCursor>,
}

/// One record in a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordRow {
    pub record_id: i64,
    pub resource_type: String,
    /// A short label (the code's text, a medication, a document title…).
    pub display: Option<String>,
    /// A sortable UTC instant, `YYYY-MM-DDTHH:MM:SSZ`.
    pub clinical_date: Option<String>,
    pub status: Option<String>,
    /// The facility, endpoint or file the current version came from.
    pub source: String,
    pub version: i64,
}

/// Arguments of `search`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchArgs {
    pub person_id: i64,
    /// Whitespace-separated terms, all of which must match; at most [`MAX_SEARCH_CHARS`].
    pub text: String,
    /// 1 ..= [`MAX_PAGE`].
    pub limit: u32,
}

/// Arguments of `record`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordArgs {
    pub record_id: i64,
}

/// One record in full: the list row, its JSON (pretty-printed), where it came from, versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordView {
    pub row: RecordRow,
    pub json: String,
    pub sources: Vec<SourceEntry>,
    /// Earlier versions kept (the current one is `row.version`).
    pub earlier_versions: u32,
    /// Those earlier versions, oldest first (each opens with `record_version`).
    #[serde(default)]
    pub versions: Vec<VersionEntry>,
}

/// One source that sent a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceEntry {
    pub source: String,
    pub kind: String,
    pub version_id: Option<String>,
    pub received_at: String,
}

/// Checks a page size.
pub fn validate_limit(limit: u32) -> Result<(), IpcError> {
    if limit == 0 || limit > MAX_PAGE {
        return Err(IpcError::invalid_input(format!("Ask for 1 to {MAX_PAGE} records at a time.")));
    }
    Ok(())
}

/// Checks a search text: something to look for, not too long.
pub fn validate_search(text: &str) -> Result<(), IpcError> {
    if text.trim().is_empty() {
        return Err(IpcError::invalid_input("Type something to search for."));
    }
    if text.chars().count() > MAX_SEARCH_CHARS {
        return Err(IpcError::invalid_input(format!("Search for at most {MAX_SEARCH_CHARS} characters at a time.")));
    }
    Ok(())
}

/// Why a command failed. The wire names (snake_case) are stable: the UI and tests branch on
/// them, so never rename one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    WrongPassphrase,
    NotAVault,
    PlaintextDatabase,
    Corrupt,
    NewerVersion,
    Locked,
    NoVault,
    KeyringUnavailable,
    InvalidInput,
    /// The FHIR server could not be added (unreachable, not FHIR, no usable sign-in).
    EndpointUnusable,
    /// A sign-in could not start or finish.
    SignInFailed,
    NotFound,
    Internal,
}

impl ErrorCode {
    /// All codes, in declaration order.
    pub const ALL: [ErrorCode; 13] = [
        ErrorCode::WrongPassphrase,
        ErrorCode::NotAVault,
        ErrorCode::PlaintextDatabase,
        ErrorCode::Corrupt,
        ErrorCode::NewerVersion,
        ErrorCode::Locked,
        ErrorCode::NoVault,
        ErrorCode::KeyringUnavailable,
        ErrorCode::InvalidInput,
        ErrorCode::EndpointUnusable,
        ErrorCode::SignInFailed,
        ErrorCode::NotFound,
        ErrorCode::Internal,
    ];

    /// The wire name (identical to the serde representation).
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::WrongPassphrase => "wrong_passphrase",
            ErrorCode::NotAVault => "not_a_vault",
            ErrorCode::PlaintextDatabase => "plaintext_database",
            ErrorCode::Corrupt => "corrupt",
            ErrorCode::NewerVersion => "newer_version",
            ErrorCode::Locked => "locked",
            ErrorCode::NoVault => "no_vault",
            ErrorCode::KeyringUnavailable => "keyring_unavailable",
            ErrorCode::InvalidInput => "invalid_input",
            ErrorCode::EndpointUnusable => "endpoint_unusable",
            ErrorCode::SignInFailed => "sign_in_failed",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Internal => "internal",
        }
    }

    /// Parses a wire name, e.g. the one `techo_core::Error::code()` gives. Unknown names map
    /// to [`ErrorCode::Internal`] so that a new core code can never crash the UI contract.
    pub fn from_code(code: &str) -> ErrorCode {
        ErrorCode::ALL
            .into_iter()
            .find(|c| c.as_str() == code)
            .unwrap_or(ErrorCode::Internal)
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error every command returns: a stable code and one plain sentence saying what to do.
/// The message never holds debug output, paths of secrets, keys or health data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpcError {
    pub code: ErrorCode,
    pub message: String,
}

impl IpcError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        IpcError {
            code,
            message: message.into(),
        }
    }

    pub fn invalid_input(message: impl Into<String>) -> Self {
        IpcError::new(ErrorCode::InvalidInput, message)
    }

    pub fn locked() -> Self {
        IpcError::new(ErrorCode::Locked, "The vault is locked. Unlock it first.")
    }

    pub fn internal() -> Self {
        IpcError::new(
            ErrorCode::Internal,
            "Something went wrong inside Techo. Please try again; if it keeps happening, restart the app.",
        )
    }
}

impl fmt::Display for IpcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for IpcError {}

/// Makes a message read as a sentence: first letter upper-case, ends with `.`, `!` or `?`.
/// (The core writes `the vault is locked; unlock it first`; the UI shows
/// `The vault is locked; unlock it first.`)
pub fn as_sentence(message: &str) -> String {
    let message = message.trim();
    let mut chars = message.chars();
    let mut out: String = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => return String::new(),
    };
    if !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}

/// Checks a passphrase the way the shell does: not empty, at most [`MAX_PASSPHRASE_CHARS`]
/// characters. Shared so that the UI can say the same thing before sending it.
pub fn validate_passphrase(passphrase: &str) -> Result<(), IpcError> {
    if passphrase.is_empty() {
        return Err(IpcError::invalid_input("Enter your passphrase."));
    }
    if passphrase.chars().count() > MAX_PASSPHRASE_CHARS {
        return Err(IpcError::invalid_input(format!(
            "That passphrase is too long: use at most {MAX_PASSPHRASE_CHARS} characters."
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn round_trip<T: Serialize + DeserializeOwned + PartialEq + fmt::Debug>(value: &T) -> Value {
        let wire = serde_json::to_value(value).unwrap();
        let back: T = serde_json::from_value(wire.clone()).unwrap();
        assert_eq!(&back, value);
        wire
    }

    /// Fails when a code's wire name changes: the UI, tests and logs rely on these spellings.
    #[test]
    fn paging_and_search_inputs_are_checked() {
        assert!(validate_limit(0).is_err());
        assert!(validate_limit(MAX_PAGE + 1).is_err());
        assert!(validate_limit(100).is_ok());
        assert_eq!(validate_search("  ").unwrap_err().code, ErrorCode::InvalidInput);
        assert!(validate_search(&"血".repeat(MAX_SEARCH_CHARS + 1)).is_err());
        assert!(validate_search("血圧").is_ok());
        let args = TimelineArgs { person_id: 1, after: Some(TimelineCursor { clinical_date: None, record_id: 9 }), limit: 50, filter: None };
        assert_eq!(round_trip(&args), json!({"person_id": 1, "after": {"clinical_date": null, "record_id": 9}, "limit": 50}));
    }

    #[test]
    fn error_code_wire_names_are_stable() {
        let expected = [
            (ErrorCode::WrongPassphrase, "wrong_passphrase"),
            (ErrorCode::NotAVault, "not_a_vault"),
            (ErrorCode::PlaintextDatabase, "plaintext_database"),
            (ErrorCode::Corrupt, "corrupt"),
            (ErrorCode::NewerVersion, "newer_version"),
            (ErrorCode::Locked, "locked"),
            (ErrorCode::NoVault, "no_vault"),
            (ErrorCode::KeyringUnavailable, "keyring_unavailable"),
            (ErrorCode::InvalidInput, "invalid_input"),
            (ErrorCode::EndpointUnusable, "endpoint_unusable"),
            (ErrorCode::SignInFailed, "sign_in_failed"),
            (ErrorCode::NotFound, "not_found"),
            (ErrorCode::Internal, "internal"),
        ];
        assert_eq!(expected.len(), ErrorCode::ALL.len());
        for (code, name) in expected {
            assert_eq!(serde_json::to_value(code).unwrap(), json!(name));
            assert_eq!(code.as_str(), name);
            assert_eq!(code.to_string(), name);
            assert_eq!(ErrorCode::from_code(name), code);
            assert_eq!(
                serde_json::from_value::<ErrorCode>(json!(name)).unwrap(),
                code
            );
        }
    }

    #[test]
    fn unknown_code_maps_to_internal() {
        assert_eq!(ErrorCode::from_code("no_such_code"), ErrorCode::Internal);
        assert!(serde_json::from_value::<ErrorCode>(json!("no_such_code")).is_err());
    }

    #[test]
    fn ipc_error_round_trip_and_shape() {
        let err = IpcError::new(ErrorCode::WrongPassphrase, "That passphrase is not right.");
        let wire = round_trip(&err);
        assert_eq!(
            wire,
            json!({"code": "wrong_passphrase", "message": "That passphrase is not right."})
        );
    }

    #[test]
    fn requests_and_responses_round_trip() {
        assert_eq!(round_trip(&NoArgs {}), json!({}));
        let args = UnlockWithPassphraseArgs {
            passphrase: "p".into(),
        };
        assert_eq!(round_trip(&args), json!({"passphrase": "p"}));
        round_trip(&VaultStatus {
            vault_path: Some("/v".into()),
            exists: true,
            unlocked: false,
            auto_lock_seconds: 600,
        });
        round_trip(&VaultStatus {
            vault_path: None,
            exists: false,
            unlocked: false,
            auto_lock_seconds: 1,
        });
        let persons = vec![PersonSummary {
            id: 1,
            display_name: "A".into(),
            relationship: Some("self".into()),
            shared_by: None,
            resource_count: 3,
            by_type: vec![
                TypeCount {
                    resource_type: "Observation".into(),
                    count: 2,
                },
                TypeCount {
                    resource_type: "Condition".into(),
                    count: 1,
                },
            ],
        }];
        let wire = round_trip(&persons);
        assert_eq!(
            wire[0]["by_type"][0],
            json!({"resource_type": "Observation", "count": 2})
        );
    }

    #[test]
    fn debug_never_shows_the_passphrase() {
        let args = UnlockWithPassphraseArgs {
            passphrase: "hunter2-secret".into(),
        };
        assert!(!format!("{args:?}").contains("hunter2"));
    }

    #[test]
    fn command_names_are_unique_snake_case() {
        let mut names = COMMAND_NAMES.to_vec();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), COMMAND_NAMES.len());
        for n in COMMAND_NAMES {
            assert!(n.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{n}");
        }
    }

    #[test]
    fn messages_become_sentences() {
        assert_eq!(
            as_sentence("the vault is locked; unlock it first"),
            "The vault is locked; unlock it first."
        );
        assert_eq!(as_sentence("Done."), "Done.");
        assert_eq!(as_sentence("  über alles? "), "Über alles?");
        assert_eq!(as_sentence("/v is not a vault"), "/v is not a vault.");
        assert_eq!(as_sentence(""), "");
    }

    #[test]
    fn passphrase_validation() {
        assert_eq!(
            validate_passphrase("").unwrap_err().code,
            ErrorCode::InvalidInput
        );
        assert!(validate_passphrase("x").is_ok());
        let max: String = "あ".repeat(MAX_PASSPHRASE_CHARS);
        assert!(
            validate_passphrase(&max).is_ok(),
            "the limit counts characters, not bytes"
        );
        let long: String = "a".repeat(MAX_PASSPHRASE_CHARS + 1);
        assert_eq!(
            validate_passphrase(&long).unwrap_err().code,
            ErrorCode::InvalidInput
        );
    }

    #[test]
    fn person_fields_are_checked() {
        assert!(validate_person("山田 花子", Some("mother")).is_ok());
        assert!(validate_person(" 太郎 ", None).is_ok());
        assert!(validate_person("   ", None).is_err(), "a name of spaces");
        assert!(validate_person(&"名".repeat(MAX_PERSON_NAME_CHARS + 1), None).is_err());
        assert!(validate_person(&"名".repeat(MAX_PERSON_NAME_CHARS), None).is_ok(), "characters, not bytes");
        assert!(validate_person("Taro", Some("boss")).is_err());
        for r in RELATIONSHIPS {
            assert!(validate_person("Taro", Some(r)).is_ok());
        }
    }
}
