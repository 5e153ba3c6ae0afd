//! Calls into the Tauri shell, typed by `techo-ipc`.
//!
//! Uses `window.__TAURI_INTERNALS__.invoke`, which Tauri always injects, so the app needs
//! no `withGlobalTauri` and no JavaScript bundle.

use serde::Serialize;
use crate::i18n_errors::localized;
use techo_ipc::{Command, ErrorCode, IpcError};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(catch, js_namespace = ["window", "__TAURI_INTERNALS__"], js_name = invoke)]
    async fn tauri_invoke(cmd: &str, args: JsValue) -> Result<JsValue, JsValue>;
}

/// Runs command `C` with `args`. Every failure comes back as an [`IpcError`] whose message is
/// a sentence fit to show, in the app's language (`i18n_errors`); nothing from JavaScript's
/// error objects is shown or logged.
pub async fn invoke<C: Command>(args: &C::Args) -> Result<C::Output, IpcError> {
    let serializer = serde_wasm_bindgen::Serializer::json_compatible();
    let js_args = args
        .serialize(&serializer)
        .map_err(|_| localized(IpcError::internal()))?;
    match tauri_invoke(C::NAME, js_args).await {
        Ok(value) => serde_wasm_bindgen::from_value(value).map_err(|_| localized(IpcError::internal())),
        Err(err) => Err(localized(
            serde_wasm_bindgen::from_value::<IpcError>(err).unwrap_or_else(|_| {
                IpcError::new(
                    ErrorCode::Internal,
                    "Techo's window could not reach the app. Please restart Techo.",
                )
            }),
        )),
    }
}
