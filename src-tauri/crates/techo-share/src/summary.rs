//! The printable summary (to be written).
