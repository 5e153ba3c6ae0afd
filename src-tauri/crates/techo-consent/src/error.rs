//! Errors of [`crate::ConsentState::apply`].
//!
//! Messages are plain sentences that say what to do. They name ids (exception ids, caregiver
//! ids) and limits, never a facility name, a category of a record or other health data.

/// Why a [`crate::ConsentChange`] was refused. The state is unchanged when this is returned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConsentError {
    /// RemoveException with an id that is not in the list.
    #[error("There is no sharing exception with id \"{id}\". Reload the consent settings and try again.")]
    UnknownException {
        /// The id asked for.
        id: String,
    },
    /// The same exception already exists.
    #[error("This exception already exists as \"{existing}\". Nothing was changed.")]
    DuplicateException {
        /// The id of the existing exception.
        existing: String,
    },
    /// DenyFacility with an empty name.
    #[error("The facility name is empty. Enter the facility's name.")]
    EmptyFacility,
    /// A text field is too long.
    #[error("The {field} is too long. Use at most {max} characters.")]
    TooLong {
        /// Which field.
        field: &'static str,
        /// The limit in characters.
        max: usize,
    },
    /// DenyPeriod with `from` after `to`.
    #[error("The period starts after it ends. Choose a start date on or before the end date.")]
    PeriodReversed,
    /// GrantCaregiver with an id that is not a slug.
    #[error("The caregiver id must be 1 to 48 characters of a-z, 0-9 and '-', not starting or ending with '-'.")]
    InvalidCaregiverId,
    /// GrantCaregiver with an empty display name.
    #[error("The caregiver's name is empty. Enter a name.")]
    EmptyCaregiverName,
    /// GrantCaregiver with an empty relationship.
    #[error("The relationship is empty. Describe the relationship, e.g. \"daughter\".")]
    EmptyRelationship,
    /// GrantCaregiver with an id already used (ids are never reused, even after revocation).
    #[error("A caregiver grant with id \"{id}\" already exists. Choose another id.")]
    DuplicateCaregiver {
        /// The id.
        id: String,
    },
    /// GrantCaregiver whose expiry is not after the grant time.
    #[error("The expiry must be after the time of the grant. Choose a later expiry or none.")]
    ExpiryNotAfterGrant,
    /// RevokeCaregiver with an unknown id.
    #[error("There is no caregiver grant with id \"{id}\". Reload the consent settings and try again.")]
    UnknownCaregiver {
        /// The id asked for.
        id: String,
    },
    /// RevokeCaregiver on a grant that is already revoked.
    #[error("The caregiver grant \"{id}\" is already revoked. Nothing was changed.")]
    AlreadyRevoked {
        /// The id.
        id: String,
    },
    /// ResearchOptOut while already opted out.
    #[error("Research use is already refused. Nothing was changed.")]
    AlreadyOptedOut,
    /// ResearchOptIn while research is permitted.
    #[error("Research use is already permitted. Nothing was changed.")]
    NotOptedOut,
    /// A research choice dated before the last recorded one.
    #[error("This research choice is dated before the last recorded one. Check the device clock and try again.")]
    ResearchOutOfOrder,
    /// A guardian actor without a name.
    #[error("The guardian's name is empty. Enter the guardian's name.")]
    EmptyGuardianName,
}

impl ConsentError {
    /// Stable machine-readable code (`consent.*`).
    pub fn code(&self) -> &'static str {
        match self {
            ConsentError::UnknownException { .. } => "consent.unknown_exception",
            ConsentError::DuplicateException { .. } => "consent.duplicate_exception",
            ConsentError::EmptyFacility => "consent.empty_facility",
            ConsentError::TooLong { .. } => "consent.too_long",
            ConsentError::PeriodReversed => "consent.period_reversed",
            ConsentError::InvalidCaregiverId => "consent.invalid_caregiver_id",
            ConsentError::EmptyCaregiverName => "consent.empty_caregiver_name",
            ConsentError::EmptyRelationship => "consent.empty_relationship",
            ConsentError::DuplicateCaregiver { .. } => "consent.duplicate_caregiver",
            ConsentError::ExpiryNotAfterGrant => "consent.expiry_not_after_grant",
            ConsentError::UnknownCaregiver { .. } => "consent.unknown_caregiver",
            ConsentError::AlreadyRevoked { .. } => "consent.already_revoked",
            ConsentError::AlreadyOptedOut => "consent.already_opted_out",
            ConsentError::NotOptedOut => "consent.not_opted_out",
            ConsentError::ResearchOutOfOrder => "consent.research_out_of_order",
            ConsentError::EmptyGuardianName => "consent.empty_guardian_name",
        }
    }
}
