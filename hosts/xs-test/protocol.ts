// The command channel between the XS test host (inside the xsnap worker) and
// the Node test process that relays its sockets and timers (test/xs/relay.ts).
// Pure ES2022: both sides import these constants and codecs.
//
// Every message is one byte of opcode, then fields; integers are big-endian,
// ids are u32, text (host names, messages, reports) is ASCII.
//
// XS -> Node: issueCommand(request) blocks the XS script until Node answers.
//   CONNECT      01 id port:u16 hostname          -> (empty)   opens a TCP connection
//   WRITE        02 id bytes...                   -> (empty)   Node copies and writes them all
//   END          03 id                            -> (empty)   graceful end (FIN after what was written)
//   DESTROY      04 id                            -> (empty)   drop the connection now
//   SET_TIMER    05 timer ms:f64                  -> (empty)   one-shot timer on Node's event loop
//   CLEAR_TIMER  06 timer                         -> (empty)
//   NOW          07                               -> ms:f64    Node's monotonic clock (performance.now)
//   RANDOM       08 n:u32                         -> n bytes   from node:crypto
//   REPORT       09 json                          -> (empty)   a test entry's result
//
// Node -> XS: a `?` delivery, handled by globalThis.handleCommand (the reply is empty).
//   CONNECTED    81 id
//   DATA         82 id bytes...
//   EOF          83 id                            the peer ended its side
//   FAILED       84 id kind:u8 message            kind: 0 dns, 1 connect, 2 tls, 3 io
//   TIMER        85 timer                         a timer set with SET_TIMER fired
//
// SHA-1 does not cross the channel: the XS host computes it in pure JS (sha1.ts),
// checked against node:crypto by the XS suite.

export const OP_CONNECT = 0x01;
export const OP_WRITE = 0x02;
export const OP_END = 0x03;
export const OP_DESTROY = 0x04;
export const OP_SET_TIMER = 0x05;
export const OP_CLEAR_TIMER = 0x06;
export const OP_NOW = 0x07;
export const OP_RANDOM = 0x08;
export const OP_REPORT = 0x09;

export const EV_CONNECTED = 0x81;
export const EV_DATA = 0x82;
export const EV_EOF = 0x83;
export const EV_FAILED = 0x84;
export const EV_TIMER = 0x85;

export const FAILURE_KINDS = Object.freeze(["dns", "connect", "tls", "io"] as const);
export type FailureKind = (typeof FAILURE_KINDS)[number];

/** A message: opcode, a u32 id, then `tail` bytes (copied). */
export function message(op: number, id: number, tail?: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + (tail === undefined ? 0 : tail.length));
  out[0] = op;
  writeU32(out, 1, id);
  if (tail !== undefined) out.set(tail, 5);
  return out;
}

export function writeU32(out: Uint8Array, at: number, value: number): void {
  out[at] = value >>> 24;
  out[at + 1] = (value >>> 16) & 0xff;
  out[at + 2] = (value >>> 8) & 0xff;
  out[at + 3] = value & 0xff;
}

export function readU32(bytes: Uint8Array, at: number): number {
  return ((bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3]) >>> 0;
}

export function f64Bytes(value: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setFloat64(0, value);
  return out;
}

export function readF64(bytes: Uint8Array, at: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset + at, 8).getFloat64(0);
}

/** ASCII text to bytes; a code unit above 0x7e becomes "?" (no TextEncoder is assumed). */
export function asciiBytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    out[i] = c >= 0x20 && c < 0x7f ? c : 0x3f;
  }
  return out;
}

export function asciiText(bytes: Uint8Array, start = 0, end = bytes.length): string {
  let s = "";
  for (let i = start; i < end; i++) s += String.fromCharCode(bytes[i]);
  return s;
}

/** JSON with every non-ASCII character escaped, so it crosses as ASCII and parses back the same. */
export function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
