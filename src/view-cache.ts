// Views of fixed buffers' parts, kept for the next time the same part is
// asked for. A part of the rx or tx buffer handed to a transport or to a
// callback is a Uint8Array view, and a view is 4 slots of garbage on XS; a
// connection in a steady exchange asks for the same few parts over and over
// (a 1 KiB echo through 1 KiB buffers: the header's bytes written after a
// full buffer, a received frame's two pieces), so three kept views make most
// of them free. A view given out is valid only until the call it was given
// to returns (a Transport copies what it is given; a callback's data is
// valid during the call), so giving the same one again breaks no one.
//
// The three views are fields of their holder (the session), not an object of
// their own: on XS that object and the holder's reference to it are 2 slots
// per connection, and a holder that declares the fields cold (cold-fields.ts)
// pays for a view only once one is kept.

/** Whoever keeps the views: most recently used first. */
export interface ViewHolder {
  viewA: Uint8Array | null;
  viewB: Uint8Array | null;
  viewC: Uint8Array | null;
}

/** The holder's fields' defaults, for defineColdFields. */
export const NO_VIEWS = { viewA: null, viewB: null, viewC: null };

/** Lets go of the kept views (and so of the buffers they are views of). */
export function clearViews(h: ViewHolder): void {
  if (h.viewA !== null) h.viewA = null;
  if (h.viewB !== null) h.viewB = null;
  if (h.viewC !== null) h.viewC = null;
}

/** buf[start, start + n): buf itself when that is all of it, else a kept view or a new one (then kept). */
export function viewOf(h: ViewHolder, buf: Uint8Array, start: number, n: number): Uint8Array {
  if (start === 0 && n === buf.length) return buf;
  const at = buf.byteOffset + start;
  const a = h.viewA;
  if (a !== null && isPart(a, buf, at, n)) return a;
  const b = h.viewB;
  if (b !== null && isPart(b, buf, at, n)) {
    h.viewB = a;
    h.viewA = b;
    return b;
  }
  const c = h.viewC;
  if (c !== null && isPart(c, buf, at, n)) {
    h.viewC = b;
    h.viewB = a;
    h.viewA = c;
    return c;
  }
  const made = new Uint8Array(buf.buffer, at, n);
  // Shifted down only as far as there are views (an unwritten cold field stays unwritten).
  if (b !== null) h.viewC = b;
  if (a !== null) h.viewB = a;
  h.viewA = made;
  return made;
}

function isPart(v: Uint8Array, buf: Uint8Array, at: number, n: number): boolean {
  return v.byteOffset === at && v.length === n && v.buffer === buf.buffer;
}
