// What an xsnap worker holds once everything collectable is collected, read
// from a heap snapshot. xsnap's meter gives the slots in use (garbage
// included until the next collection) but no chunk sizes, and the worker has
// no collection counter (xsnap-worker is built without mxInstrument). Its
// snapshot (`w`, xsSnapshot.c fxWriteSnapshot) collects garbage first, then
// writes one section per table, each `<u32 big-endian size><4-byte tag>`:
//   BLOC the live chunks (strings, byte code, array and buffer storage), in bytes;
//   HEAP the live slots, sizeof(txSlot) each (32 B on 64-bit; 16 B on ESP32);
//   KEYS the key table in use (a pointer per property name or symbol).

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { XsWorker } from "../../../test/xs/xsnap-driver.js";

/** sizeof(txSlot) in the 64-bit worker; the snapshot's VERS section says so too (checked). */
export const SLOT_BYTES_64 = 32;

export interface LiveHeap {
  /** Live slots after a full collection. */
  slots: number;
  /** Live chunk bytes after a full collection (as the snapshot stores them, 64-bit). */
  chunkBytes: number;
  /** Keys (property names, symbols) in the key table. */
  keys: number;
}

function sections(bytes: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  if (bytes.toString("latin1", 4, 8) !== "XS_M") throw new Error("not an XS snapshot");
  for (let at = 8; at + 8 <= bytes.length; ) {
    const size = bytes.readUInt32BE(at);
    if (size < 8) throw new Error(`snapshot: bad section size ${size} at ${at}`);
    out.set(bytes.toString("latin1", at + 4, at + 8), bytes.subarray(at + 8, at + size));
    at += size;
  }
  return out;
}

/** Reads the worker's live heap through a snapshot in a temporary directory (removed before this returns). */
export async function liveHeap(worker: XsWorker): Promise<LiveHeap> {
  const dir = mkdtempSync(path.join(tmpdir(), "websock-xs-heap-"));
  try {
    const file = path.join(dir, "heap.xss");
    await worker.writeSnapshot(file);
    const parts = sections(readFileSync(file));
    const vers = parts.get("VERS");
    const heap = parts.get("HEAP");
    const bloc = parts.get("BLOC");
    const keys = parts.get("KEYS");
    if (vers === undefined || heap === undefined || bloc === undefined || keys === undefined) throw new Error("snapshot: a section is missing");
    // VERS: major, minor, patch, sizeof(txSlot) (negative on big-endian machines).
    const slotBytes = Math.abs(vers.readInt8(3));
    if (slotBytes !== SLOT_BYTES_64) throw new Error(`snapshot: slots of ${slotBytes} B, expected ${SLOT_BYTES_64}`);
    return { slots: heap.length / slotBytes, chunkBytes: bloc.length, keys: keys.length / 8 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function heapDifference(after: LiveHeap, before: LiveHeap): LiveHeap {
  return { slots: after.slots - before.slots, chunkBytes: after.chunkBytes - before.chunkBytes, keys: after.keys - before.keys };
}
