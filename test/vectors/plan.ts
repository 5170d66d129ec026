// Which runs each JSON test vector goes through, as data: Node's tests
// (test/core-vectors.test.ts) and the XS entry run exactly these, and the XS
// suite counts them. Pure ES2022.

import { chunkings, inputBytes, type FrameVector, type HandshakeVector, type SendVector } from "./runner.js";

export interface Vectors {
  frames: FrameVector[];
  handshakes: HandshakeVector[];
  sends: SendVector[];
}

export type VectorKind = keyof Vectors;

/** One run of a vector: a chunking of its input and a read size, or a tx buffer size. */
export interface PlannedRun {
  name: string;
  cuts: number[];
  /** Frames: the application's read size. Sends: the tx buffer size. */
  size: number;
}

export const TX_SIZES = Object.freeze([256, 1000, 4096, 70000]);

export function planFrameVector(v: FrameVector): PlannedRun[] {
  const length = inputBytes(v.input).length;
  return chunkings(length).flatMap((c) =>
    // 1-byte reads are the slowest path; long inputs take them only whole.
    (length <= 4096 || c.cuts.length === 0 ? [1, 7, 1024] : [7, 1024]).map((size) => ({ name: `${c.name}, ${size}-byte reads`, cuts: c.cuts, size })),
  );
}

export function planHandshakeVector(v: HandshakeVector): PlannedRun[] {
  // An upper bound of the input's length (the Accept is filled in at run time); cuts past the end are dropped.
  const length = v.response.length + (v.after ? inputBytes(v.after).length : 0) + 60;
  return chunkings(length).map((c) => ({ name: c.name, cuts: c.cuts, size: 0 }));
}

export function planSendVector(v: SendVector): PlannedRun[] {
  return (v.txSizes ?? TX_SIZES).map((size) => ({ name: `tx ${size}`, cuts: [], size }));
}

export function planFor(vectors: Vectors, kind: VectorKind, index: number): PlannedRun[] {
  if (kind === "frames") return planFrameVector(vectors.frames[index]);
  if (kind === "handshakes") return planHandshakeVector(vectors.handshakes[index]);
  return planSendVector(vectors.sends[index]);
}
