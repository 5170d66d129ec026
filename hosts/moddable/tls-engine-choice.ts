// Which TLS engine a wss:// connection on Moddable uses: websock's mbedTLS
// binding (hosts/moddable/mbedtls) or Moddable's TLS (ssl/session).
//
//  - ssl_config.tls_engine, when set, decides ("mbedtls" in a build without
//    the binding is refused by mbedtls-options.ts);
//  - else mbedTLS wherever the build links it (always on esp32, where
//    ESP-IDF's mbedtls component is there; in the simulator when built with
//    WEBSOCK_TLS_LIN=.../hosts/moddable/mbedtls/manifest.json),
//  - except for a config that verifies with no ssl_config.ca: only Moddable's
//    TLS reads the app's CA data (ca.ski, caN.der), so it keeps those.

import TLSEngine, { type TlsEngineCapabilities } from "websock/hosts/moddable/mbedtls/tls-engine";
import type { websock_ssl_config_t } from "websock/src/types";

export interface TlsEngineChoice {
  name: "mbedtls" | "moddable";
  /** The linked mbedTLS's, or null when the build has none. */
  capabilities: TlsEngineCapabilities | null;
}

export function chooseTlsEngine(ssl: websock_ssl_config_t): TlsEngineChoice {
  const capabilities = TLSEngine.capabilities();
  if (ssl.tls_engine !== undefined) return { name: ssl.tls_engine, capabilities };
  const usesAppCas = ssl.verify !== false && ssl.ca === undefined;
  return { name: capabilities !== null && !usesAppCas ? "mbedtls" : "moddable", capabilities };
}
