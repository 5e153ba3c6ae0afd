//! Offline structural checks of an IPS document Bundle (to be written).
