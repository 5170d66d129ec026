// An Autobahn|Testsuite echo client on the Moddable host: the same flow as
// the Node one (tools/autobahn.ts), so a fuzzing server judges both alike.
// It asks the fuzzing server for its case count (/getCaseCount), runs every
// case (/runCase?case=N&agent=A) echoing each text and binary message back
// with the same type, then asks for the reports (/updateReports?agent=A).
//
//   mcconfig -d -m -p lin tools/moddable-autobahn/manifest.json url=ws://127.0.0.1:9001 agent=websock-moddable
//
// Echo, streamed: every message is read through a 1 KiB buffer and each piece
// goes back out as soon as it arrives, with websock_send_frame (the first
// piece with the message's opcode, the rest as continuations, the last with
// fin): nothing is reassembled, so memory stays at the two fixed buffers
// whatever the message size. A large message therefore comes back fragmented,
// which RFC 6455 §5.4 allows and Autobahn accepts.

import config from "mc/config";
import Time from "time";
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
} from "websock";

const RX_BUFFER = 1024;
const TX_BUFFER = 1024;
/** A case with no byte from the server for this long is abandoned (the fuzzing server always closes). */
const IDLE_LIMIT_MS = 120000;

const BASE = String(config.url ?? "ws://127.0.0.1:9001").replace(/\/+$/, "");
const AGENT = String(config.agent ?? "websock-moddable");

function say(text: string): void {
  trace(`autobahn: ${text}\n`);
}

function configFor(path: string): websock_config_t | null {
  const url = websock_parse_url(BASE + path);
  if (url === null) return null;
  // send_timeout: the simulator's TCP can lose the end of a connection (lin/tcp.c), so a send is bounded.
  return { ...url, rx_buffer_size: RX_BUFFER, tx_buffer_size: TX_BUFFER, time_out: 10000, send_timeout: 10000 };
}

/** Reads the first text message (the case count, ASCII digits), then closes. */
async function getCaseCount(): Promise<number> {
  const cfg = configFor("/getCaseCount");
  if (cfg === null) {
    say(`not a ws:// or wss:// URL: ${BASE}`);
    return -1;
  }
  const h = await websock_open(cfg);
  if (h === null) {
    say(`cannot reach the fuzzing server at ${BASE}: ${websock_last_error().message}`);
    return -1;
  }
  const hdr = websock_msg_hdr_init();
  const buf = new Uint8Array(RX_BUFFER);
  let text = "";
  for (;;) {
    const n = await websock_recv(h, hdr, buf, RX_BUFFER, 10000);
    if (n < 0 || hdr.opcode < 0) break;
    for (let i = 0; i < n; i++) text += String.fromCharCode(buf[i]);
    if (hdr.fin && hdr.bytesleft === 0) break;
  }
  await websock_close(h);
  const count = Number(text.trim());
  if (!Number.isInteger(count) || count < 0) {
    say(`/getCaseCount answered ${JSON.stringify(text.slice(0, 40))}, not a case count`);
    return -1;
  }
  return count;
}

/** Echoes every message of one connection, piece by piece, until the server closes it. */
async function echoUntilClosed(h: websock_handle_t): Promise<void> {
  const hdr = websock_msg_hdr_init();
  const buf = new Uint8Array(RX_BUFFER);
  let idleSince = Time.ticks;
  for (;;) {
    const n = await websock_recv(h, hdr, buf, RX_BUFFER, 1000);
    if (n < 0) return; // closed by the server, or failed with our close code: the case is over
    if (hdr.opcode < 0) {
      if (Time.ticks - idleSince > IDLE_LIMIT_MS) return;
      continue;
    }
    idleSince = Time.ticks;
    if (hdr.opcode !== WEBSOCK_OP.TEXT && hdr.opcode !== WEBSOCK_OP.BINARY && hdr.opcode !== WEBSOCK_OP.CONTINUATION) continue;
    // The first piece of a message carries its type; every later piece is a continuation;
    // the message ends with the last piece of its fin frame.
    const first = hdr.opcode !== WEBSOCK_OP.CONTINUATION && hdr.offset === 0;
    const opcode = first ? hdr.opcode : WEBSOCK_OP.CONTINUATION;
    const last = hdr.fin && hdr.bytesleft === 0;
    // A send refused here means the connection is going away: the next recv says how it ended.
    await websock_send_frame(h, opcode, buf, n, last);
  }
}

async function runCase(n: number): Promise<boolean> {
  const h = await websock_open(configFor(`/runCase?case=${n}&agent=${encodeURIComponent(AGENT)}`)!);
  if (h === null) {
    say(`case ${n}: ${websock_last_error().message}`);
    return false;
  }
  await echoUntilClosed(h);
  await websock_close(h);
  return true;
}

async function updateReports(): Promise<void> {
  const h = await websock_open(configFor(`/updateReports?agent=${encodeURIComponent(AGENT)}`)!);
  if (h === null) {
    say(`/updateReports: ${websock_last_error().message}`);
    return;
  }
  // The server writes the reports, then closes; nothing is expected before that.
  const hdr = websock_msg_hdr_init();
  const buf = new Uint8Array(RX_BUFFER);
  const until = Time.ticks + IDLE_LIMIT_MS;
  while (Time.ticks < until && (await websock_recv(h, hdr, buf, RX_BUFFER, 1000)) >= 0) {
    // drain
  }
  await websock_close(h);
}

async function main(): Promise<void> {
  const count = await getCaseCount();
  if (count < 0) return;
  say(`${count} cases at ${BASE}, agent ${AGENT}`);
  let ran = 0;
  for (let n = 1; n <= count; n++) if (await runCase(n)) ran++;
  await updateReports();
  say(`ran ${ran} cases`);
}

main().catch((e: unknown) => say(`internal error: ${String(e)}`));
