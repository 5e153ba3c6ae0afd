//! IO-free pseudonymisation (being written).
