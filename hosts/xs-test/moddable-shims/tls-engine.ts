// "websock/hosts/moddable/mbedtls/tls-engine" in the XS emulation bundle: the
// class websock_tls.c defines when the xsnap worker was built with it
// (tools/xsnap-tls/build.mjs installs it as the global WebsockTLSEngine),
// else the stand-in of builds without mbedTLS (capabilities() null), as
// hosts/moddable/mbedtls/none/tls-engine.js is on Moddable.

import type RealEngine from "../../moddable/mbedtls/tls-engine.js";

class NoEngine {
  constructor() {
    throw new Error("websock: this build has no mbedTLS engine");
  }

  static capabilities(): null {
    return null;
  }
}

const linked = (globalThis as { WebsockTLSEngine?: typeof RealEngine }).WebsockTLSEngine;

export default (linked ?? NoEngine) as typeof RealEngine;
