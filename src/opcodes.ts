// RFC 6455 §5.2 opcodes and §7.4 status codes.

export const OPCODE_CONTINUATION = 0x0;
export const OPCODE_TEXT = 0x1;
export const OPCODE_BINARY = 0x2;
export const OPCODE_CLOSE = 0x8;
export const OPCODE_PING = 0x9;
export const OPCODE_PONG = 0xa;

/** Control frames have the most significant opcode bit set (§5.5). */
export function isControlOpcode(opcode: number): boolean {
  return (opcode & 0x8) !== 0;
}

/** §5.2: 0x3-0x7 and 0xB-0xF are reserved. */
export function isKnownOpcode(opcode: number): boolean {
  return opcode <= OPCODE_BINARY || (opcode >= OPCODE_CLOSE && opcode <= OPCODE_PONG);
}

/**
 * A status code a peer may put in a close frame (§7.4.1, §7.4.2):
 * 1000-1003 and 1007-1014 are defined for use; 1004 is reserved; 1005, 1006
 * and 1015 MUST NOT be set in a close frame; 3000-4999 belong to libraries
 * and applications. Everything else is a protocol error. A code is an
 * integer of type number: "1000" or 1000.5 is not one (comparisons would
 * coerce the first and let the second through).
 */
export function isValidCloseCode(code: unknown): code is number {
  if (typeof code !== "number" || !Number.isInteger(code)) return false;
  return (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) ||
    (code >= 3000 && code <= 4999);
}

/** §5.5: all control frames MUST have a payload length of 125 bytes or less. */
export const MAX_CONTROL_PAYLOAD = 125;
/** The longest frame header: 2 bytes, a 64-bit length and a mask key. */
export const MAX_HEADER = 14;
/** A close payload is a 2-byte code and then the reason. */
export const MAX_CLOSE_REASON = MAX_CONTROL_PAYLOAD - 2;
