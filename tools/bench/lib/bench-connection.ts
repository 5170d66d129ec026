// The open client connection the core-path benches drive, under Node and
// inside XS alike (pure ES2022). RFC 6455 §5.7's mask key every time: the
// benches measure the path, not the host's entropy.

import { Connection } from "../../../src/connection.js";
import type { OutgoingMessage } from "../../../src/outgoing.js";
import type { Utf8Encoder, Utf8Writer } from "../../../src/text-cursor.js";

/** TextEncoder where the engine has one (not ECMAScript: looked up, not assumed); none when WEBSOCK_PURE_UTF8 is set (the core's own encoder). */
const pure = (globalThis as { WEBSOCK_PURE_UTF8?: boolean }).WEBSOCK_PURE_UTF8 === true;
const NativeEncoder = pure ? undefined : (globalThis as { TextEncoder?: new () => Utf8Encoder }).TextEncoder;
/** websock's native UTF-8 writer, in an xsnap worker built with it (tools/xsnap-utf8/build.mjs). */
const nativeWriter = pure ? null : (globalThis as { WebsockUtf8Writer?: Utf8Writer }).WebsockUtf8Writer ?? null;

const MASK_KEY = Object.freeze([0x37, 0xfa, 0x21, 0x3d]);

export function benchConnection(bufferSize: number): Connection {
  const platform = {
    randomFill: (out: Uint8Array) => {
      for (let i = 0; i < out.length; i++) out[i] = MASK_KEY[i & 3];
    },
    sha1: () => new Uint8Array(20),
    now: () => 0,
    // The engine's native encoder where it has one (Node, xsnap): as the hosts give it.
    textEncoder: NativeEncoder !== undefined ? new NativeEncoder() : null,
    // Host.utf8Writer (the core takes it from the platform, which is the Host itself in a session).
    utf8Writer: nativeWriter,
  };
  const conn = new Connection({
    role: "client",
    rxBuffer: new Uint8Array(bufferSize),
    txBuffer: new Uint8Array(bufferSize),
    autoPong: true,
    maxMessageSize: 0,
    pingInterval: 0,
    pongTimeout: 1000,
    closeTimeout: 1000,
    platform,
  });
  conn.startOpen();
  return conn;
}

/** Sends `m` (set up by the caller) through the core until all of it is produced; returns the bytes produced. */
export function sendThrough(conn: Connection, m: OutgoingMessage): number {
  const refusal = conn.send(m);
  if (refusal !== null) throw new Error(`send refused: ${refusal.detail}`);
  let produced = 0;
  for (let n = conn.produce(); n > 0; n = conn.produce()) {
    produced += n;
    conn.written(n);
  }
  conn.takeFinished();
  return produced;
}
