// The type of utf8-writer.js (websock's native UTF-8 writer, websock_utf8.c).

declare const utf8Writer: {
  /**
   * Writes as many whole characters of `text` as fit into out[start, end),
   * from where `state` says, and returns how many bytes. `state` is the 8
   * bytes of a Uint32Array of 2: [byte offset in XS's representation of the
   * string, units still to encode]; [0, units] to start, then handed back
   * untouched; its second word is 0 once the text is done.
   */
  write(text: string, state: Uint8Array, out: Uint8Array, start: number, end: number): number;
};

export default utf8Writer;
