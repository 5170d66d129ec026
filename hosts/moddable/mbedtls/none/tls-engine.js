/*
 * The stand-in for websock's mbedTLS engine in builds that do not link
 * mbedTLS (the simulator by default): capabilities() says so, and the host
 * uses Moddable's TLS. Building with WEBSOCK_TLS_LIN set to
 * hosts/moddable/mbedtls/manifest.json puts the real engine in its place.
 */

class TLSEngine {
	constructor() {
		throw new Error("websock: this build has no mbedTLS engine");
	}
	static capabilities() {
		return null;
	}
}

export default TLSEngine;
