// A Host that allocates nothing per message, for measuring websock's own
// garbage inside XS: its one transport is a loopback peer that answers the
// upgrade and then echoes each whole client frame back as a server frame,
// from buffers made once. Nothing crosses to Node; time is a counter and
// timers never fire, so a run is deterministic.

import type { ConnectTarget, Host, TimerTarget, Transport, TransportHandlers } from "../../../src/host.js";
import { sha1 } from "../../../hosts/xs-test/sha1.js";
import { acceptFor } from "../../../src/handshake.js";

const CAPACITY = 1 << 17;

/** The peer: takes the client's bytes, queues its answers; `pump()` delivers them. */
export class LoopbackPeer implements Transport {
  handlers: TransportHandlers | null = null;
  private readonly inbox = new Uint8Array(CAPACITY);
  private inLength = 0;
  private readonly outbox = new Uint8Array(CAPACITY);
  private outStart = 0;
  private outEnd = 0;
  private upgraded = false;
  private connectPending = false;
  released = false;
  /** Frames echoed so far. */
  echoed = 0;
  /** Data frames are taken and dropped, not echoed (a send measured alone). */
  discard = false;

  begin(handlers: TransportHandlers): void {
    this.handlers = handlers;
    this.inLength = 0;
    this.outStart = this.outEnd = 0;
    this.upgraded = false;
    this.released = false;
    this.connectPending = true;
  }

  read(into: Uint8Array, start: number, end: number): number {
    const n = Math.min(end - start, this.outEnd - this.outStart);
    // A byte loop, not set() from a subarray: a view would be the host's garbage, counted as websock's.
    const o = this.outbox;
    for (let i = 0; i < n; i++) into[start + i] = o[this.outStart + i];
    this.outStart += n;
    if (this.outStart === this.outEnd) this.outStart = this.outEnd = 0;
    return n;
  }

  write(bytes: Uint8Array): number {
    this.inbox.set(bytes, this.inLength); // a view given: set() makes none
    this.inLength += bytes.length;
    if (!this.upgraded) this.answerUpgrade();
    else this.echoFrames();
    return bytes.length;
  }

  close(): void {
    this.released = true;
  }

  destroy(): void {
    this.released = true;
  }

  /** Queues a server frame carrying `payload` (binary), as if the peer had sent it. */
  inject(payload: Uint8Array): void {
    const o = this.outbox;
    const n = payload.length;
    o[this.outEnd++] = 0x82;
    if (n < 126) o[this.outEnd++] = n;
    else {
      o[this.outEnd++] = 126;
      o[this.outEnd++] = n >> 8;
      o[this.outEnd++] = n & 0xff;
    }
    o.set(payload, this.outEnd);
    this.outEnd += n;
  }

  /** Delivers what is due (the connect, queued bytes); returns whether anything was taken. */
  pump(): boolean {
    const h = this.handlers;
    if (h === null || this.released) return false;
    if (this.connectPending) {
      this.connectPending = false;
      h.onConnect();
      return true;
    }
    if (this.outEnd > this.outStart) {
      // Progress only if the reader took something (a full rx buffer waits for the application).
      const before = this.outEnd - this.outStart;
      h.onReadable();
      return this.outEnd - this.outStart !== before;
    }
    return false;
  }

  private answerUpgrade(): void {
    const head = this.inbox;
    let end = -1;
    for (let i = 3; i < this.inLength; i++) {
      if (head[i] === 10 && head[i - 1] === 13 && head[i - 2] === 10 && head[i - 3] === 13) {
        end = i + 1;
        break;
      }
    }
    if (end < 0) return;
    let text = "";
    for (let i = 0; i < end; i++) text += String.fromCharCode(head[i]);
    const key = /sec-websocket-key: *([^\r]*)/i.exec(text)![1];
    const answer = `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptFor(key, sha1)}\r\n\r\n`;
    for (let i = 0; i < answer.length; i++) this.outbox[this.outEnd++] = answer.charCodeAt(i);
    this.inbox.copyWithin(0, end, this.inLength);
    this.inLength -= end;
    this.upgraded = true;
    this.echoFrames();
  }

  /** Each whole masked client frame goes back unmasked, as a server sends it. */
  private echoFrames(): void {
    const b = this.inbox;
    for (;;) {
      if (this.inLength < 2) return;
      let length = b[1] & 0x7f;
      let at = 2;
      if (length === 126) {
        if (this.inLength < 4) return;
        length = (b[2] << 8) | b[3];
        at = 4;
      } else if (length === 127) {
        if (this.inLength < 10) return;
        length = b[6] * 0x1000000 + ((b[7] << 16) | (b[8] << 8) | b[9]);
        at = 10;
      }
      const frameEnd = at + 4 + length;
      if (this.inLength < frameEnd) return;
      const opcode = b[0] & 0x0f;
      if (this.discard && opcode !== 8) {
        b.copyWithin(0, frameEnd, this.inLength);
        this.inLength -= frameEnd;
        continue;
      }
      const o = this.outbox;
      o[this.outEnd++] = b[0];
      if (length < 126) o[this.outEnd++] = length;
      else if (length < 0x10000) {
        o[this.outEnd++] = 126;
        o[this.outEnd++] = length >> 8;
        o[this.outEnd++] = length & 0xff;
      } else {
        o[this.outEnd++] = 127;
        for (let i = 2; i < 10; i++) o[this.outEnd++] = b[i];
      }
      for (let i = 0; i < length; i++) o[this.outEnd++] = b[at + 4 + i] ^ b[at + (i & 3)];
      if (opcode !== 8) this.echoed++;
      b.copyWithin(0, frameEnd, this.inLength);
      this.inLength -= frameEnd;
    }
  }
}

export function loopbackHost(peer: LoopbackPeer, textEncoder: Host["textEncoder"], utf8Writer: Host["utf8Writer"] = null): Host {
  let clock = 0;
  let seed = 1;
  return {
    connect(_target: ConnectTarget, handlers: TransportHandlers): Transport {
      peer.begin(handlers);
      return peer;
    },
    checkSsl(): string | null {
      return "no TLS on the loopback host";
    },
    randomFill(out: Uint8Array): void {
      for (let i = 0; i < out.length; i++) out[i] = (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
    },
    sha1,
    now(): number {
      return clock++;
    },
    // Never fired: a measured run takes one turn, and nothing in it waits on time.
    setTimer(_ms: number, _target: TimerTarget): unknown {
      return 1;
    },
    clearTimer(): void {},
    textEncoder,
    utf8Writer,
  };
}
