//! Techo's consent model and its one policy function. IO-free.
//!
//! The record belongs to the person. This crate holds what the person (or a guardian for
//! them) has decided about it, and answers, for one request about one resource, whether it is
//! permitted ([`decide`]). The storage and the audit log live in `techo-core`, which calls
//! this crate with plain values: [`ConsentState`] is stored as JSON (its field names are a
//! stable format), FHIR resources are `serde_json::Value`, and "now" is always passed in.
//!
//! # Invariants
//!
//! - **IO-free.** No database, files, network, printing or clock reads.
//! - **Fail closed.** A request that no rule covers is denied ([`rule::REQUEST_UNSUPPORTED`]);
//!   an unreadable clinical date is caught by a period exception; two stored caregiver grants
//!   with one id deny access.
//! - **No health data in words.** [`ConsentError`] messages, [`Decision::reason`] and
//!   [`AppliedChange::summary`] name ids, categories, facility names and dates at most, never
//!   resource content. [`ConsentError::code`] and [`Decision::rule`] are stable codes.
//!
//! # The rules of [`decide`]
//!
//! | purpose | recipient | rule |
//! |---|---|---|
//! | PersonalUse | Person | permit, read or write (`personal.owner`) |
//! | Treatment | Provider | read only (`sharing.read_only`); permit (`sharing.default`) unless an exception matches |
//! | CaregiverAccess | Caregiver | read with an active grant; write needs [`Access::Full`] |
//! | Research | Research | read only; [`research_copy_allowed`] at `now` |
//! | anything else | | deny (`request.unsupported`) |
//!
//! **Provider sharing** is opt-out with exceptions (NeXEHRS style): shared by default; the
//! exceptions are checked in the order they were added and the first match denies:
//! a **record** exception names the record id; a **facility** exception names the *recipient*
//! facility (trimmed, case-insensitive); a **category** exception matches one of the
//! resource's categories ([`classify`](fn@classify)); a **period** exception (inclusive dates) overlaps
//! the resource's clinical date (a year or month that overlaps the period is caught; a
//! resource *without* a clinical date is not caught; a clinical date that cannot be read is,
//! `sharing.unreadable_date`). Exceptions apply to provider sharing only, not to caregivers,
//! the person or research.
//!
//! **Caregivers** read only while their grant is active at `now`: `granted_at <= now`, not
//! expired (`expires_at > now`), not revoked (`revoked_at > now` still counts as active).
//! Write needs full access.
//!
//! **Research** (pseudonymised copies after a delay, unless the person opts out):
//!
//! - [`research_permitted_at`]`(state, t)`: the last research event at or before `t` is not
//!   an opt-out (no events: permitted).
//! - A copy of a resource that entered the vault at `e` may be made at `c` only if research
//!   was permitted at `e` and **no opt-out lies in `[e, c]`** ([`research_copy_allowed`]).
//!   So an opt-out at `T` means no copy is made after `T` of anything that entered at or
//!   before `T` — including resources whose delay expires later — and opting back in at `I`
//!   is **not retroactive**: only resources entering at or after `I` are copied (resources
//!   that entered while research was refused never are).
//! - [`plan_research_copies`] gives the keys due at `now`: delay elapsed
//!   (`entered_at + delay <= now`), not copied yet, and allowed by the rule above.
//!   [`decide`] does not know the delay.
//!
//! # Modules
//!
//! - [`model`]: [`ConsentState`] and its parts. [`change`]: [`ConsentChange`] and
//!   [`ConsentState::apply`]. [`error`]: [`ConsentError`].
//! - [`policy`]: [`decide`]. [`research`]: the research rule and planner.
//! - [`fhir`]: [`to_fhir`], FHIR R4 `Consent` resources. [`classify`](mod@classify): categories of a resource.

pub mod change;
pub mod classify;
pub mod error;
pub mod fhir;
pub mod model;
pub mod policy;
pub mod research;

pub use change::{same_facility, AppliedChange, ConsentChange};
pub use classify::classify;
pub use error::ConsentError;
pub use fhir::to_fhir;
pub use model::{
    normalize_facility, Access, Actor, CaregiverGrant, Category, ConsentState, ExceptionKind, GrantInactive, Research,
    ResearchChoice, ResearchEvent, Sharing, SharingException,
};
pub use policy::{clinical_days, decide, rule, Action, Decision, Purpose, Recipient, Request, ResourceFacts};
pub use research::{plan_research_copies, research_copy_allowed, research_permitted_at, Candidate};
