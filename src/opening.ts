// What a connection holds only while it opens (RFC 6455 §4): the peer's
// handshake head while it is parsed, what the response must show, the open
// timeout, the permessage-deflate offer. The Connection drops it once open
// (or once the opening failed), so an open connection carries none of it: on
// XS each of these fields would otherwise stay a slot for the connection's
// whole life.

import type { HeadParser } from "./handshake.js";
import type { DeflateOffer } from "./permessage-deflate.js";

const NONE: readonly string[] = Object.freeze([]);

export class Opening {
  /** The peer's head while it is parsed: the response (client role) or the request (server role). */
  head: HeadParser | null = null;
  /** Client: the Sec-WebSocket-Accept the response must carry (§4.1). */
  expectedAccept = "";
  /** Client: the subprotocols offered. Server: those it supports, most preferred first. */
  offered: readonly string[] = NONE;
  /** What the stream is doing, for the open timeout's message. */
  phase = "connecting";
  /** When the open timeout ends the opening (host clock; Infinity: no limit). */
  deadline = Infinity;
  /** The open timeout, ms (0: none). */
  readonly timeout: number;
  /** permessage-deflate offered (client role); null: none. */
  readonly deflate: DeflateOffer | null;

  constructor(timeout: number, deflate: DeflateOffer | null, now: number) {
    this.timeout = timeout;
    this.deflate = deflate;
    if (timeout > 0) this.deadline = now + timeout;
  }
}
