// Bundled and evaluated inside the xsnap worker by xs-compute.ts: drives the
// core (Connection) directly, with a fixed mask key and no I/O, so that the
// worker's compute meter counts the hot path alone. prepare() builds a
// connection and the bytes of one case; run(), in a delivery of its own,
// receives or sends `count` identical messages and checks what came out.

import { NOTHING_READY } from "../../src/connection.js";
import { benchConnection, sendThrough } from "./lib/bench-connection.js";
import { OutgoingMessage } from "../../src/outgoing.js";
import type { websock_msg_hdr_t } from "../../src/types.js";

/** The default rx_buffer_size and tx_buffer_size (src/config.ts), and the application's read size. */
const BUFFER = 4096;
const OPCODE_TEXT = 1;
const OPCODE_BINARY = 2;

/** Printable ASCII for text (1 byte per character), the byte pattern of the vectors for binary. */
function payload(kind: "text" | "mixed" | "binary", size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = kind === "text" ? 0x20 + ((i * 31 + 7) % 95) : (i * 31 + 7) & 0xff;
  return out;
}

/** An unmasked frame, as a server sends it. */
function serverFrame(opcode: number, body: Uint8Array): Uint8Array {
  const n = body.length;
  const head = n < 126 ? [0x80 | opcode, n] : n < 0x10000 ? [0x80 | opcode, 126, n >> 8, n & 255] : [0x80 | opcode, 127, 0, 0, 0, 0, n >>> 24, (n >> 16) & 255, (n >> 8) & 255, n & 255];
  const out = new Uint8Array(head.length + n);
  out.set(head);
  out.set(body, head.length);
  return out;
}

let job: (() => number) | null = null;
let expected = 0;

/** Sets up one case: a fresh connection and its input, outside the measured delivery. */
export function prepare(direction: "receive" | "send", kind: "text" | "mixed" | "binary", size: number, count: number): void {
  const conn = benchConnection(BUFFER);
  const opcode = kind === "binary" ? OPCODE_BINARY : OPCODE_TEXT;
  const body = payload(kind, size);
  if (direction === "receive") {
    const frame = serverFrame(opcode, body);
    const hdr: websock_msg_hdr_t = { fin: false, opcode: -1, payload_len: 0, offset: 0, bytesleft: 0 };
    const out = new Uint8Array(BUFFER);
    expected = count * size;
    job = () => {
      let delivered = 0;
      for (let m = 0; m < count; m++) {
        // As a host does: copy what fits into the rx buffer, read every piece out, repeat.
        let at = 0;
        while (at < frame.length) {
          at += conn.receiveData(frame, at, frame.length);
          for (;;) {
            conn.advance();
            const n = conn.read(hdr, out, 0, BUFFER);
            if (n === NOTHING_READY) break;
            if (n < 0) throw new Error(`the core failed: ${conn.ending?.error.name}`);
            delivered += n;
          }
        }
      }
      return delivered;
    };
  } else {
    // A string for text, as websock_send_text(h, "...") queues it; bytes for binary.
    // Joined once, not concatenated char by char (XS strings are flat: that would copy O(n²)).
    const chars: string[] = [];
    if (kind === "text") for (let i = 0; i < size; i++) chars.push(String.fromCharCode(body[i]));
    // Non-ASCII: as many UTF-8 bytes of 1-, 2-, 3- and 4-byte characters (10 bytes a round), ASCII to fill.
    if (kind === "mixed") {
      for (let i = 0; i + 10 <= size; i += 10) chars.push("a\u00e9\u20ac\u{1F600}");
      for (let i = chars.length * 10; i < size; i++) chars.push("z");
    }
    const text = chars.join("");
    // Read once, here: text.length makes XS wrap the string (2 slots), which is the caller's, not the core's.
    const units = text.length;
    const header = size < 126 ? 6 : size < 0x10000 ? 8 : 14;
    expected = count * (size + header);
    const message = new OutgoingMessage();
    job = () => {
      let produced = 0;
      for (let m = 0; m < count; m++) {
        // As websock_send_text(h, string) and websock_send_binary(h, bytes) queue them.
        if (kind !== "binary") message.setText(opcode, true, text, units);
        else message.setBytes(opcode, true, body, 0, size);
        produced += sendThrough(conn, message);
      }
      return produced;
    };
  }
}

/**
 * Collects the garbage prepare() left (the text's character strings, the
 * frame), so the slots counted in run()'s delivery are run()'s alone: else a
 * collection that happens to run in one case's prepare() and not in the
 * other's shows up as per-message garbage.
 */
function collect(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** Runs the prepared case; answers the byte count (payload received, or frame bytes produced). */
export function run(): number {
  if (job === null) throw new Error("prepare() first");
  collect();
  const got = job();
  job = null;
  if (got !== expected) throw new Error(`moved ${got} bytes, expected ${expected}`);
  return got;
}
