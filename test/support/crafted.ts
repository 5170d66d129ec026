// One raw TCP server for the crafted-frame tests: each run registers a
// script under its own path, opens a real websock client to it, reads
// everything with websock_recv until it returns < 0, and gives back what was
// delivered, how recv ended, and the frames the client sent (unmasked).

import { strict as assert } from "node:assert";
import {
  WEBSOCK_ERR,
  websock_close,
  websock_last_error,
  websock_msg_hdr_init,
  websock_open,
  websock_recv,
  type websock_config_t,
  type websock_error_t,
} from "websock-rfc6455";
import { ClientFrameReader } from "./frames.js";
import { startRawServer, switchingProtocols, type RawPeer, type RawServer } from "./raw-server.js";

/** What the server does after its 101, in order. */
export type Write =
  | Buffer
  /** Bytes written `size` at a time, each on its own turn of the event loop (its own TCP segment). */
  | { chop: number; bytes: Buffer }
  | { wait: number }
  /** Waits (up to 2 s) for the client's close frame: proves the client failed before the rest was sent. */
  | { awaitClientClose: true }
  /** Ends TCP now, without a close frame. */
  | { endTcp: true }
  /** Anything else, with the socket and the client's frames so far. */
  | ((peer: RawPeer, client: () => ClientFrameReader) => Promise<void> | void);

export interface Delivered {
  opcode: number;
  fin: boolean;
  data: Buffer;
  /** The frame's payload_len as recv reported it. */
  length: number;
  pieces: number;
}

export interface CraftedRun {
  /** Frames delivered by websock_recv, each reassembled from its pieces. */
  frames: Delivered[];
  /** The messages those frames make (data frames only), for convenience. */
  messages: Array<{ opcode: number; data: Buffer }>;
  /** websock_recv's final return value (< 0). */
  result: number;
  error: websock_error_t;
  /** The client's frames as the server received them. */
  client: ClientFrameReader;
  /** Every awaitClientClose step saw the close in time. */
  closedEarly: boolean;
}

export interface RunOptions {
  cfg?: Partial<websock_config_t>;
  /** The len passed to websock_recv (default 1024). */
  readSize?: number;
  /** The server writes the 101 and the first write as one (frames in the 101's segment). */
  withResponse?: boolean;
  /** Checks each piece as it arrives (large messages are not kept). */
  onPiece?: (piece: Uint8Array, hdr: { opcode: number; offset: number; payload_len: number; bytesleft: number; fin: boolean }) => void;
  /** Do not keep payloads (large messages): frames[].data stays empty. */
  discard?: boolean;
  /** Header lines added to the 101 (each ending in CRLF), e.g. a Sec-WebSocket-Extensions answer. */
  responseHeaders?: string;
}

export class CraftedServer {
  private readonly scripts = new Map<string, Write[]>();
  private readonly flags = new Map<string, { closedEarly: boolean }>();
  private readonly withResponse = new Set<string>();
  private readonly responseHeaders = new Map<string, string>();
  private next = 0;

  private constructor(private readonly raw: RawServer) {}

  static async start(): Promise<CraftedServer> {
    let self: CraftedServer | null = null;
    const raw = await startRawServer((peer) => void self!.serve(peer));
    self = new CraftedServer(raw);
    return self;
  }

  stop(): Promise<void> {
    return this.raw.stop();
  }

  private async serve(peer: RawPeer): Promise<void> {
    const path = /^GET (\S+)/.exec(peer.request.text)?.[1] ?? "";
    const script = this.scripts.get(path) ?? [];
    const flag = this.flags.get(path) ?? { closedEarly: true };
    const s = peer.socket;
    s.setNoDelay(true);
    const client = (): ClientFrameReader => {
      const r = new ClientFrameReader();
      r.push(peer.received());
      return r;
    };
    const response = Buffer.from(switchingProtocols(peer.request.accept, this.responseHeaders.get(path) ?? ""));
    let responded = false;
    /** Writes the 101 once; returns true when `bytes` went out with it (withResponse). */
    const respond = (bytes?: Buffer): boolean => {
      if (responded) return false;
      responded = true;
      if (bytes !== undefined && this.withResponse.has(path)) {
        s.write(Buffer.concat([response, bytes]));
        return true;
      }
      s.write(response);
      return false;
    };
    for (const w of script) {
      if (s.destroyed) return;
      if (Buffer.isBuffer(w)) {
        if (!respond(w)) s.write(w);
        continue;
      }
      respond();
      if (typeof w === "function") {
        await w(peer, client);
      } else if ("chop" in w) {
        for (let o = 0; o < w.bytes.length && !s.destroyed; o += w.chop) {
          s.write(w.bytes.subarray(o, o + w.chop));
          await new Promise((r) => setImmediate(r));
        }
      } else if ("wait" in w) {
        await new Promise((r) => setTimeout(r, w.wait));
      } else if ("awaitClientClose" in w) {
        const until = Date.now() + 2000;
        while (client().close === null && Date.now() < until && !s.destroyed) await new Promise((r) => setTimeout(r, 2));
        if (client().close === null) flag.closedEarly = false;
      } else {
        s.end();
        return;
      }
    }
    respond();
    // As a server does (RFC 6455 §7.1.1): once the client's close is in, end TCP first.
    const until = Date.now() + 3000;
    while (client().close === null && Date.now() < until && !s.destroyed) await new Promise((r) => setTimeout(r, 2));
    s.end();
  }

  /** Runs `script` against a fresh client; resolves once recv has returned < 0 and the client is closed. */
  async run(script: Write[], options: RunOptions = {}): Promise<CraftedRun> {
    const path = `/case-${++this.next}`;
    this.scripts.set(path, script);
    const flag = { closedEarly: true };
    this.flags.set(path, flag);
    if (options.withResponse) this.withResponse.add(path);
    if (options.responseHeaders !== undefined) this.responseHeaders.set(path, options.responseHeaders);
    const h = await websock_open({ hostname: "127.0.0.1", port: this.raw.port, uri: path, rx_buffer_size: 256, tx_buffer_size: 256, close_timeout: 2000, ...options.cfg });
    assert.ok(h, `open failed: ${websock_last_error().message}`);
    const peer = this.raw.peers.find((p) => p.request.text.startsWith(`GET ${path} `))!;
    const frames: Delivered[] = [];
    const len = options.readSize ?? 1024;
    const buf = new Uint8Array(len);
    const hdr = websock_msg_hdr_init();
    let result = 0;
    let parts: Buffer[] = [];
    const started = Date.now();
    for (;;) {
      const n = await websock_recv(h, hdr, buf, len, 500);
      if (n < 0) {
        result = n;
        break;
      }
      if (hdr.opcode < 0) {
        assert.ok(Date.now() - started < 5000, "websock_recv delivered nothing for 5 s: the client hangs");
        continue;
      }
      assert.ok(n <= len, "a piece larger than the buffer");
      if (hdr.payload_len <= Number.MAX_SAFE_INTEGER) assert.equal(hdr.offset + n + hdr.bytesleft, hdr.payload_len, "offset + n + bytesleft = payload_len");
      options.onPiece?.(buf.subarray(0, n), hdr);
      if (hdr.offset === 0) {
        if (frames.length > 0) frames[frames.length - 1].data = Buffer.concat(parts);
        frames.push({ opcode: hdr.opcode, fin: hdr.fin, data: Buffer.alloc(0), length: hdr.payload_len, pieces: 0 });
        parts = [];
      }
      const f = frames[frames.length - 1];
      assert.ok(f !== undefined && f.opcode === hdr.opcode && f.fin === hdr.fin, "a piece's header does not match its frame's");
      f.pieces++;
      if (!options.discard) parts.push(Buffer.from(buf.subarray(0, n)));
    }
    if (frames.length > 0) frames[frames.length - 1].data = Buffer.concat(parts);
    const error = websock_last_error(h);
    await websock_close(h);
    await peer.ended;
    this.scripts.delete(path);
    const client = new ClientFrameReader();
    client.push(peer.received());
    const messages: CraftedRun["messages"] = [];
    for (const f of frames) {
      if (f.opcode === 1 || f.opcode === 2) messages.push({ opcode: f.opcode, data: f.data });
      else if (f.opcode === 0 && messages.length > 0) messages[messages.length - 1].data = Buffer.concat([messages[messages.length - 1].data, f.data]);
    }
    return { frames, messages, result, error, client, closedEarly: flag.closedEarly };
  }
}

/** recv failed with `name`; the error and the close frame the client sent both carry `closeCode`. */
export function assertFailed(r: CraftedRun, name: keyof typeof WEBSOCK_ERR, closeCode: number): void {
  assert.equal(r.error.name, `WEBSOCK_ERR_${name}`, `ended with ${r.error.name} (${r.error.message}), expected WEBSOCK_ERR_${name}`);
  assert.equal(r.result, WEBSOCK_ERR[name]);
  assert.equal(r.error.close_code, closeCode, "close_code in websock_last_error");
  assert.ok(r.client.close !== null, "the client sent no close frame");
  assert.equal(r.client.close.code, closeCode, "the close code the client sent");
  assertCleanOutput(r);
}

/** recv ended with the server's close; the client echoed its code (none when it had none). */
export function assertClosedByPeer(r: CraftedRun, code = 1000, reason = ""): void {
  assert.equal(r.error.name, "WEBSOCK_ERR_CLOSED_BY_PEER", `ended with ${r.error.name} (${r.error.message})`);
  assert.equal(r.result, WEBSOCK_ERR.CLOSED_BY_PEER);
  assert.equal(r.error.close_code, code, "close_code in websock_last_error");
  assert.equal(r.error.close_reason, reason, "close_reason in websock_last_error");
  assert.ok(r.client.close !== null, "the client sent no close frame");
  assert.equal(r.client.close.code, code === 1005 ? undefined : code, "the close code the client echoed");
  assertCleanOutput(r);
}

/** Everything the client sent is masked and well formed, and nothing follows its close. */
export function assertCleanOutput(r: CraftedRun): void {
  assert.deepEqual(r.client.problems, [], "the client's frames");
  assert.equal(r.client.afterClose, 0, "frames after the client's close");
}
