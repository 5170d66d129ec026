// The texts the UTF-8 writer tests send (utf8-writer.xs-test.ts), made the
// same way inside XS (xs-utf8-entry.ts) and in Node, which encodes each with
// its TextEncoder for the bytes the server must have received. Pure ES2022.

export interface TextCase {
  what: string;
  text: string;
  /** websock_send_text's len (UTF-16 units); absent: the whole text. */
  len?: number;
}

/** The tx buffer of the connection they go through: pieces of at most this, less the frame header. */
export const TX_BUFFER = 256;

// Made at run time in XS too: joined from halves, not parsed as one literal.
const HIGH = String.fromCharCode(0xd83d);
const LOW = String.fromCharCode(0xde00);

/** 1, 2, 3 and 4 bytes, a NUL, and both lone halves: one of each kind of character. */
const MIXED = `a\u00e9\u20ac\u{1F600}\u0000z${HIGH}.${LOW}\u00ff`;

export function textCases(): TextCase[] {
  const cases: TextCase[] = [
    { what: "ASCII", text: "hello from XS through the native writer" },
    { what: "2-byte characters", text: "\u00e0\u00e9\u00ee\u00f5\u00fc \u00df \u0444" },
    { what: "3-byte characters", text: "\u20ac \u2713 \u65e5\u672c\u8a9e \uffee" },
    { what: "4-byte characters", text: "\u{1F600}\u{1F680}\u{10348}\u{10FFFF}\u{10000}" },
    { what: "U+0000", text: "\u0000" },
    { what: "U+0000 among others", text: "a\u0000b\u0000\u00e9\u0000" },
    { what: "a lone high surrogate", text: HIGH },
    { what: "a lone low surrogate", text: LOW },
    { what: "lone surrogates among others", text: `x${HIGH}y${LOW}z${LOW}${HIGH}` },
    { what: "a pair joined at run time", text: HIGH + LOW },
    { what: "a pair from String.fromCharCode", text: String.fromCharCode(0xd83d, 0xde00) },
    { what: "a pair cut by len", text: "ab\u{1F600}cd", len: 3 },
    { what: "a pair cut by len at the start", text: "\u{1F600}", len: 1 },
    { what: "len short of a 3-byte character", text: "\u20ac\u20ac\u20ac", len: 2 },
    { what: "the empty string", text: "" },
    { what: "mixed", text: MIXED },
  ];
  // Every place a tx piece can end: k ASCII bytes first, then characters of every width for more than two buffers.
  const tail = MIXED.repeat(Math.ceil((2 * TX_BUFFER) / MIXED.length) + 1);
  for (let k = 0; k < TX_BUFFER; k++) cases.push({ what: `${k} ASCII then mixed`, text: "x".repeat(k) + tail });
  // Far larger than the tx buffer, cut by len in the middle of a pair.
  const big = `${"\u{1F600}\u00e9".repeat(20000)}${"q".repeat(5000)}${"\u20ac".repeat(20000)}`;
  cases.push({ what: "100 KiB of text", text: big });
  cases.push({ what: "100 KiB cut by len inside a pair", text: big, len: 40001 });
  return cases;
}
