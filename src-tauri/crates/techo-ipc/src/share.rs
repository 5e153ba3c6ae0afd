//! Sharing (issue 7): making an encrypted share package of a person's record (a summary or
//! records), the printable summary, and the read-only viewer of a package someone shared.
//!
//! The viewer needs no vault: the package is opened in the shell's memory, only what the
//! window shows crosses IPC (the summary's HTML, pages of rows, one resource's JSON), and
//! closing the viewer forgets it. Links and passcodes have redacted `Debug`.

use crate::{Command, NoArgs};
use serde::{Deserialize, Serialize};
use std::fmt;

/// `share_create`: makes a package (through consent and the audit), saves it where the person
/// chooses (a native dialog, or `TECHO_SHARE_DIR` in tests) and answers its link.
pub struct ShareCreateCmd;
impl Command for ShareCreateCmd {
    const NAME: &'static str = "share_create";
    type Args = ShareCreateArgs;
    type Output = ShareCreated;
}

/// `share_summary`: the printable summary of a person's own record (personal use, audited).
pub struct ShareSummaryCmd;
impl Command for ShareSummaryCmd {
    const NAME: &'static str = "share_summary";
    type Args = ShareSummaryArgs;
    type Output = SummaryHtml;
}

/// `package_open`: the viewer opens a package (a native dialog picks the file, or
/// `TECHO_PACKAGE_FILE`) with its link and passcode. No vault needed.
pub struct PackageOpenCmd;
impl Command for PackageOpenCmd {
    const NAME: &'static str = "package_open";
    type Args = PackageOpenArgs;
    type Output = PackageView;
}

/// `package_summary`: the open package's summary in another language.
pub struct PackageSummaryCmd;
impl Command for PackageSummaryCmd {
    const NAME: &'static str = "package_summary";
    type Args = PackageSummaryArgs;
    type Output = SummaryHtml;
}

/// `package_rows`: a page of the open package's resources.
pub struct PackageRowsCmd;
impl Command for PackageRowsCmd {
    const NAME: &'static str = "package_rows";
    type Args = PackageRowsArgs;
    type Output = PackageRows;
}

/// `package_resource`: one resource of the open package, as JSON text.
pub struct PackageResourceCmd;
impl Command for PackageResourceCmd {
    const NAME: &'static str = "package_resource";
    type Args = PackageResourceArgs;
    type Output = String;
}

/// `package_close`: the viewer forgets the package.
pub struct PackageCloseCmd;
impl Command for PackageCloseCmd {
    const NAME: &'static str = "package_close";
    type Args = NoArgs;
    type Output = ();
}

/// `package_keep`: a caregiver keeps the open package in the (unlocked) vault, as a family
/// member "shared by …"; a newer package from the same person updates it.
pub struct PackageKeepCmd;
impl Command for PackageKeepCmd {
    const NAME: &'static str = "package_keep";
    type Args = NoArgs;
    type Output = PackageKept;
}

/// Who gets a package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ShareRecipient {
    /// A provider (facility name), for treatment.
    Provider { facility: String },
    /// A caregiver, by the id of their grant (what the grant allows).
    Caregiver { grant_id: String },
}

/// What a package holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ShareContent {
    /// The International Patient Summary (a FHIR document), for a clinician.
    #[default]
    Summary,
    /// The Japanese summary of the six shared items (傷病名, アレルギー, 感染症, 薬剤禁忌, 検査, 処方).
    JapaneseSummary,
    /// The records themselves (all, or the chosen kinds and dates), e.g. for a caregiver.
    Records,
}

/// Arguments of `share_create`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareCreateArgs {
    pub person_id: i64,
    pub recipient: ShareRecipient,
    pub content: ShareContent,
    /// Only these kinds of records (category slugs of [`crate::RecordCategory`]); empty: all.
    #[serde(default)]
    pub categories: Vec<String>,
    /// Only records dated from / up to (`YYYY-MM-DD`).
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Option<String>,
    /// The language of the summary (`en`, `ja`).
    pub lang: String,
    /// A short description for the recipient (at most 80 characters).
    #[serde(default)]
    pub label: Option<String>,
    /// The link expires after this many days.
    #[serde(default)]
    pub expires_days: Option<u32>,
    /// An optional passcode (at least 6 characters).
    #[serde(default)]
    pub passcode: Option<String>,
    /// Upload the package to this share relay (https://…) instead of saving a file: the link
    /// then points at it and is all the recipient needs. The relay sees only ciphertext.
    #[serde(default)]
    pub relay: Option<String>,
}

impl fmt::Debug for ShareCreateArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShareCreateArgs")
            .field("person_id", &self.person_id)
            .field("recipient", &self.recipient)
            .field("content", &self.content)
            .field("categories", &self.categories)
            .field("expires_days", &self.expires_days)
            .field("passcode", &self.passcode.as_ref().map(|_| "[redacted]"))
            .finish_non_exhaustive()
    }
}

/// A package made.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareCreated {
    /// The `shlink:/…` link: it holds the key; the person hands it over apart from the file.
    pub link: String,
    /// The link as a QR code (an SVG document made by the shell; no record data).
    pub qr_svg: Option<String>,
    /// Where the package was saved (a file, or the relay's address).
    pub saved_to: String,
    /// Records shared and held back by consent.
    pub shared: u64,
    pub held_back: u64,
    pub passcode: bool,
    /// When the link expires (RFC 3339), if it does.
    pub expires: Option<String>,
}

impl fmt::Debug for ShareCreated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShareCreated")
            .field("link", &"[redacted]")
            .field("saved_to", &self.saved_to)
            .field("shared", &self.shared)
            .field("held_back", &self.held_back)
            .finish_non_exhaustive()
    }
}

/// Arguments of `share_summary`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareSummaryArgs {
    pub person_id: i64,
    pub lang: String,
}

/// A printable summary: an HTML fragment made by Techo from structured data only (every value
/// escaped; no script, no links, no remote content), shown as is and printed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SummaryHtml {
    pub html: String,
}

/// Arguments of `package_open`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageOpenArgs {
    /// The SMART Health Link (`shlink:/…` or a viewer URL ending in `#shlink:/…`).
    pub link: String,
    #[serde(default)]
    pub passcode: Option<String>,
    pub lang: String,
}

impl fmt::Debug for PackageOpenArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PackageOpenArgs").field("link", &"[redacted]").field("passcode", &self.passcode.as_ref().map(|_| "[redacted]")).finish()
    }
}

/// An open package, summary first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageView {
    pub file_name: String,
    pub label: Option<String>,
    /// When the link expires (RFC 3339).
    pub expires: Option<String>,
    pub patient: Option<String>,
    /// `document` (a summary) or `collection` (records).
    pub kind: String,
    /// Consent held something back (the package says so, not what).
    pub withheld: bool,
    /// The facilities the records came from.
    pub sources: Vec<String>,
    /// Resources by type, most first.
    pub counts: Vec<(String, u64)>,
    pub total: u64,
    pub summary_html: String,
    /// It is a record package a caregiver can keep in their vault.
    pub keepable: bool,
}

/// Arguments of `package_summary`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageSummaryArgs {
    pub lang: String,
}

/// Arguments of `package_rows`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageRowsArgs {
    pub offset: u32,
    /// 1 ..= [`crate::MAX_PAGE`].
    pub limit: u32,
}

/// One resource of an open package in a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageRow {
    pub index: u32,
    pub resource_type: String,
    pub display: Option<String>,
    pub date: Option<String>,
    pub source: Option<String>,
}

/// A page of rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageRows {
    pub rows: Vec<PackageRow>,
    pub total: u32,
}

/// Arguments of `package_resource`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageResourceArgs {
    pub index: u32,
}

/// What keeping a package did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageKept {
    pub person_id: i64,
    pub new_person: bool,
    pub new: u64,
    pub updated: u64,
    pub unchanged: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_and_passcodes_never_reach_debug_output() {
        let a = ShareCreateArgs {
            person_id: 1,
            recipient: ShareRecipient::Provider { facility: "Sakura".into() },
            content: ShareContent::Summary,
            categories: vec![],
            from: None,
            to: None,
            lang: "ja".into(),
            label: None,
            expires_days: Some(7),
            passcode: Some("secret-pass".into()),
            relay: None,
        };
        assert!(!format!("{a:?}").contains("secret-pass"));
        let c = ShareCreated { link: "shlink:/KEYKEY".into(), qr_svg: None, saved_to: "x".into(), shared: 1, held_back: 0, passcode: false, expires: None };
        assert!(!format!("{c:?}").contains("KEYKEY"));
        let o = PackageOpenArgs { link: "shlink:/KEYKEY".into(), passcode: Some("secret-pass".into()), lang: "en".into() };
        let d = format!("{o:?}");
        assert!(!d.contains("KEYKEY") && !d.contains("secret-pass"));
        let wire = serde_json::to_value(ShareRecipient::Caregiver { grant_id: "g".into() }).unwrap();
        assert_eq!(wire, serde_json::json!({ "kind": "caregiver", "grant_id": "g" }));
    }
}
