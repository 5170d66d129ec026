// The C-like face: websock_open / send / recv / close over one Host. Where C
// blocks, these return Promises. They never throw: a handle or null, 0 or a
// negative WEBSOCK_ERR_* code, a byte count or a negative code; and
// websock_last_error says why.
//
// This layer moves bytes between the host's transport and the core
// (Connection), arms one timer per handle for the core's deadlines and
// websock_recv's timeout, and parks callers until the core has what they
// wait for.

import {
  Connection,
  NOTHING_READY,
  STATE_CLOSED,
  STATE_CONNECTING,
  STATE_NAMES,
  STATE_OPEN,
  TRANSPORT_CLOSE,
  TRANSPORT_KEEP,
  encodeCloseReason,
  type Failure,
} from "./connection.js";
import { resolveConfig, type ResolvedConfig } from "./config.js";
import { ERR, WEBSOCK_OK, type ErrorRow } from "./errors.js";
import type { Host, Transport, TransportFailure, TransportHandlers } from "./host.js";
import { OPCODE_RAW } from "./receiver.js";
import {
  MAX_CONTROL_PAYLOAD,
  OPCODE_BINARY,
  OPCODE_CLOSE,
  OPCODE_CONTINUATION,
  OPCODE_PING,
  OPCODE_PONG,
  OPCODE_TEXT,
  isValidCloseCode,
} from "./opcodes.js";
import { UTF8_ACCEPT, UTF8_REJECT, utf8Encode, utf8Length, utf8Validate } from "./utf8.js";
import type {
  websock_attach_config_t,
  websock_callback_t,
  websock_config_t,
  websock_error_t,
  websock_handle_t,
  websock_info_t,
  websock_msg_hdr_t,
} from "./types.js";

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

/** A zeroed message header to pass to websock_recv. */
export function websock_msg_hdr_init(): websock_msg_hdr_t {
  return { fin: false, opcode: -1, payload_len: 0, offset: 0, bytesleft: 0 };
}

export interface WebsockApi {
  websock_open(cfg: websock_config_t): Promise<websock_handle_t | null>;
  websock_send_text(h: websock_handle_t, payload: string | Uint8Array, len?: number): Promise<number>;
  websock_send_binary(h: websock_handle_t, payload: Uint8Array, len?: number): Promise<number>;
  websock_send_frame(h: websock_handle_t, opcode: number, payload: string | Uint8Array, len: number | undefined, fin: boolean): Promise<number>;
  websock_ping(h: websock_handle_t, payload?: string | Uint8Array): Promise<number>;
  websock_recv(h: websock_handle_t, hdr: websock_msg_hdr_t, buf: Uint8Array, len: number, timeout: number): Promise<number>;
  websock_close(h: websock_handle_t): Promise<void>;
  websock_attach_client(stream: unknown, flags: number, resource: string, host: string, cfg?: websock_attach_config_t): Promise<websock_handle_t | null>;
  websock_attach_server(stream: unknown, flags: number, cfg?: websock_attach_config_t): Promise<websock_handle_t | null>;
  websock_detach(h: websock_handle_t): Promise<unknown>;
  websock_send(h: websock_handle_t, payload: string | Uint8Array, len?: number): Promise<number>;
  websock_send_raw(h: websock_handle_t, bytes: Uint8Array, len?: number): Promise<number>;
  websock_set_callback(h: websock_handle_t, callback: websock_callback_t | null): number;
  websock_close_with_code(h: websock_handle_t, code: number, reason?: string): Promise<number>;
  websock_last_error(h?: websock_handle_t | null): websock_error_t;
  websock_get_info(h: websock_handle_t): websock_info_t | null;
}

const NO_ERROR: websock_error_t = Object.freeze({ code: WEBSOCK_OK, name: "WEBSOCK_OK", message: "no error" });

function errorFrom(failure: Failure): websock_error_t {
  const { error, detail } = failure;
  const e: websock_error_t = {
    code: error.code,
    name: error.name,
    message: detail && detail !== error.message ? `${error.message}: ${detail}` : error.message,
  };
  if (failure.httpStatus !== undefined) e.http_status = failure.httpStatus;
  if (failure.closeCode !== undefined && failure.closeCode !== 0) e.close_code = failure.closeCode;
  if (failure.closeReason !== undefined) e.close_reason = failure.closeReason;
  if (failure.tlsReason !== undefined) e.tls_reason = failure.tlsReason;
  return e;
}

const TRANSPORT_ERRORS: Readonly<Record<TransportFailure["kind"], ErrorRow>> = Object.freeze({
  dns: ERR.DNS,
  connect: ERR.CONNECT,
  tls: ERR.TLS,
  io: ERR.IO,
});

/** Everything one handle holds; the handle the caller sees is an opaque token mapped to this. */
class Session {
  readonly conn: Connection;
  readonly config: ResolvedConfig;
  transport: Transport | null = null;
  connected = false;
  transportEnded = false;
  released = false;
  lastError: websock_error_t = NO_ERROR;

  // The tx bytes produced but not yet taken by the transport.
  txOff = 0;
  txLen = 0;
  writeBlocked = false;

  /** The handle's one timer, and when it fires: at or before the earliest deadline (see armDeadline). */
  deadlineTimer: unknown = null;
  deadlineAt = Infinity;

  /** Wakes the pending websock_recv, if any. */
  recvWake: (() => void) | null = null;
  /** When the pending websock_recv gives up (host clock; Infinity: none waits, or it waits forever). */
  recvDeadline = Infinity;
  recvTimedOut = false;
  /** Resolves the pending data frame's send once sender.framesProduced reaches sendTarget. */
  sendDone: ((code: number) => void) | null = null;
  sendTarget = 0;
  sendChain: Promise<unknown> = Promise.resolve();
  /** Outgoing fragmentation: inside a message, and its UTF-8 state when text. */
  sendingFragmented = false;
  sendingText = false;
  sendUtf8 = UTF8_ACCEPT;

  openDone: ((ok: boolean) => void) | null = null;
  closeWaiters: Array<() => void> = [];

  /** The handle given out once open (callbacks receive it). */
  handle: websock_handle_t | null = null;
  /** websock_send's message type (WS_TEXT / WS_BINARY). */
  defaultOpcode = OPCODE_BINARY;
  /** The callback model: pieces are pushed to this instead of pulled with websock_recv. */
  callback: websock_callback_t | null = null;
  inCallback = false;
  readonly callbackHdr: websock_msg_hdr_t = { fin: false, opcode: -1, payload_len: 0, offset: 0, bytesleft: 0 };
  /** websock_detach: the stream is handed back after the close handshake instead of being ended. */
  detaching = false;

  constructor(conn: Connection, config: ResolvedConfig) {
    this.conn = conn;
    this.config = config;
  }
}

export function createWebsock(host: Host): WebsockApi {
  const sessions = new WeakMap<websock_handle_t, Session>();
  let lastError: websock_error_t = NO_ERROR;

  function setError(s: Session | null, e: websock_error_t): void {
    lastError = e;
    if (s !== null) s.lastError = e;
  }

  function invalid(s: Session | null, message: string): number {
    setError(s, { code: ERR.INVALID_ARG.code, name: ERR.INVALID_ARG.name, message: `${ERR.INVALID_ARG.message}: ${message}` });
    return ERR.INVALID_ARG.code;
  }

  function failWith(s: Session, row: ErrorRow, detail?: string): number {
    setError(s, errorFrom({ error: row, detail: detail ?? row.message }));
    return row.code;
  }

  function sessionOf(h: websock_handle_t): Session | null {
    const s = typeof h === "object" && h !== null ? sessions.get(h) : undefined;
    if (s === undefined || s.released) {
      invalid(null, "h is not an open websock handle (unknown, or already closed)");
      return null;
    }
    return s;
  }

  // ---- moving bytes ----

  /** Pulls what the transport has into the rx buffer, as long as there is room. */
  function readIn(s: Session): void {
    const t = s.transport;
    if (t === null || s.transportEnded) return;
    const conn = s.conn;
    for (;;) {
      const room = conn.prepareReceive();
      if (room === 0) return;
      const end = conn.rxEnd;
      const n = t.read(conn.rx, end, end + room);
      if (n === 0) return;
      conn.commitReceive(n);
    }
  }

  /** Writes what the core produces until the transport pushes back. */
  function pump(s: Session): void {
    const t = s.transport;
    if (t === null || !s.connected || s.writeBlocked || s.transportEnded) return;
    const conn = s.conn;
    for (;;) {
      if (s.txOff < s.txLen) {
        s.txOff += t.write(conn.tx.subarray(s.txOff, s.txLen));
        if (s.txOff < s.txLen) {
          s.writeBlocked = true;
          return;
        }
      }
      const n = conn.produce();
      if (n === 0) return;
      s.txOff = 0;
      s.txLen = n;
    }
  }

  function endTransport(s: Session, graceful: boolean): void {
    const t = s.transport;
    if (t === null || s.transportEnded) return;
    s.transportEnded = true;
    if (graceful) t.close();
    else t.destroy();
  }

  /** After anything happened: write, end the transport if asked, wake whoever waits, re-arm the timer. */
  function sync(s: Session): void {
    const conn = s.conn;
    // Callbacks first: what they cause (a pong, a failure's close frame) is written below.
    if (s.callback !== null && !s.inCallback && conn.readable) deliverToCallback(s);
    pump(s);
    const action = conn.transportAction;
    if (action !== TRANSPORT_KEEP && !s.transportEnded && !s.detaching) {
      // A graceful end waits until the close frame has been taken by the transport.
      if (action !== TRANSPORT_CLOSE || s.txOff >= s.txLen || !s.connected) endTransport(s, action === TRANSPORT_CLOSE && s.connected);
    }
    if (s.recvWake !== null && conn.readable) s.recvWake();
    if (s.sendDone !== null) {
      // Done once the frame is produced and its last bytes were taken by the transport;
      // lost if the transport ended first, or if the core dropped the frame unstarted (closing).
      const produced = conn.sender.framesProduced >= s.sendTarget;
      if (produced && s.txOff >= s.txLen) s.sendDone(WEBSOCK_OK);
      else if (s.transportEnded || (!produced && !conn.sender.busy)) s.sendDone(ERR.NOT_OPEN.code);
    }
    if (s.openDone !== null && conn.state !== STATE_CONNECTING) s.openDone(conn.opened);
    if (s.closeWaiters.length > 0 && conn.state === STATE_CLOSED && (s.transportEnded || s.detaching)) {
      for (const wake of s.closeWaiters.splice(0)) wake();
    }
    armDeadline(s);
  }

  /**
   * Keeps the handle's one timer due at or before its earliest deadline: the
   * core's (heartbeat, pong, close) and the waiting websock_recv's timeout.
   * A timer due earlier than needed is left as it is: it fires, finds nothing
   * due (Connection.tick checks the clock) and is set again for what remains.
   * So websock_recv, whose deadline only moves later from one call to the
   * next, costs a comparison per call instead of setting and clearing a timer.
   */
  function armDeadline(s: Session): void {
    if (s.released || s.transportEnded) {
      // Nothing can come due any more, and a pending timer would keep a Node process alive.
      if (s.deadlineTimer !== null) host.clearTimer(s.deadlineTimer);
      s.deadlineTimer = null;
      s.deadlineAt = Infinity;
      return;
    }
    const core = s.conn.nextDeadline();
    const at = core < s.recvDeadline ? core : s.recvDeadline;
    if (s.deadlineTimer !== null) {
      if (s.deadlineAt <= at) return;
      host.clearTimer(s.deadlineTimer);
      s.deadlineTimer = null;
    }
    if (at === Infinity) return;
    s.deadlineAt = at;
    s.deadlineTimer = host.setTimer(Math.max(0, at - host.now()), () => {
      s.deadlineTimer = null;
      s.deadlineAt = Infinity;
      s.conn.tick();
      if (s.recvWake !== null && host.now() >= s.recvDeadline) {
        s.recvTimedOut = true;
        s.recvWake();
      }
      sync(s);
    });
  }

  /**
   * The callback model: every piece that is ready goes to the callback, read
   * in place (the view is valid during the call only); the end of the
   * connection is one last call with opcode -1 and no data.
   */
  function deliverToCallback(s: Session): void {
    const conn = s.conn;
    const hdr = s.callbackHdr;
    s.inCallback = true;
    try {
      while (s.callback !== null) {
        const n = conn.read(hdr, null, 0, conn.rx.length);
        if (n === NOTHING_READY) break;
        const callback = s.callback;
        if (n < 0) {
          setError(s, errorFrom(conn.ending!));
          clearHeader(hdr);
          s.callback = null;
          callback(s.handle!, hdr, EMPTY);
          break;
        }
        const at = conn.receiver.pieceStart;
        callback(s.handle!, hdr, conn.rx.subarray(at, at + n));
        readIn(s);
      }
    } catch (e) {
      s.callback = null;
      conn.abort(ERR.CALLBACK, `the frame callback threw: ${String(e)}`);
      if (conn.ending !== null) setError(s, errorFrom(conn.ending));
    } finally {
      s.inCallback = false;
    }
  }

  /**
   * Runs a host callback; a throw inside the core or the host fails the connection instead of escaping.
   * `work` gets the session, so the hot callers pass a function made once (readIn, nothing), not a new closure per call.
   */
  function guarded(s: Session, work: (s: Session) => void): void {
    try {
      work(s);
    } catch (e) {
      s.conn.transportFailed({ error: ERR.IO, detail: `internal error: ${String(e)}` });
    }
    try {
      sync(s);
    } catch {
      endTransport(s, false);
    }
  }

  function release(s: Session): void {
    if (s.released) return;
    endTransport(s, false);
    s.released = true;
    if (s.deadlineTimer !== null) host.clearTimer(s.deadlineTimer);
    s.deadlineTimer = null;
    s.recvWake?.();
    s.sendDone?.(ERR.NOT_OPEN.code);
    for (const wake of s.closeWaiters.splice(0)) wake();
  }

  // ---- open ----

  /** The transport callbacks of one session: each runs guarded, then sync. */
  function handlersFor(s: Session): TransportHandlers {
    const conn = s.conn;
    return {
      onConnect: () => guarded(s, () => {
        s.connected = true;
      }),
      onReadable: () => guarded(s, readIn),
      onWritable: () => guarded(s, () => {
        s.writeBlocked = false;
      }),
      onEnd: () => guarded(s, () => {
        readIn(s);
        conn.receiveEof();
      }),
      onError: (f) => guarded(s, () => {
        s.transportEnded = true;
        conn.transportFailed({ error: TRANSPORT_ERRORS[f.kind] ?? ERR.IO, detail: f.message, tlsReason: f.tlsReason, closeCode: conn.state === STATE_CONNECTING ? undefined : 1006 });
      }),
    };
  }

  /**
   * Builds the connection on the config's buffers, starts its handshake (or
   * none), lets `makeTransport` connect or adopt a stream, and resolves with
   * a handle once open, or null with the reason in websock_last_error().
   */
  async function startSession(
    config: ResolvedConfig,
    role: "client" | "server",
    startHandshake: (conn: Connection) => void,
    makeTransport: (handlers: TransportHandlers) => Transport | string,
    flags: number,
  ): Promise<websock_handle_t | null> {
    const conn = new Connection({
      role,
      // The only allocations of the connection's life, unless the caller supplied them.
      rxBuffer: config.rxBuffer ?? new Uint8Array(config.rxBufferSize),
      txBuffer: config.txBuffer ?? new Uint8Array(config.txBufferSize),
      autoPong: config.autoPong,
      maxMessageSize: config.maxMessageSize,
      pingInterval: config.pingInterval,
      pongTimeout: config.pongTimeout,
      closeTimeout: config.closeTimeout,
      randomFill: (out) => host.randomFill(out),
      sha1: (data) => host.sha1(data),
      now: () => host.now(),
    });
    if (config.rawMode) conn.setRawMode();
    startHandshake(conn);
    const s = new Session(conn, config);
    s.defaultOpcode = (flags & WS_TEXT) !== 0 ? OPCODE_TEXT : OPCODE_BINARY;

    const opened = new Promise<boolean>((resolve) => {
      s.openDone = (ok) => {
        s.openDone = null;
        resolve(ok);
      };
    });
    const openTimer = host.setTimer(config.timeOut, () => {
      if (s.openDone === null) return;
      const inTls = !s.connected && s.transport?.tlsHandshaking?.() === true;
      const where = s.connected ? "waiting for the handshake" : inTls ? "in the TLS handshake" : "connecting";
      conn.transportFailed({ error: ERR.TIMEOUT, detail: `not open after ${config.timeOut} ms (${where})`, tlsReason: inTls ? "handshake_timeout" : undefined });
      sync(s);
    });
    try {
      const made = makeTransport(handlersFor(s));
      if (typeof made === "string") conn.transportFailed({ error: ERR.INVALID_ARG, detail: made });
      else s.transport = made;
    } catch (e) {
      conn.transportFailed({ error: ERR.CONNECT, detail: String(e) });
    }
    sync(s);
    const ok = await opened;
    host.clearTimer(openTimer);
    if (!ok) {
      setError(null, errorFrom(conn.ending ?? { error: ERR.IO, detail: "the connection failed" }));
      // A refusal (400 / 426) is written before the stream ends.
      if (!s.transportEnded && conn.transportAction === TRANSPORT_CLOSE) await waitClosed(s);
      release(s);
      return null;
    }
    const handle: websock_handle_t = Object.freeze({ __websock_handle: true as const });
    s.handle = handle;
    sessions.set(handle, s);
    return handle;
  }

  async function websock_open(cfg: websock_config_t): Promise<websock_handle_t | null> {
    const resolved = resolveConfig(cfg);
    if (!resolved.ok) {
      invalid(null, resolved.message);
      return null;
    }
    const config = resolved.config;
    if (config.secured) {
      const sslProblem = host.checkSsl(config.ssl);
      if (sslProblem !== null) {
        invalid(null, sslProblem);
        return null;
      }
    }
    return startSession(
      config,
      "client",
      (conn) => conn.startHandshake({ host: config.hostHeader, uri: config.uri, subprotocols: config.subprotocols, headers: config.headers }),
      (handlers) => host.connect({ hostname: config.hostname, port: config.port, secured: config.secured, ssl: config.ssl }, handlers),
      WS_BINARY,
    );
  }

  /** Checks the shared arguments of websock_attach_*; returns the config or null (error set). */
  function attachConfig(stream: unknown, flags: number, cfg: websock_attach_config_t | undefined, extra: Partial<websock_config_t>): ResolvedConfig | null {
    if (host.adopt === undefined) {
      invalid(null, "this host cannot attach to an existing stream");
      return null;
    }
    if (stream === null || typeof stream !== "object") {
      invalid(null, "stream must be the host's stream object (on Node, a net.Socket or a Duplex)");
      return null;
    }
    if (!Number.isInteger(flags) || (flags & ~(WS_TEXT | WS_NOHTTP)) !== 0) {
      invalid(null, "flags must be WS_BINARY or WS_TEXT, optionally | WS_NOHTTP");
      return null;
    }
    if (cfg !== undefined && (cfg === null || typeof cfg !== "object")) {
      invalid(null, "cfg must be a websock_attach_config_t object");
      return null;
    }
    const resolved = resolveConfig({ ...(cfg ?? {}), ...extra } as websock_config_t, true);
    if (!resolved.ok) {
      invalid(null, resolved.message);
      return null;
    }
    return resolved.config;
  }

  /**
   * libdill's ws_attach_client: the client side of the protocol on a stream
   * the application already has. `resource` is the request target and `host`
   * the Host header (both unused with WS_NOHTTP).
   */
  async function websock_attach_client(stream: unknown, flags: number, resource: string, hostHeader: string, cfg?: websock_attach_config_t): Promise<websock_handle_t | null> {
    const noHttp = (flags & WS_NOHTTP) !== 0;
    if (!noHttp && (typeof hostHeader !== "string" || hostHeader === "" || /[\r\n\s]/.test(hostHeader))) {
      invalid(null, "host must be the Host header's value (no spaces or line breaks)");
      return null;
    }
    const config = attachConfig(stream, flags, cfg, noHttp ? {} : { uri: resource });
    if (config === null) return null;
    return startSession(
      config,
      "client",
      (conn) => (noHttp ? conn.startOpen() : conn.startHandshake({ host: hostHeader, uri: config.uri, subprotocols: config.subprotocols, headers: config.headers })),
      (handlers) => host.adopt!(stream, handlers),
      flags,
    );
  }

  /**
   * libdill's ws_attach_server: the server side on an accepted stream. It
   * reads and checks the upgrade request, answers 101 (or 400 / 426 with the
   * reason) and then applies the mirrored framing rules. `cfg.subprotocols`
   * are those the server supports, most preferred first; websock_get_info
   * gives the resource, Host and subprotocols the client asked for.
   */
  async function websock_attach_server(stream: unknown, flags: number, cfg?: websock_attach_config_t): Promise<websock_handle_t | null> {
    const config = attachConfig(stream, flags, cfg, {});
    if (config === null) return null;
    return startSession(
      config,
      "server",
      (conn) => ((flags & WS_NOHTTP) !== 0 ? conn.startOpen() : conn.acceptHandshake(config.subprotocols)),
      (handlers) => host.adopt!(stream, handlers),
      flags,
    );
  }

  // ---- send ----

  /** Checks a payload and its len; returns the byte count to send, or a negative code. */
  function payloadLength(s: Session, payload: unknown, len: number | undefined, allowString: boolean): number {
    if (typeof payload === "string" && allowString) {
      if (len === undefined) return payload.length;
      if (!Number.isInteger(len) || len < 0 || len > payload.length) return invalid(s, `len must be an integer from 0 to ${payload.length} (the payload's length)`);
      return len;
    }
    if (!(payload instanceof Uint8Array)) return invalid(s, allowString ? "payload must be a string or a Uint8Array" : "payload must be a Uint8Array");
    if (len === undefined) return payload.length;
    if (!Number.isInteger(len) || len < 0 || len > payload.length) return invalid(s, `len must be an integer from 0 to ${payload.length} (the payload's length)`);
    return len;
  }

  function sendData(h: websock_handle_t, opcode: number, payload: string | Uint8Array, len: number | undefined, fin: boolean, viaFrame: boolean): Promise<number> {
    const s = sessionOf(h);
    if (s === null) return Promise.resolve(ERR.INVALID_ARG.code);
    const units = payloadLength(s, payload, len, opcode !== OPCODE_BINARY || viaFrame);
    if (units < 0) return Promise.resolve(units);
    if (s.conn.state !== STATE_OPEN) return Promise.resolve(failWith(s, ERR.NOT_OPEN, `the connection is ${STATE_NAMES[s.conn.state]}`));
    if (s.conn.rawMode) return Promise.resolve(invalid(s, "raw mode: send bytes with websock_send_raw"));

    // RFC 6455 §5.4: a message's fragments are continuations of its first frame, in order.
    if (opcode === OPCODE_CONTINUATION && !s.sendingFragmented) return Promise.resolve(invalid(s, "opcode 0 (continuation) with no fragmented message started"));
    if (opcode !== OPCODE_CONTINUATION && s.sendingFragmented) {
      return Promise.resolve(invalid(s, "a fragmented message is in progress: continue it with websock_send_frame(h, 0, ...)"));
    }
    const text = opcode === OPCODE_TEXT || (opcode === OPCODE_CONTINUATION && s.sendingText);
    if (typeof payload !== "string" && text) {
      // A text frame must carry UTF-8 (§8.1); the peer would fail us with 1007.
      const state = utf8Validate(opcode === OPCODE_TEXT ? UTF8_ACCEPT : s.sendUtf8, payload, 0, units);
      if (state === UTF8_REJECT || (fin && state !== UTF8_ACCEPT)) return Promise.resolve(invalid(s, "payload is not valid UTF-8"));
      s.sendUtf8 = state;
    }
    if (opcode !== OPCODE_CONTINUATION) s.sendingText = text;
    s.sendingFragmented = !fin;

    const run = (): Promise<number> => {
      if (s.released || s.conn.state !== STATE_OPEN) return Promise.resolve(failWith(s, ERR.NOT_OPEN, "the connection closed before this message was sent"));
      const sender = s.conn.sender;
      if (typeof payload === "string") sender.queueString(opcode, fin, payload, units, utf8Length(payload, units));
      else sender.queueBytes(opcode, fin, payload, 0, units);
      return waitSent(s);
    };
    const result = s.sendChain.then(run);
    s.sendChain = result;
    return result;
  }

  /** Resolves once the item just queued in the sender has been produced and taken by the transport. */
  function waitSent(s: Session): Promise<number> {
    s.sendTarget = s.conn.sender.framesProduced + 1;
    const done = new Promise<number>((resolve) => {
      s.sendDone = (code) => {
        s.sendDone = null;
        if (code < 0) failWith(s, ERR.NOT_OPEN, "the connection ended before this message was sent");
        resolve(code);
      };
    });
    guarded(s, nothing);
    return done;
  }

  function websock_send_text(h: websock_handle_t, payload: string | Uint8Array, len?: number): Promise<number> {
    return sendData(h, OPCODE_TEXT, payload, len, true, false);
  }

  function websock_send_binary(h: websock_handle_t, payload: Uint8Array, len?: number): Promise<number> {
    return sendData(h, OPCODE_BINARY, payload, len, true, false);
  }

  function websock_send_frame(h: websock_handle_t, opcode: number, payload: string | Uint8Array, len: number | undefined, fin: boolean): Promise<number> {
    const s = sessionOf(h);
    if (s === null) return Promise.resolve(ERR.INVALID_ARG.code);
    if (typeof fin !== "boolean") return Promise.resolve(invalid(s, "fin must be a boolean"));
    if (opcode === OPCODE_PING || opcode === OPCODE_PONG) {
      // §5.5: control frames are never fragmented. A pong by hand answers pings delivered with auto_pong false.
      return fin ? sendControl(h, opcode, payload) : Promise.resolve(invalid(s, "a control frame cannot be fragmented (fin must be true)"));
    }
    if (opcode !== OPCODE_CONTINUATION && opcode !== OPCODE_TEXT && opcode !== OPCODE_BINARY) {
      return Promise.resolve(invalid(s, "opcode must be 0 (continuation), 1 (text), 2 (binary), 9 (ping) or 10 (pong); close with websock_close_with_code"));
    }
    return sendData(h, opcode, payload, len, fin, true);
  }

  /** Sends a message of the handle's default type (WS_TEXT or WS_BINARY at attach; binary for websock_open). */
  function websock_send(h: websock_handle_t, payload: string | Uint8Array, len?: number): Promise<number> {
    const s = sessionOf(h);
    if (s === null) return Promise.resolve(ERR.INVALID_ARG.code);
    return sendData(h, s.defaultOpcode, payload, len, true, true);
  }

  /** Raw mode: writes bytes to the stream as they are, after the handshake. */
  function websock_send_raw(h: websock_handle_t, bytes: Uint8Array, len?: number): Promise<number> {
    const s = sessionOf(h);
    if (s === null) return Promise.resolve(ERR.INVALID_ARG.code);
    if (!s.conn.rawMode) return Promise.resolve(invalid(s, "websock_send_raw needs raw_mode"));
    const n = payloadLength(s, bytes, len, false);
    if (n < 0) return Promise.resolve(n);
    const run = (): Promise<number> => {
      if (s.released || s.conn.state !== STATE_OPEN) return Promise.resolve(failWith(s, ERR.NOT_OPEN, "the connection closed before these bytes were sent"));
      s.conn.queueRaw(n === bytes.length ? bytes : bytes.subarray(0, n));
      return waitSent(s);
    };
    const result = s.sendChain.then(run);
    s.sendChain = result;
    return result;
  }

  /** Registers (or, with null, removes) the callback that receives every piece instead of websock_recv. */
  function websock_set_callback(h: websock_handle_t, callback: websock_callback_t | null): number {
    const s = sessionOf(h);
    if (s === null) return ERR.INVALID_ARG.code;
    if (callback !== null && typeof callback !== "function") return invalid(s, "callback must be a function or null");
    if (callback !== null && s.recvWake !== null) return failWith(s, ERR.BUSY, "a websock_recv is waiting on this handle");
    s.callback = callback;
    // Pieces already waiting are delivered on the next turn, not inside this call.
    if (callback !== null) Promise.resolve().then(() => guarded(s, () => {}));
    return WEBSOCK_OK;
  }

  /**
   * libdill's ws_detach: runs the close handshake (1000; in raw mode there is
   * none) and returns the underlying stream without closing it, or null when
   * the stream ended first.
   */
  async function websock_detach(h: websock_handle_t): Promise<unknown> {
    const s = sessionOf(h);
    if (s === null) return null;
    s.detaching = true;
    if (!s.conn.rawMode) {
      s.conn.close(1000, EMPTY);
      guarded(s, nothing);
      await waitClosed(s);
    }
    const t = s.transport;
    if (s.transportEnded || t === null || t.detach === undefined) {
      failWith(s, ERR.NOT_OPEN, "the stream ended before it could be detached");
      release(s);
      return null;
    }
    const stream = t.detach();
    s.transportEnded = true;
    release(s);
    return stream;
  }

  async function websock_ping(h: websock_handle_t, payload?: string | Uint8Array): Promise<number> {
    return sendControl(h, OPCODE_PING, payload);
  }

  /** A ping, or (with auto_pong false) the application's own pong; both wait in a fixed slot for a frame boundary. */
  async function sendControl(h: websock_handle_t, opcode: typeof OPCODE_PING | typeof OPCODE_PONG, payload?: string | Uint8Array): Promise<number> {
    const s = sessionOf(h);
    if (s === null) return ERR.INVALID_ARG.code;
    const bytes = payload === undefined ? EMPTY : typeof payload === "string" ? utf8Encode(payload) : payload;
    if (!(bytes instanceof Uint8Array)) return invalid(s, "payload must be a string or a Uint8Array");
    if (bytes.length > MAX_CONTROL_PAYLOAD) return invalid(s, "a control frame's payload is at most 125 bytes");
    if (s.conn.state !== STATE_OPEN) return failWith(s, ERR.NOT_OPEN, `the connection is ${STATE_NAMES[s.conn.state]}`);
    if (opcode === OPCODE_PING) s.conn.sender.queuePing(bytes, 0, bytes.length);
    else s.conn.sender.queuePong(bytes, 0, bytes.length);
    guarded(s, nothing);
    return WEBSOCK_OK;
  }

  // ---- receive ----

  async function websock_recv(h: websock_handle_t, hdr: websock_msg_hdr_t, buf: Uint8Array, len: number, timeout: number): Promise<number> {
    const s = sessionOf(h);
    if (s === null) return ERR.INVALID_ARG.code;
    if (hdr === null || typeof hdr !== "object") return invalid(s, "hdr must be a websock_msg_hdr_t object");
    if (!(buf instanceof Uint8Array)) return invalid(s, "buf must be a Uint8Array");
    if (!Number.isInteger(len) || len < 1 || len > buf.length) return invalid(s, `len must be an integer from 1 to ${buf.length} (the length of buf)`);
    if (typeof timeout !== "number" || !(Number.isInteger(timeout) && (timeout >= 0 || timeout === WEBSOCK_WAIT_FOREVER))) {
      return invalid(s, "timeout must be a whole number of milliseconds >= 0, or -1 to wait forever");
    }
    if (s.recvWake !== null) return failWith(s, ERR.BUSY);
    if (s.callback !== null) return invalid(s, "a callback is set (websock_set_callback): pieces go to it, not to websock_recv");

    for (;;) {
      const n = s.conn.read(hdr, buf, 0, len);
      if (n !== NOTHING_READY) {
        s.recvDeadline = Infinity;
        s.recvTimedOut = false;
        // Reading made room: pull what the transport holds back, answer pings behind the data.
        guarded(s, readIn);
        if (n < 0) {
          setError(s, errorFrom(s.conn.ending!));
          clearHeader(hdr);
        }
        return n;
      }
      // read() may have parsed control frames (a ping to answer): write before waiting.
      if (s.conn.hasOutput) guarded(s, nothing);
      if (timeout === 0 || s.recvTimedOut || s.released) {
        s.recvDeadline = Infinity;
        s.recvTimedOut = false;
        clearHeader(hdr);
        if (s.released) return failWith(s, ERR.NOT_OPEN, "the handle was closed while websock_recv waited");
        return 0;
      }
      if (timeout !== WEBSOCK_WAIT_FOREVER && s.recvDeadline === Infinity) {
        // The handle's timer ends the wait (armDeadline).
        s.recvDeadline = host.now() + timeout;
        armDeadline(s);
      }
      await new Promise<void>((resolve) => {
        s.recvWake = resolve;
      });
      s.recvWake = null;
    }
  }

  // ---- close ----

  function waitClosed(s: Session): Promise<void> {
    return new Promise<void>((resolve) => {
      s.closeWaiters.push(resolve);
      sync(s);
    });
  }

  async function closeWith(s: Session, code: number, reason: Uint8Array): Promise<void> {
    s.conn.close(code, reason);
    guarded(s, nothing);
    // The core's close deadline bounds this wait: it ends the transport when close_timeout passes.
    await waitClosed(s);
    release(s);
  }

  async function websock_close(h: websock_handle_t): Promise<void> {
    const s = sessionOf(h);
    if (s === null) return;
    await closeWith(s, 1000, EMPTY);
  }

  async function websock_close_with_code(h: websock_handle_t, code: number, reason = ""): Promise<number> {
    const s = sessionOf(h);
    if (s === null) return ERR.INVALID_ARG.code;
    // §7.4: 1005, 1006 and 1015 are never sent; 1004 is reserved.
    if (!isValidCloseCode(code)) return invalid(s, "code must be 1000-1003, 1007-1014 or 3000-4999");
    if (typeof reason !== "string") return invalid(s, "reason must be a string");
    const bytes = encodeCloseReason(reason);
    if (bytes === null) return invalid(s, "reason is longer than 123 bytes of UTF-8");
    await closeWith(s, code, bytes);
    return WEBSOCK_OK;
  }

  // ---- information ----

  function websock_last_error(h?: websock_handle_t | null): websock_error_t {
    if (h === undefined || h === null) return lastError;
    const s = typeof h === "object" ? sessions.get(h) : undefined;
    return s === undefined ? lastError : s.lastError;
  }

  function websock_get_info(h: websock_handle_t): websock_info_t | null {
    const s = sessionOf(h);
    if (s === null) return null;
    const response = s.conn.response;
    const info: websock_info_t = {
      state: STATE_NAMES[s.conn.state],
      subprotocol: s.conn.subprotocol,
      http_status: response !== null ? response.status : 0,
      headers: response !== null ? response.headers.map(([n, v]) => [n, v] as [string, string]) : [],
    };
    const tls = s.transport?.tlsInfo?.();
    if (tls) info.tls = tls;
    const request = s.conn.request;
    if (request !== null) {
      info.http_status = 101;
      info.resource = request.resource;
      info.host = request.host;
      info.offered_subprotocols = request.subprotocols.slice();
    }
    return info;
  }

  return Object.freeze({
    websock_open,
    websock_attach_client,
    websock_attach_server,
    websock_detach,
    websock_send,
    websock_send_raw,
    websock_set_callback,
    websock_send_text,
    websock_send_binary,
    websock_send_frame,
    websock_ping,
    websock_recv,
    websock_close,
    websock_close_with_code,
    websock_last_error,
    websock_get_info,
  });
}

/** For guarded(s, nothing): just sync. */
function nothing(): void {}

function clearHeader(hdr: websock_msg_hdr_t): void {
  hdr.fin = false;
  hdr.opcode = -1;
  hdr.payload_len = 0;
  hdr.offset = 0;
  hdr.bytesleft = 0;
}

const EMPTY = new Uint8Array(0);
