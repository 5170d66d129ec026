/// <reference path="../../hosts/xs-test/xsnap-globals.d.ts" />
// Bundled and evaluated inside the xsnap worker by xs-loopback.ts: websock
// through its websock_* API over a Host that allocates nothing per message
// (lib/loopback-host.ts), so that the garbage a run leaves is websock's own:
// the driver, the core and the API, nothing of a transport's.

import { createWebsock, websock_msg_hdr_init, WEBSOCK_ERR } from "../../src/websock.js";
import type { WebsockApi } from "../../src/websock.js";
import type { websock_handle_t, websock_msg_hdr_t } from "../../src/types.js";
import type { Utf8Writer } from "../../src/text-cursor.js";
import { LoopbackPeer, loopbackHost } from "./lib/loopback-host.js";

const peer = new LoopbackPeer();
type Encoder = { encodeInto(s: string, b: Uint8Array): { read: number; written: number } };
// xsnap has Moddable's native TextEncoder; WEBSOCK_PURE_UTF8 set before this bundle leaves it out (the core's own encoder).
// A worker built with websock's UTF-8 writer (tools/xsnap-utf8/build.mjs) has WebsockUtf8Writer: the host gives it, as the Moddable host does.
const pure = (globalThis as unknown as { WEBSOCK_PURE_UTF8?: boolean }).WEBSOCK_PURE_UTF8 === true;
const writer = (globalThis as unknown as { WebsockUtf8Writer?: Utf8Writer }).WebsockUtf8Writer ?? null;
const api: WebsockApi = createWebsock(loopbackHost(peer, pure ? null : new (globalThis as unknown as { TextEncoder: new () => Encoder }).TextEncoder(), pure ? null : writer));
let handle: websock_handle_t | null = null;
let payload = new Uint8Array(0);
let text = "";
/** About as many UTF-8 bytes as `text`, in 2-, 3- and 4-byte characters with ASCII between. */
let mixed = "";
let readBuffer = new Uint8Array(0);
let hdr: websock_msg_hdr_t = websock_msg_hdr_init();
let outcome = "";

/** Delivers the peer's events until it has nothing more to say. */
function pumpAll(): void {
  while (peer.pump()) {
    if (poll !== null) poll();
  }
}

function reply(value: unknown): ArrayBuffer {
  const json = JSON.stringify(value);
  const bytes = new Uint8Array(json.length);
  for (let i = 0; i < json.length; i++) bytes[i] = json.charCodeAt(i) & 0x7f;
  return bytes.buffer;
}

// xsnap counts no collections: a FinalizationRegistry's cleanup runs after one that took its
// unreachable sentinel, so `collections` counts the deliveries in which one ran (a run measured
// for its garbage must see none: a collection would hide what it left).
let collections = 0;
const probe = new FinalizationRegistry<number>(() => {
  collections++;
  probe.register({}, 0);
});
probe.register({}, 0);

export function collect(): void {
  (globalThis as unknown as { gc(): void }).gc();
}

export function reserve(slots: number): void {
  let chain: { next: unknown } | null = null;
  for (let i = 0; i < slots; i += 2) chain = { next: chain };
}

export function prepare(size: number, bufferSize: number): void {
  payload = new Uint8Array(size);
  for (let i = 0; i < size; i++) payload[i] = 0x20 + ((i * 31 + 7) % 95);
  const chars: string[] = [];
  for (let i = 0; i < size; i++) chars.push(String.fromCharCode(payload[i]));
  text = chars.join("");
  const pieces: string[] = [];
  const unit = "a\u00e9\u20ac\u{1F600}"; // 10 bytes
  for (let i = 0; i + 10 <= size; i += 10) pieces.push(unit);
  for (let i = pieces.length * 10; i < size; i++) pieces.push("z");
  mixed = pieces.join("");
  readBuffer = new Uint8Array(bufferSize);
  hdr = websock_msg_hdr_init();
}

export function open(bufferSize: number): void {
  outcome = "opening";
  void api.websock_open({ hostname: "127.0.0.1", port: 1, uri: "/", rx_buffer_size: bufferSize, tx_buffer_size: bufferSize }).then((h) => {
    handle = h;
    outcome = h === null ? `open failed: ${api.websock_last_error().message}` : "open";
  });
  pumpAll();
}

export function close(): void {
  void api.websock_close(handle!).then(() => {
    outcome = "closed";
  });
  pumpAll();
  handle = null;
}

export function result(): ArrayBuffer {
  return reply({ outcome, echoed: peer.echoed, collections });
}

let left = 0;

let got = 0;
let callbackSet = false;

function onPiece(h: websock_handle_t, piece: websock_msg_hdr_t, data: Uint8Array): void {
  if (piece.opcode === -1) return;
  got += data.length;
  if (!piece.fin || piece.bytesleft !== 0) return;
  if (got !== payload.length) outcome = `echo of ${got}`;
  got = 0;
  if (--left > 0) void api.websock_send_binary(h, payload);
  else outcome = "done";
}

export function echoByCallback(count: number): void {
  if (!callbackSet) {
    api.websock_set_callback(handle!, onPiece);
    callbackSet = true;
  }
  left = count;
  got = 0;
  outcome = "running";
  void api.websock_send_binary(handle!, payload);
  pumpAll();
}

let poll: (() => void) | null = null;

function pollRecvNow(): void {
  for (;;) {
    const n = api.websock_recv_now(handle!, hdr, readBuffer, readBuffer.length);
    if (n === WEBSOCK_ERR.AGAIN) return;
    if (n < 0) {
      outcome = `recv_now ${n}`;
      poll = null;
      return;
    }
    got += n;
    if (!hdr.fin || hdr.bytesleft !== 0) continue;
    got = 0;
    if (--left > 0) void api.websock_send_binary(handle!, payload);
    else {
      outcome = "done";
      poll = null;
      return;
    }
  }
}

export function echoByRecvNow(count: number): void {
  if (callbackSet) {
    api.websock_set_callback(handle!, null);
    callbackSet = false;
  }
  left = count;
  got = 0;
  outcome = "running";
  poll = pollRecvNow;
  void api.websock_send_binary(handle!, payload);
  pumpAll();
}

export function sendOnly(kind: "text" | "mixed" | "binary", count: number): void {
  peer.discard = true;
  for (let m = 0; m < count; m++) {
    if (kind === "text") void api.websock_send_text(handle!, text);
    else if (kind === "mixed") void api.websock_send_text(handle!, mixed);
    else void api.websock_send_binary(handle!, payload);
    pumpAll();
  }
  peer.discard = false;
  outcome = "done";
}

let quiet = false;

function onQuietPiece(h: websock_handle_t, piece: websock_msg_hdr_t, data: Uint8Array): void {
  if (piece.opcode === -1) return;
  got += data.length;
  if (piece.fin && piece.bytesleft === 0) left--;
}

/** `count` 1 KiB messages from the peer, one at a time, to a callback that only counts them. */
export function receiveByCallback(count: number): void {
  if (!quiet) {
    api.websock_set_callback(handle!, onQuietPiece);
    quiet = true;
  }
  left = count;
  for (let m = 0; m < count; m++) {
    peer.inject(payload);
    pumpAll();
  }
  outcome = left === 0 ? "done" : `left ${left}`;
}

/** The same through websock_recv_now. */
export function receiveByRecvNow(count: number): void {
  if (quiet) {
    api.websock_set_callback(handle!, null);
    quiet = false;
  }
  left = count;
  for (let m = 0; m < count; m++) {
    peer.inject(payload);
    pumpAll();
    for (;;) {
      const n = api.websock_recv_now(handle!, hdr, readBuffer, readBuffer.length);
      if (n === WEBSOCK_ERR.AGAIN) break;
      if (n < 0) return void (outcome = `recv_now ${n}`);
      if (hdr.fin && hdr.bytesleft === 0) left--;
    }
  }
  outcome = left === 0 ? "done" : `left ${left}`;
}


/**
 * `count` sequential 1 KiB echoes through the websock_recv loop (send and
 * each websock_recv awaited, no timeout). The peer is pumped before each
 * call, inside the loop's own jobs, so the echo is there when websock_recv
 * asks and its Promise comes back settled.
 */
export function echoByRecv(count: number): void {
  outcome = "running";
  void recvLoop(count, false);
}

/** The same loop with each API call replaced by an already settled Promise: what the awaits alone leave. */
export function echoByRecvControl(count: number): void {
  // (It runs after echoByRecv, in the same worker: recvCallsPerEcho is that loop's.)
  outcome = "running";
  void recvLoop(count, true);
}

const SENT = Promise.resolve(0);

/** websock_recv calls per echo in the last run of the real loop: the control awaits as many (one per echo when a piece takes all that arrived). */
let recvCallsPerEcho = 2;

async function recvLoop(count: number, control: boolean): Promise<void> {
  const h = handle!;
  let calls = 0;
  for (let m = 0; m < count; m++) {
    // A send that goes out at once returns one shared settled Promise: so does the control.
    const sent = control ? await SENT : await api.websock_send_binary(h, payload);
    if (sent !== 0) return void (outcome = `send ${sent}`);
    let got = 0;
    for (let piece = 0; ; piece++) {
      pumpAll();
      if (control) {
        // As many awaits of a fresh settled Promise as the real loop made websock_recv calls.
        const awaits = Math.round(recvCallsPerEcho * (m + 1)) - Math.round(recvCallsPerEcho * m);
        if (piece === awaits) break;
        await Promise.resolve(0);
        continue;
      }
      calls++;
      const r = await api.websock_recv(h, hdr, readBuffer, readBuffer.length, -1);
      if (r < 0) return void (outcome = `recv ${r}`);
      got += r;
      if (hdr.fin && hdr.bytesleft === 0) break;
    }
    if (!control && got !== payload.length) return void (outcome = `echo of ${got}`);
  }
  if (!control) recvCallsPerEcho = calls / count;
  outcome = "done";
}
