//! IO-free pseudonymisation of FHIR R4 resources for research (secondary use), in the
//! style of Microsoft's *Tools for Health Data Anonymization* (FHIR anonymizer).
//!
//! ```
//! use techo_pseudo::{Config, Pseudonymiser};
//! let p = Pseudonymiser::new(Config::research_profile(), [7u8; 32]).unwrap();
//! let patient = serde_json::json!({
//!     "resourceType": "Patient", "id": "p1",
//!     "name": [{ "family": "山田", "given": ["太郎"] }],
//!     "birthDate": "1980-04-01"
//! });
//! let today = chrono::NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
//! let out = p.pseudonymise(&patient, "p1", today).unwrap();
//! assert_eq!(out["id"], p.pseudonym("Patient", "p1"));
//! assert!(out.get("name").is_none());
//! assert_eq!(out["birthDate"], "1980");
//! ```
//!
//! No IO: the config comes in as text or bytes, nothing is read from files, the network
//! or the clock (the reference date for age rules is an argument), nothing is printed.
//!
//! # What always happens (not configurable)
//!
//! * `id` of every resource becomes [`Pseudonymiser::pseudonym`]: the first 32 hex digits of
//!   HMAC-SHA256(secret, `"ResourceType/id"`). Same secret ⇒ same pseudonym in every run
//!   and every resource; another secret ⇒ unlinkable.
//! * Reference strings are rewritten with the same mapping, whatever rule matches them
//!   (only `redact` removes them): `Type/id` (a `/_history/n` suffix is dropped),
//!   absolute `…/Type/id` (the base URL is kept), conditional `Type?query` (becomes
//!   `Type/<pseudonym of the query>`), `urn:uuid:` and other `urn:` (become a UUID-shaped
//!   pseudonym), `#local` (contained resources: their `id` uses the same local mapping).
//!   This covers `Reference.reference`, `Bundle.entry.fullUrl`, `Bundle.entry.request.url`
//!   and `Bundle.entry.response.location`. A string that is none of these is dropped.
//! * `meta` keeps `profile`, `tag` and `security` only (`versionId`, `lastUpdated`,
//!   `source`, extensions go) and `meta.security` gets the
//!   `http://terminology.hl7.org/CodeSystem/v3-ObservationValue#PSEUDED` label.
//! * `contained` resources and resources inside Bundles (`entry.resource`, any nested
//!   object with a `resourceType`) are processed as resources of their own type.
//! * Objects and arrays left empty are pruned; so is an Extension left with only its `url`.
//!
//! # Config
//!
//! JSON (see [`Config::from_json`]); the built-in [`Config::research_profile`] is
//! `profiles/research.json` in this crate:
//!
//! ```json
//! { "fhirVersion": "R4",
//!   "fhirPathRules": [
//!     { "path": "nodesByType('Address').country", "method": "keep" },
//!     { "path": "nodesByType('HumanName')", "method": "redact" },
//!     { "path": "nodesByType('Identifier').value", "method": "cryptoHash" },
//!     { "path": "Patient.birthDate", "method": "generalize", "truncateTo": "year", "maxAge": 89 },
//!     { "path": "Observation.valueQuantity.value", "method": "perturb", "span": 1, "rangeType": "fixed", "roundTo": 1 },
//!     { "path": "Observation.valueInteger", "method": "generalize",
//!       "cases": { "$this < 18": "'child'", "$this >= 18 and $this < 65": "'adult'" }, "otherValues": "redact" },
//!     { "path": "Patient.gender", "method": "substitute", "replaceWith": "unknown" },
//!     { "path": "nodesByType('dateTime')", "method": "dateShift" }
//!   ],
//!   "parameters": { "dateShiftRange": 30, "enablePartialAgesForRedact": true,
//!                   "enablePartialDatesForRedact": false, "enablePartialZipCodesForRedact": false,
//!                   "restrictedZipCodeTabulationAreas": ["036"] } }
//! ```
//!
//! ## Rule order
//! For each node, the first (lowest-index) rule whose path selects the node **or one of
//! its ancestors** decides; a node no rule selects is kept. So an early `keep` of
//! `nodesByType('Address').country` survives a later `redact` of the whole Address, and
//! an early `redact` of `Patient.contact` wins over everything inside it (the Microsoft
//! tool's "first rule wins, processed nodes are not touched again").
//!
//! ## Paths (a FHIRPath subset)
//! * `Type.a.b` — from the root of resources of that type; `Resource.a.b` — any type.
//!   A step selects array items one by one. A step names a choice element generically
//!   (`Observation.value` selects `valueQuantity`, `valueString`, …) or exactly.
//! * `nodesByType('T')`, `Type.a.nodesByType('T')`, `nodesByType('T').b.c` — nodes of
//!   datatype T (anywhere, or at/below the prefix), optionally followed by child steps.
//! * `Type.descendants().b` — element `b` anywhere at or below the prefix (unlike
//!   FHIRPath, this includes the prefix's own children: `Resource.descendants().comment`
//!   also selects `Observation.comment`).
//! * Not supported (a config error): `where()`, `ofType()`, indexers, operators.
//! * The resource's own `id` and `meta` are outside the rules (see above).
//! * A primitive's `_x` companion (its extensions) is walked with path `x`, and is
//!   dropped when the value `x` is redacted, generalized or substituted.
//!
//! ## Datatypes (JSON has none)
//! `nodesByType` knows HumanName, Address, ContactPoint, ContactDetail, Identifier,
//! Attachment, Annotation, Reference, Narrative, Extension, Coding, CodeableConcept,
//! Quantity (includes Age), Age, Period, Meta, Resource, date, dateTime, instant.
//! Detection, in order: choice-element suffix (`valueHumanName`, `onsetAge`); element
//! names (`telecom` → ContactPoint, `address` → Address, `identifier` → Identifier,
//! `photo`/`attachment`/`presentedForm` → Attachment, `note` → Annotation, `extension`
//! → Extension, `name` with HumanName keys → HumanName, root `meta`); then shape: the
//! object's keys must all be elements of the type and include a characteristic one
//! (`family`/`given` → HumanName even with unexpected extra keys, `line`/`city`/`postalCode`/… → Address, `system` in
//! phone/fax/email/… with `value` → ContactPoint, `div` → Narrative, `coding` →
//! CodeableConcept, numeric `value` → Quantity, `reference`/`display` → Reference, …).
//! Strings are date/dateTime/instant when they are valid FHIR dates and either sit in a
//! known date element (`birthDate`, `…Date`, `…DateTime`, `issued`, `start`, …) or carry
//! at least a day (`2020-01-02`). **Limits:** detection is by shape, not by the
//! StructureDefinitions: an object with unexpected extra keys is not typed (and so
//! not selected by `nodesByType`), a text-only `{"text": …}` CodeableConcept is not
//! typed, a free-text string that happens to be a full date counts as a date, and a
//! `date` element of dateTime type with a date-only value is typed `date`.
//!
//! ## Methods
//! * `redact` — removes the node. With `enablePartialDatesForRedact` a date keeps its
//!   year (a `birthDate` of somebody over 89 goes entirely); with
//!   `enablePartialZipCodesForRedact` `Address.postalCode` keeps its first 3 digits
//!   (`000` for the `restrictedZipCodeTabulationAreas`); with `enablePartialAgesForRedact`
//!   an Age of 89 or less is kept.
//! * `keep` — keeps the node (later rules do not touch it).
//! * `dateShift` — date/dateTime/instant values move by the person's shift (see
//!   [`Pseudonymiser::date_shift_days`]): every resource pseudonymised with the same
//!   `person_key` moves by the same number of days, so intervals are exact. Precision is
//!   kept: the time of day and the offset are unchanged; year-only and year-month values
//!   are left as they are (coarser than the shift). Non-date values under the rule are
//!   kept; an invalid value in a date element is removed.
//! * `cryptoHash` — strings become HMAC-SHA256(secret, "cryptoHash:" + value) in hex
//!   (numbers and booleans are kept).
//! * `generalize` — numbers: the first `cases` entry whose condition holds gives the
//!   output (`'text'` is unquoted, `$this` is the value); dates: `truncateTo` year or
//!   month, with `maxAge` (year only): the year is raised to `reference year - maxAge - 1`
//!   so everybody older appears in one "maxAge+1 or older" bucket. Anything else follows
//!   `otherValues` (default `redact`).
//! * `substitute` — the matched node (even an object) is replaced by `replaceWith`.
//! * `perturb` — numbers get noise uniform in `[-span/2, +span/2]` (`fixed`) or
//!   `[-span/2·|x|, +span/2·|x|]` (`proportional`), then are rounded to `roundTo` decimals
//!   (default 2). The noise is derived from HMAC(secret, person, resource, path, value):
//!   reproducible run to run.
//!
//! # The research profile
//! [`Config::research_profile`] keeps clinical content (Coding/CodeableConcept incl. their
//! display and text, Quantity values and units, statuses, categories, Organization and
//! Location names) and removes direct identifiers: every HumanName (JP Core kanji/kana
//! included), Address (only `country` stays), ContactPoint, ContactDetail,
//! `Patient.contact`, Attachment content (only `contentType`/`language` stay), Narrative,
//! Annotation, `Reference.display`, extension strings/markdown/base64, free text
//! elements `text` (other than CodeableConcept.text), `comment`, `description`,
//! `conclusion`, `patientInstruction`, search links and conditional-create queries,
//! signatures, `Location.position`, device UDI; identifier values (`Identifier.value`,
//! `Coverage.subscriberId`, `Device.serialNumber`/`distinctIdentifier`) are keyed
//! hashes. `Patient.birthDate` becomes the year (capped for ages over 89, see
//! `generalize`) and its `_birthDate` extensions (birth time) go; every other date is
//! shifted per person within ±30 days. Ages of 89 or less are kept.
//!
//! **Limits:** quasi-identifiers (gender, rare diagnoses, facility names, exact lab values
//! and their order in time) remain: the output is pseudonymised, not anonymised. Ages
//! computed from shifted dates may be off by the shift; a `deceasedDateTime` still tells
//! the age at death to within the shift. Base URLs of absolute references are kept.

mod config;
mod engine;
mod error;
mod rules;
mod types;

pub use config::{Config, Granularity, Method, OtherValues, Parameters, RangeType, Rule, RESEARCH_PROFILE_JSON};
pub use engine::{Pseudonymiser, ResearchSecret, PSEUDED_SYSTEM};
pub use error::PseudoError;
