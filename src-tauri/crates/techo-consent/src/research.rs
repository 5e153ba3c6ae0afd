//! The research rule and the research-copy planner.
//!
//! * [`research_permitted_at`]`(state, t)`: the last research event at or before `t` (ties:
//!   the later one in the history) is not an opt-out. No events: permitted.
//! * [`research_copy_allowed`]`(state, e, c)`: a copy of a resource that entered the vault at
//!   `e` may be made at `c` only if `e <= c`, research was permitted at `e`, and **no opt-out
//!   event lies in `[e, c]`**. Research is then permitted throughout `[e, c]`, in particular at
//!   `c`. Consequences:
//!   - an opt-out at `T` stops every copy made at or after `T` of anything that entered at or
//!     before `T`, including resources whose delay expires later;
//!   - opting back in at `I` does not undo the opt-out retroactively: only resources that enter
//!     the vault at or after `I` are copied (rule (a) of the design); resources that entered
//!     while research was refused are never copied.
//! * [`plan_research_copies`]: the keys due now: `entered_at + delay <= now`, not already
//!   copied, and [`research_copy_allowed`] at `now`.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{ConsentState, ResearchChoice, ResearchEvent};

/// The event in force at `t`: the latest event at or before `t`; among equal times the one
/// later in the history. Does not rely on the history being sorted.
fn event_in_force(state: &ConsentState, t: DateTime<Utc>) -> Option<&ResearchEvent> {
    state
        .research
        .events
        .iter()
        .enumerate()
        .filter(|(_, e)| e.at <= t)
        .max_by_key(|(i, e)| (e.at, *i))
        .map(|(_, e)| e)
}

/// Whether research use is permitted at `t` (see the module docs).
pub fn research_permitted_at(state: &ConsentState, t: DateTime<Utc>) -> bool {
    event_in_force(state, t).is_none_or(|e| e.choice != ResearchChoice::OptOut)
}

/// Whether a copy of a resource that entered the vault at `entered_at` may be made at `now`
/// (the delay is not checked here; see [`plan_research_copies`]).
pub fn research_copy_allowed(state: &ConsentState, entered_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    entered_at <= now
        && research_permitted_at(state, entered_at)
        && !state
            .research
            .events
            .iter()
            .any(|e| e.choice == ResearchChoice::OptOut && entered_at <= e.at && e.at <= now)
}

/// A resource the scheduler could copy for research.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    /// The caller's key for the resource (its record id).
    pub key: i64,
    /// When it arrived in the vault.
    pub entered_at: DateTime<Utc>,
}

/// The keys of the candidates to copy for research now, in candidate order without
/// duplicates: `entered_at + delay <= now`, `already_copied(key)` is false and
/// [`research_copy_allowed`]`(state, entered_at, now)`. A negative `delay` counts as zero;
/// a due time that overflows is never due.
pub fn plan_research_copies(
    state: &ConsentState,
    candidates: &[Candidate],
    already_copied: &dyn Fn(i64) -> bool,
    delay: Duration,
    now: DateTime<Utc>,
) -> Vec<i64> {
    let delay = delay.max(Duration::zero());
    let mut due: Vec<i64> = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for c in candidates {
        let Some(due_at) = c.entered_at.checked_add_signed(delay) else { continue };
        if due_at <= now && !already_copied(c.key) && research_copy_allowed(state, c.entered_at, now) && seen.insert(c.key) {
            due.push(c.key);
        }
    }
    due
}
