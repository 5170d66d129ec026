// The C-like face: websock_open / send / recv / close on the host chosen
// with useHost (each host's index does it). Where C blocks, these return
// Promises. None of them throws: a handle or null, 0 or a negative
// WEBSOCK_ERR_* code, a byte count or a negative code; websock_last_error
// says why. Each call checks its arguments, maps codes and hands the work to
// the handle's Session (session.ts); the protocol is in Connection.
//
// The names are written here once: a host's index re-exports this module.

import { Connection, STATE_NAMES, type ConnectionOptions } from "./connection.js";
import { resolveAttachConfig, resolveConfig, type ResolvedConfig } from "./config.js";
import { isHostHeaderValue } from "./hostname.js";
import { connectHop, hopProblem, redirectHop, requestOf } from "./dial.js";
import { urlOf } from "./redirect.js";
import { ERR, WEBSOCK_OK } from "./errors.js";
import type { Host, Transport } from "./host.js";
import { OPCODE_RAW } from "./receiver.js";
import {
  MAX_CLOSE_REASON,
  OPCODE_BINARY,
  OPCODE_CLOSE,
  OPCODE_CONTINUATION,
  OPCODE_PING,
  OPCODE_PONG,
  OPCODE_TEXT,
  isValidCloseCode,
} from "./opcodes.js";
import { currentHost, getLastError, setLastError, useHost } from "./registry.js";
import * as websockApi from "./websock.js";
import { Session, clearHeader, errorFrom, settled } from "./session.js";
import { Reconnector } from "./reconnector.js";
import { utf8Encode } from "./utf8.js";
import type {
  websock_attach_config_t,
  websock_callback_t,
  websock_config_t,
  websock_error_t,
  websock_handle_t,
  websock_info_t,
  websock_msg_hdr_t,
} from "./types.js";

export { websock_parse_url } from "./url.js";

/** websock_recv's timeout for "wait as long as it takes". */
export const WEBSOCK_WAIT_FOREVER = -1;

export const WEBSOCK_OP = Object.freeze({
  CONTINUATION: OPCODE_CONTINUATION,
  TEXT: OPCODE_TEXT,
  BINARY: OPCODE_BINARY,
  CLOSE: OPCODE_CLOSE,
  PING: OPCODE_PING,
  PONG: OPCODE_PONG,
  /** Raw mode: bytes as they came off the stream. */
  RAW: OPCODE_RAW,
});

/** websock_attach_* flags, after libdill: the default message type of websock_send, and no HTTP handshake. */
export const WS_BINARY = 0;
export const WS_TEXT = 1;
export const WS_NOHTTP = 2;

/** The WEBSOCK_ERR_* codes by short name: WEBSOCK_ERR.CLOSED_BY_PEER === -60. */
export const WEBSOCK_ERR: Readonly<Record<keyof typeof ERR, number>> = Object.freeze(
  Object.fromEntries(Object.entries(ERR).map(([key, row]) => [key, row.code])) as Record<keyof typeof ERR, number>,
);

export { WEBSOCK_OK };

const EMPTY = new Uint8Array(0);

/** A zeroed message header to pass to websock_recv. */
export function websock_msg_hdr_init(): websock_msg_hdr_t {
  return { fin: false, opcode: -1, payload_len: 0, offset: 0, bytesleft: 0 };
}

// ---- codes and errors ----

function invalid(s: Session | null, message: string): number {
  const e = { code: ERR.INVALID_ARG.code, name: ERR.INVALID_ARG.name, message: `${ERR.INVALID_ARG.message}: ${message}` };
  if (s !== null) s.setError(e);
  else setLastError(e);
  return ERR.INVALID_ARG.code;
}

/** A throw where none should be (a bug, or a hostile argument such as a Proxy): the call returns INTERNAL. */
function internal(s: Session | null, e: unknown): number {
  const error = errorFrom({ error: ERR.INTERNAL, detail: String(e) });
  if (s !== null) s.setError(error);
  else setLastError(error);
  return ERR.INTERNAL.code;
}

/** The open handle `h`, or null (with the last error set). */
function sessionOf(h: websock_handle_t): Session | null {
  if (h instanceof Session && !h.released) return h;
  invalid(null, "h is not an open websock handle (unknown, or already closed)");
  return null;
}

function hostOrNull(): Host | null {
  const host = currentHost();
  if (host === null) invalid(null, "no host: import websock from a host's index (hosts/node, hosts/moddable)");
  return host;
}

// A string's length as lastIndexOf("") called on it: reading text.length makes XS wrap the
// primitive string in a String object first (2 slots of garbage per text send, measured in xsnap).
const lastIndexOf = String.prototype.lastIndexOf;

/** Checks a payload and its len; returns the byte (or UTF-16 unit) count to send, or a negative code. */
function payloadLength(s: Session, payload: unknown, len: number | undefined, allowString: boolean): number {
  const isString = typeof payload === "string";
  if (isString ? !allowString : !(payload instanceof Uint8Array)) {
    return invalid(s, allowString ? "payload must be a string or a Uint8Array" : "payload must be a Uint8Array");
  }
  const length = isString ? lastIndexOf.call(payload, "") : (payload as Uint8Array).length;
  if (len === undefined) return length;
  if (typeof len !== "number" || !Number.isInteger(len) || len < 0 || len > length) {
    return invalid(s, `len must be an integer from 0 to ${length} (the payload's length)`);
  }
  return len;
}

// ---- opening ----

/**
 * Builds the connection on the config's buffers, starts its handshake (or
 * none), lets `makeTransport` connect or adopt a stream, and resolves with
 * a handle once open, or null with the reason in websock_last_error().
 */
async function startSession(
  host: Host,
  config: ResolvedConfig,
  role: "client" | "server",
  start: (conn: Connection) => void,
  makeTransport: (s: Session) => Transport | string,
  flags: number,
  prepare?: (s: Session) => void,
  reconnector: Reconnector | null = null,
): Promise<websock_handle_t | null> {
  const options: ConnectionOptions = {
    role,
    // The only allocations of the connection's life, unless the caller supplied them (or openFollowing did).
    ...buffersOf(config),
    autoPong: config.autoPong,
    maxMessageSize: config.maxMessageSize,
    pingInterval: config.pingInterval,
    pongTimeout: config.pongTimeout,
    closeTimeout: config.closeTimeout,
    openTimeout: config.timeOut,
    sendTimeout: config.sendTimeout,
    fragmentSize: config.fragmentSize,
    platform: host,
    deflate: role === "client" ? config.deflate : null,
  };
  const conn = new Connection(options);
  if (config.rawMode) conn.setRawMode();
  start(conn);
  const s = new Session(conn, host);
  if ((flags & WS_TEXT) !== 0) s.defaultOpcode = OPCODE_TEXT;
  if (prepare !== undefined) prepare(s);
  if (reconnector !== null) {
    s.reconnector = reconnector;
    reconnector.attach(s, options);
  }
  const opened = await s.open(makeTransport);
  if (opened === null) {
    setLastError(errorFrom(conn.ending ?? { error: ERR.IO, detail: "the connection failed" }));
    s.release();
    return null;
  }
  return s as unknown as websock_handle_t;
}

export function websock_open(cfg: websock_config_t): Promise<websock_handle_t | null> {
  try {
    const host = hostOrNull();
    if (host === null) return Promise.resolve(null);
    const resolved = resolveConfig(cfg);
    if (!resolved.ok) {
      invalid(null, resolved.message);
      return Promise.resolve(null);
    }
    const config = resolved.config;
    const deflate = deflateProblem(host, config, true);
    if (deflate !== null) {
      invalid(null, deflate);
      return Promise.resolve(null);
    }
    if (!hopPossible(host, config)) return Promise.resolve(null);
    // Reconnecting (and on_open) keeps the handle: the reconnector goes with each hop's session and
    // stays with the one that opens; each later attempt dials the configured URL again (reconnector.ts).
    const reconnector = config.reconnect.enabled || config.onOpen !== null ? new Reconnector(config.reconnect, config.onOpen) : null;
    return openFollowing(host, config, reconnector);
  } catch (e) {
    internal(null, e);
    return Promise.resolve(null);
  }
}

/** Whether `host` can connect as `config` asks; when not, false with the last error set. */
function hopPossible(host: Host, config: ResolvedConfig): boolean {
  const problem = hopProblem(host, config);
  if (problem === null) return true;
  setLastError(errorFrom(problem));
  return false;
}

/**
 * The config's rx and tx buffers: the caller's, or made here, both in one
 * ArrayBuffer (tx from the first 4-byte boundary after rx) when neither was
 * given: one ArrayBuffer and one view of its words (mask.ts) instead of two
 * each, 6 slots fewer per connection on XS.
 */
function buffersOf(config: ResolvedConfig): { rxBuffer: Uint8Array; txBuffer: Uint8Array } {
  const { rxBuffer, txBuffer, rxBufferSize, txBufferSize } = config;
  if (rxBuffer === null && txBuffer === null) {
    const txAt = (rxBufferSize + 3) & ~3;
    const both = new ArrayBuffer(txAt + txBufferSize);
    return { rxBuffer: new Uint8Array(both, 0, rxBufferSize), txBuffer: new Uint8Array(both, txAt, txBufferSize) };
  }
  return { rxBuffer: rxBuffer ?? new Uint8Array(rxBufferSize), txBuffer: txBuffer ?? new Uint8Array(txBufferSize) };
}

/**
 * websock_open's hops: a connection per redirect followed (redirect.ts), on
 * the same rx and tx buffers, until one opens (its handle) or one fails in a
 * way that is not a redirect to follow (null, last error set).
 */
async function openFollowing(host: Host, first: ResolvedConfig, reconnector: Reconnector | null): Promise<websock_handle_t | null> {
  // Allocated once for every hop (a hop's connection is gone before the next one starts).
  let config: ResolvedConfig = { ...first, ...buffersOf(first) };
  // Where every reconnect attempt starts again (reconnector.ts).
  reconnector?.startFrom(config);
  for (let followed = 0; ; followed++) {
    const hop = config;
    let session: Session | null = null;
    const h = await startSession(
      host,
      hop,
      "client",
      (conn) => conn.startHandshake(requestOf(hop)),
      (s) => connectHop(host, hop, s),
      WS_BINARY,
      (s) => {
        session = s;
        s.url = urlOf(hop);
        // Left at its first value (cold-fields.ts) when none was followed.
        if (followed > 0) s.redirects = followed;
      },
      reconnector,
    );
    const ending = (session as Session | null)?.conn.ending ?? null;
    const next = h !== null || ending === null ? null : redirectHop(host, hop, ending, followed);
    if (next === null) return h;
    if ("error" in next) {
      setLastError(errorFrom(next));
      return null;
    }
    config = next;
  }
}

/** Checks the shared arguments of websock_attach_*; returns the config or null (error set). */
function attachConfig(host: Host, stream: unknown, flags: number, cfg: websock_attach_config_t | undefined, resource: string | undefined): ResolvedConfig | null {
  if (host.adopt === undefined) {
    invalid(null, "this host cannot attach to an existing stream");
    return null;
  }
  if (stream === null || typeof stream !== "object") {
    invalid(null, "stream must be the host's stream object (on Node, a net.Socket or a Duplex)");
    return null;
  }
  if (typeof flags !== "number" || !Number.isInteger(flags) || (flags & ~(WS_TEXT | WS_NOHTTP)) !== 0) {
    invalid(null, "flags must be WS_BINARY or WS_TEXT, optionally | WS_NOHTTP");
    return null;
  }
  // Read field by field (never spread: a hostile getter would throw here).
  const resolved = resolveAttachConfig(cfg, resource);
  if (!resolved.ok) {
    invalid(null, resolved.message);
    return null;
  }
  return resolved.config;
}

/** Why the deflate option cannot be honoured here (a refusal message), or null. */
function deflateProblem(host: Host, config: ResolvedConfig, clientHandshake: boolean): string | null {
  const deflate = config.deflate;
  if (deflate === null) return null;
  // RFC 7692 §5: the extension is agreed in the opening handshake; the client side offers it.
  if (!clientHandshake) return "deflate: permessage-deflate is negotiated in the client's opening handshake (not on the server side, nor with WS_NOHTTP)";
  if (deflate.compress && !host.deflate) return "deflate.compress: this host cannot compress (the Node host can); leave it false to send uncompressed";
  return null;
}

/**
 * libdill's ws_attach_client: the client side of the protocol on a stream
 * the application already has. `resource` is the request target and `host`
 * the Host header (both unused with WS_NOHTTP).
 */
export function websock_attach_client(stream: unknown, flags: number, resource: string, hostHeader: string, cfg?: websock_attach_config_t): Promise<websock_handle_t | null> {
  try {
    const host = hostOrNull();
    if (host === null) return Promise.resolve(null);
    const noHttp = typeof flags === "number" && (flags & WS_NOHTTP) !== 0;
    if (!noHttp && (typeof hostHeader !== "string" || !isHostHeaderValue(hostHeader))) {
      invalid(null, "host must be the Host header's value: a host name or IP address, optionally \":port\" (RFC 9110 §7.2)");
      return Promise.resolve(null);
    }
    const config = attachConfig(host, stream, flags, cfg, noHttp ? undefined : resource);
    if (config === null) return Promise.resolve(null);
    const deflate = deflateProblem(host, config, !noHttp);
    if (deflate !== null) {
      invalid(null, deflate);
      return Promise.resolve(null);
    }
    return startSession(
      host,
      config,
      "client",
      (conn) => (noHttp ? conn.startOpen() : conn.startHandshake({ host: hostHeader, uri: config.uri, subprotocols: config.subprotocols, headers: config.headers })),
      (s) => host.adopt!(stream, s),
      flags,
    );
  } catch (e) {
    internal(null, e);
    return Promise.resolve(null);
  }
}

/**
 * libdill's ws_attach_server: the server side on an accepted stream. It
 * reads and checks the upgrade request, answers 101 (or 400 / 426 with the
 * reason) and then applies the mirrored framing rules. `cfg.subprotocols`
 * are those the server supports, most preferred first; websock_get_info
 * gives the resource, Host and subprotocols the client asked for.
 */
export function websock_attach_server(stream: unknown, flags: number, cfg?: websock_attach_config_t): Promise<websock_handle_t | null> {
  try {
    const host = hostOrNull();
    if (host === null) return Promise.resolve(null);
    const config = attachConfig(host, stream, flags, cfg, undefined);
    if (config === null) return Promise.resolve(null);
    const deflate = deflateProblem(host, config, false);
    if (deflate !== null) {
      invalid(null, deflate);
      return Promise.resolve(null);
    }
    return startSession(
      host,
      config,
      "server",
      (conn) => ((flags & WS_NOHTTP) !== 0 ? conn.startOpen() : conn.acceptHandshake(config.subprotocols)),
      (s) => host.adopt!(stream, s),
      flags,
    );
  } catch (e) {
    internal(null, e);
    return Promise.resolve(null);
  }
}

/**
 * libdill's ws_detach: runs the close handshake (1000; in raw mode there is
 * none) and returns the underlying stream without closing it, with any bytes
 * that followed the peer's close put back in front; null when the stream
 * ended first.
 */
export function websock_detach(h: websock_handle_t): Promise<unknown> {
  const s = sessionOf(h);
  if (s === null) return Promise.resolve(null);
  try {
    return s.detach();
  } catch (e) {
    internal(s, e);
    return Promise.resolve(null);
  }
}

// ---- send ----

function sendData(h: websock_handle_t, opcode: number, payload: string | Uint8Array, len: number | undefined, fin: boolean, allowString: boolean): Promise<number> {
  const s = sessionOf(h);
  if (s === null) return settled(ERR.INVALID_ARG.code);
  try {
    const units = payloadLength(s, payload, len, allowString);
    if (units < 0) return settled(units);
    // Connection.send refuses what may not be sent now (not open, raw mode, the §5.4 order, §8.1).
    const m = s.spareMessage();
    if (typeof payload === "string") m.setText(opcode, fin, payload, units);
    else m.setBytes(opcode, fin, payload, 0, units);
    return s.send(m);
  } catch (e) {
    return settled(internal(s, e));
  }
}

export function websock_send_text(h: websock_handle_t, payload: string | Uint8Array, len?: number): Promise<number> {
  return sendData(h, OPCODE_TEXT, payload, len, true, true);
}

export function websock_send_binary(h: websock_handle_t, payload: Uint8Array, len?: number): Promise<number> {
  return sendData(h, OPCODE_BINARY, payload, len, true, false);
}

export function websock_send_frame(h: websock_handle_t, opcode: number, payload: string | Uint8Array, len: number | undefined, fin: boolean): Promise<number> {
  const s = sessionOf(h);
  if (s === null) return settled(ERR.INVALID_ARG.code);
  if (typeof fin !== "boolean") return settled(invalid(s, "fin must be a boolean"));
  if (opcode === OPCODE_PING || opcode === OPCODE_PONG) {
    // §5.5: control frames are never fragmented. A pong by hand answers pings delivered with auto_pong false.
    return fin ? sendControl(s, opcode === OPCODE_PONG, payload) : settled(invalid(s, "a control frame cannot be fragmented (fin must be true)"));
  }
  if (opcode !== OPCODE_CONTINUATION && opcode !== OPCODE_TEXT && opcode !== OPCODE_BINARY) {
    return settled(invalid(s, "opcode must be 0 (continuation), 1 (text), 2 (binary), 9 (ping) or 10 (pong); close with websock_close_with_code"));
  }
  return sendData(h, opcode, payload, len, fin, true);
}

/** Sends a message of the handle's default type (WS_TEXT or WS_BINARY at attach; binary for websock_open). */
export function websock_send(h: websock_handle_t, payload: string | Uint8Array, len?: number): Promise<number> {
  const s = sessionOf(h);
  if (s === null) return settled(ERR.INVALID_ARG.code);
  return sendData(h, s.defaultOpcode, payload, len, true, true);
}

/** Raw mode: writes bytes to the stream as they are, after the handshake. */
export function websock_send_raw(h: websock_handle_t, bytes: Uint8Array, len?: number): Promise<number> {
  const s = sessionOf(h);
  if (s === null) return settled(ERR.INVALID_ARG.code);
  try {
    const n = payloadLength(s, bytes, len, false);
    if (n < 0) return settled(n);
    return s.send(s.spareMessage().setRaw(bytes, 0, n));
  } catch (e) {
    return settled(internal(s, e));
  }
}

export function websock_ping(h: websock_handle_t, payload?: string | Uint8Array): Promise<number> {
  const s = sessionOf(h);
  if (s === null) return settled(ERR.INVALID_ARG.code);
  return sendControl(s, false, payload);
}

/** A ping, or (with auto_pong false) the application's own pong; both go out at the next frame boundary. */
function sendControl(s: Session, pong: boolean, payload: string | Uint8Array | undefined): Promise<number> {
  try {
    const bytes = payload === undefined ? EMPTY : typeof payload === "string" ? utf8Encode(payload) : payload;
    if (!(bytes instanceof Uint8Array)) return settled(invalid(s, "payload must be a string or a Uint8Array"));
    return settled(s.sendControl(pong, bytes));
  } catch (e) {
    return settled(internal(s, e));
  }
}

/** Registers (or, with null, removes) the callback that receives every piece instead of websock_recv. */
export function websock_set_callback(h: websock_handle_t, callback: websock_callback_t | null): number {
  const s = sessionOf(h);
  if (s === null) return ERR.INVALID_ARG.code;
  if (callback !== null && typeof callback !== "function") return invalid(s, "callback must be a function or null");
  try {
    return s.setCallback(callback);
  } catch (e) {
    return internal(s, e);
  }
}

// ---- receive ----

/** Checks websock_recv's arguments; returns 0 or the code of the refusal. */
function checkRecvArgs(s: Session, hdr: websock_msg_hdr_t, buf: Uint8Array, len: number): number {
  if (hdr === null || typeof hdr !== "object") return invalid(s, "hdr must be a websock_msg_hdr_t object");
  if (!(buf instanceof Uint8Array)) return invalid(s, "buf must be a Uint8Array");
  if (typeof len !== "number" || !Number.isInteger(len) || len < 1 || len > buf.length) {
    return invalid(s, `len must be an integer from 1 to ${buf.length} (the length of buf)`);
  }
  if (s.callback !== null) return invalid(s, "a callback is set (websock_set_callback): pieces go to it, not to websock_recv");
  try {
    // Written before anything is read: a header that cannot be written (frozen) is refused here, with nothing lost.
    clearHeader(hdr);
  } catch {
    return invalid(s, "hdr must be a writable websock_msg_hdr_t object (it is frozen or read-only)");
  }
  return WEBSOCK_OK;
}

export function websock_recv(h: websock_handle_t, hdr: websock_msg_hdr_t, buf: Uint8Array, len: number, timeout: number): Promise<number> {
  const s = sessionOf(h);
  if (s === null) return settled(ERR.INVALID_ARG.code);
  try {
    const refused = checkRecvArgs(s, hdr, buf, len);
    if (refused !== WEBSOCK_OK) return settled(refused);
    // Any wait is allowed: the handle's timer is re-armed past 2^31-1 ms, so a long one costs nothing while idle.
    if (typeof timeout !== "number" || !(Number.isSafeInteger(timeout) && (timeout >= 0 || timeout === WEBSOCK_WAIT_FOREVER))) {
      return settled(invalid(s, "timeout must be a whole number of milliseconds >= 0, or -1 to wait forever"));
    }
    return s.recv(hdr, buf, len, timeout);
  } catch (e) {
    return settled(internal(s, e));
  }
}

/**
 * The non-blocking receive (libcurl's curl_ws_recv): the next piece now, or
 * WEBSOCK_ERR.AGAIN when none has arrived. Synchronous; allocates nothing.
 */
export function websock_recv_now(h: websock_handle_t, hdr: websock_msg_hdr_t, buf: Uint8Array, len: number): number {
  const s = sessionOf(h);
  if (s === null) return ERR.INVALID_ARG.code;
  try {
    const refused = checkRecvArgs(s, hdr, buf, len);
    if (refused !== WEBSOCK_OK) return refused;
    return s.recvNow(hdr, buf, len);
  } catch (e) {
    return internal(s, e);
  }
}

// ---- close ----

export async function websock_close(h: websock_handle_t): Promise<void> {
  const s = sessionOf(h);
  if (s === null) return;
  try {
    await s.close(1000, EMPTY);
  } catch (e) {
    internal(s, e);
    s.release();
  }
}

export async function websock_close_with_code(h: websock_handle_t, code: number, reason = ""): Promise<number> {
  const s = sessionOf(h);
  if (s === null) return ERR.INVALID_ARG.code;
  try {
    // §7.4: 1005, 1006 and 1015 are never sent; 1004 is reserved.
    if (typeof code !== "number" || !Number.isInteger(code) || !isValidCloseCode(code)) {
      return invalid(s, "code must be an integer: 1000-1003, 1007-1014 or 3000-4999");
    }
    if (typeof reason !== "string") return invalid(s, "reason must be a string");
    const bytes = utf8Encode(reason);
    if (bytes.length > MAX_CLOSE_REASON) return invalid(s, "reason is longer than 123 bytes of UTF-8");
    // 0 once the close handshake is done; CLOSE_TIMEOUT when the peer did not answer within close_timeout.
    return await s.close(code, bytes);
  } catch (e) {
    const code = internal(s, e);
    s.release();
    return code;
  }
}

// ---- information ----

export function websock_last_error(h?: websock_handle_t | null): websock_error_t {
  if (h instanceof Session) return h.lastError;
  return getLastError();
}

export function websock_get_info(h: websock_handle_t): websock_info_t | null {
  const s = sessionOf(h);
  if (s === null) return null;
  try {
    const conn = s.conn;
    const info: websock_info_t = {
      state: STATE_NAMES[conn.state],
      subprotocol: conn.subprotocol,
      http_status: conn.peerStatus,
      headers: conn.peerHeaders(),
    };
    const r = s.reconnector;
    if (r !== null && r.policy.enabled) {
      // Between connections the handle is connecting again, whatever the dropped connection's state.
      if (r.down) info.state = "CONNECTING";
      info.attempts = r.attempts;
      info.reconnects = r.reconnects;
      info.last_failure = r.lastFailure;
      if (r.retryDelay >= 0) info.retry_delay = r.retryDelay;
    }
    const tls = s.transport?.tlsInfo?.();
    if (tls) info.tls = tls;
    const deflate = conn.deflate;
    if (deflate !== null) {
      info.deflate = {
        server_max_window_bits: deflate.serverMaxWindowBits,
        server_no_context_takeover: deflate.serverNoContextTakeover,
        client_max_window_bits: deflate.clientMaxWindowBits,
        client_no_context_takeover: deflate.clientNoContextTakeover,
        compressing: conn.compressor !== null,
      };
    }
    if (s.url !== "") {
      info.url = s.url;
      info.redirects = s.redirects;
    }
    const request = conn.request;
    if (request !== null) {
      info.http_status = 101;
      info.resource = request.resource;
      info.host = request.host;
      info.offered_subprotocols = request.subprotocols.slice();
    }
    return info;
  } catch (e) {
    internal(s, e);
    return null;
  }
}

/**
 * The API as one object (this module's namespace), bound to `host`: for the
 * XS test entries and benches, which pick their host at run time.
 */
export function createWebsock(host: Host): WebsockApi {
  useHost(host);
  return websockApi;
}

export type WebsockApi = typeof websockApi;
