//! techo-fhir
