//! Export of a person's record (or the whole vault) as a collection Bundle or NDJSON, streamed
//! from the database: memory does not grow with the record.

use crate::disclosure::{Disclosure, Exit};
use crate::error::Result;
use crate::vault::Vault;
use std::io::Write;
use techo_consent::{Purpose, Recipient};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    Bundle,
    Ndjson,
}

impl Vault {
    /// Writes every current record of `person` (or of everyone) in record order, for the
    /// person's own use, through the disclosure gate (audited). Returns how many resources
    /// were written.
    pub fn export(&mut self, person: Option<i64>, format: ExportFormat, out: &mut dyn Write) -> Result<u64> {
        let d = Disclosure { exit: Exit::Export, recipient: Recipient::Person, purpose: Purpose::PersonalUse, person, scope: crate::Scope::default() };
        Ok(self.disclose(&d, format, out)?.disclosed)
    }
}
