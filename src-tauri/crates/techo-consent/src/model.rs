//! The stored consent model: [`ConsentState`] and its parts.
//!
//! Everything here is serialized as JSON by the storage crate, so **field names, enum variant
//! names and their shapes are a stable format** (see `tests/format.rs`). Enums are externally
//! tagged (`"person"`, `{"guardian": {"name": "…"}}`): internally tagged enums do not
//! round-trip numbers with the workspace's `serde_json/arbitrary_precision` feature.

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// A sensitive category of health information that a person can keep from their providers.
///
/// The serialized names (`mental_health`, …) are stable. [`crate::classify()`] derives the
/// categories of a FHIR resource; [`Category::security_labels`] gives the HL7 v3 sensitivity
/// codes used in FHIR `Consent.provision.securityLabel`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Psychiatric and behavioural health (ICD-10 F00–F09, F20–F99; v3 `PSY`, `BH`).
    MentalHealth,
    /// Alcohol and drug use disorders (ICD-10 F10–F19; v3 `ETH`, `ETHUD`, `OPIOIDUD`).
    SubstanceUse,
    /// Sexually transmitted infections and HIV (ICD-10 A50–A64, B20–B24, Z21; v3 `STD`, `HIV`).
    SexualHealth,
    /// Pregnancy, contraception and fertility (ICD-10 O00–O08, Z30–Z33; v3 `SEX`).
    Reproductive,
    /// Genetic tests and genetic disease (MolecularSequence, genetics Observations; v3 `GDIS`).
    Genetics,
}

impl Category {
    /// Every category, in their stable order.
    pub const ALL: [Category; 5] = [
        Category::MentalHealth,
        Category::SubstanceUse,
        Category::SexualHealth,
        Category::Reproductive,
        Category::Genetics,
    ];

    /// The stable snake_case name (the same as the serialized form).
    pub fn as_str(self) -> &'static str {
        match self {
            Category::MentalHealth => "mental_health",
            Category::SubstanceUse => "substance_use",
            Category::SexualHealth => "sexual_health",
            Category::Reproductive => "reproductive",
            Category::Genetics => "genetics",
        }
    }

    /// English label for people.
    pub fn label_en(self) -> &'static str {
        match self {
            Category::MentalHealth => "mental health",
            Category::SubstanceUse => "substance use",
            Category::SexualHealth => "sexual health",
            Category::Reproductive => "reproductive health",
            Category::Genetics => "genetics",
        }
    }

    /// Japanese label for people.
    pub fn label_ja(self) -> &'static str {
        match self {
            Category::MentalHealth => "精神・心の健康",
            Category::SubstanceUse => "アルコール・薬物の使用",
            Category::SexualHealth => "性感染症・HIV",
            Category::Reproductive => "妊娠・出産・避妊",
            Category::Genetics => "遺伝・ゲノム",
        }
    }

    /// The HL7 v3 `ActCode` information-sensitivity codes (code, display) written for this
    /// category in FHIR (system [`crate::fhir::V3_ACT_CODE`]). The first one is the main one.
    ///
    /// | category | codes |
    /// |---|---|
    /// | MentalHealth | `PSY` psychiatry disorder information sensitivity, `BH` behavioral health information sensitivity |
    /// | SubstanceUse | `ETH` substance abuse information sensitivity |
    /// | SexualHealth | `STD` sexually transmitted disease information sensitivity, `HIV` HIV/AIDS information sensitivity |
    /// | Reproductive | `SEX` sexuality and reproductive health information sensitivity |
    /// | Genetics | `GDIS` genetic disease information sensitivity |
    pub fn security_labels(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Category::MentalHealth => &[
                ("PSY", "psychiatry disorder information sensitivity"),
                ("BH", "behavioral health information sensitivity"),
            ],
            Category::SubstanceUse => &[("ETH", "substance abuse information sensitivity")],
            Category::SexualHealth => &[
                ("STD", "sexually transmitted disease information sensitivity"),
                ("HIV", "HIV/AIDS information sensitivity"),
            ],
            Category::Reproductive => &[("SEX", "sexuality and reproductive health information sensitivity")],
            Category::Genetics => &[("GDIS", "genetic disease information sensitivity")],
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who made a consent decision: the person themself, or a guardian on their behalf (a parent
/// consenting for a child, a legal guardian).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Actor {
    /// The person the record belongs to.
    Person,
    /// A guardian acting for the person.
    Guardian {
        /// The guardian's name as entered.
        name: String,
    },
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::Person => f.write_str("the person"),
            Actor::Guardian { name } => write!(f, "guardian {name}"),
        }
    }
}

/// What a provider-sharing exception refuses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExceptionKind {
    /// Do not share with this facility (the recipient). Names are compared case-insensitively
    /// after trimming; stored trimmed.
    Facility {
        /// The facility's name as the vault knows it.
        name: String,
    },
    /// Do not share records of this category with any provider.
    Category {
        /// The category refused.
        category: Category,
    },
    /// Do not share records whose clinical date falls in this period (both ends inclusive).
    /// A record without a clinical date is not caught.
    Period {
        /// First day refused.
        from: NaiveDate,
        /// Last day refused.
        to: NaiveDate,
    },
    /// Do not share this one record (the vault's record id).
    Record {
        /// The vault's record id.
        record_id: i64,
    },
}

impl ExceptionKind {
    /// Whether two exceptions refuse the same thing (facility names compared normalised).
    pub fn same_as(&self, other: &ExceptionKind) -> bool {
        match (self, other) {
            (ExceptionKind::Facility { name: a }, ExceptionKind::Facility { name: b }) => {
                normalize_facility(a) == normalize_facility(b)
            }
            _ => self == other,
        }
    }

    /// Words for an audit log or a UI (facility names, categories, dates and ids only).
    pub fn describe(&self) -> String {
        match self {
            ExceptionKind::Facility { name } => format!("do not share with facility \"{}\"", name.trim()),
            ExceptionKind::Category { category } => format!("do not share {} records", category.label_en()),
            ExceptionKind::Period { from, to } => format!("do not share records dated {from} to {to}"),
            ExceptionKind::Record { record_id } => format!("do not share record {record_id}"),
        }
    }
}

/// The form in which facility names are compared: trimmed and lower-cased.
pub fn normalize_facility(name: &str) -> String {
    name.trim().to_lowercase()
}

/// One exception to the default "share with my providers".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharingException {
    /// Stable id assigned by [`ConsentState::apply`]: `x1`, `x2`, … never reused.
    pub id: String,
    /// When the exception was added.
    pub added_at: DateTime<Utc>,
    /// Who added it.
    pub by: Actor,
    /// What it refuses.
    pub kind: ExceptionKind,
}

/// Provider sharing: permitted by default, minus the exceptions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sharing {
    /// The exceptions, in the order they were added.
    #[serde(default)]
    pub exceptions: Vec<SharingException>,
    /// The number part of the last exception id handed out (ids are never reused).
    #[serde(default)]
    pub last_exception_seq: u64,
    /// When the sharing settings last changed (an exception added or removed).
    #[serde(default)]
    pub updated_at: Option<DateTime<Utc>>,
}

/// How much a caregiver may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    /// Read the record.
    ReadOnly,
    /// Read and write (add entries, correct them).
    Full,
}

/// A caregiver's access to the record (a family member, a care manager).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaregiverGrant {
    /// Slug identifying the caregiver (`[a-z0-9-]`, unique in the state, never reused).
    pub id: String,
    /// The caregiver's name for display.
    pub display_name: String,
    /// Free short text: "娘", "daughter", "care manager".
    pub relationship: String,
    /// What they may do.
    pub access: Access,
    /// Active from this instant (inclusive).
    pub granted_at: DateTime<Utc>,
    /// Inactive from this instant (exclusive end), if set.
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
    /// Revoked from this instant, if set.
    #[serde(default)]
    pub revoked_at: Option<DateTime<Utc>>,
    /// Who granted it.
    pub granted_by: Actor,
    /// Who revoked it.
    #[serde(default)]
    pub revoked_by: Option<Actor>,
}

/// Why a grant is not active at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantInactive {
    /// `now < granted_at`.
    NotYetActive,
    /// `revoked_at <= now`.
    Revoked,
    /// `expires_at <= now`.
    Expired,
}

impl CaregiverGrant {
    /// `Ok(())` when the grant is active at `now`: `granted_at <= now`, not revoked
    /// (`revoked_at > now` still counts as active) and not expired (`expires_at > now`).
    pub fn status_at(&self, now: DateTime<Utc>) -> Result<(), GrantInactive> {
        if now < self.granted_at {
            return Err(GrantInactive::NotYetActive);
        }
        if self.revoked_at.is_some_and(|r| r <= now) {
            return Err(GrantInactive::Revoked);
        }
        if self.expires_at.is_some_and(|e| e <= now) {
            return Err(GrantInactive::Expired);
        }
        Ok(())
    }

    /// Whether the grant is active at `now`.
    pub fn is_active_at(&self, now: DateTime<Utc>) -> bool {
        self.status_at(now).is_ok()
    }
}

/// A research choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResearchChoice {
    /// No more pseudonymised copies, from this instant on, of anything already in the vault.
    OptOut,
    /// Copies may be made again, of resources that enter the vault from this instant on.
    OptIn,
}

/// One research choice in the history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResearchEvent {
    /// When the choice was made.
    pub at: DateTime<Utc>,
    /// The choice.
    pub choice: ResearchChoice,
    /// Who made it.
    pub by: Actor,
}

/// The research setting: a history of choices (no events = permitted, the default).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Research {
    /// The choices in the order they were made (times never decrease when built by `apply`).
    #[serde(default)]
    pub events: Vec<ResearchEvent>,
}

/// All consent settings of one person. `Default` is the starting state: share with providers,
/// no caregivers, research permitted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentState {
    /// Provider sharing and its exceptions.
    #[serde(default)]
    pub sharing: Sharing,
    /// Caregiver grants, including revoked and expired ones (history), in grant order.
    #[serde(default)]
    pub caregivers: Vec<CaregiverGrant>,
    /// Research choices.
    #[serde(default)]
    pub research: Research,
}

impl ConsentState {
    /// The exception with this id.
    pub fn exception(&self, id: &str) -> Option<&SharingException> {
        self.sharing.exceptions.iter().find(|x| x.id == id)
    }

    /// The caregiver grant with this id.
    pub fn caregiver(&self, id: &str) -> Option<&CaregiverGrant> {
        self.caregivers.iter().find(|g| g.id == id)
    }
}
