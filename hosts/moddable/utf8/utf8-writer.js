/*
 * websock's UTF-8 writer (websock_utf8.c): the module
 * "websock/hosts/moddable/utf8/utf8-writer". A string's UTF-8 written piece
 * by piece into a byte buffer straight from XS's own representation of it,
 * resuming where the last call stopped, allocating nothing:
 * moddable-host.ts gives it to the core as Host.utf8Writer
 * (src/text-cursor.ts, Utf8Writer, says the contract); utf8-writer.d.ts
 * declares its type.
 */

function write(text, state, out, start, end) @ "xs_websock_utf8_write";

export default Object.freeze({ write });
