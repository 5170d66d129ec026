// What the echo benches (echo-vs-ws, cpu-vs-ws) share: the payload both
// clients send, and how their rounds are summed up.

export type EchoKind = "text" | "binary";

/** Printable ASCII for text (one byte per character, so the byte size is exact), a byte pattern for binary. */
export function echoPayload(kind: EchoKind, size: number): string | Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = kind === "text" ? 0x20 + ((i * 31 + 7) % 95) : (i * 31 + 7) & 0xff;
  return kind === "text" ? Buffer.from(bytes).toString("latin1") : bytes;
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
