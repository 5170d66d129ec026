// The websock example on Moddable: an echo session against mc/config's `url`,
// printing what it sends and receives, and the memory the connection takes.
//
//   mcconfig -d -m -p esp32 ssid=... password=... url=wss://echo.example.org/
//   mcconfig -d -m -p lin url=ws://127.0.0.1:8080/echo
//
// Config (mc/config, set on the mcconfig command line):
//   url        the echo server (ws:// or wss://)
//   ca         a data resource holding the CA certificate to trust (DER, or PEM text), e.g. "ca.der"; "" uses the app's CA store
//   server_name  the name the server's certificate must carry (and SNI), when it is not the URL's host:
//              e.g. "localhost" for wss://127.0.0.1 with the mbedTLS engine on mbedTLS 2.28 (no IP names)
//   rx, tx     the receive and transmit buffer sizes (bytes)
//   big        the size of the large binary message (bytes; 0 skips it): 102400 in the simulator, 16384 on ESP32
//   ping_url   optional: a server that pings back on any message (answered inside websock_recv)
//   close_url  optional: a server that closes with a code right after the handshake

import config from "mc/config";
import Debug from "debug";
import Instrumentation from "instrumentation";
import Resource from "Resource";
import Time from "time";
import {
  WEBSOCK_OP,
  websock_close,
  websock_close_with_code,
  websock_get_info,
  websock_last_error,
  websock_msg_hdr_init,
  websock_open,
  websock_parse_url,
  websock_recv,
  websock_send_binary,
  websock_send_text,
  type websock_config_t,
  type websock_handle_t,
} from "websock";

const RX = Number(config.rx ?? 1024);
const TX = Number(config.tx ?? 1024);
const BIG = Number(config.big ?? 102400);

const START = Time.ticks;

function log(text: string): void {
  trace(`[${String(Time.ticks - START).padStart(6)} ms] ${text}\n`);
}

/** Chunk and slot heap in use after a full collection: what the app holds, in bytes. */
function memory(): { chunks: number; slots: number } {
  Debug.gc();
  return {
    chunks: Instrumentation.get(Instrumentation.map("XS Chunk Heap Used")) ?? -1,
    slots: Instrumentation.get(Instrumentation.map("XS Slot Heap Used")) ?? -1,
  };
}

function describe(bytes: Uint8Array, n: number): string {
  let hex = "";
  for (let i = 0; i < Math.min(n, 16); i++) hex += bytes[i].toString(16).padStart(2, "0") + " ";
  return `${n} bytes: ${hex}${n > 16 ? "..." : ""}`.trimEnd();
}

function configFor(url: string): websock_config_t | null {
  const parsed = websock_parse_url(url);
  if (parsed === null) return null;
  const cfg: websock_config_t = { ...parsed, rx_buffer_size: RX, tx_buffer_size: TX, time_out: 20000 };
  if (parsed.secured && typeof config.ca === "string" && config.ca !== "") {
    const bytes = new Uint8Array(new Resource(config.ca));
    // PEM text ("-----BEGIN") is passed as a string, DER as bytes.
    cfg.ssl_config = { ca: bytes[0] === 0x2d ? String.fromArrayBuffer(bytes.slice().buffer) : bytes };
  }
  // An HTTP proxy (CONNECT) in front of the server: http://[user:password@]host:port.
  if (typeof config.proxy === "string" && config.proxy !== "") cfg.proxy = config.proxy;
  if (parsed.secured && typeof config.server_name === "string" && config.server_name !== "") {
    cfg.ssl_config = { ...cfg.ssl_config, server_name: config.server_name };
  }
  return cfg;
}

async function open(url: string): Promise<websock_handle_t | null> {
  const cfg = configFor(url);
  if (cfg === null) {
    log(`not a ws:// or wss:// URL: ${url}`);
    return null;
  }
  const before = memory();
  log(`open ${url} (rx ${RX}, tx ${TX}); in use before: chunks ${before.chunks} B, slots ${before.slots} B`);
  const h = await websock_open(cfg);
  if (h === null) {
    const e = websock_last_error();
    log(`open failed: ${e.name} ${e.message}${e.tls_reason ? ` [tls_reason ${e.tls_reason}]` : ""}`);
    return null;
  }
  const info = websock_get_info(h);
  log(`open: HTTP ${info?.http_status}${info?.tls ? `, ${info.tls.version} ${info.tls.cipher}` : ""}`);
  const opened = memory();
  log(`in use with the connection open: chunks ${opened.chunks} B (+${opened.chunks - before.chunks}), slots ${opened.slots} B (+${opened.slots - before.slots})`);
  return h;
}

/** Receives one whole message into `into` (or only counts it when `into` is null); returns its opcode and length, or null. */
async function receiveMessage(h: websock_handle_t, into: Uint8Array | null, timeout = 15000): Promise<{ opcode: number; length: number; pieces: number } | null> {
  const hdr = websock_msg_hdr_init();
  const buf = new Uint8Array(RX);
  let opcode = -1;
  let length = 0;
  let pieces = 0;
  for (;;) {
    const n = await websock_recv(h, hdr, buf, RX, timeout);
    if (n < 0) {
      const e = websock_last_error(h);
      log(`recv: ${e.name} ${e.message}${e.close_code ? ` (close code ${e.close_code}${e.close_reason ? ` "${e.close_reason}"` : ""})` : ""}`);
      return null;
    }
    if (hdr.opcode < 0) {
      log(`recv: nothing within ${timeout} ms`);
      return null;
    }
    if (opcode < 0) opcode = hdr.opcode;
    if (into !== null && length + n <= into.length) into.set(buf.subarray(0, n), length);
    length += n;
    pieces++;
    if (hdr.fin && hdr.bytesleft === 0) return { opcode, length, pieces };
  }
}

/** The large message's byte at `i`. */
function pattern(i: number): number {
  return (i * 7 + (i >> 8)) & 255;
}

/** Receives one message and compares it with expected(i) (pattern() by default) piece by piece. */
async function receiveChecked(h: websock_handle_t, timeout: number, expected: (i: number) => number = pattern): Promise<{ length: number; pieces: number; mismatches: number } | null> {
  const hdr = websock_msg_hdr_init();
  const buf = new Uint8Array(RX);
  let length = 0;
  let pieces = 0;
  let mismatches = 0;
  for (;;) {
    const n = await websock_recv(h, hdr, buf, RX, timeout);
    if (n < 0 || hdr.opcode < 0) {
      const e = websock_last_error(h);
      log(`recv: ${n < 0 ? `${e.name} ${e.message}` : `nothing within ${timeout} ms`}`);
      return null;
    }
    for (let i = 0; i < n; i++) if (buf[i] !== expected(length + i)) mismatches++;
    length += n;
    pieces++;
    if (hdr.fin && hdr.bytesleft === 0) return { length, pieces, mismatches };
  }
}

async function echo(url: string): Promise<void> {
  const h = await open(url);
  if (h === null) return;

  // Text.
  const text = "hello from websock on Moddable";
  log(`send text: "${text}"`);
  log(`send -> ${await websock_send_text(h, text)}`);
  const got = new Uint8Array(RX);
  let m = await receiveMessage(h, got);
  if (m !== null) log(`recv ${m.opcode === WEBSOCK_OP.TEXT ? "text" : `opcode ${m.opcode}`}: "${String.fromArrayBuffer(got.slice(0, m.length).buffer)}"`);

  // Non-ASCII text: its UTF-8 written by websock's native writer (hosts/moddable/utf8) straight into
  // the tx buffer, as TextEncoder would encode it: U+0000 as 00, a lone surrogate as U+FFFD.
  const high = String.fromCharCode(0xd83d);
  const mixed = `h\u00e9llo \u20ac \u{1F600} nul:\u0000 lone:${high} joined:${high}${String.fromCharCode(0xde00)}`;
  const mixedBytes = [
    0x68, 0xc3, 0xa9, 0x6c, 0x6c, 0x6f, 0x20, 0xe2, 0x82, 0xac, 0x20, 0xf0, 0x9f, 0x98, 0x80, 0x20, 0x6e, 0x75, 0x6c, 0x3a, 0x00,
    0x20, 0x6c, 0x6f, 0x6e, 0x65, 0x3a, 0xef, 0xbf, 0xbd, 0x20, 0x6a, 0x6f, 0x69, 0x6e, 0x65, 0x64, 0x3a, 0xf0, 0x9f, 0x98, 0x80,
  ];
  log(`send non-ASCII text: ${mixed.length} string units, ${mixedBytes.length} UTF-8 bytes`);
  log(`send -> ${await websock_send_text(h, mixed)}`);
  let check = await receiveChecked(h, 15000, (i) => mixedBytes[i]);
  if (check !== null) log(`recv text: ${check.length} bytes, ${check.length === mixedBytes.length && check.mismatches === 0 ? "identical to TextEncoder's" : `DIFFERENT (${check.mismatches} bytes differ)`}`);
  // Longer than the tx buffer: every width of character cut by the ends of tx pieces.
  const unit = "a\u00e9\u20ac\u{1F600}";
  const unitBytes = [0x61, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80];
  const long = unit.repeat(400);
  log(`send non-ASCII text: ${unitBytes.length * 400} UTF-8 bytes through a ${TX}-byte tx buffer`);
  log(`send -> ${await websock_send_text(h, long)}`);
  check = await receiveChecked(h, 15000, (i) => unitBytes[i % 10]);
  if (check !== null) log(`recv text: ${check.length} bytes in ${check.pieces} pieces, ${check.length === unitBytes.length * 400 && check.mismatches === 0 ? "identical to TextEncoder's" : `DIFFERENT (${check.mismatches} bytes differ)`}`);

  // Characters above U+FFFF only: 4 bytes for each unit of the string's length where XS counts code
  // points (the Moddable SDK), so a string that looks short enough for one step (3 bytes a unit) is not.
  const faces = "\u{1F600}".repeat(300);
  const faceBytes = [0xf0, 0x9f, 0x98, 0x80];
  log(`send non-ASCII text: ${faces.length} string units, ${faceBytes.length * 300} UTF-8 bytes`);
  log(`send -> ${await websock_send_text(h, faces)}`);
  check = await receiveChecked(h, 15000, (i) => faceBytes[i % 4]);
  if (check !== null) log(`recv text: ${check.length} bytes, ${check.length === faceBytes.length * 300 && check.mismatches === 0 ? "identical to TextEncoder's" : `DIFFERENT (${check.mismatches} bytes differ)`}`);

  // Binary.
  const bin = new Uint8Array(32);
  for (let i = 0; i < bin.length; i++) bin[i] = (i * 37) & 255;
  log(`send binary: ${describe(bin, bin.length)}`);
  log(`send -> ${await websock_send_binary(h, bin)}`);
  m = await receiveMessage(h, got);
  if (m !== null) log(`recv ${m.opcode === WEBSOCK_OP.BINARY ? "binary" : `opcode ${m.opcode}`}: ${describe(got, m.length)}${m.length === bin.length && got.subarray(0, bin.length).every((b, i) => b === bin[i]) ? " (matches)" : " (DIFFERS)"}`);

  // A large message through small buffers: masked chunk by chunk through tx, received piece by
  // piece through rx and checked against the pattern as it arrives (no second copy).
  if (BIG > 0) {
    const big = new Uint8Array(BIG);
    for (let i = 0; i < BIG; i++) big[i] = pattern(i);
    const started = Time.ticks;
    log(`send binary: ${BIG} bytes through a ${TX}-byte tx buffer`);
    const sent = await websock_send_binary(h, big);
    log(`send -> ${sent} after ${Time.ticks - started} ms`);
    check = await receiveChecked(h, 60000);
    if (check !== null) {
      log(`recv binary: ${check.length} bytes in ${check.pieces} pieces of at most ${RX}, ${Time.ticks - started} ms round trip, ${check.length === BIG && check.mismatches === 0 ? "identical" : `DIFFERENT (${check.mismatches} bytes differ)`}`);
    }
    const peak = memory();
    log(`in use after the large message (its ${BIG} bytes are the app's): chunks ${peak.chunks} B, slots ${peak.slots} B`);
  }

  log("close with 4000 \"bye\"");
  log(`close -> ${await websock_close_with_code(h, 4000, "bye")}`);
  const after = memory();
  log(`in use after close: chunks ${after.chunks} B, slots ${after.slots} B`);
}

async function serverPing(url: string): Promise<void> {
  const h = await open(url);
  if (h === null) return;
  log('send text: "ping me" (the server pings back; websock_recv answers with a pong)');
  await websock_send_text(h, "ping me");
  const hdr = websock_msg_hdr_init();
  const buf = new Uint8Array(RX);
  const n = await websock_recv(h, hdr, buf, RX, 1000);
  log(`recv -> ${n}, opcode ${hdr.opcode} (${hdr.opcode < 0 ? "no data message: the ping was answered inside recv" : "data"})`);
  await websock_close(h);
  log("closed");
}

async function serverClose(url: string): Promise<void> {
  const h = await open(url);
  if (h === null) return;
  await receiveMessage(h, null);
  await websock_close(h);
}

async function main(): Promise<void> {
  const url = typeof config.url === "string" ? config.url : "";
  if (url === "") {
    log("set the echo server's URL: mcconfig ... url=ws://host:port/path");
    return;
  }
  await echo(url);
  if (typeof config.ping_url === "string" && config.ping_url !== "") await serverPing(config.ping_url);
  if (typeof config.close_url === "string" && config.close_url !== "") await serverClose(config.close_url);
  log("done");
}

main().catch((e: unknown) => log(`internal error: ${String(e)}`));
