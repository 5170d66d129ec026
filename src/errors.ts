// The one error table. Every failure websock can report has a row here:
// a negative code (the C-style return value), a name, the close code sent to
// the peer when the failure ends the connection (0 when none is sent), and a
// message. Parsers record a row and fail; they never throw.

export interface ErrorRow {
  readonly code: number;
  readonly name: string;
  /** Close code sent to the peer for this failure; 0 when no close frame is sent. */
  readonly closeCode: number;
  readonly message: string;
}

function row(code: number, name: string, closeCode: number, message: string): ErrorRow {
  return Object.freeze({ code, name: "WEBSOCK_ERR_" + name, closeCode, message });
}

export const WEBSOCK_OK = 0;

export const ERR = Object.freeze({
  // The caller.
  INVALID_ARG: row(-1, "INVALID_ARG", 0, "invalid argument"),
  NOT_OPEN: row(-2, "NOT_OPEN", 0, "the connection is not open"),
  BUSY: row(-3, "BUSY", 0, "another websock_recv is already waiting on this handle"),
  CALLBACK: row(-4, "CALLBACK", 1011, "the frame callback threw"),
  /** websock_recv_now: nothing to read now (libcurl's CURLE_AGAIN); not an error, try again later. */
  AGAIN: row(-5, "AGAIN", 0, "nothing to read now: try again"),
  /** A bug in websock itself: the connection is failed with 1011 rather than left in an unknown state. */
  INTERNAL: row(-6, "INTERNAL", 1011, "an internal error in websock"),

  // Opening: network, TLS, time.
  DNS: row(-10, "DNS", 0, "the host name could not be resolved"),
  CONNECT: row(-11, "CONNECT", 0, "the TCP connection could not be established"),
  TLS: row(-12, "TLS", 0, "the TLS handshake failed"),
  TIMEOUT: row(-13, "TIMEOUT", 0, "the connection was not open within time_out"),
  IO: row(-14, "IO", 0, "the transport failed"),
  /** The HTTP proxy refused or failed the CONNECT tunnel; http_status is its answer (407: proxy authentication). */
  PROXY: row(-17, "PROXY", 0, "the HTTP proxy did not open a tunnel"),
  /** The config asks for something this host cannot do (wss:// through a proxy where its TLS cannot run over a tunnel). */
  UNSUPPORTED: row(-18, "UNSUPPORTED", 0, "this host cannot do what the config asks"),

  // The HTTP upgrade (RFC 6455 §4.1).
  HTTP_STATUS: row(-20, "HTTP_STATUS", 0, "the server did not answer 101 Switching Protocols"),
  BAD_RESPONSE: row(-21, "BAD_RESPONSE", 0, "the handshake response is not valid HTTP"),
  RESPONSE_TOO_LARGE: row(-22, "RESPONSE_TOO_LARGE", 0, "the handshake response headers are too large"),
  BAD_UPGRADE: row(-23, "BAD_UPGRADE", 0, "the response's Upgrade header is not 'websocket'"),
  BAD_CONNECTION: row(-24, "BAD_CONNECTION", 0, "the response's Connection header does not contain 'Upgrade'"),
  BAD_ACCEPT: row(-25, "BAD_ACCEPT", 0, "the response's Sec-WebSocket-Accept does not match the key sent"),
  BAD_SUBPROTOCOL: row(-26, "BAD_SUBPROTOCOL", 0, "the server chose a subprotocol the client did not offer"),
  BAD_EXTENSION: row(-27, "BAD_EXTENSION", 0, "the server chose an extension the client did not offer"),
  HANDSHAKE_EOF: row(-28, "HANDSHAKE_EOF", 0, "the peer closed the connection during the handshake"),
  BAD_REQUEST: row(-29, "BAD_REQUEST", 0, "the client's upgrade request is not valid"),
  /** A redirect that may not be followed: too many, wss:// to ws://, a Location that is not a ws/wss/http/https URL. */
  REDIRECT: row(-32, "REDIRECT", 0, "the redirect could not be followed"),

  // Framing (RFC 6455 §5): each fails the connection with 1002 unless noted.
  RSV_BITS: row(-40, "RSV_BITS", 1002, "a frame has reserved bits set and no extension was negotiated"),
  RESERVED_OPCODE: row(-41, "RESERVED_OPCODE", 1002, "a frame uses a reserved opcode"),
  MASKED_FRAME: row(-42, "MASKED_FRAME", 1002, "a frame from the server is masked"),
  UNMASKED_FRAME: row(-43, "UNMASKED_FRAME", 1002, "a frame from the client is not masked"),
  CONTROL_TOO_LONG: row(-44, "CONTROL_TOO_LONG", 1002, "a control frame's payload is longer than 125 bytes"),
  CONTROL_FRAGMENTED: row(-45, "CONTROL_FRAGMENTED", 1002, "a control frame is fragmented"),
  UNEXPECTED_CONTINUATION: row(-46, "UNEXPECTED_CONTINUATION", 1002, "a continuation frame arrived with no message to continue"),
  EXPECTED_CONTINUATION: row(-47, "EXPECTED_CONTINUATION", 1002, "a new data frame arrived inside a fragmented message"),
  NON_MINIMAL_LENGTH: row(-48, "NON_MINIMAL_LENGTH", 1002, "a frame length is not in its minimal encoding"),
  LENGTH_TOO_LARGE: row(-49, "LENGTH_TOO_LARGE", 1002, "a 64-bit frame length has its most significant bit set"),
  INVALID_UTF8: row(-50, "INVALID_UTF8", 1007, "a text message or close reason is not valid UTF-8"),
  BAD_CLOSE_PAYLOAD: row(-51, "BAD_CLOSE_PAYLOAD", 1002, "a close frame has a 1-byte payload"),
  BAD_CLOSE_CODE: row(-52, "BAD_CLOSE_CODE", 1002, "a close frame carries an invalid status code"),
  MESSAGE_TOO_BIG: row(-53, "MESSAGE_TOO_BIG", 1009, "a message is longer than max_message_size"),

  // The end of a connection.
  CLOSED_BY_PEER: row(-60, "CLOSED_BY_PEER", 0, "the server closed the connection"),
  CONNECTION_LOST: row(-61, "CONNECTION_LOST", 0, "the TCP connection ended without a close frame"),
  PONG_TIMEOUT: row(-62, "PONG_TIMEOUT", 0, "no pong arrived within pong_timeout"),
  CLOSE_TIMEOUT: row(-63, "CLOSE_TIMEOUT", 0, "the close handshake did not finish within close_timeout"),
  CLOSED_LOCALLY: row(-64, "CLOSED_LOCALLY", 0, "the connection was closed by this side"),
  SEND_TIMEOUT: row(-65, "SEND_TIMEOUT", 0, "a send made no progress within send_timeout"),

  // permessage-deflate (RFC 7692): compressed messages received.
  DEFLATE_RSV1: row(-70, "DEFLATE_RSV1", 1002, "RSV1 (compressed) is set on a control or continuation frame"),
  INFLATE_CORRUPT: row(-71, "INFLATE_CORRUPT", 1007, "a compressed message is not valid DEFLATE data"),
  INFLATE_DISTANCE: row(-72, "INFLATE_DISTANCE", 1007, "a compressed message refers back beyond the negotiated window"),
  INFLATED_TOO_BIG: row(-73, "INFLATED_TOO_BIG", 1009, "an inflated message is longer than deflate.max_inflated_message"),
  // Reconnect (websock_config_t.reconnect).
  /** websock_recv, once after each reconnect: not an error; what follows comes from a new connection. */
  RECONNECTED: row(-74, "RECONNECTED", 0, "the connection was re-established: what follows comes from a new connection"),
});

/** The row for each kind of transport failure a host reports (Host's TransportFailure.kind). */
export const TRANSPORT_ERRORS = Object.freeze({
  dns: ERR.DNS,
  connect: ERR.CONNECT,
  tls: ERR.TLS,
  io: ERR.IO,
});

/** Close code reported locally when the connection ended without a close frame (RFC 6455 §7.1.5). */
export const CLOSE_ABNORMAL = 1006;
/** Close code reported locally when a close frame carried no status (RFC 6455 §7.1.5). */
export const CLOSE_NO_STATUS = 1005;

/**
 * Why TLS failed: websock_error_t.tls_reason, with WEBSOCK_ERR_TLS (and, for
 * handshake_timeout, WEBSOCK_ERR_TIMEOUT). Every host reports these words
 * and no others; each maps its TLS stack's errors onto them.
 */
export const TLS_REASON = Object.freeze({
  /** The server's chain does not lead to a trusted CA (ssl_config.ca, or the host's default CAs). */
  UNTRUSTED_CA: "untrusted_ca",
  /** The certificate names neither server_name nor the hostname (DNS or IP SANs). */
  HOSTNAME_MISMATCH: "hostname_mismatch",
  /** A certificate in the chain is past its notAfter. */
  EXPIRED: "expired",
  /** A certificate in the chain is before its notBefore (on a device: often a clock not yet set). */
  NOT_YET_VALID: "not_yet_valid",
  /** Any other verification failure (wrong key usage, revoked, malformed, undecodable ...). */
  BAD_CERTIFICATE: "bad_certificate",
  /** The server requires a client certificate and none was configured. */
  CLIENT_CERT_REQUIRED: "client_cert_required",
  /** The server refused the client certificate configured. */
  CLIENT_CERT_REJECTED: "client_cert_rejected",
  /** The server's public key matches no pin_sha256 entry. */
  PIN_MISMATCH: "pin_mismatch",
  /** No TLS version both sides accept (min_version). */
  PROTOCOL_VERSION: "protocol_version",
  /** The server supports none of the ALPN protocols offered. */
  ALPN_MISMATCH: "alpn_mismatch",
  /** time_out expired during the TLS handshake (reported with WEBSOCK_ERR_TIMEOUT). */
  HANDSHAKE_TIMEOUT: "handshake_timeout",
  /** Any other handshake failure: not a TLS server, no common cipher, reset mid-handshake ... */
  HANDSHAKE: "handshake",
});

export type TlsReason = (typeof TLS_REASON)[keyof typeof TLS_REASON];
