// A stand-in for Autobahn|Testsuite's fuzzing server (wstest -m fuzzingserver),
// which is Python 2 and not installable here. It speaks the same protocol to
// a client under test:
//   /getCaseCount                 one text message: the number of cases; then a close
//   /runCase?case=N&agent=A       case N: the server sends its frames, checks the echoes, closes
//   /updateReports?agent=A        records that A's report was asked for; then a close
// The cases follow Autobahn's client sections (1 framing, 2 pings/pongs,
// 3 reserved bits, 4 opcodes, 5 fragmentation, 6 UTF-8, 7 close, 9 large
// messages) with Autobahn's numbering where a case has a counterpart there.
// Raw TCP on 127.0.0.1, so it can write any byte and judge every byte back.
// Verdicts are strict: the echoed messages must equal what was sent (type
// and bytes; fragmentation is free), pongs must answer pings, the client's
// close code must be the one RFC 6455 requires, and nothing may follow it.

import net from "node:net";
import type { AddressInfo } from "node:net";
import { acceptFor, switchingProtocols } from "./raw-server.js";
import { ClientFrameReader, closeFrame, frame, messageBytes } from "./frames.js";

/** What the server does, in order. */
export type Step =
  /** Write bytes; `chop`: in writes of this many bytes, a turn of the event loop apart. */
  | { send: Buffer; chop?: number }
  | { wait: number }
  /** Wait (up to 5 s) until every expected echo and pong has arrived. */
  | { awaitEchoes: true }
  /** Wait (up to 2 s) for the client's close frame; the verdict fails if it does not come (fail fast). */
  | { awaitClose: true };

export interface FuzzCase {
  /** Autobahn's case number where there is a counterpart ("6.4.1"), else our own in the same section. */
  id: string;
  description: string;
  steps: Step[];
  /** The messages the client must echo, in order. */
  echoes?: Array<{ opcode: 1 | 2; data: Buffer }>;
  /** Pong payloads the client must send, in order. */
  pongs?: Buffer[];
  /**
   * The violation (or the close) came right behind the messages, so the client
   * may notice it before it has echoed them: fewer echoes are NON-STRICT, as
   * in Autobahn (RFC 6455 §7.1.7 stops all sending once the connection fails).
   */
  echoesMayBeCut?: boolean;
  /** The close code the client must send; null: an empty close payload. */
  close: number | null;
  /** Whether the server ends the case with close 1000 once the echoes are in (false when the steps close or fail). */
  serverCloses: boolean;
}

/** Autobahn's grades: OK, NON-STRICT (allowed, not the ideal), FAILED. */
export type Outcome = "OK" | "NON-STRICT" | "FAILED";

export interface CaseResult {
  n: number;
  id: string;
  agent: string;
  outcome: Outcome;
  /** Why it is not OK. */
  problems: string[];
}

export interface FuzzingServer {
  port: number;
  url: string;
  cases: readonly FuzzCase[];
  results: CaseResult[];
  /** Agents whose reports were asked for, in order. */
  reports: string[];
  stop(): Promise<void>;
}

const text = (s: string): Buffer => Buffer.from(s, "utf8");
const hex = (h: string): Buffer => Buffer.from(h.replace(/\s+/g, ""), "hex");
const T = 1 as const;
const B = 2 as const;

/** An echo case: the messages are sent, echoed, and the server closes with 1000. */
function echoCase(id: string, description: string, steps: Step[], echoes: FuzzCase["echoes"], extra: Partial<FuzzCase> = {}): FuzzCase {
  return { id, description, steps, echoes, close: 1000, serverCloses: true, ...extra };
}

/** A case the client must fail with `code`, after echoing `echoes`. */
function failCase(id: string, description: string, steps: Step[], code: number, echoes: FuzzCase["echoes"] = [], extra: Partial<FuzzCase> = {}): FuzzCase {
  return { id, description, steps, echoes, close: code, serverCloses: false, ...extra };
}

/** Fragments of one message: `sizes` bytes each (the rest in the last), opcode then continuations. */
function fragments(opcode: number, data: Buffer, size: number): Buffer {
  const out: Buffer[] = [];
  for (let o = 0; o < data.length || o === 0; o += size) {
    const end = Math.min(data.length, o + size);
    out.push(frame(o === 0 ? opcode : 0, data.subarray(o, end), { fin: end >= data.length }));
    if (data.length === 0) break;
  }
  return Buffer.concat(out);
}

function buildCases(): FuzzCase[] {
  const cases: FuzzCase[] = [];
  const add = (c: FuzzCase): void => {
    cases.push(c);
  };

  // ---- 1 Framing: every length class, text and binary ----
  const lengths = [0, 125, 126, 127, 128, 65535, 65536];
  lengths.forEach((n, i) => {
    const t = messageBytes("text", n);
    add(echoCase(`1.1.${i + 1}`, `text message of ${n} bytes`, [{ send: frame(T, t) }], [{ opcode: T, data: t }]));
  });
  add(echoCase("1.1.8", "text message of 65536 bytes, written in 997-byte chops", [{ send: frame(T, messageBytes("text", 65536)), chop: 997 }], [{ opcode: T, data: messageBytes("text", 65536) }]));
  lengths.forEach((n, i) => {
    const b = messageBytes("binary", n);
    add(echoCase(`1.2.${i + 1}`, `binary message of ${n} bytes`, [{ send: frame(B, b) }], [{ opcode: B, data: b }]));
  });
  add(echoCase("1.2.8", "binary message of 65536 bytes, written in 997-byte chops", [{ send: frame(B, messageBytes("binary", 65536)), chop: 997 }], [{ opcode: B, data: messageBytes("binary", 65536) }]));

  // ---- 2 Pings and pongs ----
  add(echoCase("2.1", "ping without payload", [{ send: frame(9) }], [], { pongs: [Buffer.alloc(0)] }));
  add(echoCase("2.2", "ping with a small text payload", [{ send: frame(9, "Hello, world!") }], [], { pongs: [text("Hello, world!")] }));
  add(echoCase("2.3", "ping with a small binary payload", [{ send: frame(9, hex("00ff fe fd fc fb 00 ff")) }], [], { pongs: [hex("00fffefdfcfb00ff")] }));
  add(echoCase("2.4", "ping with a 125-byte payload", [{ send: frame(9, Buffer.alloc(125, 0xfe)) }], [], { pongs: [Buffer.alloc(125, 0xfe)] }));
  add(failCase("2.5", "ping with a 126-byte payload (too long for a control frame)", [{ send: frame(9, Buffer.alloc(126, 0xfe)) }], 1002, [], { pongs: [] }));
  add(echoCase("2.6", "ping with a 125-byte payload, written 1 byte at a time", [{ send: frame(9, Buffer.alloc(125, 0x21)), chop: 1 }], [], { pongs: [Buffer.alloc(125, 0x21)] }));
  add(echoCase("2.7", "unsolicited pong without payload: ignored", [{ send: frame(10) }], [], { pongs: [] }));
  add(echoCase("2.8", "unsolicited pong with a payload: ignored", [{ send: frame(10, "unsolicited") }], [], { pongs: [] }));
  add(echoCase("2.9", "unsolicited pong, then a ping: only the ping is answered", [{ send: Buffer.concat([frame(10, "unsolicited"), frame(9, "solicited")]) }], [], { pongs: [text("solicited")] }));
  // Autobahn expects a pong for every ping here (RFC 6455 §5.5.3 would allow only the last; websock answers each while its tx buffer has room).
  add(echoCase("2.10", "10 pings in one write: each is answered", [{ send: Buffer.concat(Array.from({ length: 10 }, (_, i) => frame(9, `ping ${i}`))) }], [], { pongs: Array.from({ length: 10 }, (_, i) => text(`ping ${i}`)) }));
  add(echoCase("2.11", "10 pings, one write each: each is answered", Array.from({ length: 10 }, (_, i): Step[] => [{ send: frame(9, `ping ${i}`) }, { wait: 5 }]).flat(), [], { pongs: Array.from({ length: 10 }, (_, i) => text(`ping ${i}`)) }));

  // ---- 3 Reserved bits ----
  add(failCase("3.1", "text message with RSV = 1", [{ send: frame(T, "Hello", { rsv: 1 }) }], 1002));
  add(failCase("3.2", "text, then text with RSV = 2, then ping: the first is echoed, the rest never", [{ send: frame(T, "Hello") }, { awaitEchoes: true }, { send: Buffer.concat([frame(T, "Hello", { rsv: 2 }), frame(9, "never")]) }], 1002, [{ opcode: T, data: text("Hello") }], { pongs: [] }));
  add(failCase("3.3", "as 3.2, all in one write", [{ send: Buffer.concat([frame(T, "Hello"), frame(T, "Hello", { rsv: 3 }), frame(9, "never")]) }], 1002, [{ opcode: T, data: text("Hello") }], { pongs: [], echoesMayBeCut: true }));
  add(failCase("3.4", "as 3.3, written 1 byte at a time", [{ send: Buffer.concat([frame(T, "Hello"), frame(T, "Hello", { rsv: 4 }), frame(9, "never")]), chop: 1 }], 1002, [{ opcode: T, data: text("Hello") }], { pongs: [], echoesMayBeCut: true }));
  add(failCase("3.5", "binary message with RSV = 5", [{ send: frame(B, hex("0102ff"), { rsv: 5 }) }], 1002));
  add(failCase("3.6", "ping with RSV = 6", [{ send: frame(9, "ping", { rsv: 6 }) }], 1002, [], { pongs: [] }));
  add(failCase("3.7", "close with RSV = 7", [{ send: Buffer.concat([Buffer.from([0xf8, 2]), hex("03e8")]) }], 1002));

  // ---- 4 Opcodes ----
  for (const [i, op] of [3, 4, 5, 6, 7].entries()) {
    add(failCase(`4.1.${i + 1}`, `reserved non-control opcode ${op}`, [{ send: frame(op, i % 2 === 0 ? "" : "reserved payload") }], 1002));
  }
  add(failCase("4.1.6", "text, reserved opcode 5, ping: only the text is echoed", [{ send: Buffer.concat([frame(T, "Hello"), frame(5, "x"), frame(9, "never")]) }], 1002, [{ opcode: T, data: text("Hello") }], { pongs: [], echoesMayBeCut: true }));
  for (const [i, op] of [11, 12, 13, 14, 15].entries()) {
    add(failCase(`4.2.${i + 1}`, `reserved control opcode ${op}`, [{ send: frame(op, i % 2 === 0 ? "" : "reserved payload") }], 1002));
  }

  // ---- 5 Fragmentation ----
  add(failCase("5.1", "ping in 2 fragments", [{ send: Buffer.concat([frame(9, "frag", { fin: false }), frame(0, "ment")]) }], 1002, [], { pongs: [] }));
  add(failCase("5.2", "pong in 2 fragments", [{ send: Buffer.concat([frame(10, "frag", { fin: false }), frame(0, "ment")]) }], 1002));
  add(echoCase("5.3", "text in 2 fragments", [{ send: Buffer.concat([frame(T, "frag", { fin: false }), frame(0, "ment")]) }], [{ opcode: T, data: text("fragment") }]));
  add(echoCase("5.4", "text in 2 fragments, written 1 byte at a time", [{ send: Buffer.concat([frame(T, "frag", { fin: false }), frame(0, "ment")]), chop: 1 }], [{ opcode: T, data: text("fragment") }]));
  add(echoCase("5.5", "text in 2 fragments with a ping between", [{ send: Buffer.concat([frame(T, "frag", { fin: false }), frame(9, "between"), frame(0, "ment")]) }], [{ opcode: T, data: text("fragment") }], { pongs: [text("between")] }));
  add(echoCase("5.6", "text in 2 fragments with a ping between, 1 byte at a time", [{ send: Buffer.concat([frame(T, "frag", { fin: false }), frame(9, "between"), frame(0, "ment")]), chop: 1 }], [{ opcode: T, data: text("fragment") }], { pongs: [text("between")] }));
  add(echoCase("5.7", "text in 2 fragments with a pong between", [{ send: Buffer.concat([frame(T, "frag", { fin: false }), frame(10, "between"), frame(0, "ment")]) }], [{ opcode: T, data: text("fragment") }]));
  add(failCase("5.9", "a continuation (fin) with nothing to continue", [{ send: Buffer.concat([frame(0, "fragment"), frame(T, "never")]) }], 1002));
  add(failCase("5.10", "a continuation (not fin) with nothing to continue", [{ send: Buffer.concat([frame(0, "fragment", { fin: false }), frame(T, "never")]) }], 1002));
  add(failCase("5.12", "a complete message, then a continuation with nothing to continue", [{ send: Buffer.concat([frame(T, "complete"), frame(0, "stray")]) }], 1002, [{ opcode: T, data: text("complete") }], { echoesMayBeCut: true }));
  add(failCase("5.18", "text in 2 fragments, both with opcode text", [{ send: Buffer.concat([frame(T, "frag", { fin: false }), frame(T, "ment")]) }], 1002));
  add(echoCase("5.19", "text in 5 fragments with pings between, a pause in the middle", [
    { send: Buffer.concat([frame(T, "fragment1", { fin: false }), frame(0, "fragment2", { fin: false }), frame(9, "pongme 1!")]) },
    { wait: 50 },
    { send: Buffer.concat([frame(0, "fragment3", { fin: false }), frame(0, "fragment4", { fin: false }), frame(9, "pongme 2!"), frame(0, "fragment5")]) },
  ], [{ opcode: T, data: text("fragment1fragment2fragment3fragment4fragment5") }], { pongs: [text("pongme 1!"), text("pongme 2!")] }));
  add(echoCase("5.20", "binary in 3 fragments, the middle one empty", [{ send: Buffer.concat([frame(B, hex("0102"), { fin: false }), frame(0, "", { fin: false }), frame(0, hex("03"))]) }], [{ opcode: B, data: hex("010203") }]));

  // ---- 6 UTF-8 ----
  const hello = text("Hello-µ@ßöäüàá-UTF-8!!");
  const kosme = text("κόσμε");
  add(echoCase("6.1.1", "empty text message", [{ send: frame(T, "") }], [{ opcode: T, data: Buffer.alloc(0) }]));
  add(echoCase("6.1.2", "text in 3 empty fragments", [{ send: Buffer.concat([frame(T, "", { fin: false }), frame(0, "", { fin: false }), frame(0, "")]) }], [{ opcode: T, data: Buffer.alloc(0) }]));
  add(echoCase("6.2.1", "valid UTF-8 in one frame", [{ send: frame(T, hello) }], [{ opcode: T, data: hello }]));
  add(echoCase("6.2.3", "valid UTF-8, one byte per fragment (fragments end mid-character)", [{ send: fragments(T, hello, 1) }], [{ opcode: T, data: hello }]));
  add(echoCase("6.2.4", "valid UTF-8 'κόσμε', one byte per fragment", [{ send: fragments(T, kosme, 1) }], [{ opcode: T, data: kosme }]));
  const valid: Array<[string, string]> = [
    ["6.5.1", "cebae1bdb9cf83cebcceb5"], // κόσμε
    ["6.6.1", "f0908080"], // the first 4-byte sequence, U+10000
    ["6.6.2", "f48fbfbf"], // U+10FFFF, the last code point
    ["6.6.3", "efbfbf"], // U+FFFF (a non-character, still valid UTF-8)
    ["6.6.4", "ed9fbf"], // U+D7FF, just below the surrogates
    ["6.6.5", "ee8080"], // U+E000, just above them
    ["6.6.6", "efbbbf"], // a BOM
  ];
  for (const [id, h] of valid) add(echoCase(id, `valid UTF-8 ${h}`, [{ send: frame(T, hex(h)) }], [{ opcode: T, data: hex(h) }]));
  const invalid: Array<[string, string, string]> = [
    ["6.3.1", "κόσμε then a UTF-16 surrogate", "cebae1bdb9cf83cebcceb5eda080656469746564"],
    ["6.8.1", "a 5-byte sequence", "f888808080"],
    ["6.8.2", "a 6-byte sequence", "fc8480808080"],
    ["6.9.1", "an overlong '/' in 2 bytes", "c0af"],
    ["6.9.2", "an overlong '/' in 3 bytes", "e080af"],
    ["6.9.3", "an overlong '/' in 4 bytes", "f08080af"],
    ["6.10.1", "a code point above U+10FFFF", "f4908080"],
    ["6.11.1", "a lone high surrogate", "eda080"],
    ["6.11.2", "a lone low surrogate", "edbfbf"],
    ["6.12.1", "a lone continuation byte", "80"],
    ["6.12.2", "0xfe", "fe"],
    ["6.12.3", "0xff", "ff"],
    ["6.13.1", "a 2-byte start followed by a space", "c020"],
    ["6.14.1", "a message ending mid-character (fin frame)", "cebae1bd"],
  ];
  for (const [id, what, h] of invalid) add(failCase(id, `invalid UTF-8: ${what}`, [{ send: frame(T, hex(h)) }], 1007));
  add(failCase("6.4.1", "fail fast: a valid fragment, an invalid one, and the client closes before the third is sent", [
    { send: frame(T, kosme, { fin: false }) },
    { send: frame(0, hex("f4908080"), { fin: false }) },
    { awaitClose: true },
    { send: frame(0, "edited") },
  ], 1007));
  add(failCase("6.4.2", "fail fast inside one frame: the client closes before the frame's end is sent", [
    { send: frame(T, Buffer.concat([kosme, hex("f4908080"), text("edited")])).subarray(0, 2 + kosme.length + 4) },
    { awaitClose: true },
    { send: text("edited") },
  ], 1007));
  add(failCase("6.4.3", "fail fast on the invalid byte itself, written alone", [
    { send: frame(T, Buffer.concat([kosme, hex("f4"), hex("90808065646974656421")])).subarray(0, 2 + kosme.length + 1) },
    { wait: 10 },
    { send: hex("90") },
    { awaitClose: true },
    { send: hex("808065646974656421") },
  ], 1007));
  add(failCase("6.4.4", "invalid UTF-8 across a fragment boundary", [{ send: Buffer.concat([frame(T, hex("cebae1"), { fin: false }), frame(0, hex("80"))]) }], 1007, [], {}));

  // ---- 7 Close ----
  add({ id: "7.1.1", description: "text message, then close: the echo comes first", steps: [{ send: frame(T, "Hello World!") }, { awaitEchoes: true }, { send: closeFrame(1000) }], echoes: [{ opcode: T, data: text("Hello World!") }], close: 1000, serverCloses: false });
  add({ id: "7.1.2", description: "close, then close again: one close answers", steps: [{ send: Buffer.concat([closeFrame(1000), closeFrame(1000)]) }], close: 1000, serverCloses: false });
  add({ id: "7.1.3", description: "close, then ping: no pong", steps: [{ send: Buffer.concat([closeFrame(1000), frame(9, "too late")]) }], pongs: [], close: 1000, serverCloses: false });
  add({ id: "7.1.4", description: "close, then text: never echoed", steps: [{ send: Buffer.concat([closeFrame(1000), frame(T, "too late")]) }], echoes: [], close: 1000, serverCloses: false });
  add({ id: "7.1.5", description: "first fragment, close, then the last fragment: nothing echoed", steps: [{ send: Buffer.concat([frame(T, "frag", { fin: false }), closeFrame(1000), frame(0, "ment")]) }], echoes: [], close: 1000, serverCloses: false });
  // RFC 6455 §5.5.1 lets the client answer the close before it finishes echoing: the echo may be cut.
  add({ id: "7.1.6", description: "a 256 KiB message, then close, in one write: a clean close (the echo may be cut short)", steps: [{ send: Buffer.concat([frame(B, messageBytes("binary", 262144)), closeFrame(1000)]) }], echoes: [{ opcode: B, data: messageBytes("binary", 262144) }], echoesMayBeCut: true, close: 1000, serverCloses: false });
  add({ id: "7.3.1", description: "close with no payload: answered with no payload", steps: [{ send: closeFrame() }], close: null, serverCloses: false });
  add(failCase("7.3.2", "close with a 1-byte payload", [{ send: frame(8, hex("03")) }], 1002));
  add({ id: "7.3.3", description: "close 1000 with no reason", steps: [{ send: closeFrame(1000) }], close: 1000, serverCloses: false });
  add({ id: "7.3.4", description: "close 1000 with a reason", steps: [{ send: closeFrame(1000, "Hello World!") }], close: 1000, serverCloses: false });
  add({ id: "7.3.5", description: "close 1000 with a 123-byte reason", steps: [{ send: closeFrame(1000, "*".repeat(123)) }], close: 1000, serverCloses: false });
  add(failCase("7.3.6", "close 1000 with a 124-byte reason (payload over 125)", [{ send: closeFrame(1000, "*".repeat(124)) }], 1002));
  add(failCase("7.5.1", "close 1000 with an invalid UTF-8 reason", [{ send: closeFrame(1000, hex("cebae1bdb9cf83cebcceb5eda080656469746564")) }], 1007));
  const validCodes = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999];
  validCodes.forEach((code, i) => add({ id: `7.7.${i + 1}`, description: `close with valid code ${code}: echoed`, steps: [{ send: closeFrame(code) }], close: code, serverCloses: false }));
  const invalidCodes = [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535];
  invalidCodes.forEach((code, i) => add(failCase(`7.9.${i + 1}`, `close with invalid code ${code}`, [{ send: closeFrame(code) }], 1002)));

  // ---- 9 Large messages through the client's 1 KiB buffer ----
  for (const [i, n] of [65536, 262144, 1048576, 4194304].entries()) {
    const t = messageBytes("text", n);
    add(echoCase(`9.1.${i + 1}`, `text message of ${n} bytes`, [{ send: frame(T, t) }], [{ opcode: T, data: t }]));
    const b = messageBytes("binary", n);
    add(echoCase(`9.2.${i + 1}`, `binary message of ${n} bytes`, [{ send: frame(B, b) }], [{ opcode: B, data: b }]));
  }
  add(echoCase("9.3.1", "text message of 1 MiB in 1 KiB fragments", [{ send: fragments(T, messageBytes("text", 1048576), 1024) }], [{ opcode: T, data: messageBytes("text", 1048576) }]));
  add(echoCase("9.4.1", "binary message of 1 MiB in 1000-byte fragments", [{ send: fragments(B, messageBytes("binary", 1048576), 1000) }], [{ opcode: B, data: messageBytes("binary", 1048576) }]));
  add(echoCase("9.5.1", "text message of 256 KiB written in 61-byte chops", [{ send: frame(T, messageBytes("text", 262144)), chop: 61 }], [{ opcode: T, data: messageBytes("text", 262144) }]));
  add(echoCase("9.7.1", "1000 text messages of 64 bytes in one write", [{ send: Buffer.concat(Array.from({ length: 1000 }, () => frame(T, messageBytes("text", 64)))) }], Array.from({ length: 1000 }, () => ({ opcode: T, data: messageBytes("text", 64) }))));
  return cases;
}

export const FUZZ_CASES: readonly FuzzCase[] = Object.freeze(buildCases());

/** Writes `bytes` in pieces of `chop`, each on its own turn of the event loop (its own TCP segment). */
async function writeChopped(socket: net.Socket, bytes: Buffer, chop: number): Promise<void> {
  for (let o = 0; o < bytes.length; o += chop) {
    if (socket.destroyed) return;
    socket.write(bytes.subarray(o, o + chop));
    await new Promise((r) => setImmediate(r));
  }
}

function until(check: () => boolean, ms: number, wake: { fn: (() => void) | null }): Promise<boolean> {
  return new Promise((resolve) => {
    if (check()) return resolve(true);
    const timer = setTimeout(() => {
      wake.fn = null;
      resolve(check());
    }, ms);
    wake.fn = () => {
      if (!check()) return;
      clearTimeout(timer);
      wake.fn = null;
      resolve(true);
    };
  });
}

/** Judges the client's side of a case from everything it sent. */
function judge(c: FuzzCase, reader: ClientFrameReader, failedFast: boolean): { outcome: Outcome; problems: string[] } {
  const problems = [...reader.problems];
  const want = c.echoes ?? [];
  const got = reader.messages;
  let nonStrict: string | null = null;
  if (c.echoesMayBeCut && got.length < want.length) nonStrict = `${got.length} of ${want.length} message(s) echoed before the connection ended`;
  else if (got.length !== want.length) problems.push(`${got.length} message(s) echoed, expected ${want.length}`);
  for (let i = 0; i < Math.min(got.length, want.length); i++) {
    if (got[i].opcode !== want[i].opcode) problems.push(`message ${i + 1}: opcode ${got[i].opcode}, expected ${want[i].opcode}`);
    if (!got[i].data.equals(want[i].data)) problems.push(`message ${i + 1}: ${got[i].data.length} bytes differ from the ${want[i].data.length} sent`);
  }
  if (c.pongs !== undefined) {
    const pongs = reader.pongs;
    if (pongs.length !== c.pongs.length || pongs.some((p, i) => !p.equals(c.pongs![i]))) {
      problems.push(`pongs ${JSON.stringify(pongs.map((p) => p.toString("hex")))}, expected ${JSON.stringify(c.pongs.map((p) => p.toString("hex")))}`);
    }
  }
  if (reader.close === null) problems.push("the client sent no close frame");
  else if (c.close === null ? reader.close.code !== undefined : reader.close.code !== c.close) {
    problems.push(`the client closed with ${reader.close.code ?? "no code"}, expected ${c.close ?? "no code"}`);
  }
  if (reader.afterClose > 0) problems.push(`${reader.afterClose} frame(s) after the client's close`);
  if (!failedFast) problems.push("the client did not fail before the rest of the input was sent");
  if (problems.length > 0) return { outcome: "FAILED", problems };
  return nonStrict !== null ? { outcome: "NON-STRICT", problems: [nonStrict] } : { outcome: "OK", problems };
}

/** Starts the stand-in on 127.0.0.1 (port 0: any free port). */
export async function startFuzzingServer(port = 0, cases: readonly FuzzCase[] = FUZZ_CASES): Promise<FuzzingServer> {
  const results: CaseResult[] = [];
  const reports: string[] = [];
  const sockets = new Set<net.Socket>();

  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    socket.on("error", () => {});
    let head = Buffer.alloc(0);
    let reader: ClientFrameReader | null = null;
    const wake: { fn: (() => void) | null } = { fn: null };
    let ended = false;
    socket.on("close", () => {
      sockets.delete(socket);
      ended = true;
      wake.fn?.();
    });
    socket.on("data", (chunk: Buffer) => {
      if (reader !== null) {
        reader.push(chunk);
        wake.fn?.();
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) return;
      const request = head.subarray(0, end).toString("latin1");
      const rest = head.subarray(end + 4);
      const key = /^sec-websocket-key:\s*(\S+)/im.exec(request)?.[1] ?? "";
      const target = /^GET (\S+) HTTP\/1\.1/.exec(request)?.[1] ?? "/";
      reader = new ClientFrameReader();
      socket.write(switchingProtocols(acceptFor(key)));
      if (rest.length > 0) reader.push(rest);
      void serve(socket, reader, new URL(target, "http://fuzzing"), wake, () => ended);
    });
  });

  /** Waits for the client's close (bounded), then ends TCP first, as a server does (§7.1.1). */
  async function finish(socket: net.Socket, reader: ClientFrameReader, wake: { fn: (() => void) | null }, ended: () => boolean): Promise<void> {
    await until(() => reader.close !== null || ended(), 3000, wake);
    socket.end();
  }

  async function serve(socket: net.Socket, reader: ClientFrameReader, url: URL, wake: { fn: (() => void) | null }, ended: () => boolean): Promise<void> {
    const agent = url.searchParams.get("agent") ?? "";
    if (url.pathname === "/getCaseCount") {
      socket.write(Buffer.concat([frame(1, String(cases.length)), closeFrame(1000)]));
      return finish(socket, reader, wake, ended);
    }
    if (url.pathname === "/updateReports") {
      reports.push(agent);
      socket.write(closeFrame(1000));
      return finish(socket, reader, wake, ended);
    }
    const n = Number(url.searchParams.get("case"));
    const c = url.pathname === "/runCase" && Number.isInteger(n) ? cases[n - 1] : undefined;
    if (c === undefined) {
      socket.write(closeFrame(1008, "no such case"));
      return finish(socket, reader, wake, ended);
    }
    const wantPongs = (c.pongs ?? []).length;
    const echoesIn = (): boolean => reader.messages.length >= (c.echoes ?? []).length && reader.pongs.length >= wantPongs;
    let failedFast = true;
    for (const step of c.steps) {
      if (socket.destroyed) break;
      if ("send" in step) {
        if (step.chop !== undefined) await writeChopped(socket, step.send, step.chop);
        else socket.write(step.send);
      } else if ("wait" in step) {
        await new Promise((r) => setTimeout(r, step.wait));
      } else if ("awaitEchoes" in step) {
        await until(() => echoesIn() || reader.close !== null || ended(), 5000, wake);
      } else {
        failedFast = await until(() => reader.close !== null, 2000, wake);
      }
    }
    if (c.serverCloses) {
      await until(() => echoesIn() || reader.close !== null || ended(), 5000, wake);
      if (reader.close === null && !socket.destroyed) socket.write(closeFrame(1000));
    }
    await finish(socket, reader, wake, ended);
    results.push({ n, id: c.id, agent, ...judge(c, reader, failedFast) });
  }

  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  const actual = (server.address() as AddressInfo).port;
  return {
    port: actual,
    url: `ws://127.0.0.1:${actual}`,
    cases,
    results,
    reports,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
