/// <reference path="../../hosts/xs-test/xsnap-globals.d.ts" />
// Bundled and evaluated inside the xsnap worker by xs-memory.ts: the XS side
// of the memory bench. It drives websock through its public websock_* API
// only, over the XS test host, and brings in neither: xs-memory.ts evaluates
// websock and the host as bundles of their own (the globals below), so that
// what importing them costs is measured apart from this driver. One step
// goes around websock: the host's bare Transport, for the host's own share.
//
// Each step is one call from Node. Those that need the network start here
// and end in a later delivery with one REPORT ({ ok, pieces } or
// { ok, error }); Node reads the heap between steps. Nothing here allocates
// per message beyond what the API call itself needs: buffers and payloads
// are made before a run starts.

import type { WebsockApi } from "../../src/websock.js";
import type { installXsTestHost as InstallXsTestHost, XsTestHost } from "../../hosts/xs-test/xs-test-host.js";
import type { websock_handle_t, websock_msg_hdr_t } from "../../src/types.js";
import type { Transport, TransportHandlers } from "../../src/host.js";

/** The websock bundle: the whole module src/websock.ts, as an application imports it (nothing left out). */
declare const WebsockXs: typeof import("../../src/websock.js");
/** The XS test host's bundle: its public installer. */
declare const XsTestHostXs: { installXsTestHost: typeof InstallXsTestHost };

const WAIT_FOREVER = -1;

let host: XsTestHost | null = null;
let api: WebsockApi | null = null;
const handles: websock_handle_t[] = [];

// ---- the collection probe ----
// xsnap counts no collections. A FinalizationRegistry's cleanup runs after a
// collection that took its target, so one unreachable sentinel, re-armed by
// each cleanup, counts the deliveries in which at least one collection ran.

let collectionsSeen = 0;
const probe = new FinalizationRegistry<number>(() => {
  collectionsSeen++;
  armProbe();
});
function armProbe(): void {
  probe.register({}, 0);
}
armProbe();

/** A full collection (xsnap's gc() global; the cleanup it triggers runs before this delivery ends). */
export function collect(): void {
  (globalThis as unknown as { gc(): void }).gc();
}

/**
 * Grows the slot heap to hold at least `slots` more, then lets them go: a
 * run measured for its garbage must not meet a collection, and XS keeps the
 * heap it has grown. A chain of objects, two slots each (the object and its
 * one property), needs no chunk.
 */
export function reserve(slots: number): void {
  let chain: { next: unknown } | null = null;
  for (let i = 0; i < slots; i += 2) chain = { next: chain };
}

/** ASCII JSON as the delivery's reply (an ArrayBuffer), read by Node. */
function reply(value: unknown): ArrayBuffer {
  const json = JSON.stringify(value);
  const bytes = new Uint8Array(json.length);
  for (let i = 0; i < json.length; i++) bytes[i] = json.charCodeAt(i) & 0x7f;
  return bytes.buffer;
}

export function status(): ArrayBuffer {
  return reply({ collectionsSeen, handles: handles.length });
}

/** Pieces received by the current run (websock_recv calls that returned data, or callback calls). */
let pieces = 0;

function done(error?: string): void {
  host!.report(error === undefined ? { ok: true, pieces } : { ok: false, error });
}

function failure(what: string, h?: websock_handle_t): string {
  const e = api!.websock_last_error(h);
  return `${what}: ${e.name} ${e.message}`;
}

// ---- the steps ----

/** The XS test host installed (on a device, its own host takes this place). */
export function installHost(): void {
  host = XsTestHostXs.installXsTestHost();
}

/** The first use of the API: bound to the host, websock_last_error() called once. */
export function firstUse(): void {
  api = WebsockXs.createWebsock(host!.host);
  api.websock_last_error();
}

/** Opens `count` connections one after the other (REPORT when all are open). */
export function open(port: number, uri: string, count: number, bufferSize: number): void {
  void (async () => {
    for (let i = 0; i < count; i++) {
      const h = await api!.websock_open({ hostname: "127.0.0.1", port, uri, rx_buffer_size: bufferSize, tx_buffer_size: bufferSize, time_out: 5000, close_timeout: 3000 });
      if (h === null) return done(failure(`websock_open ${uri}`));
      handles.push(h);
    }
    done();
  })();
}

/** Closes every open connection (REPORT when all are closed). */
export function closeAll(): void {
  void (async () => {
    for (const h of handles.splice(0)) await api!.websock_close(h);
    done();
  })();
}

let payload = new Uint8Array(0);
let text = "";
let readBuffer = new Uint8Array(0);
let hdr: websock_msg_hdr_t | null = null;

/** Makes what a run sends and reads with, outside the run: `size` bytes, or `size` ASCII characters for text. */
export function prepare(size: number, readSize: number): void {
  payload = new Uint8Array(size);
  for (let i = 0; i < size; i++) payload[i] = 0x20 + ((i * 31 + 7) % 95);
  // Joined once, not concatenated char by char (XS strings are flat: that would copy O(n²)).
  const chars: string[] = [];
  for (let i = 0; i < size; i++) chars.push(String.fromCharCode(payload[i]));
  text = chars.join("");
  readBuffer = new Uint8Array(readSize);
  hdr = WebsockXs.websock_msg_hdr_init();
}

// The callback model's state: one callback per connection, registered at
// its first run and kept (a connection serves one model: it never switches to
// websock_recv, and a run never unregisters, so the runs measure the model,
// not its setup).
let callbackHandle: websock_handle_t | null = null;
let echoesLeft = 0;
let echoed = 0;

function onPiece(h: websock_handle_t, piece: websock_msg_hdr_t, data: Uint8Array): void {
  // The end of the connection comes as a last call with opcode -1: no run waits for it.
  if (piece.opcode === -1) return;
  pieces++;
  echoed += data.length;
  if (!piece.fin || piece.bytesleft !== 0) return;
  if (echoed !== payload.length) return done(`echo of ${echoed} bytes, sent ${payload.length}`);
  echoed = 0;
  if (--echoesLeft > 0) void api!.websock_send_binary(h, payload);
  else done();
}

/**
 * `count` sequential binary echoes on the first open connection through the
 * callback model: each whole echo received in the callback sends the next
 * message (the send's promise is not awaited: a callback cannot wait).
 */
export function echoByCallback(count: number): void {
  const h = handles[0];
  if (callbackHandle !== h) {
    if (api!.websock_set_callback(h, onPiece) !== 0) return done(failure("websock_set_callback", h));
    callbackHandle = h;
  }
  echoesLeft = count;
  echoed = 0;
  pieces = 0;
  void api!.websock_send_binary(h, payload);
}

/** `count` sequential binary echoes on the first open connection through the websock_recv loop (each call awaited; no timeout). */
export function echoByRecv(count: number): void {
  const h = handles[0];
  const a = api!;
  pieces = 0;
  void (async () => {
    for (let m = 0; m < count; m++) {
      if ((await a.websock_send_binary(h, payload)) !== 0) return done(failure("websock_send_binary", h));
      let got = 0;
      for (;;) {
        const n = await a.websock_recv(h, hdr!, readBuffer, readBuffer.length, WAIT_FOREVER);
        if (n < 0) return done(failure("websock_recv", h));
        pieces++;
        got += n;
        if (hdr!.fin && hdr!.bytesleft === 0) break;
      }
      if (got !== payload.length) return done(`echo of ${got} bytes, sent ${payload.length}`);
    }
    done();
  })();
}

// ---- websock_recv_now, where the API has it (issue 17 adds it) ----
// Nothing tells the application that bytes arrived but the host's events, so
// it polls after each one: the XS test host's event handler is wrapped once.

type RecvNow = (h: websock_handle_t, hdr: websock_msg_hdr_t, buf: Uint8Array, len: number) => number;

function recvNowOf(): RecvNow | null {
  const f = (api as unknown as { websock_recv_now?: RecvNow }).websock_recv_now;
  return typeof f === "function" ? f : null;
}

export function hasRecvNow(): ArrayBuffer {
  return reply(recvNowOf() !== null);
}

let poll: (() => void) | null = null;
let pollAfterEvents = false;

/**
 * `count` sequential binary echoes on the first open connection through
 * websock_recv_now, polled after every event from Node; as in the callback
 * model, each whole echo sends the next message without awaiting it.
 */
export function echoByRecvNow(count: number): void {
  const recvNow = recvNowOf()!;
  const again = (WebsockXs.WEBSOCK_ERR as Readonly<Record<string, number>>).AGAIN;
  const h = handles[0];
  const a = api!;
  if (!pollAfterEvents) {
    const events = globalThis.handleCommand!;
    globalThis.handleCommand = (message: ArrayBuffer): unknown => {
      const result = events(message);
      if (poll !== null) poll();
      return result;
    };
    pollAfterEvents = true;
  }
  let left = count;
  let got = 0;
  pieces = 0;
  poll = () => {
    for (;;) {
      const n = recvNow(h, hdr!, readBuffer, readBuffer.length);
      if (n === again) return;
      if (n < 0) {
        poll = null;
        return done(failure("websock_recv_now", h));
      }
      pieces++;
      got += n;
      if (!hdr!.fin || hdr!.bytesleft !== 0) continue;
      if (got !== payload.length) {
        poll = null;
        return done(`echo of ${got} bytes, sent ${payload.length}`);
      }
      got = 0;
      if (--left > 0) {
        void a.websock_send_binary(h, payload);
        continue;
      }
      poll = null;
      return done();
    }
  };
  void a.websock_send_binary(h, payload);
}

/** `count` sequential sends of the prepared message, text or binary, on the first open connection (each awaited). */
export function send(kind: "text" | "binary", count: number): void {
  const h = handles[0];
  const a = api!;
  pieces = 0;
  void (async () => {
    for (let m = 0; m < count; m++) {
      const code = kind === "text" ? await a.websock_send_text(h, text) : await a.websock_send_binary(h, payload);
      if (code !== 0) return done(failure(`websock_send_${kind}`, h));
    }
    done();
  })();
}

// ---- the test host alone ----
// The XS test host's own share of an echo, without websock: its Transport
// (from the installer's Host) to a TCP server that answers each
// payload-sized request with as many bytes in one write. The same sizes, the
// same read buffer, no WebSocket framing.

let raw: Transport | null = null;
let rawLeft = 0;
let rawGot = 0;

const rawHandlers: TransportHandlers = {
  onConnect: () => done(),
  onReadable: () => {
    for (;;) {
      const n = raw!.read(readBuffer, 0, readBuffer.length);
      if (n === 0) break;
      pieces++;
      rawGot += n;
    }
    if (rawGot < payload.length) return;
    rawGot = 0;
    if (--rawLeft > 0) raw!.write(payload);
    else done();
  },
  onWritable: () => {},
  onEnd: () => {},
  onError: (f) => done(`raw transport: ${f.kind} ${f.message}`),
};

/** Connects the bare transport (REPORT once connected). */
export function openRaw(port: number): void {
  raw = host!.host.connect({ hostname: "127.0.0.1", port, secured: false, ssl: {} }, rawHandlers);
}

/** `count` sequential round trips of the prepared payload through the bare transport. */
export function rawEcho(count: number): void {
  rawLeft = count;
  rawGot = 0;
  pieces = 0;
  raw!.write(payload);
}

export function closeRaw(): void {
  raw?.destroy();
  raw = null;
}
