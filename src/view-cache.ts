// Views of fixed buffers' parts, kept for the next time the same part is
// asked for. A part of the rx or tx buffer handed to a transport or to a
// callback is a Uint8Array view, and a view is 4 slots of garbage on XS; a
// connection in a steady exchange asks for the same few parts over and over
// (a 1 KiB echo through 1 KiB buffers: the header's bytes written after a
// full buffer, a received frame's two pieces), so three kept views make most
// of them free. A view given out is valid only until the call it was given
// to returns (a Transport copies what it is given; a callback's data is
// valid during the call), so giving the same one again breaks no one.

export class ViewCache {
  // The kept views, most recently used first.
  private a: Uint8Array | null = null;
  private b: Uint8Array | null = null;
  private c: Uint8Array | null = null;

  /** Lets go of the kept views (and so of the buffers they are views of). */
  clear(): void {
    this.a = this.b = this.c = null;
  }

  /** buf[start, start + n): buf itself when that is all of it, else a kept view or a new one (then kept). */
  view(buf: Uint8Array, start: number, n: number): Uint8Array {
    if (start === 0 && n === buf.length) return buf;
    const at = buf.byteOffset + start;
    const a = this.a;
    if (a !== null && isPart(a, buf, at, n)) return a;
    const b = this.b;
    if (b !== null && isPart(b, buf, at, n)) {
      this.b = a;
      this.a = b;
      return b;
    }
    const c = this.c;
    if (c !== null && isPart(c, buf, at, n)) {
      this.c = b;
      this.b = a;
      this.a = c;
      return c;
    }
    const made = new Uint8Array(buf.buffer, at, n);
    this.c = b;
    this.b = a;
    this.a = made;
    return made;
  }
}

function isPart(v: Uint8Array, buf: Uint8Array, at: number, n: number): boolean {
  return v.byteOffset === at && v.length === n && v.buffer === buf.buffer;
}
