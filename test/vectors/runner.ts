// Runs the JSON test vectors through the core, through any chunking of the
// input. Pure ES2022 like src/: the same runner runs under Node (mocha) and
// inside the XS engine, so the two engines are held to the same data.

import type { Utf8Writer } from "../../src/text-cursor.js";
import { Connection } from "../../src/connection.js";
import { OutgoingMessage } from "../../src/outgoing.js";
import { NOTHING_READY } from "../../src/receiver.js";
import type { websock_msg_hdr_t } from "../../src/types.js";
import type { DeflateOffer } from "../../src/permessage-deflate.js";

/** A payload: hex bytes, UTF-8 text, or `pattern` bytes (i * 31 + 7) & 0xff. */
export type PayloadSpec = { hex: string } | { text: string } | { pattern: number };

/** A piece of input: raw hex, a frame built from fields, or a header claiming a length with only `have` bytes following. */
export type InputPart =
  | { hex: string }
  | { text: string }
  | { frame: { fin?: boolean; rsv?: number; opcode: number; mask?: string; payload: PayloadSpec } };

export interface ExpectedFrame {
  opcode: number;
  fin: boolean;
  /** payload_len reported; defaults to the payload's length. */
  length?: number;
  payload: PayloadSpec;
  /** false when the input ends before the frame does. Default true. */
  complete?: boolean;
}

export interface SentFrame {
  opcode: number;
  payload: PayloadSpec;
}

export interface FrameVector {
  name: string;
  /** The RFC 6455 section the vector checks. */
  rfc?: string;
  options?: {
    autoPong?: boolean;
    maxMessageSize?: number;
    /** permessage-deflate (RFC 7692) in use, as if agreed in the handshake: the server's window bits (default 15). */
    deflate?: { windowBits?: number; noContextTakeover?: boolean; maxInflated?: number };
  };
  /** Bytes the host's random source returns, cycled (mask keys, nonce). Default: RFC 6455 §5.7's mask 37fa213d. */
  random?: string;
  input: InputPart[];
  /** The peer ends TCP after the input. */
  eof?: boolean;
  expect: {
    frames: ExpectedFrame[];
    /** Frames the client sent in reply (unmasked here), in order. */
    sent?: SentFrame[];
    /** The exact bytes the client sent (masks included), hex. */
    sentHex?: string;
    /** WEBSOCK_ERR_* name recv ends with; absent: none. */
    error?: string;
  };
}

export interface HandshakeVector {
  name: string;
  rfc?: string;
  /** The 16 nonce bytes as hex (default: RFC 6455 §1.3's "the sample nonce"). */
  nonce?: string;
  subprotocols?: string[];
  /** Response text; "\n" is sent as CRLF unless rawLf. {accept} is replaced by the right Accept value. */
  response: string;
  rawLf?: boolean;
  /** Bytes after the response (frames in the same segment). */
  after?: InputPart[];
  eof?: boolean;
  expect: {
    open: boolean;
    error?: string;
    httpStatus?: number;
    subprotocol?: string;
    /** Frames delivered after opening. */
    frames?: ExpectedFrame[];
    /** Exact request text, "\n" for CRLF (checked when given). */
    request?: string;
  };
}

/** One step of a send vector: a data send (the default), a control frame, a close, bytes from the server, or one write. */
export type SendStep =
  | { opcode: number; fin?: boolean; payload: PayloadSpec; asString?: boolean; refused?: string }
  | { ping: PayloadSpec; refused?: string }
  | { pong: PayloadSpec; refused?: string }
  | { close: number }
  | { receive: string }
  /** The transport takes one buffer-full (produce once), as a slow socket would. */
  | { writeOnce: true };

export interface SendVector {
  name: string;
  rfc?: string;
  random?: string;
  /** Connection options; and the tx sizes to run it with (default: plan.ts TX_SIZES). */
  options?: { fragmentSize?: number; rawMode?: boolean };
  txSizes?: number[];
  /** Whether the transport takes everything after each step (default), or only at the end. */
  drainAtEnd?: boolean;
  sends: SendStep[];
  expect: {
    sentHex?: string;
    sent?: Array<SentFrame & { fin: boolean; length?: number }>;
    /** The data frames, joined: one message of `opcode` carrying `payload`, in `frames` frames. */
    joined?: { opcode: number; payload: PayloadSpec; frames: number };
  };
}

// ---- bytes ----

export function hexToBytes(hex: string): Uint8Array {
  const clean = hex.replace(/\s+/g, "");
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function bytesToHex(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16);
  return s;
}

function textBytes(text: string): Uint8Array {
  const out: number[] = [];
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
  }
  return new Uint8Array(out);
}

export function payloadBytes(spec: PayloadSpec): Uint8Array {
  if ("hex" in spec) return hexToBytes(spec.hex);
  if ("text" in spec) return textBytes(spec.text);
  const out = new Uint8Array(spec.pattern);
  for (let i = 0; i < out.length; i++) out[i] = (i * 31 + 7) & 0xff;
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
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

/** Encodes one frame the way a (possibly misbehaving) server would. */
export function encodeFrame(f: { fin?: boolean; rsv?: number; opcode: number; mask?: string; payload: PayloadSpec }): Uint8Array {
  const payload = payloadBytes(f.payload);
  const masked = f.mask !== undefined;
  const head: number[] = [((f.fin ?? true) ? 0x80 : 0) | ((f.rsv ?? 0) << 4) | f.opcode];
  const m = masked ? 0x80 : 0;
  const n = payload.length;
  if (n < 126) head.push(m | n);
  else if (n < 0x10000) head.push(m | 126, n >> 8, n & 255);
  else head.push(m | 127, 0, 0, 0, 0, n >>> 24, (n >> 16) & 255, (n >> 8) & 255, n & 255);
  const key = masked ? hexToBytes(f.mask!) : new Uint8Array(0);
  const body = payload.slice();
  if (masked) for (let i = 0; i < body.length; i++) body[i] ^= key[i & 3];
  return concat([new Uint8Array(head), key, body]);
}

export function inputBytes(parts: InputPart[]): Uint8Array {
  return concat(parts.map((p) => ("hex" in p ? hexToBytes(p.hex) : "text" in p ? textBytes(p.text) : encodeFrame(p.frame))));
}

/** Decodes the client's output: masked frames, as a server would read them. */
export function decodeClientFrames(bytes: Uint8Array): { frames: Array<{ fin: boolean; opcode: number; payload: Uint8Array; masked: boolean }>; rest: number } {
  const frames = [];
  let i = 0;
  while (i + 2 <= bytes.length) {
    const fin = (bytes[i] & 0x80) !== 0;
    const opcode = bytes[i] & 15;
    const masked = (bytes[i + 1] & 0x80) !== 0;
    let n = bytes[i + 1] & 127;
    let h = 2;
    if (n === 126) {
      n = (bytes[i + 2] << 8) | bytes[i + 3];
      h = 4;
    } else if (n === 127) {
      n = bytes[i + 6] * 0x1000000 + ((bytes[i + 7] << 16) | (bytes[i + 8] << 8) | bytes[i + 9]) + bytes[i + 5] * 0x100000000;
      h = 10;
    }
    const keyAt = i + h;
    if (masked) h += 4;
    if (i + h + n > bytes.length) break;
    const payload = bytes.slice(i + h, i + h + n);
    if (masked) for (let k = 0; k < n; k++) payload[k] ^= bytes[keyAt + (k & 3)];
    frames.push({ fin, opcode, payload, masked });
    i += h + n;
  }
  return { frames, rest: bytes.length - i };
}

// ---- the engine under test ----

export interface CoreEnv {
  sha1(data: Uint8Array): Uint8Array;
  /** A native UTF-8 writer for the sender (Host.utf8Writer): websock_utf8.c in an xsnap worker built with it. */
  utf8Writer?: Utf8Writer | null;
}

/** The platform with env's UTF-8 writer, when it has one (a variable, not a literal: Platform does not name it, the sender takes it from the platform). */
function textPlatform<T extends object>(env: CoreEnv, platform: T): T {
  if (env.utf8Writer == null) return platform;
  const withWriter = { ...platform, utf8Writer: env.utf8Writer };
  return withWriter;
}

function cyclingRandom(hex: string): (out: Uint8Array) => void {
  const bytes = hexToBytes(hex);
  let i = 0;
  return (out) => {
    for (let k = 0; k < out.length; k++) out[k] = bytes[i++ % bytes.length];
  };
}

const RFC_MASK = "37fa213d";
const RFC_NONCE = bytesToHex(textBytes("the sample nonce"));

function newConnection(env: CoreEnv, random: string, options: FrameVector["options"] = {}, rxBufferSize = 256, txBufferSize = 256, fragmentSize = 0): Connection {
  let clock = 0;
  return new Connection({
    role: "client",
    rxBuffer: new Uint8Array(rxBufferSize),
    txBuffer: new Uint8Array(txBufferSize),
    autoPong: options.autoPong ?? true,
    maxMessageSize: options.maxMessageSize ?? 0,
    pingInterval: 0,
    pongTimeout: 1000,
    closeTimeout: 1000,
    fragmentSize,
    platform: textPlatform(env, { randomFill: cyclingRandom(random), sha1: env.sha1, now: () => clock++ }),
    deflate: deflateOffer(options.deflate),
  });
}

function deflateOffer(d: NonNullable<FrameVector["options"]>["deflate"]): DeflateOffer | null {
  if (d === undefined) return null;
  return { serverMaxWindowBits: d.windowBits ?? 15, serverNoContextTakeover: d.noContextTakeover ?? false, maxInflatedMessage: d.maxInflated ?? 0, compress: false };
}

/** The client's output so far, as a host would take it. */
export function drain(conn: Connection, out: Uint8Array[]): void {
  for (;;) {
    const n = conn.produce();
    if (n <= 0) return;
    out.push(conn.tx.slice(conn.txStart, conn.txStart + n));
    conn.written(n);
  }
}

interface Outcome {
  frames: Array<{ opcode: number; fin: boolean; length: number; payload: Uint8Array; complete: boolean; pieces: number }>;
  sent: Uint8Array;
  error: string | null;
  errorCloseCode?: number;
}

/**
 * Feeds `input` cut at `cuts` (ascending offsets) and reads with a `readSize`
 * buffer after every chunk, as an application would; returns what came out.
 */
function runFrames(conn: Connection, input: Uint8Array, cuts: number[], readSize: number, eof: boolean, sentChunks: Uint8Array[], inflated = false): Outcome {
  const frames: Outcome["frames"] = [];
  const hdr: websock_msg_hdr_t = { fin: false, opcode: -1, payload_len: 0, offset: 0, bytesleft: 0 };
  const buf = new Uint8Array(readSize);
  let current: Outcome["frames"][number] | null = null;
  let currentParts: Uint8Array[] = [];
  let error: string | null = null;

  const readAll = (): void => {
    for (;;) {
      // As the driver does: the application asks for more, so what follows the last frame read is parsed.
      conn.advance();
      const n = conn.read(hdr, buf, 0, readSize);
      if (n === NOTHING_READY) return;
      if (n < 0) {
        error = conn.ending!.error.name;
        return;
      }
      if (hdr.offset === 0) {
        if (current !== null) current.payload = concat(currentParts);
        current = { opcode: hdr.opcode, fin: hdr.fin, length: hdr.payload_len, payload: new Uint8Array(0), complete: false, pieces: 0 };
        currentParts = [];
        frames.push(current);
      }
      const f = current!;
      // An inflated frame's length is known at its last piece (README, "Compression"): only a lower bound before it.
      if (inflated) f.length = hdr.payload_len;
      if (inflated && hdr.bytesleft === 0 && hdr.payload_len !== hdr.offset + n) throw new Error("an inflated frame's last piece does not give its length");
      if (hdr.opcode !== f.opcode || hdr.fin !== f.fin || hdr.payload_len !== f.length) throw new Error("a piece's header does not match its frame's");
      if (hdr.payload_len <= Number.MAX_SAFE_INTEGER && hdr.offset + n + hdr.bytesleft !== hdr.payload_len) throw new Error(`offset ${hdr.offset} + ${n} + bytesleft ${hdr.bytesleft} != payload_len ${hdr.payload_len}`);
      if (n > readSize) throw new Error("a piece is larger than the read buffer");
      currentParts.push(buf.slice(0, n));
      f.pieces++;
      f.complete = hdr.bytesleft === 0;
    }
  };

  let at = 0;
  const ends = cuts.filter((c) => c > 0 && c < input.length).concat([input.length]);
  for (const end of ends) {
    while (at < end) {
      const taken = conn.receiveData(input, at, end);
      at += taken;
      drain(conn, sentChunks);
      readAll();
      drain(conn, sentChunks);
      if (taken === 0 && at < end) {
        if (conn.receiver.stopped) {
          at = end;
          break;
        }
        throw new Error("the core took no bytes and delivered nothing: stuck");
      }
    }
  }
  if (eof) {
    conn.receiveEof();
    readAll();
    drain(conn, sentChunks);
  }
  readAll();
  if (current !== null) (current as Outcome["frames"][number]).payload = concat(currentParts);
  return { frames, sent: concat(sentChunks), error, errorCloseCode: conn.ending?.closeCode };
}

function describePayload(p: Uint8Array): string {
  return p.length <= 40 ? bytesToHex(p) : `${p.length} bytes starting ${bytesToHex(p.subarray(0, 16))}`;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * When a vector ends in an error, how much of the failing frame was delivered
 * before the failure depends on the chunking (fail fast): a trailing
 * incomplete frame the vector does not list is not compared.
 */
function withoutUnlistedPartial(got: Outcome["frames"], want: ExpectedFrame[]): Outcome["frames"] {
  if (got.length === want.length + 1 && !got[got.length - 1].complete) return got.slice(0, -1);
  return got;
}

function compareFrames(got: Outcome["frames"], want: ExpectedFrame[]): string | null {
  if (got.length !== want.length) return `expected ${want.length} frame(s), got ${got.length}: ${got.map((f) => `op${f.opcode}/${f.payload.length}`).join(" ")}`;
  for (let i = 0; i < want.length; i++) {
    const w = want[i];
    const g = got[i];
    const payload = payloadBytes(w.payload);
    if (g.opcode !== w.opcode) return `frame ${i}: opcode ${g.opcode}, expected ${w.opcode}`;
    if (g.fin !== w.fin) return `frame ${i}: fin ${g.fin}, expected ${w.fin}`;
    if (g.length !== (w.length ?? payload.length)) return `frame ${i}: payload_len ${g.length}, expected ${w.length ?? payload.length}`;
    if (!sameBytes(g.payload, payload)) return `frame ${i}: payload ${describePayload(g.payload)}, expected ${describePayload(payload)}`;
    if (g.complete !== (w.complete ?? true)) return `frame ${i}: complete ${g.complete}, expected ${w.complete ?? true}`;
  }
  return null;
}

function compareSent(sent: Uint8Array, want: { sent?: SentFrame[]; sentHex?: string }, extraFin?: boolean[]): string | null {
  if (want.sentHex !== undefined && bytesToHex(sent) !== want.sentHex.replace(/\s+/g, "")) {
    return `sent ${bytesToHex(sent)}, expected ${want.sentHex}`;
  }
  if (want.sent === undefined) return null;
  const { frames, rest } = decodeClientFrames(sent);
  if (rest !== 0) return `the client's output ends with ${rest} bytes that are not a whole frame`;
  if (frames.length !== want.sent.length) return `client sent ${frames.length} frame(s) (${frames.map((f) => `op${f.opcode}:${describePayload(f.payload)}`).join(" ")}), expected ${want.sent.length}`;
  for (let i = 0; i < frames.length; i++) {
    const f = frames[i];
    if (!f.masked) return `sent frame ${i} is not masked (RFC 6455 §5.3)`;
    if (f.opcode !== want.sent[i].opcode) return `sent frame ${i}: opcode ${f.opcode}, expected ${want.sent[i].opcode}`;
    const p = payloadBytes(want.sent[i].payload);
    if (!sameBytes(f.payload, p)) return `sent frame ${i}: payload ${describePayload(f.payload)}, expected ${describePayload(p)}`;
    if (extraFin !== undefined && f.fin !== extraFin[i]) return `sent frame ${i}: fin ${f.fin}, expected ${extraFin[i]}`;
  }
  return null;
}

/** Runs a frame vector with the connection already open; returns null when it passes, or what differed. */
export function checkFrameVector(env: CoreEnv, v: FrameVector, cuts: number[], readSize: number): string | null {
  const conn = newConnection(env, v.random ?? RFC_MASK, v.options);
  const deflate = v.options?.deflate;
  if (deflate !== undefined) {
    // As if the handshake had agreed it (WS_NOHTTP has no handshake to negotiate in).
    conn.deflate = { serverMaxWindowBits: deflate.windowBits ?? 15, serverNoContextTakeover: deflate.noContextTakeover ?? false, clientMaxWindowBits: 15, clientNoContextTakeover: false };
  }
  conn.startOpen();
  const sent: Uint8Array[] = [];
  const outcome = runFrames(conn, inputBytes(v.input), cuts, readSize, v.eof ?? false, sent, deflate !== undefined);
  const want = v.expect.error ?? null;
  if (outcome.error !== want) return `ended with ${outcome.error ?? "no error"}, expected ${want ?? "no error"}`;
  const frames = want === null ? outcome.frames : withoutUnlistedPartial(outcome.frames, v.expect.frames);
  return compareFrames(frames, v.expect.frames) ?? compareSent(outcome.sent, v.expect);
}

/** Runs a handshake vector; returns null when it passes, or what differed. */
export function checkHandshakeVector(env: CoreEnv, v: HandshakeVector, cuts: number[]): string | null {
  const conn = newConnection(env, (v.nonce ?? RFC_NONCE) + RFC_MASK);
  conn.startHandshake({ host: "server.example.com", uri: "/chat", subprotocols: v.subprotocols ?? [], headers: [["Origin", "http://example.com"]] });
  const sent: Uint8Array[] = [];
  drain(conn, sent);
  const request = concat(sent);
  sent.length = 0;
  if (v.expect.request !== undefined) {
    const want = textBytes(v.expect.request.replace(/\n/g, "\r\n"));
    if (!sameBytes(request, want)) return `request differs:\n${String.fromCharCode(...request)}`;
  }
  // The Accept the server must send: read back from the request's key.
  const key = /Sec-WebSocket-Key: ([^\r]+)/.exec(String.fromCharCode(...request))![1];
  const accept = acceptOf(env, key);
  const responseText = v.response.replace(/\{accept\}/g, accept);
  const response = textBytes(v.rawLf ? responseText : responseText.replace(/\n/g, "\r\n"));
  const input = concat([response, inputBytes(v.after ?? [])]);
  const outcome = runFrames(conn, input, cuts, 64, v.eof ?? false, sent);
  if (v.expect.open) {
    // §4.1: a valid 101 opens the connection; the frames behind it may end it again, but it opened.
    if (!conn.opened) return `did not open (${conn.ending?.error.name ?? "still connecting"}: ${conn.ending?.detail ?? ""})`;
    if (conn.ending !== null && conn.ending.error.name !== (v.expect.error ?? "")) return `failed with ${conn.ending.error.name}: ${conn.ending.detail}`;
    if (conn.subprotocol !== (v.expect.subprotocol ?? "")) return `subprotocol ${JSON.stringify(conn.subprotocol)}, expected ${JSON.stringify(v.expect.subprotocol ?? "")}`;
    return compareFrames(outcome.frames, v.expect.frames ?? []);
  }
  if (conn.ending === null) return `opened, expected ${v.expect.error}`;
  if (conn.ending.error.name !== v.expect.error) return `failed with ${conn.ending.error.name} (${conn.ending.detail}), expected ${v.expect.error}`;
  if (v.expect.httpStatus !== undefined && conn.ending.httpStatus !== v.expect.httpStatus) return `http status ${conn.ending.httpStatus}, expected ${v.expect.httpStatus}`;
  if (outcome.frames.length > 0) return "frames were delivered on a failed handshake";
  return null;
}

function acceptOf(env: CoreEnv, key: string): string {
  const digest = env.sha1(textBytes(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"));
  const abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  let s = "";
  for (let i = 0; i < 18; i += 3) {
    const n = (digest[i] << 16) | (digest[i + 1] << 8) | digest[i + 2];
    s += abc[n >> 18] + abc[(n >> 12) & 63] + abc[(n >> 6) & 63] + abc[n & 63];
  }
  const n = (digest[18] << 16) | (digest[19] << 8);
  return s + abc[n >> 18] + abc[(n >> 12) & 63] + abc[(n >> 6) & 63] + "=";
}

/** Runs a send vector through a tx buffer of `txSize`; returns null when it passes. */
export function checkSendVector(env: CoreEnv, v: SendVector, txSize: number): string | null {
  const conn = newConnection(env, v.random ?? RFC_MASK, {}, 256, txSize, v.options?.fragmentSize ?? 0);
  conn.startOpen();
  const sent: Uint8Array[] = [];
  const fins: boolean[] = [];
  for (let i = 0; i < v.sends.length; i++) {
    const step = v.sends[i];
    let refusal: { error: { name: string }; detail: string } | null = null;
    let copy: Uint8Array | null = null;
    let bytes: Uint8Array | null = null;
    if ("writeOnce" in step) {
      const n = conn.produce();
      if (n > 0) {
        sent.push(conn.tx.slice(conn.txStart, conn.txStart + n));
        conn.written(n);
      }
      continue;
    } else if ("receive" in step) {
      const input = hexToBytes(step.receive);
      if (conn.receiveData(input) !== input.length) return `step ${i}: the core did not take the ${input.length} bytes received`;
    } else if ("close" in step) {
      conn.close(step.close, new Uint8Array(0));
    } else if ("ping" in step || "pong" in step) {
      bytes = payloadBytes("ping" in step ? step.ping : step.pong);
      refusal = conn.sendControl("pong" in step, bytes, 0, bytes.length);
    } else {
      const fin = step.fin ?? true;
      bytes = payloadBytes(step.payload);
      const m = new OutgoingMessage();
      if (step.asString && "text" in step.payload) m.setText(step.opcode, fin, step.payload.text, step.payload.text.length);
      else m.setBytes(step.opcode, fin, bytes, 0, bytes.length);
      copy = bytes.slice();
      refusal = conn.send(m);
      if (refusal === null) fins.push(fin);
    }
    const want = "refused" in step ? step.refused ?? null : null;
    const got = refusal === null ? null : refusal.error.name;
    if (got !== want) return `step ${i}: ${got === null ? "accepted" : `refused with ${got} (${refusal!.detail})`}, expected ${want === null ? "accepted" : `refused with ${want}`}`;
    if (!v.drainAtEnd) drain(conn, sent);
    for (const chunk of sent) if (chunk.length > txSize) return `a chunk of ${chunk.length} bytes exceeds the ${txSize}-byte tx buffer`;
    if (copy !== null && bytes !== null && !v.drainAtEnd && !sameBytes(copy, bytes)) return "the caller's payload was modified";
  }
  drain(conn, sent);
  const all = concat(sent);
  if (v.expect.joined !== undefined) {
    const { frames, rest } = decodeClientFrames(all);
    if (rest !== 0) return `the client's output ends with ${rest} bytes that are not a whole frame`;
    const data = frames.filter((f) => f.opcode < 8);
    const want = v.expect.joined;
    if (data.length !== want.frames) return `${data.length} data frames, expected ${want.frames}`;
    if (data[0].opcode !== want.opcode || data.slice(1).some((f) => f.opcode !== 0)) return "the frames are not one message (opcode, then continuations)";
    if (data.slice(0, -1).some((f) => f.fin) || !data[data.length - 1].fin) return "fin is not set on the last frame alone";
    if (!sameBytes(concat(data.map((f) => f.payload)), payloadBytes(want.payload))) return "the joined payload differs";
  }
  return compareSent(all, v.expect, v.expect.sent?.map((f) => f.fin));
}

// ---- chunkings ----

/**
 * The chunkings every vector goes through: whole, one byte at a time, and
 * every two-way split (for long inputs, splits near both ends and at a stride).
 */
export function chunkings(length: number): Array<{ name: string; cuts: number[] }> {
  const out = [{ name: "whole", cuts: [] as number[] }];
  if (length <= 1) return out;
  if (length <= 4096) out.push({ name: "one byte at a time", cuts: Array.from({ length: length - 1 }, (_, i) => i + 1) });
  const splits: number[] = [];
  if (length <= 300) {
    for (let i = 1; i < length; i++) splits.push(i);
  } else {
    // Long inputs: every split within 24 bytes of either end (headers, the last frame), and 32 between.
    const stride = Math.max(1, Math.floor(length / 32));
    for (let i = 1; i < length; i += i < 24 || i > length - 24 ? 1 : stride) splits.push(i);
  }
  for (const s of splits) out.push({ name: `split at ${s}`, cuts: [s] });
  return out;
}
