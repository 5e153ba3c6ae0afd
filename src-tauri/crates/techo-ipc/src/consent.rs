//! The consent screen's and the audit view's commands: what a person's consent says (provider
//! sharing and its exceptions, caregiver grants, research use), changing it (by the person or a
//! guardian), the audit log (who received what, when, why — never the records themselves),
//! checking the log's hash chain, and the research queue's counts.
//!
//! Plain mirror types of techo-consent's model: dates and times travel as text, ids as `i64`
//! or strings, so this crate stays serde-only.

use crate::{Command, IpcError};
use serde::{Deserialize, Serialize};

/// `consent_get`: a person's consent in force, with its history.
pub struct ConsentGetCmd;
impl Command for ConsentGetCmd {
    const NAME: &'static str = "consent_get";
    type Args = ConsentGetArgs;
    type Output = ConsentView;
}

/// `consent_change`: one change of a person's consent (stored as a new version and audited).
pub struct ConsentChangeCmd;
impl Command for ConsentChangeCmd {
    const NAME: &'static str = "consent_change";
    type Args = ConsentChangeArgs;
    type Output = ConsentChangedView;
}

/// `audit_list`: one page of the audit log, newest first.
pub struct AuditListCmd;
impl Command for AuditListCmd {
    const NAME: &'static str = "audit_list";
    type Args = AuditListArgs;
    type Output = AuditPage;
}

/// `audit_verify`: walks the log's whole hash chain.
pub struct AuditVerifyCmd;
impl Command for AuditVerifyCmd {
    const NAME: &'static str = "audit_verify";
    type Args = crate::NoArgs;
    type Output = AuditVerdict;
}

/// `research_status`: the research queue, counted (the whole vault).
pub struct ResearchStatusCmd;
impl Command for ResearchStatusCmd {
    const NAME: &'static str = "research_status";
    type Args = crate::NoArgs;
    type Output = ResearchStatusView;
}

/// Longest facility name, in characters (as techo-consent).
pub const MAX_FACILITY_CHARS: usize = 200;
/// Longest caregiver or guardian name, in characters.
pub const MAX_CONSENT_NAME_CHARS: usize = 100;
/// Longest caregiver relationship, in characters.
pub const MAX_RELATIONSHIP_CHARS: usize = 40;
/// Longest caregiver id, in characters.
pub const MAX_CAREGIVER_ID_CHARS: usize = 48;

/// The sensitive categories a person can keep from providers: (code, English, Japanese).
/// The codes are techo-consent's stable names (the shell checks they are the same).
pub const CONSENT_CATEGORIES: &[(&str, &str, &str)] = &[
    ("mental_health", "mental health", "精神・心の健康"),
    ("substance_use", "substance use", "アルコール・薬物の使用"),
    ("sexual_health", "sexual health", "性感染症・HIV"),
    ("reproductive", "reproductive health", "妊娠・出産・避妊"),
    ("genetics", "genetics", "遺伝・ゲノム"),
];

/// Caregiver access levels: (code, English, Japanese).
pub const CAREGIVER_ACCESS: &[(&str, &str, &str)] = &[("read_only", "read only", "閲覧のみ"), ("full", "read and write", "閲覧・記入")];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentGetArgs {
    pub person: i64,
}

/// Arguments of `consent_change`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentChangeArgs {
    pub person: i64,
    pub change: ConsentChangeRequest,
    /// A guardian acting for the person (a parent for a child), by name; `None`: the person.
    pub guardian: Option<String>,
}

/// What to change (techo-consent's `ConsentChange`, with dates as `YYYY-MM-DD` text).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentChangeRequest {
    /// Do not share with this facility.
    DenyFacility { name: String },
    /// Do not share records of this category (a code of [`CONSENT_CATEGORIES`]).
    DenyCategory { category: String },
    /// Do not share records dated in this period (`YYYY-MM-DD`, both ends included).
    DenyPeriod { from: String, to: String },
    /// Do not share this record (the vault's record id).
    DenyRecord { record_id: i64 },
    /// Remove a sharing exception by its id (`x1`, …).
    RemoveException { id: String },
    /// Give a caregiver access from now.
    GrantCaregiver {
        /// `[a-z0-9-]`, 1–48 characters, not starting or ending with `-`.
        id: String,
        display_name: String,
        relationship: String,
        /// `read_only` or `full`.
        access: String,
        /// Access ends after this local day (`YYYY-MM-DD`); `None`: no end.
        expires_on: Option<String>,
    },
    /// End a caregiver's access now.
    RevokeCaregiver { id: String },
    /// No research copies from now on (the copies not yet sent are withdrawn).
    ResearchOptOut,
    /// Research copies again, of records that arrive from now on.
    ResearchOptIn,
}

/// A person's consent in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentView {
    pub person: i64,
    /// Provider sharing is permitted except for these, in the order added.
    pub exceptions: Vec<ExceptionView>,
    /// Caregiver grants, including revoked and expired ones, in grant order.
    pub caregivers: Vec<CaregiverView>,
    pub research: ResearchView,
    /// Every change, newest first.
    pub history: Vec<ConsentHistoryRow>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExceptionView {
    /// `x1`, `x2`, … (never reused).
    pub id: String,
    /// `facility`, `category`, `period` or `record`.
    pub kind: String,
    /// In words: `do not share mental health records`.
    pub description_en: String,
    /// 日本語で: `精神・心の健康の記録は共有しない`.
    pub description_ja: String,
    /// RFC 3339, UTC.
    pub added_at: String,
    /// `the person` or `guardian <name>`.
    pub by: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaregiverView {
    pub id: String,
    pub display_name: String,
    pub relationship: String,
    /// `read_only` or `full`.
    pub access: String,
    /// `active`, `expired`, `revoked` or `not_yet_active`.
    pub state: String,
    pub granted_at: String,
    pub expires_at: Option<String>,
    pub revoked_at: Option<String>,
    pub granted_by: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResearchView {
    /// Whether pseudonymised research copies may be made now.
    pub permitted: bool,
    /// When the last research choice was made (RFC 3339); `None`: never (permitted by default).
    pub changed_at: Option<String>,
    /// Days a record waits before it may be copied.
    pub delay_days: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentHistoryRow {
    pub version: i64,
    /// What changed, in words (English).
    pub change: String,
    pub changed_at: String,
}

/// What `consent_change` did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentChangedView {
    pub version: i64,
    /// What changed, in words.
    pub change: String,
    /// Research copies made but not yet sent that an opt-out withdrew.
    pub withdrawn: u64,
    /// The consent now.
    pub consent: ConsentView,
}

/// Arguments of `audit_list`: the page of at most `limit` entries before `before_seq`
/// (`None`: the newest), one person's or everyone's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditListArgs {
    pub person: Option<i64>,
    pub before_seq: Option<i64>,
    /// 1 ..= [`crate::MAX_PAGE`].
    pub limit: u32,
}

/// A page of the audit log, newest first; `next_before` asks for the older page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub rows: Vec<AuditRow>,
    pub next_before: Option<i64>,
}

/// One audit entry in words: who got what, when and why. No record content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRow {
    pub seq: i64,
    pub recorded_at: String,
    pub person: Option<i64>,
    /// `export`, `share`, `caregiver-view`, `research-copy`, `research-send`, `consent-change`.
    pub kind: String,
    /// Who received it (or `the vault` for a consent change).
    pub recipient: String,
    /// Counts for a disclosure (`3 disclosed, 1 held back by consent`); `None` for a change.
    pub what: Option<String>,
    /// Why, in words (for a consent change: the change).
    pub why: String,
    /// The purpose code (`TREAT`, `HRESCH`, `PATADMIN`, …).
    pub purpose: String,
}

/// The result of `audit_verify`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditVerdict {
    pub entries: u64,
    pub ok: bool,
    /// The first problem: the entry's number and what is wrong.
    pub problem: Option<AuditProblem>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditProblem {
    pub seq: i64,
    pub what: String,
}

/// The research queue, counted over the whole vault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResearchStatusView {
    /// Copies made, waiting to be sent.
    pub pending: u64,
    pub sent: u64,
    pub failed: u64,
    /// Copies an opt-out withdrew (never sent).
    pub withdrawn: u64,
    pub delay_days: i64,
}

/// English and Japanese words for an audit entry's kind.
pub fn audit_kind_label(kind: &str) -> (&'static str, &'static str) {
    match kind {
        "export" => ("Export", "書き出し"),
        "share" => ("Shared with a provider", "医療機関への共有"),
        "caregiver-view" => ("Caregiver view", "介護者・家族の閲覧"),
        "research-copy" => ("Research copy", "研究用コピー作成"),
        "research-send" => ("Research send", "研究用コピー送信"),
        "consent-change" => ("Consent change", "同意の変更"),
        _ => ("Other", "その他"),
    }
}

fn too_long(what: &str, max: usize) -> IpcError {
    IpcError::invalid_input(format!("The {what} is too long: use at most {max} characters."))
}

/// Checks a name-like text: not empty once trimmed, at most `max` characters.
fn check_text(text: &str, what: &str, max: usize) -> Result<(), IpcError> {
    let n = text.trim().chars().count();
    if n == 0 {
        return Err(IpcError::invalid_input(format!("The {what} is empty: enter it.")));
    }
    if n > max {
        return Err(too_long(what, max));
    }
    Ok(())
}

/// Checks a caregiver id: `[a-z0-9-]{1,48}`, not starting or ending with `-`.
pub fn validate_caregiver_id(id: &str) -> Result<(), IpcError> {
    let ok = !id.is_empty()
        && id.len() <= MAX_CAREGIVER_ID_CHARS
        && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !id.starts_with('-')
        && !id.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(IpcError::invalid_input(format!(
            "Give the caregiver an id of 1 to {MAX_CAREGIVER_ID_CHARS} characters of a-z, 0-9 and '-' (for example hanako-daughter), not starting or ending with '-'."
        )))
    }
}

/// Checks a `YYYY-MM-DD` date's shape and that the day exists (leap years included).
pub fn validate_date(s: &str) -> Result<(), IpcError> {
    let bad = || IpcError::invalid_input("Give the date as year-month-day (for example 2026-04-01).");
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| r.into_iter().all(|i| b.get(i).is_some_and(|c| c.is_ascii_digit()));
    if !(b.len() == 10 && digits(0..4) && b[4] == b'-' && digits(5..7) && b[7] == b'-' && digits(8..10)) {
        return Err(bad());
    }
    let num = |r: std::ops::Range<usize>| s[r].parse::<u32>().unwrap_or(0);
    let (y, m, d) = (num(0..4), num(5..7), num(8..10));
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return Err(bad()),
    };
    if y == 0 || d == 0 || d > days {
        return Err(IpcError::invalid_input("That date does not exist: check the month and the day."));
    }
    Ok(())
}

/// Checks the guardian's name when one is given.
pub fn validate_guardian(guardian: Option<&str>) -> Result<(), IpcError> {
    match guardian {
        None => Ok(()),
        Some(g) => check_text(g, "guardian's name", MAX_CONSENT_NAME_CHARS),
    }
}

/// Checks a consent change before it is sent (and again in the shell; the core checks the
/// rest: duplicates, unknown ids, an expiry in the past).
pub fn validate_consent_change(change: &ConsentChangeRequest) -> Result<(), IpcError> {
    match change {
        ConsentChangeRequest::DenyFacility { name } => check_text(name, "facility name", MAX_FACILITY_CHARS),
        ConsentChangeRequest::DenyCategory { category } => {
            if CONSENT_CATEGORIES.iter().any(|(c, _, _)| c == category) {
                Ok(())
            } else {
                Err(IpcError::invalid_input("Choose the category from the list."))
            }
        }
        ConsentChangeRequest::DenyPeriod { from, to } => {
            validate_date(from)?;
            validate_date(to)?;
            // Same-width ISO dates compare as text.
            if from > to {
                return Err(IpcError::invalid_input("The period starts after it ends: choose a start on or before the end."));
            }
            Ok(())
        }
        ConsentChangeRequest::DenyRecord { record_id } => {
            if *record_id > 0 {
                Ok(())
            } else {
                Err(IpcError::invalid_input("Give the record's number (a whole number above 0)."))
            }
        }
        ConsentChangeRequest::RemoveException { id } | ConsentChangeRequest::RevokeCaregiver { id } => {
            if !id.is_empty() && id.len() <= MAX_CAREGIVER_ID_CHARS && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
                Ok(())
            } else {
                Err(IpcError::invalid_input("That id is not one of this person's: reload the consent settings."))
            }
        }
        ConsentChangeRequest::GrantCaregiver { id, display_name, relationship, access, expires_on } => {
            validate_caregiver_id(id)?;
            check_text(display_name, "caregiver's name", MAX_CONSENT_NAME_CHARS)?;
            check_text(relationship, "relationship", MAX_RELATIONSHIP_CHARS)?;
            if !CAREGIVER_ACCESS.iter().any(|(a, _, _)| a == access) {
                return Err(IpcError::invalid_input("Choose read only or read and write."));
            }
            if let Some(d) = expires_on {
                validate_date(d)?;
            }
            Ok(())
        }
        ConsentChangeRequest::ResearchOptOut | ConsentChangeRequest::ResearchOptIn => Ok(()),
    }
}

/// Checks `audit_list`'s arguments.
pub fn validate_audit_list(args: &AuditListArgs) -> Result<(), IpcError> {
    crate::validate_limit(args.limit)?;
    if args.before_seq.is_some_and(|s| s < 1) {
        return Err(IpcError::invalid_input("Ask for entries before entry 1 or later."));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;
    use serde_json::json;

    fn grant(id: &str, name: &str, rel: &str, access: &str, expires: Option<&str>) -> ConsentChangeRequest {
        ConsentChangeRequest::GrantCaregiver {
            id: id.into(),
            display_name: name.into(),
            relationship: rel.into(),
            access: access.into(),
            expires_on: expires.map(Into::into),
        }
    }

    #[test]
    fn caregiver_ids_are_slugs() {
        for ok in ["a", "hanako-daughter", "cm-2", &"a".repeat(MAX_CAREGIVER_ID_CHARS)] {
            assert!(validate_caregiver_id(ok).is_ok(), "{ok}");
        }
        for bad in ["", "-a", "a-", "Hanako", "hana ko", "花子", "a_b", &"a".repeat(MAX_CAREGIVER_ID_CHARS + 1)] {
            assert_eq!(validate_caregiver_id(bad).map_err(|e| e.code), Err(ErrorCode::InvalidInput), "{bad}");
        }
    }

    #[test]
    fn dates_are_real_days() {
        for ok in ["2026-04-01", "2024-02-29", "2000-02-29", "1999-12-31"] {
            assert!(validate_date(ok).is_ok(), "{ok}");
        }
        for bad in ["", "2026-4-1", "2026/04/01", "2026-02-29", "1900-02-29", "2026-13-01", "2026-00-10", "2026-04-31", "2026-04-00", "0000-01-01", "２０２６-04-01", "2026-04-01T00:00"] {
            assert!(validate_date(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn consent_changes_are_checked_before_they_are_sent() {
        use ConsentChangeRequest as C;
        let ok = [
            C::DenyFacility { name: " さくら病院 ".into() },
            C::DenyCategory { category: "mental_health".into() },
            C::DenyPeriod { from: "2024-01-01".into(), to: "2024-01-01".into() },
            C::DenyRecord { record_id: 7 },
            C::RemoveException { id: "x1".into() },
            C::RevokeCaregiver { id: "hanako".into() },
            grant("hanako", "山田 花子", "娘", "read_only", None),
            grant("cm-1", "Care manager", "care manager", "full", Some("2027-03-31")),
            C::ResearchOptOut,
            C::ResearchOptIn,
        ];
        for c in &ok {
            assert!(validate_consent_change(c).is_ok(), "{c:?}");
        }
        let bad = [
            C::DenyFacility { name: "   ".into() },
            C::DenyFacility { name: "病".repeat(MAX_FACILITY_CHARS + 1) },
            C::DenyCategory { category: "cardiology".into() },
            C::DenyPeriod { from: "2024-02-01".into(), to: "2024-01-31".into() },
            C::DenyPeriod { from: "2024-02-30".into(), to: "2024-03-01".into() },
            C::DenyRecord { record_id: 0 },
            C::RemoveException { id: "".into() },
            C::RemoveException { id: "x1; drop".into() },
            grant("Hanako", "山田 花子", "娘", "read_only", None),
            grant("hanako", " ", "娘", "read_only", None),
            grant("hanako", &"名".repeat(MAX_CONSENT_NAME_CHARS + 1), "娘", "read_only", None),
            grant("hanako", "山田 花子", "", "read_only", None),
            grant("hanako", "山田 花子", &"娘".repeat(MAX_RELATIONSHIP_CHARS + 1), "read_only", None),
            grant("hanako", "山田 花子", "娘", "admin", None),
            grant("hanako", "山田 花子", "娘", "full", Some("next year")),
        ];
        for c in &bad {
            assert_eq!(validate_consent_change(c).map_err(|e| e.code), Err(ErrorCode::InvalidInput), "{c:?}");
        }
        assert!(validate_consent_change(&C::DenyFacility { name: "病".repeat(MAX_FACILITY_CHARS) }).is_ok(), "characters, not bytes");
        assert!(validate_guardian(None).is_ok() && validate_guardian(Some("山田 太郎")).is_ok());
        assert!(validate_guardian(Some("  ")).is_err() && validate_guardian(Some(&"名".repeat(MAX_CONSENT_NAME_CHARS + 1))).is_err());
    }

    #[test]
    fn audit_pages_are_bounded() {
        assert!(validate_audit_list(&AuditListArgs { person: None, before_seq: None, limit: 50 }).is_ok());
        assert!(validate_audit_list(&AuditListArgs { person: Some(1), before_seq: Some(10), limit: crate::MAX_PAGE }).is_ok());
        assert!(validate_audit_list(&AuditListArgs { person: None, before_seq: None, limit: 0 }).is_err());
        assert!(validate_audit_list(&AuditListArgs { person: None, before_seq: None, limit: crate::MAX_PAGE + 1 }).is_err());
        assert!(validate_audit_list(&AuditListArgs { person: None, before_seq: Some(0), limit: 10 }).is_err());
    }

    #[test]
    fn wire_shapes_are_stable() {
        let args = ConsentChangeArgs { person: 1, change: ConsentChangeRequest::DenyCategory { category: "genetics".into() }, guardian: None };
        let v = serde_json::to_value(&args).unwrap();
        assert_eq!(v, json!({"person": 1, "change": {"deny_category": {"category": "genetics"}}, "guardian": null}));
        assert_eq!(serde_json::from_value::<ConsentChangeArgs>(v).unwrap(), args);
        let out = serde_json::to_value(ConsentChangeRequest::ResearchOptOut).unwrap();
        assert_eq!(out, json!("research_opt_out"));
        let g = serde_json::to_value(grant("a", "A", "b", "full", Some("2027-01-01"))).unwrap();
        assert_eq!(g["grant_caregiver"]["expires_on"], "2027-01-01");
        let page = AuditListArgs { person: None, before_seq: Some(5), limit: 20 };
        assert_eq!(serde_json::to_value(page).unwrap(), json!({"person": null, "before_seq": 5, "limit": 20}));
    }

    #[test]
    fn every_kind_and_category_has_words_in_both_languages() {
        for k in ["export", "share", "caregiver-view", "research-copy", "research-send", "consent-change"] {
            let (en, ja) = audit_kind_label(k);
            assert!(en != "Other" && !ja.is_empty(), "{k}");
        }
        for (code, en, ja) in CONSENT_CATEGORIES.iter().chain(CAREGIVER_ACCESS) {
            assert!(!code.is_empty() && !en.is_empty() && !ja.is_empty());
        }
    }
}
