//! Changing consent: [`ConsentChange`] and [`ConsentState::apply`].

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::error::ConsentError;
use crate::model::{
    normalize_facility, Access, Actor, CaregiverGrant, Category, ConsentState, ExceptionKind, ResearchChoice,
    ResearchEvent, SharingException,
};
use crate::research::research_permitted_at;

/// Longest facility name accepted, in characters.
pub const MAX_FACILITY_CHARS: usize = 200;
/// Longest caregiver display name, in characters.
pub const MAX_NAME_CHARS: usize = 100;
/// Longest relationship text, in characters.
pub const MAX_RELATIONSHIP_CHARS: usize = 40;
/// Longest caregiver id (slug), in characters.
pub const MAX_CAREGIVER_ID_CHARS: usize = 48;

/// What a caller asks to change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentChange {
    /// Add an exception: do not share with this facility.
    DenyFacility {
        /// The facility's name as the vault knows it.
        name: String,
    },
    /// Add an exception: do not share records of this category.
    DenyCategory {
        /// The category.
        category: Category,
    },
    /// Add an exception: do not share records dated in this period (inclusive).
    DenyPeriod {
        /// First day.
        from: NaiveDate,
        /// Last day.
        to: NaiveDate,
    },
    /// Add an exception: do not share this record.
    DenyRecord {
        /// The vault's record id.
        record_id: i64,
    },
    /// Remove an exception by id.
    RemoveException {
        /// The exception's id (`x1`, …).
        id: String,
    },
    /// Give a caregiver access from the time of the change.
    GrantCaregiver {
        /// Slug (`[a-z0-9-]`, 1–48 characters), unique in the state.
        id: String,
        /// The caregiver's name.
        display_name: String,
        /// Short free text ("daughter", "娘").
        relationship: String,
        /// What they may do.
        access: Access,
        /// End of access (exclusive), if any; must be after the time of the change.
        expires_at: Option<DateTime<Utc>>,
    },
    /// End a caregiver's access from the time of the change.
    RevokeCaregiver {
        /// The grant's id.
        id: String,
    },
    /// Refuse research copies from now on.
    ResearchOptOut,
    /// Permit research copies again (of resources entering the vault from now on).
    ResearchOptIn,
}

/// What [`ConsentState::apply`] did, for the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppliedChange {
    /// Stable code of the kind of change, e.g. `sharing.exception_added`.
    pub kind: &'static str,
    /// The id concerned: the exception id or the caregiver id; `None` for research.
    pub subject_id: Option<String>,
    /// One sentence in English, e.g. `Added sharing exception x1: do not share with facility
    /// "Sakura Clinic" (by the person).` Ids, categories, facility names and dates only.
    pub summary: String,
    /// Who made the change.
    pub actor: Actor,
    /// When.
    pub at: DateTime<Utc>,
}

fn check_actor(actor: &Actor) -> Result<(), ConsentError> {
    match actor {
        Actor::Person => Ok(()),
        Actor::Guardian { name } => {
            if name.trim().is_empty() {
                Err(ConsentError::EmptyGuardianName)
            } else if name.chars().count() > MAX_NAME_CHARS {
                Err(ConsentError::TooLong { field: "guardian's name", max: MAX_NAME_CHARS })
            } else {
                Ok(())
            }
        }
    }
}

fn is_slug(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_CAREGIVER_ID_CHARS
        && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !id.starts_with('-')
        && !id.ends_with('-')
}

impl ConsentState {
    /// Validates `change` and applies it as made by `actor` at `at`. On error the state is
    /// unchanged. See [`ConsentError`] for what is refused.
    pub fn apply(&mut self, change: ConsentChange, actor: Actor, at: DateTime<Utc>) -> Result<AppliedChange, ConsentError> {
        check_actor(&actor)?;
        let done = |kind: &'static str, subject_id: Option<String>, summary: String, actor: Actor| AppliedChange {
            kind,
            subject_id,
            summary: format!("{summary} (by {actor})."),
            actor,
            at,
        };
        match change {
            ConsentChange::DenyFacility { name } => {
                let name = name.trim().to_string();
                if name.is_empty() {
                    return Err(ConsentError::EmptyFacility);
                }
                if name.chars().count() > MAX_FACILITY_CHARS {
                    return Err(ConsentError::TooLong { field: "facility name", max: MAX_FACILITY_CHARS });
                }
                let (id, summary) = self.add_exception(ExceptionKind::Facility { name }, &actor, at)?;
                Ok(done("sharing.exception_added", Some(id), summary, actor))
            }
            ConsentChange::DenyCategory { category } => {
                let (id, summary) = self.add_exception(ExceptionKind::Category { category }, &actor, at)?;
                Ok(done("sharing.exception_added", Some(id), summary, actor))
            }
            ConsentChange::DenyPeriod { from, to } => {
                if from > to {
                    return Err(ConsentError::PeriodReversed);
                }
                let (id, summary) = self.add_exception(ExceptionKind::Period { from, to }, &actor, at)?;
                Ok(done("sharing.exception_added", Some(id), summary, actor))
            }
            ConsentChange::DenyRecord { record_id } => {
                let (id, summary) = self.add_exception(ExceptionKind::Record { record_id }, &actor, at)?;
                Ok(done("sharing.exception_added", Some(id), summary, actor))
            }
            ConsentChange::RemoveException { id } => {
                let Some(pos) = self.sharing.exceptions.iter().position(|x| x.id == id) else {
                    return Err(ConsentError::UnknownException { id });
                };
                let removed = self.sharing.exceptions.remove(pos);
                self.sharing.updated_at = Some(at);
                let summary = format!("Removed sharing exception {}: {}", removed.id, removed.kind.describe());
                Ok(done("sharing.exception_removed", Some(removed.id), summary, actor))
            }
            ConsentChange::GrantCaregiver { id, display_name, relationship, access, expires_at } => {
                if !is_slug(&id) {
                    return Err(ConsentError::InvalidCaregiverId);
                }
                let display_name = display_name.trim().to_string();
                if display_name.is_empty() {
                    return Err(ConsentError::EmptyCaregiverName);
                }
                if display_name.chars().count() > MAX_NAME_CHARS {
                    return Err(ConsentError::TooLong { field: "caregiver's name", max: MAX_NAME_CHARS });
                }
                let relationship = relationship.trim().to_string();
                if relationship.is_empty() {
                    return Err(ConsentError::EmptyRelationship);
                }
                if relationship.chars().count() > MAX_RELATIONSHIP_CHARS {
                    return Err(ConsentError::TooLong { field: "relationship", max: MAX_RELATIONSHIP_CHARS });
                }
                if self.caregivers.iter().any(|g| g.id == id) {
                    return Err(ConsentError::DuplicateCaregiver { id });
                }
                if expires_at.is_some_and(|e| e <= at) {
                    return Err(ConsentError::ExpiryNotAfterGrant);
                }
                let access_words = match access {
                    Access::ReadOnly => "read-only",
                    Access::Full => "full",
                };
                let until = match expires_at {
                    Some(e) => format!(" until {}", e.to_rfc3339()),
                    None => String::new(),
                };
                let summary = format!("Granted {access_words} caregiver access to {id}{until}");
                self.caregivers.push(CaregiverGrant {
                    id: id.clone(),
                    display_name,
                    relationship,
                    access,
                    granted_at: at,
                    expires_at,
                    revoked_at: None,
                    granted_by: actor.clone(),
                    revoked_by: None,
                });
                Ok(done("caregiver.granted", Some(id), summary, actor))
            }
            ConsentChange::RevokeCaregiver { id } => {
                let Some(grant) = self.caregivers.iter_mut().find(|g| g.id == id) else {
                    return Err(ConsentError::UnknownCaregiver { id });
                };
                if grant.revoked_at.is_some() {
                    return Err(ConsentError::AlreadyRevoked { id });
                }
                grant.revoked_at = Some(at);
                grant.revoked_by = Some(actor.clone());
                let summary = format!("Revoked caregiver access of {id}");
                Ok(done("caregiver.revoked", Some(id), summary, actor))
            }
            ConsentChange::ResearchOptOut | ConsentChange::ResearchOptIn => {
                let choice = if change == ConsentChange::ResearchOptOut { ResearchChoice::OptOut } else { ResearchChoice::OptIn };
                if self.research.events.iter().any(|e| e.at > at) {
                    return Err(ConsentError::ResearchOutOfOrder);
                }
                // Every recorded event is at or before `at`, so this is the current setting.
                let permitted = research_permitted_at(self, at);
                let (kind, summary) = match choice {
                    ResearchChoice::OptOut if !permitted => return Err(ConsentError::AlreadyOptedOut),
                    ResearchChoice::OptIn if permitted => return Err(ConsentError::NotOptedOut),
                    ResearchChoice::OptOut => ("research.opted_out", "Refused research use: no further research copies will be made".to_string()),
                    ResearchChoice::OptIn => ("research.opted_in", "Permitted research use of records entering the vault from now on".to_string()),
                };
                self.research.events.push(ResearchEvent { at, choice, by: actor.clone() });
                Ok(done(kind, None, summary, actor))
            }
        }
    }

    fn add_exception(&mut self, kind: ExceptionKind, actor: &Actor, at: DateTime<Utc>) -> Result<(String, String), ConsentError> {
        if let Some(existing) = self.sharing.exceptions.iter().find(|x| x.kind.same_as(&kind)) {
            return Err(ConsentError::DuplicateException { existing: existing.id.clone() });
        }
        // Never reuse an id, even if the stored counter is behind the stored ids.
        let max_stored = self
            .sharing
            .exceptions
            .iter()
            .filter_map(|x| x.id.strip_prefix('x').and_then(|n| n.parse::<u64>().ok()))
            .max()
            .unwrap_or(0);
        let seq = self.sharing.last_exception_seq.max(max_stored).saturating_add(1);
        let id = format!("x{seq}");
        let summary = format!("Added sharing exception {id}: {}", kind.describe());
        self.sharing.last_exception_seq = seq;
        self.sharing.updated_at = Some(at);
        self.sharing.exceptions.push(SharingException { id: id.clone(), added_at: at, by: actor.clone(), kind });
        Ok((id, summary))
    }
}

/// Whether two facility names denote the same facility (trimmed, case-insensitive).
pub fn same_facility(a: &str, b: &str) -> bool {
    normalize_facility(a) == normalize_facility(b)
}
