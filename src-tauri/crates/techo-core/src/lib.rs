//! techo-core
