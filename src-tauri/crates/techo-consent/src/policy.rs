//! The one policy function, [`decide`], and its request/answer types.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, Utc};

use crate::model::{normalize_facility, Access, Category, ConsentState, ExceptionKind, GrantInactive};
use crate::research::{research_copy_allowed, research_permitted_at};

/// Why data is being released.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Purpose {
    /// Care by a provider.
    Treatment,
    /// A pseudonymised research copy.
    Research,
    /// A caregiver helping the person.
    CaregiverAccess,
    /// The person using their own record.
    PersonalUse,
}

/// Who receives (or writes) the data.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Recipient {
    /// The person the record belongs to.
    Person,
    /// A care provider, by facility name as the vault knows it.
    Provider {
        /// The facility's name.
        facility: String,
    },
    /// A caregiver, by grant id.
    Caregiver {
        /// The grant's id.
        id: String,
    },
    /// The research copy destination.
    Research {
        /// Where the copy goes (a name; not interpreted beyond being non-empty).
        destination: String,
    },
}

/// Read or write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// See the data.
    Read,
    /// Add or change data.
    Write,
}

/// What is asked.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// Who.
    pub recipient: &'a Recipient,
    /// Why.
    pub purpose: Purpose,
    /// Read or write.
    pub action: Action,
}

/// What the policy needs to know about one resource (never its content).
#[derive(Debug, Clone, Copy)]
pub struct ResourceFacts<'a> {
    /// The vault's record id.
    pub record_id: i64,
    /// FHIR resource type (informational; no rule uses it today).
    pub rtype: &'a str,
    /// The facility the resource came from (informational; facility exceptions are about the
    /// recipient, not the source).
    pub facility: Option<&'a str>,
    /// The resource's clinical date as FHIR `date`/`dateTime` text (`2024`, `2024-05`,
    /// `2024-05-01`, `2024-05-01T09:00:00+09:00`). The date as written is used (no time-zone
    /// conversion).
    pub clinical_date: Option<&'a str>,
    /// The resource's categories (see [`crate::classify()`]).
    pub categories: &'a BTreeSet<Category>,
    /// When the resource arrived in the vault.
    pub entered_at: DateTime<Utc>,
}

/// The answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Whether the request is permitted.
    pub permit: bool,
    /// Stable code of the rule that decided, one of [`rule`].
    pub rule: &'static str,
    /// Plain words, no health data (ids, categories, facility names and dates at most).
    pub reason: String,
}

/// The stable rule codes of [`Decision::rule`].
pub mod rule {
    /// The person uses their own record.
    pub const PERSONAL_OWNER: &str = "personal.owner";
    /// Provider sharing, no exception matched.
    pub const SHARING_DEFAULT: &str = "sharing.default";
    /// A facility exception names the recipient.
    pub const SHARING_DENY_FACILITY: &str = "sharing.deny_facility";
    /// A category exception matches one of the resource's categories.
    pub const SHARING_DENY_CATEGORY: &str = "sharing.deny_category";
    /// A period exception contains the resource's clinical date.
    pub const SHARING_DENY_PERIOD: &str = "sharing.deny_period";
    /// A record exception names the resource.
    pub const SHARING_DENY_RECORD: &str = "sharing.deny_record";
    /// A period exception exists and the clinical date cannot be read (fail closed).
    pub const SHARING_UNREADABLE_DATE: &str = "sharing.unreadable_date";
    /// The provider's facility name is empty.
    pub const SHARING_UNKNOWN_FACILITY: &str = "sharing.unknown_facility";
    /// Providers read through sharing; they do not write into the vault.
    pub const SHARING_READ_ONLY: &str = "sharing.read_only";
    /// An active caregiver grant permits.
    pub const CAREGIVER_GRANTED: &str = "caregiver.granted";
    /// No grant for that caregiver id.
    pub const CAREGIVER_NO_GRANT: &str = "caregiver.no_grant";
    /// More than one stored grant has that id (fail closed).
    pub const CAREGIVER_AMBIGUOUS: &str = "caregiver.ambiguous";
    /// The grant starts later.
    pub const CAREGIVER_NOT_YET_ACTIVE: &str = "caregiver.not_yet_active";
    /// The grant has expired.
    pub const CAREGIVER_EXPIRED: &str = "caregiver.expired";
    /// The grant was revoked.
    pub const CAREGIVER_REVOKED: &str = "caregiver.revoked";
    /// Write with a read-only grant.
    pub const CAREGIVER_READ_ONLY: &str = "caregiver.read_only";
    /// A research copy is permitted.
    pub const RESEARCH_PERMITTED: &str = "research.permitted";
    /// The person has refused research use.
    pub const RESEARCH_OPTED_OUT: &str = "research.opted_out";
    /// Research is permitted now, but the resource entered before a later opt-out or while
    /// research was refused; an opt-out is never undone retroactively.
    pub const RESEARCH_EXCLUDED_BY_OPT_OUT: &str = "research.excluded_by_opt_out";
    /// A research copy is only read.
    pub const RESEARCH_READ_ONLY: &str = "research.read_only";
    /// The research destination is empty.
    pub const RESEARCH_NO_DESTINATION: &str = "research.no_destination";
    /// The purpose does not fit the recipient (e.g. Treatment to a caregiver).
    pub const REQUEST_UNSUPPORTED: &str = "request.unsupported";

    /// Every rule code.
    pub const ALL: &[&str] = &[
        PERSONAL_OWNER,
        SHARING_DEFAULT,
        SHARING_DENY_FACILITY,
        SHARING_DENY_CATEGORY,
        SHARING_DENY_PERIOD,
        SHARING_DENY_RECORD,
        SHARING_UNREADABLE_DATE,
        SHARING_UNKNOWN_FACILITY,
        SHARING_READ_ONLY,
        CAREGIVER_GRANTED,
        CAREGIVER_NO_GRANT,
        CAREGIVER_AMBIGUOUS,
        CAREGIVER_NOT_YET_ACTIVE,
        CAREGIVER_EXPIRED,
        CAREGIVER_REVOKED,
        CAREGIVER_READ_ONLY,
        RESEARCH_PERMITTED,
        RESEARCH_OPTED_OUT,
        RESEARCH_EXCLUDED_BY_OPT_OUT,
        RESEARCH_READ_ONLY,
        RESEARCH_NO_DESTINATION,
        REQUEST_UNSUPPORTED,
    ];
}

fn permit(rule: &'static str, reason: impl Into<String>) -> Decision {
    Decision { permit: true, rule, reason: reason.into() }
}

fn deny(rule: &'static str, reason: impl Into<String>) -> Decision {
    Decision { permit: false, rule, reason: reason.into() }
}

/// The days covered by a FHIR `date`/`dateTime` text, inclusive: a year covers the year, a
/// month the month, a full date (with or without a time) that day as written.
pub fn clinical_days(text: &str) -> Option<(NaiveDate, NaiveDate)> {
    let t = text.trim();
    let num = |s: &str| -> Option<u32> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    let year_of = |s: &str| -> Option<i32> {
        if s.len() != 4 {
            return None;
        }
        num(s).and_then(|y| i32::try_from(y).ok())
    };
    let date_part = t.split('T').next().unwrap_or(t);
    let parts: Vec<&str> = date_part.split('-').collect();
    match parts.as_slice() {
        [y] if date_part.len() == t.len() => {
            let y = year_of(y)?;
            Some((NaiveDate::from_ymd_opt(y, 1, 1)?, NaiveDate::from_ymd_opt(y, 12, 31)?))
        }
        [y, m] if date_part.len() == t.len() && m.len() == 2 => {
            let y = year_of(y)?;
            let m = num(m)?;
            let first = NaiveDate::from_ymd_opt(y, m, 1)?;
            let next = if m == 12 { NaiveDate::from_ymd_opt(y + 1, 1, 1)? } else { NaiveDate::from_ymd_opt(y, m + 1, 1)? };
            Some((first, next.pred_opt()?))
        }
        [y, m, d] if m.len() == 2 && d.len() == 2 => {
            let day = NaiveDate::from_ymd_opt(year_of(y)?, num(m)?, num(d)?)?;
            Some((day, day))
        }
        _ => None,
    }
}

/// Decides one request about one resource at `now`. Fails closed: anything not covered by a
/// rule is denied with [`rule::REQUEST_UNSUPPORTED`]. See the crate docs for the rules.
pub fn decide(state: &ConsentState, req: &Request<'_>, facts: &ResourceFacts<'_>, now: DateTime<Utc>) -> Decision {
    match (req.purpose, req.recipient) {
        (Purpose::PersonalUse, Recipient::Person) => {
            permit(rule::PERSONAL_OWNER, "The record belongs to the person.")
        }
        (Purpose::Treatment, Recipient::Provider { facility }) => decide_sharing(state, req.action, facility, facts),
        (Purpose::CaregiverAccess, Recipient::Caregiver { id }) => decide_caregiver(state, req.action, id, now),
        (Purpose::Research, Recipient::Research { destination }) => {
            decide_research(state, req.action, destination, facts, now)
        }
        (purpose, recipient) => {
            let who = match recipient {
                Recipient::Person => "the person",
                Recipient::Provider { .. } => "a provider",
                Recipient::Caregiver { .. } => "a caregiver",
                Recipient::Research { .. } => "research",
            };
            let why = match purpose {
                Purpose::Treatment => "treatment",
                Purpose::Research => "research",
                Purpose::CaregiverAccess => "caregiver access",
                Purpose::PersonalUse => "personal use",
            };
            deny(rule::REQUEST_UNSUPPORTED, format!("Release to {who} for {why} is not a supported combination."))
        }
    }
}

fn decide_sharing(state: &ConsentState, action: Action, facility: &str, facts: &ResourceFacts<'_>) -> Decision {
    if action == Action::Write {
        return deny(rule::SHARING_READ_ONLY, "Providers can read shared records but cannot write into the vault.");
    }
    let recipient = normalize_facility(facility);
    if recipient.is_empty() {
        return deny(rule::SHARING_UNKNOWN_FACILITY, "The receiving facility has no name, so sharing is refused.");
    }
    let days = facts.clinical_date.map(clinical_days);
    for x in &state.sharing.exceptions {
        match &x.kind {
            ExceptionKind::Record { record_id } if *record_id == facts.record_id => {
                return deny(rule::SHARING_DENY_RECORD, format!("Sharing this record is refused by exception {}.", x.id));
            }
            ExceptionKind::Facility { name } if normalize_facility(name) == recipient => {
                return deny(
                    rule::SHARING_DENY_FACILITY,
                    format!("Sharing with this facility is refused by exception {}.", x.id),
                );
            }
            ExceptionKind::Category { category } if facts.categories.contains(category) => {
                return deny(
                    rule::SHARING_DENY_CATEGORY,
                    format!("Sharing {} records is refused by exception {}.", category.label_en(), x.id),
                );
            }
            ExceptionKind::Period { from, to } => match days {
                None => {}
                Some(None) => {
                    return deny(
                        rule::SHARING_UNREADABLE_DATE,
                        format!("The record's date cannot be read, so period exception {} may apply and sharing is refused.", x.id),
                    );
                }
                // Overlap: a partial date (a year, a month) that may fall in the period is caught.
                Some(Some((first, last))) if first <= *to && last >= *from => {
                    return deny(
                        rule::SHARING_DENY_PERIOD,
                        format!("Sharing records dated {from} to {to} is refused by exception {}.", x.id),
                    );
                }
                Some(Some(_)) => {}
            },
            _ => {}
        }
    }
    permit(rule::SHARING_DEFAULT, "Records are shared with the person's providers unless the person refuses.")
}

fn decide_caregiver(state: &ConsentState, action: Action, id: &str, now: DateTime<Utc>) -> Decision {
    let mut grants = state.caregivers.iter().filter(|g| g.id == id);
    let Some(grant) = grants.next() else {
        return deny(rule::CAREGIVER_NO_GRANT, format!("There is no caregiver grant for {id}."));
    };
    if grants.next().is_some() {
        return deny(rule::CAREGIVER_AMBIGUOUS, format!("More than one caregiver grant has id {id}, so access is refused."));
    }
    match grant.status_at(now) {
        Err(GrantInactive::NotYetActive) => {
            deny(rule::CAREGIVER_NOT_YET_ACTIVE, format!("The caregiver grant for {id} is not active yet."))
        }
        Err(GrantInactive::Revoked) => deny(rule::CAREGIVER_REVOKED, format!("The caregiver grant for {id} was revoked.")),
        Err(GrantInactive::Expired) => deny(rule::CAREGIVER_EXPIRED, format!("The caregiver grant for {id} has expired.")),
        Ok(()) => match (action, grant.access) {
            (Action::Write, Access::ReadOnly) => {
                deny(rule::CAREGIVER_READ_ONLY, format!("The caregiver grant for {id} is read-only."))
            }
            (Action::Write, Access::Full) => {
                permit(rule::CAREGIVER_GRANTED, format!("The caregiver grant for {id} gives full access."))
            }
            (Action::Read, _) => permit(rule::CAREGIVER_GRANTED, format!("The caregiver grant for {id} gives read access.")),
        },
    }
}

fn decide_research(
    state: &ConsentState,
    action: Action,
    destination: &str,
    facts: &ResourceFacts<'_>,
    now: DateTime<Utc>,
) -> Decision {
    if action == Action::Write {
        return deny(rule::RESEARCH_READ_ONLY, "Research copies are read from the vault; nothing is written back.");
    }
    if destination.trim().is_empty() {
        return deny(rule::RESEARCH_NO_DESTINATION, "The research destination has no name, so the copy is refused.");
    }
    if !research_permitted_at(state, now) {
        return deny(rule::RESEARCH_OPTED_OUT, "The person has refused research use; no copy is made.");
    }
    if !research_copy_allowed(state, facts.entered_at, now) {
        return deny(
            rule::RESEARCH_EXCLUDED_BY_OPT_OUT,
            "This record entered the vault before an opt-out or while research use was refused; it is never copied.",
        );
    }
    permit(rule::RESEARCH_PERMITTED, "The person permits research use of pseudonymised copies.")
}
