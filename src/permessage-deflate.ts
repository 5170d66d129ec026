// permessage-deflate (RFC 7692) negotiation, client side: the offer this
// client makes, and the checks of §7.1 on the server's answer.
//
// The client asks for what a small device can afford: a bounded server
// window (server_max_window_bits) and, if it likes, no context takeover on
// the server's side; it sends uncompressed unless the host can compress
// (§6: "an endpoint MAY send a message without compression"), so it offers
// client_max_window_bits only when it will compress.

/** The client's offer, from websock_config_t.deflate (checked by config.ts). */
export interface DeflateOffer {
  /** 9..15: the largest LZ77 window the server may use, and the size of the inflate window. */
  serverMaxWindowBits: number;
  serverNoContextTakeover: boolean;
  /** An inflated message longer than this fails with 1009 (0: no limit). */
  maxInflatedMessage: number;
  /** Offer client_max_window_bits: the host will compress what this side sends. */
  compress: boolean;
}

/** What both sides agreed (websock_get_info shows it). */
export interface AgreedDeflate {
  serverMaxWindowBits: number;
  serverNoContextTakeover: boolean;
  clientMaxWindowBits: number;
  clientNoContextTakeover: boolean;
}

export const EXTENSION_NAME = "permessage-deflate";
/** §7.1.2: window bits are 8..15; 15 (32 KiB) when not negotiated. */
export const DEFAULT_WINDOW_BITS = 15;
/**
 * The smallest window this client asks for. §7.1.2.1 allows 8, but zlib
 * (which most servers compress with: ws, python-websockets, nginx ...) cannot
 * make a raw deflate stream with an 8-bit window (deflateInit2 refuses it,
 * and for the zlib format silently uses 9), so a server asked for 8 either
 * fails or answers 9, which §7.1.2.1 would make us refuse. config.ts refuses 8.
 */
export const MIN_OFFER_WINDOW_BITS = 9;

/** The Sec-WebSocket-Extensions value of the offer. */
export function buildOffer(offer: DeflateOffer): string {
  let text = EXTENSION_NAME;
  // §7.1.2.1: without it the server may use a window of up to 32 KiB.
  if (offer.serverMaxWindowBits < DEFAULT_WINDOW_BITS) text += `; server_max_window_bits=${offer.serverMaxWindowBits}`;
  if (offer.serverNoContextTakeover) text += "; server_no_context_takeover";
  // §7.1.2.2: the server may then limit our window; offered only when we compress.
  if (offer.compress) text += "; client_max_window_bits";
  return text;
}

/**
 * §7.1: checks the response's Sec-WebSocket-Extensions values against the
 * offer. Returns what was agreed, null when the server declined (no
 * extension: §7.1 "the server may decline"), or the reason to fail the
 * connection as a string.
 */
export function verifyResponse(values: readonly string[], offer: DeflateOffer): AgreedDeflate | null | string {
  const text = values.join(",");
  if (text.trim() === "") return null;
  const extensions = splitOutsideQuotes(text, ",");
  if (extensions === null) return `an unterminated quoted string: ${text}`;
  const present = extensions.filter((e) => e.trim() !== "");
  // RFC 6455 §9.1: the server answers with (at most) the one extension offered.
  if (present.length !== 1) return `the server answered ${present.length} extensions; permessage-deflate alone was offered`;
  const parts = splitOutsideQuotes(present[0], ";")!;
  const name = parts[0].trim();
  if (name.toLowerCase() !== EXTENSION_NAME) return `the server chose "${name}", which was not offered`;
  const agreed: AgreedDeflate = {
    serverMaxWindowBits: DEFAULT_WINDOW_BITS,
    serverNoContextTakeover: false,
    clientMaxWindowBits: DEFAULT_WINDOW_BITS,
    clientNoContextTakeover: false,
  };
  const seen: string[] = [];
  for (let i = 1; i < parts.length; i++) {
    const param = parts[i].trim();
    const eq = param.indexOf("=");
    const key = (eq < 0 ? param : param.slice(0, eq)).trim().toLowerCase();
    const value = eq < 0 ? null : unquote(param.slice(eq + 1).trim());
    // §7.1: "a response ... with multiple parameters with the same name" is refused.
    if (seen.includes(key)) return `the parameter ${key} appears twice`;
    seen.push(key);
    switch (key) {
      case "server_no_context_takeover":
      case "client_no_context_takeover":
        // §7.1.1.1, §7.1.1.2: these parameters have no value.
        if (value !== null) return `${key} has a value (${value}); it takes none`;
        if (key === "server_no_context_takeover") agreed.serverNoContextTakeover = true;
        else agreed.clientNoContextTakeover = true;
        break;
      case "server_max_window_bits": {
        const bits = windowBits(value);
        if (bits === 0) return `server_max_window_bits must be an integer from 8 to 15, not ${value ?? "(no value)"}`;
        // §7.1.2.1: the server accepts with "the same or smaller value as the offer".
        if (bits > offer.serverMaxWindowBits) return `server_max_window_bits=${bits} is larger than the ${offer.serverMaxWindowBits} offered`;
        agreed.serverMaxWindowBits = bits;
        break;
      }
      case "client_max_window_bits": {
        // §7.1.2.2: "MUST NOT include" it unless the offer had it; in a response it has a value.
        if (!offer.compress) return "client_max_window_bits was not offered";
        const bits = windowBits(value);
        if (bits === 0) return `client_max_window_bits must be an integer from 8 to 15, not ${value ?? "(no value)"}`;
        agreed.clientMaxWindowBits = bits;
        break;
      }
      default:
        return `an unknown parameter: ${param}`;
    }
  }
  // §7.1.2.1: a server that accepts server_max_window_bits answers it; without it, it could use 32 KiB.
  if (offer.serverMaxWindowBits < DEFAULT_WINDOW_BITS && !seen.includes("server_max_window_bits")) {
    return `server_max_window_bits=${offer.serverMaxWindowBits} was asked and the response does not limit the window`;
  }
  // server_no_context_takeover asked for is a requirement of ours, not a hint: §7.1.1.1 lets the
  // server add it, not drop it; a server that drops it would keep a context we do not expect.
  if (offer.serverNoContextTakeover && !agreed.serverNoContextTakeover) {
    return "server_no_context_takeover was asked and the response does not include it";
  }
  return agreed;
}

/** §7.1.2.1: 1*DIGIT, "8" to "15", no leading zero; 0 when not. */
function windowBits(value: string | null): number {
  if (value === null || !/^[1-9][0-9]?$/.test(value)) return 0;
  const bits = Number(value);
  return bits >= 8 && bits <= 15 ? bits : 0;
}

/** A quoted-string's content (RFC 7230 §3.2.6, with \-escapes), or the token as it is. */
function unquote(value: string): string {
  if (value.length < 2 || value[0] !== "\"" || value[value.length - 1] !== "\"") return value;
  return value.slice(1, -1).replace(/\\(.)/g, "$1");
}

/** Splits at `sep` outside quoted strings; null when a quote is not closed. */
function splitOutsideQuotes(text: string, sep: string): string[] | null {
  const parts: string[] = [];
  let from = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === "\\") i++;
      else if (c === "\"") quoted = false;
    } else if (c === "\"") {
      quoted = true;
    } else if (c === sep) {
      parts.push(text.slice(from, i));
      from = i + 1;
    }
  }
  if (quoted) return null;
  parts.push(text.slice(from));
  return parts;
}
