//! techo-gen
