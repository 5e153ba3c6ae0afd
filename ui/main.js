// Loads the Yew app (wasm-bindgen --target web output); its main() mounts on <body>.
import init from './techo_ui.js';

init({ module_or_path: new URL('techo_ui_bg.wasm', import.meta.url) });
