// `npm run --silent autobahn -- <base-url> [agent]`: an Autobahn|Testsuite
// echo client on the Node host. It asks the fuzzing server for its case
// count (/getCaseCount), runs every case (/runCase?case=N&agent=A) echoing
// each text and binary message back with the same type, then asks for the
// reports (/updateReports?agent=A), and prints one line: "ran N cases".
//
// Echo, streamed: every message is read through a 1 KiB buffer, and each
// piece goes back out as soon as it arrives, with websock_send_frame: the
// first piece of a message with its opcode (1 or 2) and fin false, the rest
// as continuations (0), the last with fin true. Nothing is reassembled, so
// memory stays at the two fixed buffers whatever the message size (Autobahn's
// section 9 sends up to 16 MiB); the price is that a large message comes back
// fragmented, which RFC 6455 §5.4 allows ("an intermediary might change the
// fragmentation of a message") and Autobahn accepts. Text pieces are raw
// UTF-8 and may end mid-character: websock_send_frame validates text
// incrementally across the fragments of one message and insists only that the
// message as a whole ends on a character boundary (fin true).
//
// A case ends when the server closes (websock_recv < 0: CLOSED_BY_PEER, or a
// protocol error the client answered with its close code); then
// websock_close and the next case. Exit status: 0, or 1 when the fuzzing
// server cannot be reached (or the arguments are wrong).

import {
  WEBSOCK_OP,
  websock_close,
  websock_last_error,
  websock_msg_hdr_init,
  websock_open,
  websock_parse_url,
  websock_recv,
  websock_send_frame,
  type websock_config_t,
  type websock_handle_t,
} from "websock-rfc6455";

const RX_BUFFER = 1024;
const TX_BUFFER = 1024;
/** A case with no byte from the server for this long is abandoned (the fuzzing server always closes). */
const IDLE_LIMIT_MS = 120_000;

const USAGE = "usage: npm run --silent autobahn -- <base-url> [agent]   (e.g. ws://127.0.0.1:9001 websock)";

function configFor(base: string, path: string): websock_config_t | null {
  const url = websock_parse_url(base.replace(/\/+$/, "") + path);
  if (url === null) return null;
  return { ...url, rx_buffer_size: RX_BUFFER, tx_buffer_size: TX_BUFFER, time_out: 10_000 };
}

function fail(message: string): never {
  process.stderr.write(`autobahn: ${message}\n`);
  process.exit(1);
}

/** Reads the first text message (the case count), then lets the server close. */
async function getCaseCount(base: string): Promise<number> {
  const cfg = configFor(base, "/getCaseCount");
  if (cfg === null) fail(`not a ws:// or wss:// URL: ${base}\n${USAGE}`);
  const h = await websock_open(cfg);
  if (h === null) fail(`cannot reach the fuzzing server at ${base}: ${websock_last_error().message}`);
  const hdr = websock_msg_hdr_init();
  const buf = new Uint8Array(RX_BUFFER);
  let text = "";
  const decoder = new TextDecoder();
  for (;;) {
    const n = await websock_recv(h, hdr, buf, RX_BUFFER, 10_000);
    if (n < 0) break;
    if (hdr.opcode < 0) break; // silence: take what came
    text += decoder.decode(buf.subarray(0, n), { stream: !(hdr.fin && hdr.bytesleft === 0) });
    if (hdr.fin && hdr.bytesleft === 0) break;
  }
  await websock_close(h);
  const count = Number(text.trim());
  if (!Number.isInteger(count) || count < 0) fail(`/getCaseCount answered ${JSON.stringify(text.slice(0, 40))}, not a case count`);
  return count;
}

/** Echoes every message of one connection, piece by piece, until the server closes it. */
async function echoUntilClosed(h: websock_handle_t): Promise<void> {
  const hdr = websock_msg_hdr_init();
  const buf = new Uint8Array(RX_BUFFER);
  let idleSince = Date.now();
  for (;;) {
    const n = await websock_recv(h, hdr, buf, RX_BUFFER, 1000);
    if (n < 0) return; // closed by the server, or failed with our close code: the case is over
    if (hdr.opcode < 0) {
      if (Date.now() - idleSince > IDLE_LIMIT_MS) return;
      continue;
    }
    idleSince = Date.now();
    if (hdr.opcode !== WEBSOCK_OP.TEXT && hdr.opcode !== WEBSOCK_OP.BINARY && hdr.opcode !== WEBSOCK_OP.CONTINUATION) continue;
    // The first piece of a message carries its type; every later piece (of this frame or of its
    // continuation frames) is a continuation; the message ends with the last piece of its fin frame.
    const first = hdr.opcode !== WEBSOCK_OP.CONTINUATION && hdr.offset === 0;
    const opcode = first ? hdr.opcode : WEBSOCK_OP.CONTINUATION;
    const last = hdr.fin && hdr.bytesleft === 0;
    if ((await websock_send_frame(h, opcode, buf, n, last)) < 0) {
      // Only a connection that is going away refuses a send here: recv says how it ended.
      continue;
    }
  }
}

/** Runs case `n`; false when it could not even be opened. */
async function runCase(base: string, n: number, agent: string): Promise<boolean> {
  const cfg = configFor(base, `/runCase?case=${n}&agent=${encodeURIComponent(agent)}`)!;
  const h = await websock_open(cfg);
  if (h === null) {
    process.stderr.write(`autobahn: case ${n}: ${websock_last_error().message}\n`);
    return false;
  }
  await echoUntilClosed(h);
  await websock_close(h);
  return true;
}

async function updateReports(base: string, agent: string): Promise<void> {
  const cfg = configFor(base, `/updateReports?agent=${encodeURIComponent(agent)}`)!;
  const h = await websock_open(cfg);
  if (h === null) {
    process.stderr.write(`autobahn: /updateReports: ${websock_last_error().message}\n`);
    return;
  }
  // The server writes the reports, then closes; nothing is expected before that.
  const hdr = websock_msg_hdr_init();
  const buf = new Uint8Array(RX_BUFFER);
  const until = Date.now() + IDLE_LIMIT_MS;
  while (Date.now() < until && (await websock_recv(h, hdr, buf, RX_BUFFER, 1000)) >= 0) {
    // drain
  }
  await websock_close(h);
}

async function main(argv: string[]): Promise<void> {
  const [base, agent = "websock", ...extra] = argv;
  if (base === undefined || base === "--help" || base === "-h" || extra.length > 0) fail(USAGE);
  const count = await getCaseCount(base);
  let ran = 0;
  for (let n = 1; n <= count; n++) if (await runCase(base, n, agent)) ran++;
  await updateReports(base, agent);
  process.stdout.write(`ran ${ran} cases\n`);
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (e: unknown) => fail(`internal error: ${e instanceof Error ? e.message : String(e)}`),
);
