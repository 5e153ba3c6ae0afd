//! Export of a person's record (or the whole vault) as a collection Bundle or NDJSON, streamed
//! from the database: memory does not grow with the record.

use crate::error::{Error, Result};
use crate::vault::Vault;
use std::io::Write;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    Bundle,
    Ndjson,
}

impl Vault {
    /// Writes every current record of `person` (or of everyone) in record order. Returns how
    /// many resources were written.
    pub fn export(&self, person: Option<i64>, format: ExportFormat, out: &mut dyn Write) -> Result<u64> {
        if let Some(p) = person {
            self.person(p)?;
        }
        let io = |e: std::io::Error| Error::Io { path: "the export output".into(), source: e };
        let mut stmt = self.conn.prepare(
            "SELECT resource FROM records WHERE (?1 IS NULL OR person_id = ?1) ORDER BY person_id, id",
        )?;
        let mut rows = stmt.query([person])?;
        let mut n = 0u64;
        if format == ExportFormat::Bundle {
            write!(
                out,
                "{{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"timestamp\":\"{}\",\"entry\":[",
                crate::now()
            )
            .map_err(io)?;
        }
        while let Some(r) = rows.next()? {
            let text = crate::unpack(&r.get::<_, Vec<u8>>(0)?)?;
            match format {
                ExportFormat::Ndjson => {
                    out.write_all(text.as_bytes()).map_err(io)?;
                    out.write_all(b"\n").map_err(io)?;
                }
                ExportFormat::Bundle => {
                    if n > 0 {
                        out.write_all(b",").map_err(io)?;
                    }
                    out.write_all(b"\n{\"resource\":").map_err(io)?;
                    out.write_all(text.as_bytes()).map_err(io)?;
                    out.write_all(b"}").map_err(io)?;
                }
            }
            n += 1;
        }
        if format == ExportFormat::Bundle {
            out.write_all(b"\n]}\n").map_err(io)?;
        }
        out.flush().map_err(io)?;
        Ok(n)
    }
}
