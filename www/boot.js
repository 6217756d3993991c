// Starts the wallet without any inline script, so that the page works under a strict
// Content-Security-Policy (script-src 'self' 'wasm-unsafe-eval'). Trunk writes the names of the
// build's JS glue and wasm (hashed) into this script tag's data attributes (see Trunk.toml).
const tag = document.querySelector("script[data-wallet-js]");
const js = tag.dataset.walletJs;
const wasm = tag.dataset.walletWasm;
const glue = await import(js);
await glue.default({ module_or_path: wasm });
