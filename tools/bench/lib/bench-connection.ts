// The open client connection the core-path benches drive, under Node and
// inside XS alike (pure ES2022). RFC 6455 §5.7's mask key every time: the
// benches measure the path, not the host's entropy.

import { Connection } from "../../../src/connection.js";

const MASK_KEY = Object.freeze([0x37, 0xfa, 0x21, 0x3d]);

export function benchConnection(bufferSize: number): Connection {
  const conn = new Connection({
    role: "client",
    rxBuffer: new Uint8Array(bufferSize),
    txBuffer: new Uint8Array(bufferSize),
    autoPong: true,
    maxMessageSize: 0,
    pingInterval: 0,
    pongTimeout: 1000,
    closeTimeout: 1000,
    randomFill: (out) => {
      for (let i = 0; i < out.length; i++) out[i] = MASK_KEY[i & 3];
    },
    sha1: () => new Uint8Array(20),
    now: () => 0,
  });
  conn.startOpen();
  return conn;
}
