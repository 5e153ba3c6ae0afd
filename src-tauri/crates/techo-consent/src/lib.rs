//! IO-free consent model and policy engine (being written).
