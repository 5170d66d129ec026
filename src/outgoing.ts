// One message (or run of raw bytes) accepted for sending. The caller's
// payload is referenced, never copied whole and never modified; the sender
// links accepted messages into its queue through `next`, so queueing
// allocates nothing beyond the record itself.

import { defineColdFields } from "./cold-fields.js";

/** status while the message waits or goes out. */
export const SEND_PENDING = 1;

// The flags of a message: bits of its one `bits` field (on XS one slot for all of them).
/** Whether it ends its message. */
export const MESSAGE_FIN = 1;
/** Bytes go out as they are, with no frame around them (the HTTP head, raw mode). */
export const MESSAGE_RAW = 2;
/** The payload is compressed (permessage-deflate): its first frame carries RSV1. */
export const MESSAGE_COMPRESSED = 4;
/** The core's own (the HTTP head): dropped once out, not handed back to the driver as finished. */
export const MESSAGE_INTERNAL = 8;

export class OutgoingMessage {
  /** MESSAGE_FIN, MESSAGE_RAW, MESSAGE_COMPRESSED, MESSAGE_INTERNAL; set up by setBytes / setText / setRaw before use. */
  bits = 0;
  /** The opcode of its first frame (0 continues a fragmented message). */
  opcode = 0;
  // The payload fields are cold (cold-fields.ts): a record that only ever carries bytes never
  // writes text and units, one that only carries text never writes bytes and offset.
  /** The payload as bytes, bytes[offset, offset + length); null for a string. */
  declare bytes: Uint8Array | null;
  declare offset: number;
  /** The payload as the first `units` UTF-16 units of a string (UTF-8 encoded on the way); null for bytes. */
  declare text: string | null;
  declare units: number;
  /** Payload bytes; -1 for a string until the sender has measured it. */
  length = 0;
  /** SEND_PENDING; then 0 once all of it was taken by the transport, or the negative code it failed with. */
  status = SEND_PENDING;
  /** The next message in whichever list holds this one (the sender's rings, message-ring.ts; a list handed back ends in null). */
  next: OutgoingMessage | null = null;
  /** The driver's: settles the caller's Promise with `status` (null: nobody waits; cold). */
  declare settle: ((code: number) => void) | null;

  /** Sets it up for `bytes[offset, offset + length)`. */
  setBytes(opcode: number, fin: boolean, bytes: Uint8Array, offset: number, length: number): this {
    this.opcode = opcode;
    this.bits = fin ? MESSAGE_FIN : 0;
    this.bytes = bytes;
    this.offset = offset;
    this.length = length;
    if (this.text !== null) {
      this.text = null;
      this.units = 0;
    }
    this.status = SEND_PENDING;
    this.next = null;
    return this;
  }

  /** Sets it up for the first `units` UTF-16 units of `text`. */
  setText(opcode: number, fin: boolean, text: string, units: number): this {
    this.opcode = opcode;
    this.bits = fin ? MESSAGE_FIN : 0;
    if (this.bytes !== null || this.offset !== 0) {
      this.bytes = null;
      this.offset = 0;
    }
    this.length = -1;
    this.text = text;
    this.units = units;
    this.status = SEND_PENDING;
    this.next = null;
    return this;
  }

  /** Sets it up for bytes that go out unframed. */
  setRaw(bytes: Uint8Array, offset: number, length: number): this {
    this.setBytes(0, true, bytes, offset, length);
    this.bits |= MESSAGE_RAW;
    return this;
  }

  /** Lets go of the payload once it is out (or failed). */
  release(): void {
    if (this.bytes !== null) this.bytes = null;
    if (this.text !== null) this.text = null;
  }
}
defineColdFields(OutgoingMessage.prototype, { bytes: null, offset: 0, text: null, units: 0, settle: null });
