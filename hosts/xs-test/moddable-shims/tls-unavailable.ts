// Stands in for Moddable's TLS modules (`ssl/session`, `x509`) in the XS
// emulation bundle. hosts/moddable imports them statically (tls-transport.ts,
// tls-diagnosis.ts), so the bundle must resolve them; the emulation has no
// TLS (Moddable's TLS needs the SDK and stays a simulator run), and no test
// opens wss:// here. Anything that does reach these throws, loudly.

function unavailable(): never {
  throw new Error("the XS emulation of the Moddable host has no TLS (ssl/session, x509)");
}

export default class Unavailable {
  constructor() {
    unavailable();
  }

  static decode(): never {
    return unavailable();
  }

  static decodeTBS(): never {
    return unavailable();
  }

  static decodeSAN(): never {
    return unavailable();
  }
}
