//! The International Patient Summary (to be written).
