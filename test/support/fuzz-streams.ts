// Generators, a reference model and a harness for fuzzing the pure core
// (test/fuzz.test.ts runs them briefly, tools/fuzz.ts for a long campaign).
//
// - frameStreams: frames described field by field, mostly valid, some
//   breaking exactly one rule; the reference model below says, from RFC 6455
//   alone, what the client must deliver and how it must end.
// - mutatedStreams: valid streams with bytes flipped, inserted, deleted,
//   duplicated or cut; and plain random bytes. No model: only invariants.
// - handshakes: responses built header by header, and mutated byte streams.
// Each input is fed through the core in a random chunking and read with
// random read sizes, and checked against the invariants: no exception, no
// hang (the core always takes input or has something to deliver), pieces
// that add up, output that is valid masked frames, and an end that is either
// the peer's close, the connection lost at EOF, or a failure whose close code
// the error table defines and the client actually sent.

import { createHash } from "node:crypto";
import fc from "fast-check";
import { Connection, STATE_CONNECTING } from "../../src/connection.js";
import { ERR } from "../../src/errors.js";
import { NOTHING_READY } from "../../src/receiver.js";
import type { websock_msg_hdr_t } from "../../src/types.js";
import { decodeClientFrames } from "../vectors/runner.js";

// ---- frames, field by field ----

export interface FrameSpec {
  fin: boolean;
  rsv: number;
  opcode: number;
  masked: boolean;
  /** How the length is encoded: the minimal form, or a longer one (a violation unless it is minimal anyway). */
  lengthForm: "minimal" | "16" | "64" | "64msb";
  payload: Uint8Array;
}

const bytes = (min: number, max: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ minLength: min, maxLength: max });
const validText = (max: number): fc.Arbitrary<Uint8Array> => fc.string({ unit: "grapheme", maxLength: max }).map((s) => new Uint8Array(Buffer.from(s, "utf8")));
/** Mostly short payloads, sometimes past the 126 and 65536 length boundaries. */
const dataPayload = (text: boolean): fc.Arbitrary<Uint8Array> =>
  fc.oneof(
    { weight: 8, arbitrary: text ? validText(40) : bytes(0, 40) },
    { weight: 2, arbitrary: text ? validText(200) : bytes(100, 300) },
    { weight: 1, arbitrary: fc.integer({ min: 65530, max: 70000 }).map((n) => new Uint8Array(n).fill(0x61)) },
  );
const invalidUtf8 = fc.constantFrom("c0af", "eda080", "f4908080", "80", "fe", "ff", "c020", "e080af", "f888808080", "cebae1").map((h) => new Uint8Array(Buffer.from(h, "hex")));
const validCloseCode = fc.constantFrom(1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999);
const invalidCloseCode = fc.constantFrom(0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535);

const base = { fin: true, rsv: 0, masked: false, lengthForm: "minimal" as const };

/** A frame that keeps every rule (given the message state, which the stream builder fixes up). */
const validFrame: fc.Arbitrary<FrameSpec> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ fin: fc.boolean(), payload: dataPayload(true) }).map((r) => ({ ...base, opcode: 1, ...r })) },
  { weight: 5, arbitrary: fc.record({ fin: fc.boolean(), payload: dataPayload(false) }).map((r) => ({ ...base, opcode: 2, ...r })) },
  { weight: 3, arbitrary: fc.record({ fin: fc.boolean(), payload: bytes(0, 40) }).map((r) => ({ ...base, opcode: 0, ...r })) },
  { weight: 2, arbitrary: bytes(0, 125).map((payload) => ({ ...base, opcode: 9, payload })) },
  { weight: 1, arbitrary: bytes(0, 125).map((payload) => ({ ...base, opcode: 10, payload })) },
  { weight: 1, arbitrary: fc.tuple(validCloseCode, validText(30)).map(([code, reason]) => ({ ...base, opcode: 8, payload: closePayload(code, reason) })) },
  { weight: 1, arbitrary: fc.constant({ ...base, opcode: 8, payload: new Uint8Array(0) }) },
);

/** A frame that breaks one rule. */
const badFrame: fc.Arbitrary<FrameSpec> = fc.oneof(
  fc.tuple(validFrame, fc.integer({ min: 1, max: 7 })).map(([f, rsv]) => ({ ...f, rsv })),
  fc.tuple(validFrame, fc.constantFrom(3, 4, 5, 6, 7, 11, 12, 13, 14, 15)).map(([f, opcode]) => ({ ...f, opcode, payload: f.payload.subarray(0, 125) })),
  validFrame.map((f) => ({ ...f, masked: true })),
  fc.tuple(validFrame, fc.constantFrom("16" as const, "64" as const, "64msb" as const)).map(([f, lengthForm]) => ({ ...f, lengthForm })),
  fc.tuple(fc.constantFrom(8, 9, 10), bytes(126, 200)).map(([opcode, payload]) => ({ ...base, opcode, payload })),
  fc.tuple(fc.constantFrom(8, 9, 10), bytes(0, 20)).map(([opcode, payload]) => ({ ...base, fin: false, opcode, payload: opcode === 8 ? closePayload(1000, new Uint8Array(0)) : payload })),
  fc.tuple(invalidUtf8, validText(10), fc.boolean()).map(([bad, before, fin]) => ({ ...base, fin, opcode: 1, payload: concat([before, bad]) })),
  invalidCloseCode.map((code) => ({ ...base, opcode: 8, payload: closePayload(code, new Uint8Array(0)) })),
  fc.constant({ ...base, opcode: 8, payload: new Uint8Array([3]) }),
  invalidUtf8.map((bad) => ({ ...base, opcode: 8, payload: closePayload(1000, bad) })),
);

/** A stream of frames: mostly valid, continuations fixed up so that most streams are well formed, sometimes one bad frame. */
export const frameStreams: fc.Arbitrary<FrameSpec[]> = fc
  .tuple(fc.array(validFrame, { maxLength: 12 }), fc.option(fc.tuple(badFrame, fc.nat()), { freq: 3 }), fc.boolean())
  .map(([frames, bad, fixFragments]) => {
    const out = fixFragments ? wellFragmented(frames) : frames.slice();
    if (bad !== null) out.splice(bad[1] % (out.length + 1), 0, bad[0]);
    return out;
  });

/** Rewrites opcodes so data frames form proper messages (continuations only inside one). */
function wellFragmented(frames: FrameSpec[]): FrameSpec[] {
  let inMessage = false;
  let text = false;
  return frames.map((f) => {
    if (f.opcode >= 8) return f;
    let opcode = f.opcode;
    if (inMessage && opcode !== 0) opcode = 0;
    if (!inMessage && opcode === 0) opcode = 2;
    if (opcode !== 0) text = opcode === 1;
    inMessage = !f.fin;
    // A continuation of a text message carries valid text whole characters.
    const payload = opcode === 0 && text ? new Uint8Array(Buffer.from(Buffer.from(f.payload).toString("latin1").replace(/[^\x20-\x7e]/g, "x"), "latin1")) : f.payload;
    return { ...f, opcode, payload };
  });
}

function closePayload(code: number, reason: Uint8Array): Uint8Array {
  return concat([new Uint8Array([code >> 8, code & 255]), reason]);
}

export function concat(parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function encodeFrames(frames: FrameSpec[]): Uint8Array {
  return concat(frames.map(encodeFrame));
}

export function encodeFrame(f: FrameSpec): Uint8Array {
  const n = f.payload.length;
  const head: number[] = [(f.fin ? 0x80 : 0) | (f.rsv << 4) | f.opcode];
  const m = f.masked ? 0x80 : 0;
  const form = f.lengthForm === "minimal" ? (n < 126 ? "7" : n < 0x10000 ? "16" : "64") : f.lengthForm;
  if (form === "7") head.push(m | n);
  else if (form === "16" && n < 0x10000) head.push(m | 126, n >> 8, n & 255);
  else head.push(m | 127, form === "64msb" ? 0x80 : 0, 0, 0, 0, n >>> 24, (n >> 16) & 255, (n >> 8) & 255, n & 255);
  const key = f.masked ? [0x37, 0xfa, 0x21, 0x3d] : [];
  const body = f.payload.slice();
  if (f.masked) for (let i = 0; i < body.length; i++) body[i] ^= key[i & 3];
  return concat([new Uint8Array(head), new Uint8Array(key), body]);
}

// ---- the reference model: what RFC 6455 says the client must do with a stream ----

export interface Expected {
  /** Frames to deliver, in order; the last may be delivered only in part (`maxPrefix` bytes at most). */
  frames: Array<{ opcode: number; fin: boolean; payload: Uint8Array; maxPrefix?: number }>;
  /** The WEBSOCK_ERR_* name recv ends with after the input and EOF. */
  error: string;
  /** The close code in that error (and sent, for a protocol failure). */
  closeCode: number;
  /** Ping payloads the client processed (pongs must be a subsequence ending with the last). */
  pings: Uint8Array[];
}

/**
 * Where UTF-8 (Unicode Table 3-7) first goes wrong in `b`: the index of the
 * byte that makes it ill-formed, "incomplete" when it stops mid-character, or
 * "ok". Written from the table, not from src/utf8.ts.
 */
export function utf8Check(b: Uint8Array): number | "incomplete" | "ok" {
  let i = 0;
  while (i < b.length) {
    const c = b[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) need = 1;
    else if (c === 0xe0) (need = 2), (lo = 0xa0);
    else if ((c >= 0xe1 && c <= 0xec) || c === 0xee || c === 0xef) need = 2;
    else if (c === 0xed) (need = 2), (hi = 0x9f);
    else if (c === 0xf0) (need = 3), (lo = 0x90);
    else if (c >= 0xf1 && c <= 0xf3) need = 3;
    else if (c === 0xf4) (need = 3), (hi = 0x8f);
    else return i;
    for (let k = 1; k <= need; k++) {
      if (i + k >= b.length) return "incomplete";
      const d = b[i + k];
      if (k === 1 ? d < lo || d > hi : d < 0x80 || d > 0xbf) return i + k;
    }
    i += need + 1;
  }
  return "ok";
}

function validCode(code: number): boolean {
  return (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999);
}

export function model(frames: FrameSpec[]): Expected {
  const out: Expected["frames"] = [];
  const pings: Uint8Array[] = [];
  const fail = (name: keyof typeof ERR): Expected => ({ frames: out, error: ERR[name].name, closeCode: ERR[name].closeCode, pings });
  let inMessage = false;
  let text = false;
  let message: Uint8Array[] = [];
  for (const f of frames) {
    const n = f.payload.length;
    const control = f.opcode >= 8;
    if (f.rsv !== 0) return fail("RSV_BITS");
    if (![0, 1, 2, 8, 9, 10].includes(f.opcode)) return fail("RESERVED_OPCODE");
    // The 7-bit length field: a control frame with 126 or 127 there is too long, whatever follows.
    const field = f.lengthForm === "minimal" ? (n < 126 ? n : n < 0x10000 ? 126 : 127) : f.lengthForm === "16" && n < 0x10000 ? 126 : 127;
    if (control) {
      if (!f.fin) return fail("CONTROL_FRAGMENTED");
      if (field > 125) return fail("CONTROL_TOO_LONG");
    } else if (f.opcode === 0) {
      if (!inMessage) return fail("UNEXPECTED_CONTINUATION");
    } else if (inMessage) {
      return fail("EXPECTED_CONTINUATION");
    }
    if (f.masked) return fail("MASKED_FRAME");
    if (field === 127 && f.lengthForm === "64msb") return fail("LENGTH_TOO_LARGE");
    if ((field === 126 && n < 126) || (field === 127 && n < 0x10000)) return fail("NON_MINIMAL_LENGTH");
    if (f.opcode === 9) {
      pings.push(f.payload);
      continue;
    }
    if (f.opcode === 10) continue;
    if (f.opcode === 8) {
      if (n === 1) return fail("BAD_CLOSE_PAYLOAD");
      if (n === 0) return { frames: out, error: ERR.CLOSED_BY_PEER.name, closeCode: 1005, pings };
      const code = (f.payload[0] << 8) | f.payload[1];
      if (!validCode(code)) return fail("BAD_CLOSE_CODE");
      if (utf8Check(f.payload.subarray(2)) !== "ok") return fail("INVALID_UTF8");
      return { frames: out, error: ERR.CLOSED_BY_PEER.name, closeCode: code, pings };
    }
    if (f.opcode !== 0) {
      text = f.opcode === 1;
      message = [];
    }
    inMessage = !f.fin;
    if (text) {
      const before = message.reduce((s, p) => s + p.length, 0);
      message.push(f.payload);
      const verdict = utf8Check(concat(message));
      if (typeof verdict === "number" || (verdict === "incomplete" && f.fin)) {
        // Fail fast: some of this frame's valid bytes may be delivered first, never the bad one.
        out.push({ opcode: f.opcode, fin: f.fin, payload: f.payload, maxPrefix: typeof verdict === "number" ? verdict - before : n });
        return fail("INVALID_UTF8");
      }
    }
    out.push({ opcode: f.opcode, fin: f.fin, payload: f.payload });
  }
  return { frames: out, error: ERR.CONNECTION_LOST.name, closeCode: 1006, pings };
}

// ---- mutations ----

export type Mutation = { at: number; kind: "flip" | "insert" | "delete" | "duplicate" | "truncate"; value: number; length: number };

const mutation: fc.Arbitrary<Mutation> = fc.record({
  at: fc.nat(),
  kind: fc.constantFrom("flip" as const, "insert" as const, "delete" as const, "duplicate" as const, "truncate" as const),
  value: fc.nat({ max: 255 }),
  length: fc.integer({ min: 1, max: 16 }),
});

export function mutate(input: Uint8Array, mutations: Mutation[]): Uint8Array {
  let b = input;
  for (const m of mutations) {
    if (b.length === 0) return b;
    const at = m.at % b.length;
    if (m.kind === "flip") {
      b = b.slice();
      b[at] ^= 1 << (m.value & 7) || 1;
    } else if (m.kind === "insert") {
      b = concat([b.subarray(0, at), new Uint8Array(m.length).fill(m.value), b.subarray(at)]);
    } else if (m.kind === "delete") {
      b = concat([b.subarray(0, at), b.subarray(at + m.length)]);
    } else if (m.kind === "duplicate") {
      b = concat([b.subarray(0, at + m.length), b.subarray(at)]);
    } else {
      b = b.subarray(0, at);
    }
  }
  return b;
}

/** Byte streams with no model: valid streams mutated, and random bytes. */
export const mutatedStreams: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(frameStreams, fc.array(mutation, { minLength: 1, maxLength: 4 })).map(([frames, ms]) => mutate(encodeFrames(frames), ms)) },
  { weight: 1, arbitrary: bytes(0, 300) },
);

// ---- feeding the core ----

/** How an input is cut and read: cut points (fractions of the input) and read sizes, cycled. */
export interface Schedule {
  cuts: number[];
  reads: number[];
  rxBuffer: number;
}

export const schedules: fc.Arbitrary<Schedule> = fc.record({
  cuts: fc.oneof(
    { weight: 3, arbitrary: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 8 }) },
    { weight: 1, arbitrary: fc.constant<number[]>([-1]) }, // one byte at a time
  ),
  reads: fc.array(fc.oneof(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 9, max: 2048 })), { minLength: 1, maxLength: 5 }),
  rxBuffer: fc.oneof(fc.constant(256), fc.integer({ min: 256, max: 4096 })),
});

export interface Delivered {
  opcode: number;
  fin: boolean;
  payload: Uint8Array;
  complete: boolean;
}

export interface Outcome {
  opened: boolean;
  frames: Delivered[];
  /** WEBSOCK_ERR_* name recv ended with, or null (it never ended: a handshake still waiting). */
  error: string | null;
  closeCode: number | undefined;
  /** The client's output after its handshake request, decoded. */
  sent: Array<{ fin: boolean; opcode: number; payload: Uint8Array; masked: boolean }>;
  sentRest: number;
}

let fixedRandom = 0;
export function newConnection(rxBuffer: number, options: { maxMessageSize?: number } = {}): Connection {
  let clock = 0;
  return new Connection({
    role: "client",
    rxBuffer: new Uint8Array(rxBuffer),
    txBuffer: new Uint8Array(256),
    autoPong: true,
    maxMessageSize: options.maxMessageSize ?? 0,
    pingInterval: 0,
    pongTimeout: 1000,
    closeTimeout: 1000,
    platform: {
      randomFill: (out: Uint8Array) => {
        for (let i = 0; i < out.length; i++) out[i] = (fixedRandom = (fixedRandom * 1103515245 + 12345) >>> 0) >>> 24;
      },
      sha1: (data: Uint8Array) => new Uint8Array(createHash("sha1").update(data).digest()),
      now: () => clock++,
    },
  });
}

/** One byte at a time covers this many bytes, then the rest goes whole (long inputs would take too long). */
const BYTEWISE_LIMIT = 2048;

function cutPoints(length: number, s: Schedule): number[] {
  if (s.cuts.length === 1 && s.cuts[0] === -1) return Array.from({ length: Math.min(length, BYTEWISE_LIMIT) }, (_, i) => i + 1).concat(length > BYTEWISE_LIMIT ? [length] : []);
  const points = s.cuts.map((c) => Math.floor(c * length)).filter((c) => c > 0 && c < length);
  return [...new Set(points)].sort((a, b) => a - b).concat([length]);
}

/**
 * Feeds `input` to an open (or opening) connection in the schedule's chunks,
 * reading after each with the schedule's sizes, then EOF; checks the
 * invariants that hold for any input and returns what came out.
 */
export function feed(conn: Connection, input: Uint8Array, s: Schedule): Outcome {
  const hdr: websock_msg_hdr_t = { fin: false, opcode: -1, payload_len: 0, offset: 0, bytesleft: 0 };
  const frames: Delivered[] = [];
  let parts: Uint8Array[] = [];
  let error: string | null = null;
  const sentChunks: Uint8Array[] = [];
  let readIndex = 0;
  const buf = new Uint8Array(2048);

  const drain = (): void => {
    for (let guard = 0; ; guard++) {
      if (guard > 100000) throw new Error("produce() never runs dry");
      const n = conn.produce();
      if (n <= 0) return;
      if (conn.txStart + n > conn.tx.length) throw new Error("produce() wrote past the tx buffer");
      sentChunks.push(conn.tx.slice(conn.txStart, conn.txStart + n));
      conn.written(n);
    }
  };
  const readAll = (): number => {
    let count = 0;
    for (;;) {
      const size = s.reads[readIndex++ % s.reads.length];
      conn.advance();
      const n = conn.read(hdr, buf, 0, size);
      if (n === NOTHING_READY) return count;
      count++;
      if (n < 0) {
        if (error === null) error = conn.ending?.error.name ?? `code ${n}`;
        if (conn.ending === null || conn.ending.error.code !== n) throw new Error(`read returned ${n} with ending ${conn.ending?.error.name}`);
        return count;
      }
      if (error !== null) throw new Error("a piece after the end");
      if (n > size) throw new Error(`a piece of ${n} bytes from a read of ${size}`);
      if (hdr.payload_len <= Number.MAX_SAFE_INTEGER && hdr.offset + n + hdr.bytesleft !== hdr.payload_len) {
        throw new Error(`offset ${hdr.offset} + ${n} + bytesleft ${hdr.bytesleft} != payload_len ${hdr.payload_len}`);
      }
      if (hdr.offset === 0) {
        if (frames.length > 0) frames[frames.length - 1].payload = concat(parts);
        parts = [];
        frames.push({ opcode: hdr.opcode, fin: hdr.fin, payload: new Uint8Array(0), complete: false });
      }
      const f = frames[frames.length - 1];
      if (f === undefined || f.opcode !== hdr.opcode || f.fin !== hdr.fin) throw new Error("a piece's header does not match its frame's");
      parts.push(buf.slice(0, n));
      f.complete = hdr.bytesleft === 0;
    }
  };

  let at = 0;
  for (const end of cutPoints(input.length, s)) {
    while (at < end) {
      const taken = conn.receiveData(input, at, end);
      at += taken;
      drain();
      const reads = readAll();
      drain();
      // No hang: the core either takes bytes or has a piece to deliver, or has stopped for good.
      if (taken === 0 && reads === 0 && conn.prepareReceive() === 0) throw new Error("stuck: the core took no bytes and delivered nothing");
      if (taken === 0 && reads === 0 && at < end) throw new Error("stuck: the core has room but took no bytes");
    }
  }
  conn.receiveEof();
  for (let guard = 0; error === null && conn.state !== STATE_CONNECTING; guard++) {
    if (guard > 100000) throw new Error("recv never ends after EOF");
    readAll();
    drain();
  }
  readAll();
  drain();
  if (frames.length > 0) frames[frames.length - 1].payload = concat(parts);

  const sent = decodeClientFrames(concat(sentChunks));
  const outcome: Outcome = { opened: conn.opened, frames, error, closeCode: conn.ending?.closeCode, sent: sent.frames, sentRest: sent.rest };
  checkOutput(outcome);
  return outcome;
}

const PROTOCOL_ERRORS = new Set(Object.values(ERR).filter((r) => r.code <= -40 && r.code >= -59).map((r) => r.name));

/** The invariants on how it ended and what the client sent, for any input. */
function checkOutput(o: Outcome): void {
  if (o.sentRest !== 0) throw new Error(`the client's output ends with ${o.sentRest} bytes of an incomplete frame`);
  const closes = o.sent.filter((f) => f.opcode === 8);
  for (const [i, f] of o.sent.entries()) {
    if (!f.masked) throw new Error("the client sent an unmasked frame");
    if (![0, 1, 2, 8, 9, 10].includes(f.opcode)) throw new Error(`the client sent opcode ${f.opcode}`);
    if (f.opcode >= 8 && f.payload.length > 125) throw new Error("the client sent a control frame over 125 bytes");
    if (f.opcode === 8 && i !== o.sent.length - 1) throw new Error("the client sent something after its close");
  }
  if (closes.length > 1) throw new Error("the client sent two close frames");
  if (!o.opened) {
    if (o.sent.length > 0) throw new Error("frames sent on a connection that never opened");
    return;
  }
  if (o.error === null) throw new Error("recv did not end after EOF");
  const close = closes[0];
  const sentCode = close === undefined ? undefined : close.payload.length >= 2 ? (close.payload[0] << 8) | close.payload[1] : 1005;
  if (PROTOCOL_ERRORS.has(o.error)) {
    const row = Object.values(ERR).find((r) => r.name === o.error)!;
    if (o.closeCode !== row.closeCode || row.closeCode === 0) throw new Error(`${o.error} with close code ${o.closeCode}`);
    if (sentCode !== row.closeCode) throw new Error(`${o.error}: the client sent close ${sentCode}, expected ${row.closeCode}`);
  } else if (o.error === ERR.CLOSED_BY_PEER.name) {
    if (sentCode !== o.closeCode) throw new Error(`closed by peer with ${o.closeCode}, the client echoed ${sentCode}`);
  } else if (o.error === ERR.CONNECTION_LOST.name) {
    if (o.closeCode !== 1006) throw new Error(`connection lost with ${o.closeCode}`);
    if (close !== undefined) throw new Error("a close frame sent on a stream that just ended");
  } else {
    throw new Error(`ended with ${o.error}, which no input may cause here`);
  }
}

/** Compares an outcome with the model; returns what differs, or null. */
export function compareWithModel(o: Outcome, want: Expected): string | null {
  if (o.error !== want.error) return `ended with ${o.error}, the model says ${want.error}`;
  if (o.closeCode !== want.closeCode) return `close code ${o.closeCode}, the model says ${want.closeCode}`;
  const last = want.frames[want.frames.length - 1];
  const partial = last !== undefined && last.maxPrefix !== undefined;
  const expectedCount = want.frames.length;
  if (!(o.frames.length === expectedCount || (partial && o.frames.length === expectedCount - 1))) {
    return `${o.frames.length} frames delivered, the model says ${expectedCount}${partial ? " (or one less)" : ""}`;
  }
  for (let i = 0; i < o.frames.length; i++) {
    const g = o.frames[i];
    const w = want.frames[i];
    if (g.opcode !== w.opcode || g.fin !== w.fin) return `frame ${i}: opcode ${g.opcode} fin ${g.fin}, the model says ${w.opcode} ${w.fin}`;
    if (w.maxPrefix !== undefined) {
      if (g.payload.length > w.maxPrefix) return `frame ${i}: ${g.payload.length} bytes delivered past the invalid byte at ${w.maxPrefix}`;
      if (!Buffer.from(g.payload).equals(Buffer.from(w.payload.subarray(0, g.payload.length)))) return `frame ${i}: the prefix delivered differs`;
    } else if (!g.complete || !Buffer.from(g.payload).equals(Buffer.from(w.payload))) {
      return `frame ${i}: payload differs (${g.payload.length} bytes, ${g.complete ? "complete" : "incomplete"}; the model says ${w.payload.length})`;
    }
  }
  // Pongs answer pings: a subsequence of them, in order, ending with the last.
  const pongs = o.sent.filter((f) => f.opcode === 10).map((f) => Buffer.from(f.payload));
  let k = 0;
  for (const p of pongs) {
    while (k < want.pings.length && !p.equals(Buffer.from(want.pings[k]))) k++;
    if (k === want.pings.length) return "a pong that answers no ping";
    k++;
  }
  if (want.pings.length > 0 && (pongs.length === 0 || !pongs[pongs.length - 1].equals(Buffer.from(want.pings[want.pings.length - 1])))) {
    return "the last ping was not answered";
  }
  return null;
}

// ---- handshakes ----

export interface ResponseSpec {
  /** Interim 1xx responses sent first: RFC 9110 §15.2 lets the client skip them, so they change no verdict. */
  interim: number[];
  status: number;
  /** Header lines in order; the Accept value is filled in once the key is known. */
  headers: Array<[string, string | "{accept}" | "{wrong-accept}"]>;
  lineEnd: "\r\n" | "\n";
}

const headerCase = (name: string): fc.Arbitrary<string> => fc.constantFrom(name, name.toLowerCase(), name.toUpperCase());
const ows = fc.constantFrom("", " ", "  ", "\t");

export const responseSpecs: fc.Arbitrary<ResponseSpec> = fc
  .record({
    interim: fc.oneof({ weight: 4, arbitrary: fc.constant<number[]>([]) }, { weight: 1, arbitrary: fc.array(fc.constantFrom<number>(100, 102, 103, 199), { minLength: 1, maxLength: 2 }) }),
    // A final status: 101, or any from 200 up (a 1xx other than 101 is interim, above).
    status: fc.oneof({ weight: 6, arbitrary: fc.constant(101) }, { weight: 1, arbitrary: fc.integer({ min: 200, max: 599 }) }),
    upgrade: fc.oneof({ weight: 6, arbitrary: fc.constantFrom("websocket", "WebSocket", "WEBSOCKET") }, { weight: 1, arbitrary: fc.constantFrom("", "websockets", "h2c", "(missing)", "(twice)") }),
    connection: fc.oneof({ weight: 6, arbitrary: fc.constantFrom("Upgrade", "upgrade", "keep-alive, Upgrade", "Upgrade,close") }, { weight: 1, arbitrary: fc.constantFrom("close", "", "Upgraded", "(missing)") }),
    accept: fc.oneof({ weight: 6, arbitrary: fc.constant("right") }, { weight: 1, arbitrary: fc.constantFrom("wrong", "(missing)", "(twice)") }),
    extensions: fc.oneof({ weight: 6, arbitrary: fc.constant("(missing)") }, { weight: 1, arbitrary: fc.constantFrom("permessage-deflate", "") }),
    protocol: fc.oneof({ weight: 6, arbitrary: fc.constant("(missing)") }, { weight: 1, arbitrary: fc.constantFrom("chat", "") }),
    extra: fc.array(fc.tuple(fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,15}$/), fc.stringMatching(/^[ -~]{0,40}$/)), { maxLength: 4 }),
    names: fc.tuple(headerCase("Upgrade"), headerCase("Connection"), headerCase("Sec-WebSocket-Accept"), headerCase("Sec-WebSocket-Extensions"), headerCase("Sec-WebSocket-Protocol")),
    spaces: fc.tuple(ows, ows),
    lineEnd: fc.constantFrom("\r\n" as const, "\r\n" as const, "\n" as const),
    order: fc.nat(),
  })
  .map((r) => {
    const [up, conn, acc, ext, proto] = r.names;
    const v = (x: string): string => `${r.spaces[0]}${x}${r.spaces[1]}`;
    const headers: ResponseSpec["headers"] = [];
    if (r.upgrade !== "(missing)") headers.push([up, v(r.upgrade === "(twice)" ? "websocket" : r.upgrade)]);
    if (r.upgrade === "(twice)") headers.push([up, "websocket"]);
    if (r.connection !== "(missing)") headers.push([conn, v(r.connection)]);
    if (r.accept !== "(missing)") headers.push([acc, r.accept === "wrong" ? "{wrong-accept}" : "{accept}"]);
    if (r.accept === "(twice)") headers.push([acc, "{accept}"]);
    if (r.extensions !== "(missing)") headers.push([ext, v(r.extensions)]);
    if (r.protocol !== "(missing)") headers.push([proto, v(r.protocol)]);
    const reserved = /^(upgrade|connection|sec-websocket-(accept|extensions|protocol))$/i;
    const extra = r.extra.filter(([name]) => !reserved.test(name));
    headers.splice(r.order % (headers.length + 1), 0, ...extra);
    return { interim: r.interim, status: r.status, headers, lineEnd: r.lineEnd };
  });

/** The RFC 6455 §4.1 verdict on a response built from `spec`: null when the client must open, else the error name. */
export function handshakeModel(spec: ResponseSpec): string | null {
  if (spec.status !== 101) return ERR.HTTP_STATUS.name;
  const values = (name: string): string[] => spec.headers.filter(([n]) => n.toLowerCase() === name).map(([, v]) => v.trim());
  const upgrade = values("upgrade");
  if (upgrade.length !== 1 || upgrade[0].toLowerCase() !== "websocket") return ERR.BAD_UPGRADE.name;
  if (!values("connection").join(",").split(",").some((t) => t.trim().toLowerCase() === "upgrade")) return ERR.BAD_CONNECTION.name;
  const accept = values("sec-websocket-accept");
  if (accept.length !== 1 || accept[0] !== "{accept}") return ERR.BAD_ACCEPT.name;
  if (values("sec-websocket-extensions").some((x) => x !== "")) return ERR.BAD_EXTENSION.name;
  // No subprotocol was offered: any Sec-WebSocket-Protocol header is one the client did not offer.
  if (values("sec-websocket-protocol").length > 0) return ERR.BAD_SUBPROTOCOL.name;
  return null;
}

/** Starts a handshake on a fresh connection; returns it and the Accept a correct server sends. */
export function startHandshake(rxBuffer: number): { conn: Connection; accept: string } {
  const conn = newConnection(rxBuffer);
  conn.startHandshake({ host: "server.example.com", uri: "/chat", subprotocols: [], headers: [] });
  const chunks: Uint8Array[] = [];
  for (let n = conn.produce(); n > 0; n = conn.produce()) {
    chunks.push(conn.tx.slice(conn.txStart, conn.txStart + n));
    conn.written(n);
  }
  const request = Buffer.from(concat(chunks)).toString("latin1");
  const key = /Sec-WebSocket-Key: (\S+)/.exec(request)![1];
  const accept = createHash("sha1").update(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest("base64");
  return { conn, accept };
}

export function responseBytes(spec: ResponseSpec, accept: string): Uint8Array {
  const interim = spec.interim.map((status) => `HTTP/1.1 ${status} Interim${spec.lineEnd}X-Interim: ${status}${spec.lineEnd}${spec.lineEnd}`).join("");
  const lines = [`${interim}HTTP/1.1 ${spec.status} Whatever`, ...spec.headers.map(([n, v]) => `${n}:${v === "{accept}" ? ` ${accept}` : v === "{wrong-accept}" ? " dGhlIHNhbXBsZSBub25jZQ==" : v}`), "", ""];
  return new Uint8Array(Buffer.from(lines.join(spec.lineEnd), "latin1"));
}

export const HANDSHAKE_ERRORS = new Set(Object.values(ERR).filter((r) => r.code <= -20 && r.code >= -28).map((r) => r.name));

// ---- the properties, shared by test/fuzz.test.ts and tools/fuzz.ts; each returns how the input ended ----

export const mutationLists: fc.Arbitrary<Mutation[]> = fc.array(mutation, { minLength: 1, maxLength: 3 });

/** A frame stream against the model. */
export function runModelStream(frames: FrameSpec[], schedule: Schedule): string {
  const conn = newConnection(schedule.rxBuffer);
  conn.startOpen();
  const outcome = feed(conn, encodeFrames(frames), schedule);
  const problem = compareWithModel(outcome, model(frames));
  if (problem !== null) throw new Error(problem);
  return outcome.error!;
}

/** Any bytes: the invariants only (feed checks them). */
export function runMutatedStream(input: Uint8Array, schedule: Schedule): string {
  const conn = newConnection(schedule.rxBuffer);
  conn.startOpen();
  return feed(conn, input, schedule).error!;
}

/** A response built header by header, then frames: opens exactly when §4.1 says, then follows the model. */
export function runHandshake(spec: ResponseSpec, schedule: Schedule, frames: FrameSpec[]): string {
  const { conn, accept } = startHandshake(schedule.rxBuffer);
  const o = feed(conn, concat([responseBytes(spec, accept), encodeFrames(frames)]), schedule);
  const verdict = handshakeModel(spec);
  if (verdict === null) {
    if (!o.opened) throw new Error(`did not open: ${o.error} (${conn.ending?.detail})`);
    const problem = compareWithModel(o, model(frames));
    if (problem !== null) throw new Error(`after the handshake: ${problem}`);
    return `open, then ${o.error}`;
  }
  if (o.opened) throw new Error(`opened on a response the RFC refuses (${verdict})`);
  if (o.error !== verdict) throw new Error(`failed with ${o.error} (${conn.ending?.detail}), the model says ${verdict}`);
  if (o.frames.length > 0) throw new Error("frames delivered on a failed handshake");
  return o.error;
}

/** A mutated response: never opens without the Accept in it; a failure is a handshake error. */
export function runMutatedHandshake(spec: ResponseSpec, frames: FrameSpec[], mutations: Mutation[], schedule: Schedule): string {
  const { conn, accept } = startHandshake(schedule.rxBuffer);
  const input = mutate(concat([responseBytes(spec, accept), encodeFrames(frames)]), mutations);
  const o = feed(conn, input, schedule);
  if (o.opened) {
    if (!Buffer.from(input).includes(accept)) throw new Error("opened, but the response does not carry the Accept");
    return `open, then ${o.error}`;
  }
  if (o.error === null || !HANDSHAKE_ERRORS.has(o.error)) throw new Error(`a failed handshake ended with ${o.error}`);
  return o.error;
}

/** Every kind of valid frame at every length class (text, binary, fragments, pings, pongs), encoded once. */
export function validTraffic(): Uint8Array {
  const spec = (opcode: number, payload: Uint8Array, fin = true): FrameSpec => ({ fin, rsv: 0, opcode, masked: false, lengthForm: "minimal", payload });
  const frames: FrameSpec[] = [];
  for (let i = 0; i < 60; i++) {
    const n = [0, 5, 125, 126, 1000, 65535, 70000][i % 7];
    frames.push(spec(1, new Uint8Array(n).fill(0x61 + (i % 26))), spec(2, new Uint8Array(n).fill(i)), spec(9, new Uint8Array(i % 126)), spec(10, new Uint8Array(3)));
    frames.push(spec(1, new Uint8Array(i).fill(0x41), false), spec(0, new Uint8Array(10).fill(0x42)));
  }
  return encodeFrames(frames);
}

/**
 * Feeds `traffic` over and over to one open connection until `frames` frames
 * were delivered; returns the heap growth across that (after a GC on both
 * sides) and whether the connection is still healthy.
 */
export function longLivedHeapGrowth(frames: number, gc: () => void, heapUsed: () => number): { growth: number; delivered: number; healthy: boolean } {
  const traffic = validTraffic();
  const conn = newConnection(1024);
  conn.startOpen();
  const hdr: websock_msg_hdr_t = { fin: false, opcode: -1, payload_len: 0, offset: 0, bytesleft: 0 };
  const buf = new Uint8Array(512);
  let delivered = 0;
  const pass = (): void => {
    for (let at = 0; at < traffic.length; ) {
      at += conn.receiveData(traffic, at, traffic.length);
      for (conn.advance(); conn.read(hdr, buf, 0, 512) >= 0; conn.advance()) if (hdr.bytesleft === 0) delivered++;
      for (let n = conn.produce(); n > 0; n = conn.produce()) conn.written(n);
    }
  };
  pass();
  gc();
  const before = heapUsed();
  while (delivered < frames) pass();
  gc();
  return { growth: heapUsed() - before, delivered, healthy: conn.ending === null };
}
