// The exit status table, and how a websock_error_t maps onto it. Every
// failure ends as one line on stderr: "websock: <why>".

import { WEBSOCK_ERR, type websock_error_t } from "websock-rfc6455";

export const EXIT = Object.freeze({
  /** A normal close, by either side. */
  OK: 0,
  /** Anything else: stdin/stdout, transport I/O. */
  OTHER: 1,
  /** A bad option or argument (or a file it names). */
  USAGE: 2,
  /** The host name did not resolve, or TCP could not connect. */
  CONNECT: 3,
  TLS: 4,
  /** The HTTP upgrade failed: a status other than 101, or a response RFC 6455 §4.1 rejects. */
  HANDSHAKE: 5,
  /** The server broke RFC 6455 after the handshake. */
  PROTOCOL: 6,
  /** The server closed with a code other than 1000/1001, or dropped TCP without a close frame. */
  CLOSED: 7,
  /** --timeout, --pong-timeout, or the closing handshake. */
  TIMEOUT: 8,
  /** SIGINT (Ctrl-C); the connection is still closed normally. */
  INTERRUPTED: 130,
});

/** How a run ended: the exit status, and the line for stderr when it is a failure. */
export interface Outcome {
  code: number;
  message?: string;
  /** Lines shown under the message, indented (a refused handshake's response). */
  details?: string[];
}

/** Close codes that mean "done" rather than "failed" (RFC 6455 §7.4.1): normal, going away, no status. */
const NORMAL_CLOSE_CODES: ReadonlySet<number> = new Set([1000, 1001, 1005]);

const BY_CODE: ReadonlyMap<number, number> = new Map<number, number>([
  [WEBSOCK_ERR.INVALID_ARG, EXIT.USAGE],
  [WEBSOCK_ERR.DNS, EXIT.CONNECT],
  [WEBSOCK_ERR.CONNECT, EXIT.CONNECT],
  [WEBSOCK_ERR.PROXY, EXIT.CONNECT],
  [WEBSOCK_ERR.REDIRECT, EXIT.HANDSHAKE],
  [WEBSOCK_ERR.TLS, EXIT.TLS],
  [WEBSOCK_ERR.TIMEOUT, EXIT.TIMEOUT],
  [WEBSOCK_ERR.PONG_TIMEOUT, EXIT.TIMEOUT],
  [WEBSOCK_ERR.CLOSE_TIMEOUT, EXIT.TIMEOUT],
  [WEBSOCK_ERR.IO, EXIT.OTHER],
  [WEBSOCK_ERR.HTTP_STATUS, EXIT.HANDSHAKE],
  [WEBSOCK_ERR.BAD_RESPONSE, EXIT.HANDSHAKE],
  [WEBSOCK_ERR.RESPONSE_TOO_LARGE, EXIT.HANDSHAKE],
  [WEBSOCK_ERR.BAD_UPGRADE, EXIT.HANDSHAKE],
  [WEBSOCK_ERR.BAD_CONNECTION, EXIT.HANDSHAKE],
  [WEBSOCK_ERR.BAD_ACCEPT, EXIT.HANDSHAKE],
  [WEBSOCK_ERR.BAD_SUBPROTOCOL, EXIT.HANDSHAKE],
  [WEBSOCK_ERR.BAD_EXTENSION, EXIT.HANDSHAKE],
  [WEBSOCK_ERR.HANDSHAKE_EOF, EXIT.HANDSHAKE],
  [WEBSOCK_ERR.RSV_BITS, EXIT.PROTOCOL],
  [WEBSOCK_ERR.RESERVED_OPCODE, EXIT.PROTOCOL],
  [WEBSOCK_ERR.MASKED_FRAME, EXIT.PROTOCOL],
  [WEBSOCK_ERR.CONTROL_TOO_LONG, EXIT.PROTOCOL],
  [WEBSOCK_ERR.CONTROL_FRAGMENTED, EXIT.PROTOCOL],
  [WEBSOCK_ERR.UNEXPECTED_CONTINUATION, EXIT.PROTOCOL],
  [WEBSOCK_ERR.EXPECTED_CONTINUATION, EXIT.PROTOCOL],
  [WEBSOCK_ERR.NON_MINIMAL_LENGTH, EXIT.PROTOCOL],
  [WEBSOCK_ERR.LENGTH_TOO_LARGE, EXIT.PROTOCOL],
  [WEBSOCK_ERR.INVALID_UTF8, EXIT.PROTOCOL],
  [WEBSOCK_ERR.BAD_CLOSE_PAYLOAD, EXIT.PROTOCOL],
  [WEBSOCK_ERR.BAD_CLOSE_CODE, EXIT.PROTOCOL],
  [WEBSOCK_ERR.MESSAGE_TOO_BIG, EXIT.PROTOCOL],
  [WEBSOCK_ERR.CONNECTION_LOST, EXIT.CLOSED],
  [WEBSOCK_ERR.CLOSED_LOCALLY, EXIT.OK],
]);

const TLS_HINTS: Readonly<Record<string, string>> = Object.freeze({
  untrusted_ca: "the certificate's issuer is not trusted: pass --cacert FILE (or --insecure)",
  hostname_mismatch: "the certificate is for another name: see --servername",
  expired: "the server's certificate has expired",
  not_yet_valid: "the server's certificate is not valid yet",
  pin_mismatch: "the server's public key matches no --pin-sha256",
  client_cert_required: "the server requires a client certificate: pass --cert and --key",
  client_cert_rejected: "the server rejected the client certificate",
  protocol_version: "no TLS version in common with the server",
});

/** What the user asked for, to word a failure in the options' terms. */
export interface Asked {
  /** --timeout, --pong-timeout in seconds; undefined: the library's defaults. */
  timeout?: number;
  pongTimeout?: number;
}

const DEFAULT_TIMEOUT_S = 10;
const DEFAULT_PONG_TIMEOUT_S = 10;

/** What follows the first ": " of a websock message (the table's words come before it). */
function detailOf(message: string): string {
  const colon = message.indexOf(": ");
  return colon < 0 ? message : message.slice(colon + 2);
}

const CONNECT_HINTS: Readonly<Record<string, string>> = Object.freeze({
  ECONNREFUSED: "nothing listens on that port",
  ETIMEDOUT: "no answer from that address",
  EHOSTUNREACH: "no route to that host",
  ENETUNREACH: "no route to that network",
});

/** "127.0.0.1:1: connect ECONNREFUSED 127.0.0.1:1" as "cannot connect to 127.0.0.1:1: ECONNREFUSED (nothing listens on that port)". */
function connectFailure(detail: string): string {
  const at = /^(?:the proxy )?(\S+): (.*)$/.exec(detail);
  const proxy = detail.startsWith("the proxy ") ? "the proxy " : "";
  const code = /\b(E[A-Z]{3,})\b/.exec(detail)?.[1];
  if (at === null || code === undefined) return `cannot connect: ${detail}`;
  const hint = CONNECT_HINTS[code];
  // An IPv6 address and its port, written as in a URL: [::1]:8080.
  const where = (at[1].match(/:/g) ?? []).length > 1 ? at[1].replace(/^(.*):(\d+)$/, "[$1]:$2") : at[1];
  return `cannot connect to ${proxy}${where}: ${code}${hint !== undefined ? ` (${hint})` : ""}`;
}

/** "(while connecting)" and the like, that websock puts at the end of a timeout's detail. */
function phaseOf(message: string): string {
  const m = /\(([^()]*)\)\s*$/.exec(message);
  return m === null ? "" : ` (${m[1]})`;
}

/** The library names its config fields; the user typed options. */
const FIELD_WORDS: ReadonlyArray<readonly [RegExp, string]> = Object.freeze([
  [/\btime_out\b/g, "--timeout"],
  [/\bpong_timeout\b/g, "--pong-timeout"],
  [/\bclose_timeout\b/g, "--close-timeout"],
  [/\bping_interval\b/g, "--ping-interval"],
  [/\bmax_message_size\b/g, "the message size limit"],
] as const);

function inUserWords(message: string): string {
  let m = message;
  for (const [field, words] of FIELD_WORDS) m = m.replace(field, words);
  return m;
}

/** The exit status and stderr line for an error websock reported. */
export function outcomeOf(e: websock_error_t, asked: Asked = {}): Outcome {
  if (e.code === WEBSOCK_ERR.CLOSED_BY_PEER) {
    const code = e.close_code ?? 1005;
    if (NORMAL_CLOSE_CODES.has(code)) return { code: EXIT.OK };
    return { code: EXIT.CLOSED, message: `closed by the server with code ${code}${e.close_reason ? `: ${e.close_reason}` : ""}` };
  }
  const code = BY_CODE.get(e.code) ?? EXIT.OTHER;
  if (code === EXIT.OK) return { code };
  let message = e.message;
  if (e.code === WEBSOCK_ERR.HTTP_STATUS && e.http_status !== undefined) {
    message = `handshake failed: the server answered HTTP ${e.http_status} instead of 101 Switching Protocols`;
  } else if (e.code === WEBSOCK_ERR.TIMEOUT) {
    const s = asked.timeout ?? DEFAULT_TIMEOUT_S;
    message = `not open after ${s} s${phaseOf(e.message)}: see --timeout`;
  } else if (e.code === WEBSOCK_ERR.PONG_TIMEOUT) {
    const s = asked.pongTimeout ?? DEFAULT_PONG_TIMEOUT_S;
    message = `the server did not answer a ping within ${s} s (--pong-timeout)`;
  } else if (e.code === WEBSOCK_ERR.DNS) {
    // websock's message is "<what failed>: <detail>"; here the detail says it all ("x could not be resolved (ENOTFOUND)").
    message = detailOf(e.message);
  } else if (e.code === WEBSOCK_ERR.CONNECT) {
    message = connectFailure(detailOf(e.message));
  } else if (e.code === WEBSOCK_ERR.CONNECTION_LOST) {
    message = "the server dropped the connection without a close frame (1006)";
  } else if (e.code === WEBSOCK_ERR.HANDSHAKE_EOF) {
    message = "handshake failed: the server closed the connection before it answered the upgrade";
  } else if (code === EXIT.HANDSHAKE) {
    message = `handshake failed: ${message}`;
  } else if (code === EXIT.PROTOCOL) {
    message = `protocol error: ${message}${e.close_code ? ` (closed with ${e.close_code})` : ""}`;
  } else if (e.code === WEBSOCK_ERR.TLS && e.tls_reason !== undefined && TLS_HINTS[e.tls_reason] !== undefined) {
    message = `${message} (${TLS_HINTS[e.tls_reason]})`;
  }
  return { code, message: oneLine(inUserWords(message)) };
}

/** Error texts from the platform can carry newlines; the contract is one line. */
export function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, " ").trim();
}
