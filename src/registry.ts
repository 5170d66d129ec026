// The facade's state: the host the websock_* calls run on and the last
// error of any call, as two module-level bindings. A host's index sets the
// host as it loads (preloaded, that binding is in flash with the rest); the
// last error changes at run time, the one thing here that lives in RAM.

import type { Host } from "./host.js";
import { WEBSOCK_OK } from "./errors.js";
import type { websock_error_t } from "./types.js";

export const NO_ERROR: websock_error_t = Object.freeze({ code: WEBSOCK_OK, name: "WEBSOCK_OK", message: "no error" });

let host: Host | null = null;
let lastError: websock_error_t = NO_ERROR;

/** Binds the websock_* calls to a platform (each host's index does this once). */
export function useHost(h: Host): void {
  host = h;
}

export function currentHost(): Host | null {
  return host;
}

export function setLastError(e: websock_error_t): void {
  lastError = e;
}

export function getLastError(): websock_error_t {
  return lastError;
}
