//! techo-ipc
