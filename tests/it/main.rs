//! Techo's one integration-test binary. Every module drives the `techo` CLI end to end
//! (build it first: `cargo build -p techo-cli`), except `architecture` (cargo metadata).

mod architecture;
mod bad_inputs;
mod consent;
// WebKitWebDriver (the e2e tests' native driver) is Linux only; macOS and Windows run the rest.
#[cfg(target_os = "linux")]
mod e2e;
mod japanese;
mod no_plaintext;
mod package;
mod roundtrip;
mod sync;
mod sync_peers;
mod vitals;
mod wrong_passphrase;
