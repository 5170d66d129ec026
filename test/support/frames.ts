// Frames as a (possibly misbehaving) server writes them, and an incremental
// reader for what the client sends back: the tools of the crafted-frame
// tests and of the fuzzing-server stand-in.

/** A server frame: unmasked unless `mask` is given; `rsv` is the 3 reserved bits (0-7). */
export function frame(opcode: number, payload: Uint8Array | string = "", options: { fin?: boolean; rsv?: number; mask?: Uint8Array } = {}): Buffer {
  const body = Buffer.from(typeof payload === "string" ? Buffer.from(payload, "utf8") : payload);
  const n = body.length;
  const b0 = ((options.fin ?? true) ? 0x80 : 0) | ((options.rsv ?? 0) << 4) | opcode;
  const m = options.mask !== undefined ? 0x80 : 0;
  const head = n < 126 ? Buffer.from([b0, m | n])
    : n < 0x10000 ? Buffer.from([b0, m | 126, n >> 8, n & 255])
    : Buffer.concat([Buffer.from([b0, m | 127]), be64(n)]);
  if (options.mask === undefined) return Buffer.concat([head, body]);
  for (let i = 0; i < n; i++) body[i] ^= options.mask[i & 3];
  return Buffer.concat([head, Buffer.from(options.mask), body]);
}

/** `n` as 8 big-endian bytes (two 32-bit words). */
export function be64(n: number): Buffer {
  const out = Buffer.alloc(8);
  out.writeUInt32BE(Math.floor(n / 0x100000000), 0);
  out.writeUInt32BE(n >>> 0, 4);
  return out;
}

/** A close frame: no payload when `code` is undefined; `reason` as UTF-8 text or raw bytes. */
export function closeFrame(code?: number, reason: string | Uint8Array = ""): Buffer {
  if (code === undefined) return frame(8, new Uint8Array(0));
  const r = typeof reason === "string" ? Buffer.from(reason, "utf8") : Buffer.from(reason);
  return frame(8, Buffer.concat([Buffer.from([code >> 8, code & 255]), r]));
}

export interface ClientFrame {
  fin: boolean;
  rsv: number;
  opcode: number;
  masked: boolean;
  payload: Buffer;
}

/** A message the client sent, reassembled from its frames. */
export interface ClientMessage {
  opcode: number;
  data: Buffer;
  /** How many frames it came in. */
  frames: number;
}

/**
 * Reads the client's frames as bytes arrive (they may stop anywhere), and
 * reassembles its messages; control frames are kept apart.
 */
export class ClientFrameReader {
  readonly frames: ClientFrame[] = [];
  readonly messages: ClientMessage[] = [];
  readonly pongs: Buffer[] = [];
  readonly pings: Buffer[] = [];
  /** The client's first close frame: its code (undefined: an empty close payload) and reason. */
  close: { code?: number; reason: Buffer } | null = null;
  /** Frames of any kind after the close frame (RFC 6455 §5.5.1: there must be none). */
  afterClose = 0;
  /** Protocol problems in what the client sent (unmasked frames, a broken fragmentation). */
  readonly problems: string[] = [];
  private pending: Buffer = Buffer.alloc(0);
  private partial: { opcode: number; parts: Buffer[]; frames: number } | null = null;

  push(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    let i = 0;
    const b = this.pending;
    for (;;) {
      if (b.length - i < 2) break;
      let n = b[i + 1] & 127;
      let h = 2;
      if (n === 126) {
        if (b.length - i < 4) break;
        n = b.readUInt16BE(i + 2);
        h = 4;
      } else if (n === 127) {
        if (b.length - i < 10) break;
        n = b.readUInt32BE(i + 2) * 0x100000000 + b.readUInt32BE(i + 6);
        h = 10;
      }
      const masked = (b[i + 1] & 0x80) !== 0;
      const keyAt = i + h;
      if (masked) h += 4;
      if (b.length - i < h + n) break;
      const payload = Buffer.from(b.subarray(i + h, i + h + n));
      if (masked) for (let k = 0; k < n; k++) payload[k] ^= b[keyAt + (k & 3)];
      this.take({ fin: (b[i] & 0x80) !== 0, rsv: (b[i] >> 4) & 7, opcode: b[i] & 15, masked, payload });
      i += h + n;
    }
    this.pending = i === b.length ? Buffer.alloc(0) : Buffer.from(b.subarray(i));
  }

  private take(f: ClientFrame): void {
    this.frames.push(f);
    if (this.close !== null) {
      this.afterClose++;
      return;
    }
    if (!f.masked) this.problems.push(`frame ${this.frames.length} (opcode ${f.opcode}) is not masked`);
    if (f.rsv !== 0) this.problems.push(`frame ${this.frames.length} has RSV bits ${f.rsv}`);
    switch (f.opcode) {
      case 8:
        this.close = f.payload.length >= 2 ? { code: f.payload.readUInt16BE(0), reason: f.payload.subarray(2) } : { reason: Buffer.alloc(0) };
        return;
      case 9:
        this.pings.push(f.payload);
        return;
      case 10:
        this.pongs.push(f.payload);
        return;
      case 0:
        if (this.partial === null) {
          this.problems.push("a continuation frame with no message started");
          return;
        }
        this.partial.parts.push(f.payload);
        this.partial.frames++;
        break;
      case 1:
      case 2:
        if (this.partial !== null) this.problems.push("a new message inside a fragmented one");
        this.partial = { opcode: f.opcode, parts: [f.payload], frames: 1 };
        break;
      default:
        this.problems.push(`a frame with opcode ${f.opcode}`);
        return;
    }
    if (f.fin) {
      const p = this.partial!;
      this.messages.push({ opcode: p.opcode, data: Buffer.concat(p.parts), frames: p.frames });
      this.partial = null;
    }
  }
}

/** Bytes for a message of `n` bytes: a pattern for binary, multi-byte UTF-8 text for text (exactly n bytes). */
export function messageBytes(kind: "text" | "binary", n: number): Buffer {
  if (kind === "binary") {
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i++) out[i] = (i * 131 + (i >> 8)) & 255;
    return out;
  }
  // "aé€𝄞" is 1 + 2 + 3 + 4 bytes: pieces of any size end mid-character somewhere.
  const unit = Buffer.from("aé€𝄞", "utf8");
  const out = Buffer.alloc(n);
  let o = 0;
  while (o + unit.length <= n) {
    unit.copy(out, o);
    o += unit.length;
  }
  out.fill(0x61, o); // ASCII tail
  return out;
}
