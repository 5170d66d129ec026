/*
 * websock's TLS engine on mbedTLS (websock_tls.c): the module
 * "websock/hosts/moddable/mbedtls/tls-engine". A sans-I/O TLS client: feed it
 * the ciphertext the socket read, take the ciphertext to write; read and write
 * plaintext. hosts/moddable/mbedtls-transport.ts drives it over an ECMA-419
 * TCP socket; tls-engine.d.ts declares its types.
 *
 * Instances are host objects: close() frees the C side at once (the
 * destructor would, at the next collection).
 */

class TLSEngine @ "xs_websock_tls_destructor" {
	constructor(serverName, flags, cas, cert, key, alpn, pins, queueSize, maxFragment) @ "xs_websock_tls_constructor";
	handshake() @ "xs_websock_tls_handshake";
	feed(bytes, offset, count) @ "xs_websock_tls_feed";
	room() @ "xs_websock_tls_room";
	end() @ "xs_websock_tls_end";
	take(into, offset, count) @ "xs_websock_tls_take";
	pending() @ "xs_websock_tls_pending";
	read(into, offset, count) @ "xs_websock_tls_read";
	write(bytes, offset, count) @ "xs_websock_tls_write";
	closeNotify() @ "xs_websock_tls_close_notify";
	failure() @ "xs_websock_tls_failure";
	info() @ "xs_websock_tls_info";
	close() @ "xs_websock_tls_close";
	static capabilities() @ "xs_websock_tls_capabilities";
}

export default TLSEngine;
