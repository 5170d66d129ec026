// What the Moddable session entry (moddable-session-entry.ts, bundled into
// XS) reports to the Node test: apart from the entry, so the Node side can
// import the types without the Moddable module names the entry uses.

import type { TcpStatus } from "../../hosts/xs-test/ecma419-tcp.js";
import type { websock_error_t } from "../../src/types.js";

export interface ModdableSessionReport {
  assertions: number;
  failures: string[];
  /** The 100 KiB echo: how many recv pieces, and how long it took on the relay's clock. */
  big: { pieces: number; ms: number };
}

export interface RecvTimeoutReport {
  /** websock_recv(h, ..., 1000) with nothing arriving at all. */
  quiet: { n: number; opcode: number; ms: number };
  /** websock_recv(h, ..., 1000) during which the server's ping arrives and is answered. */
  pinged: { n: number; opcode: number; ms: number };
  failures: string[];
}

export interface EchoReport {
  done: boolean;
  /** Pieces received, and echoed (each echo a send that settled). */
  received: number;
  echoed: number;
  /** How the loop ended: the recv result that ended it, or "idle". */
  ended: string;
  lastError: string;
  /** ms (relay clock) from the start to the end of websock_close. */
  ms: number;
  /** Operations not settled (status reports only). */
  pending: Pending[];
  sockets: TcpStatus[];
  sigpipes: string[];
  unreportedErrors: number;
  timers: number;
  now: number;
}

export interface Pending {
  what: string;
  since: number;
}

/** moddable-reconnect-entry.ts's scenario. */
export interface ReconnectReport {
  assertions: number;
  failures: string[];
  attempts: number;
  reconnects: number;
  /** Timers still set once both handles were closed. */
  timersLeft: number;
}

/** One wss:// open through the mbedTLS engine inside XS (mbedtls-entry.ts). */
export interface TlsOpenReport {
  opened: boolean;
  error: websock_error_t;
  tls?: { version: string; cipher: string; alpn: string };
  /** The text the server echoed, when asked. */
  echoed?: string;
}
