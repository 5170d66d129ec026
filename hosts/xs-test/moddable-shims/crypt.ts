// The Moddable `crypt` module's Digest inside the xsnap worker, SHA-1 only
// (what the Moddable host uses, for Sec-WebSocket-Accept), on the XS test
// host's pure-JS SHA-1, which the XS suite checks against node:crypto.
// Moddable's Digest takes strings (as UTF-8) and ArrayBuffers; close()
// returns the digest as an ArrayBuffer.

import { sha1 } from "../sha1.js";
import { utf8Encode } from "../../../src/utf8.js";

export class Digest {
  private parts: Uint8Array[] = [];

  constructor(type: string) {
    if (type !== "SHA1") throw new Error(`crypt shim: only SHA1 is emulated, not ${type}`);
  }

  write(message: string | ArrayBuffer): void {
    if (typeof message === "string") this.parts.push(utf8Encode(message));
    else if (message instanceof ArrayBuffer) this.parts.push(new Uint8Array(message.slice(0)));
    else throw new TypeError("Digest.write: a string or an ArrayBuffer");
  }

  update(message: string | ArrayBuffer): void {
    this.write(message);
  }

  close(): ArrayBuffer {
    let length = 0;
    for (const p of this.parts) length += p.length;
    const all = new Uint8Array(length);
    let at = 0;
    for (const p of this.parts) {
      all.set(p, at);
      at += p.length;
    }
    this.parts = [];
    return sha1(all).slice().buffer as ArrayBuffer;
  }

  reset(): void {
    this.parts = [];
  }

  get blockSize(): number {
    return 64;
  }

  get outputSize(): number {
    return 20;
  }
}
