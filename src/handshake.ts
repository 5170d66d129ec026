// The client's opening handshake (RFC 6455 §4.1): the GET request, and an
// incremental parser for the response that is bounded in size and checks
// everything §4.1 says a client MUST check.

import { ERR, type ErrorRow } from "./errors.js";
import { base64Encode } from "./base64.js";
import { utf8Encode, utf8Length } from "./utf8.js";
import { verifyResponse, type AgreedDeflate, type DeflateOffer } from "./permessage-deflate.js";

/** §1.3: the GUID appended to the key before hashing. */
const WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** Handshake response headers larger than this fail with RESPONSE_TOO_LARGE. */
export const MAX_RESPONSE_HEADER_BYTES = 8192;

export interface HandshakeRequest {
  /** The Host header's value (name or bracketed IPv6, with ":port" when not the default). */
  host: string;
  uri: string;
  subprotocols: readonly string[];
  /** Extra headers, already validated; a "Host" among them replaces the default. */
  headers: ReadonlyArray<readonly [string, string]>;
  /** The Sec-WebSocket-Extensions offer (permessage-deflate), if any. */
  extensions?: string;
}

export interface HandshakeFailure {
  error: ErrorRow;
  detail: string;
  httpStatus?: number;
  /** A 3xx's Location (redirect.ts follows it when follow_redirects allows). */
  location?: string;
  /** A 401's WWW-Authenticate, for the error (RFC 9110 §11.6.1). */
  wwwAuthenticate?: string;
}

/** The Sec-WebSocket-Accept value a server must answer to `key`. */
export function acceptFor(key: string, sha1: (data: Uint8Array) => Uint8Array): string {
  return base64Encode(sha1(utf8Encode(key + WEBSOCKET_GUID)));
}

export function buildRequest(req: HandshakeRequest, key: string): Uint8Array {
  const userHost = req.headers.find(([name]) => name.toLowerCase() === "host");
  let text = `GET ${req.uri} HTTP/1.1\r\nHost: ${userHost ? userHost[1] : req.host}\r\n` +
    "Upgrade: websocket\r\nConnection: Upgrade\r\n" +
    `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n`;
  if (req.subprotocols.length > 0) text += `Sec-WebSocket-Protocol: ${req.subprotocols.join(", ")}\r\n`;
  if (req.extensions !== undefined) text += `Sec-WebSocket-Extensions: ${req.extensions}\r\n`;
  for (const [name, value] of req.headers) {
    if (name.toLowerCase() !== "host") text += `${name}: ${value}\r\n`;
  }
  return utf8Encode(text + "\r\n");
}

// Header names and values are checked a character at a time, not with a
// RegExp: every header of every handshake goes through these, and a RegExp
// match leaves its result array (and a copy of the text) for the collector;
// a module's RegExp constant is also what Moddable's XS mishandles
// (pattern.ts). Header text is short: charCodeAt is fine here.
const charCodeAt = String.prototype.charCodeAt;

/** RFC 9110 §5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA. */
const TCHAR_SYMBOLS = "!#$%&'*+-.^_`|~";

function isTchar(c: number): boolean {
  if ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)) return true;
  // Compared as codes: no one-character string made per symbol.
  for (let k = 0; k < TCHAR_SYMBOLS.length; k++) if (charCodeAt.call(TCHAR_SYMBOLS, k) === c) return true;
  return false;
}

export function isToken(text: string): boolean {
  const n = text.length;
  if (n === 0) return false;
  for (let i = 0; i < n; i++) if (!isTchar(charCodeAt.call(text, i))) return false;
  return true;
}

/**
 * RFC 9110 §5.5: field-value = *field-content, field-content = field-vchar
 * [ 1*( SP / HTAB / field-vchar ) field-vchar ], field-vchar = VCHAR /
 * obs-text. So no control character (NUL, CR, LF, \x01, \x0b, DEL ...), and
 * spaces and tabs only between visible characters. Characters above U+007F
 * go out as UTF-8, whose bytes are all obs-text.
 */
export function isFieldValue(text: string): boolean {
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = charCodeAt.call(text, i);
    // field-vchar = VCHAR / obs-text; SP and HTAB only between two of them.
    if ((c >= 0x21 && c <= 0x7e) || c >= 0x80) continue;
    if ((c === 0x20 || c === 0x09) && i > 0 && i < n - 1) continue;
    return false;
  }
  return true;
}

// Where a request line stands, byte by byte (RFC 9112 §3: request-line =
// method SP request-target SP HTTP-version), so that bytes which can no
// longer begin one (garbage, a TLS ClientHello on the plain port) are refused
// at once, as Node's HTTP parser does, not after time_out.
const LINE_START = 0;
const LINE_START_CR = 1;
const IN_METHOD = 2;
const TARGET_START = 3;
const IN_TARGET = 4;
const IN_VERSION = 5;
const LINE_END_CR = 6;
const HTTP_VERSION = "HTTP/0.0";

const TOKEN_SYMBOLS = "!#$%&'*+-.^_`|~";

/** RFC 9110 §5.6.2 tchar: a letter, a digit, or one of TOKEN_SYMBOLS. */
function isTokenByte(b: number): boolean {
  const lower = b | 0x20;
  return (b >= 0x30 && b <= 0x39) || (lower >= 0x61 && lower <= 0x7a) || TOKEN_SYMBOLS.indexOf(String.fromCharCode(b)) >= 0;
}

/**
 * Parses an HTTP/1.1 head (a response's or a request's) a byte run at a
 * time. feed() returns how many bytes belong to the head; what follows them
 * is WebSocket frames. A response's interim 1xx heads are skipped.
 */
export class HeadParser {
  /** The status line or request line, as sent. */
  firstLine = "";
  /** A response's status code (0 for a request). */
  status = 0;
  readonly headers: Array<[string, string]> = [];
  done = false;
  failure: HandshakeFailure | null = null;

  private readonly isResponse: boolean;
  private line = "";
  /** Bytes of head so far, interim responses included: all of it is bounded by MAX_RESPONSE_HEADER_BYTES. */
  private total = 0;
  private sawFirstLine = false;
  /** A request line's progress (LINE_START ... LINE_END_CR), and the bytes of HTTP-version matched. */
  private requestLine = LINE_START;
  private versionAt = 0;

  constructor(kind: "response" | "request") {
    this.isResponse = kind === "response";
  }

  /** Consumes bytes of buf[start, end) up to the end of the head; returns the count consumed. */
  feed(buf: Uint8Array, start: number, end: number): number {
    let i = start;
    while (i < end && !this.done && this.failure === null) {
      let lf = i;
      while (lf < end && buf[lf] !== 0x0a) lf++;
      const stop = lf < end ? lf + 1 : end;
      if (this.total + (stop - i) > MAX_RESPONSE_HEADER_BYTES) {
        this.fail(this.isResponse ? ERR.RESPONSE_TOO_LARGE : ERR.BAD_REQUEST, `more than ${MAX_RESPONSE_HEADER_BYTES} bytes of headers`);
        return stop - start;
      }
      this.total += stop - i;
      const checkRequestLine = !this.isResponse && !this.sawFirstLine;
      for (let k = i; k < lf; k++) {
        this.line += String.fromCharCode(buf[k]);
        if (checkRequestLine && !this.requestLineByte(buf[k])) {
          this.fail(ERR.BAD_REQUEST, `not an HTTP request line: ${JSON.stringify(this.line.slice(0, 60))}`);
          return k + 1 - start;
        }
      }
      i = stop;
      if (lf < end) {
        const line = this.line.endsWith("\r") ? this.line.slice(0, -1) : this.line;
        this.line = "";
        this.takeLine(line);
      }
    }
    return i - start;
  }

  /** All values of a header, by case-insensitive name. */
  values(name: string): string[] {
    return this.headers.filter(([n]) => n.toLowerCase() === name).map(([, v]) => v);
  }

  /** Advances the request line by one byte (the line's LF is not fed); false when it can no longer be one. */
  private requestLineByte(b: number): boolean {
    switch (this.requestLine) {
      case LINE_START:
        // RFC 9112 §2.2: a server SHOULD ignore at least one empty line before the request line.
        if (b === 0x0d) this.requestLine = LINE_START_CR;
        else if (isTokenByte(b)) this.requestLine = IN_METHOD;
        else return false;
        return true;
      case IN_METHOD:
        if (b === 0x20) this.requestLine = TARGET_START;
        else if (!isTokenByte(b)) return false;
        return true;
      case TARGET_START:
      case IN_TARGET:
        // The target is visible ASCII (RFC 9112 §3.2; RFC 3986 percent-encodes everything else).
        if (b === 0x20 && this.requestLine === IN_TARGET) {
          this.requestLine = IN_VERSION;
          this.versionAt = 0;
        } else if (b > 0x20 && b < 0x7f) this.requestLine = IN_TARGET;
        else return false;
        return true;
      case IN_VERSION: {
        // HTTP-version = "HTTP" "/" DIGIT "." DIGIT (RFC 9112 §2.3), then the line's end.
        if (this.versionAt === HTTP_VERSION.length) {
          if (b !== 0x0d) return false;
          this.requestLine = LINE_END_CR;
          return true;
        }
        const want = HTTP_VERSION.charCodeAt(this.versionAt++);
        return want === 0x30 ? b >= 0x30 && b <= 0x39 : b === want;
      }
      default:
        // After a CR only its LF may come, and the LF ends the line before reaching here.
        return false;
    }
  }

  private takeLine(line: string): void {
    const malformed = this.isResponse ? ERR.BAD_RESPONSE : ERR.BAD_REQUEST;
    if (line.includes("\r")) return this.fail(malformed, "a bare CR in the headers");
    if (!this.sawFirstLine) {
      if (!this.isResponse && line === "") {
        this.requestLine = LINE_START;
        return;
      }
      this.sawFirstLine = true;
      this.firstLine = line;
      if (this.isResponse) {
        // §4.1: the response is an HTTP/1.1 status line.
        const match = /^HTTP\/1\.1 (\d\d\d)(?: .*)?$/.exec(line);
        if (match === null) return this.fail(malformed, `not an HTTP/1.1 status line: ${JSON.stringify(line.slice(0, 60))}`);
        this.status = Number(match[1]);
      }
      return;
    }
    if (line === "") {
      if (this.isResponse && this.status >= 100 && this.status <= 199 && this.status !== 101) {
        // RFC 9110 §15.2: a client MUST be able to parse 1xx responses before the final one, and
        // MAY ignore those it did not expect (a 100 Continue, a 102 or 103): what follows is the answer.
        this.sawFirstLine = false;
        this.firstLine = "";
        this.status = 0;
        this.headers.length = 0;
        return;
      }
      this.done = true;
      return;
    }
    const colon = line.indexOf(":");
    const name = colon > 0 ? line.slice(0, colon) : "";
    if (!isToken(name)) return this.fail(malformed, `not a header line: ${JSON.stringify(line.slice(0, 60))}`);
    this.headers.push([name, line.slice(colon + 1).trim()]);
  }

  private fail(error: ErrorRow, detail: string): void {
    this.failure = { error, detail, httpStatus: this.isResponse ? undefined : 400 };
  }
}

/**
 * Applies §4.1's checks to a complete response; returns the failure, or null
 * with the chosen subprotocol ("" for none) in `chosen`.
 */
export function checkResponse(
  response: HeadParser,
  expectedAccept: string,
  offered: readonly string[],
  chosen: { subprotocol: string; deflate: AgreedDeflate | null },
  deflate: DeflateOffer | null = null,
): HandshakeFailure | null {
  if (response.status !== 101) return statusFailure(response);
  const values = (name: string): string[] => response.values(name);

  const upgrade = values("upgrade");
  // §4.1 (2): Upgrade must be an ASCII case-insensitive match for "websocket".
  if (upgrade.length !== 1 || upgrade[0].toLowerCase() !== "websocket") {
    return { error: ERR.BAD_UPGRADE, detail: `Upgrade: ${upgrade.join(", ") || "(missing)"}` };
  }
  // §4.1 (3): Connection must contain the token "Upgrade", case-insensitively.
  const connection = values("connection").join(",").split(",").map((t) => t.trim().toLowerCase());
  if (!connection.includes("upgrade")) {
    return { error: ERR.BAD_CONNECTION, detail: `Connection: ${values("connection").join(", ") || "(missing)"}` };
  }
  // §4.1 (4): Sec-WebSocket-Accept must be base64(SHA-1(key + GUID)).
  const accept = values("sec-websocket-accept");
  if (accept.length !== 1 || accept[0] !== expectedAccept) {
    return { error: ERR.BAD_ACCEPT, detail: `expected ${expectedAccept}, got ${accept.join(", ") || "(missing)"}` };
  }
  // §4.1 (5): an extension in use must be one the client offered (none, or permessage-deflate).
  const extensions = values("sec-websocket-extensions").filter((v) => v !== "");
  if (deflate !== null) {
    // RFC 7692 §7.1: the response is checked parameter by parameter.
    const agreed = verifyResponse(extensions, deflate);
    if (typeof agreed === "string") return { error: ERR.BAD_EXTENSION, detail: `Sec-WebSocket-Extensions: ${extensions.join(", ")}: ${agreed}` };
    chosen.deflate = agreed;
  } else if (extensions.length > 0) {
    return { error: ERR.BAD_EXTENSION, detail: `Sec-WebSocket-Extensions: ${extensions.join(", ")}` };
  }
  // §4.1 (6): a subprotocol must be one the client offered.
  const protocol = values("sec-websocket-protocol");
  if (protocol.length > 1 || (protocol.length === 1 && !offered.includes(protocol[0]))) {
    return { error: ERR.BAD_SUBPROTOCOL, detail: `Sec-WebSocket-Protocol: ${protocol.join(", ")}; offered: ${offered.join(", ") || "(none)"}` };
  }
  // "" (none) is the connection's first value: a field is written only when one was chosen.
  if (protocol.length === 1) chosen.subprotocol = protocol[0];
  return null;
}

/**
 * A response other than 101 (§4.1: "the client handles the response per
 * HTTP procedures"): the status, with what the client may act on kept: a
 * 3xx's Location, a 401's WWW-Authenticate (RFC 9110 §15.5.2: a 401 MUST
 * send one, naming the scheme the server wants).
 */
function statusFailure(response: HeadParser): HandshakeFailure {
  const status = response.status;
  const failure: HandshakeFailure = { error: ERR.HTTP_STATUS, detail: `the server answered ${status}`, httpStatus: status };
  if (status >= 300 && status <= 399) {
    const location = response.values("location");
    if (location.length === 1) {
      failure.location = location[0];
      failure.detail += ` (Location: ${location[0].length > 200 ? location[0].slice(0, 200) + "..." : location[0]})`;
    }
  } else if (status === 401) {
    const challenges = response.values("www-authenticate");
    if (challenges.length > 0) {
      failure.wwwAuthenticate = challenges.join(", ");
      failure.detail += `; WWW-Authenticate: ${failure.wwwAuthenticate}`;
    } else failure.detail += " (no WWW-Authenticate)";
  }
  return failure;
}

/** What a valid upgrade request asked for (RFC 6455 §4.2.1). */
export interface UpgradeRequest {
  resource: string;
  host: string;
  key: string;
  /** Subprotocols the client offered, in its order. */
  subprotocols: string[];
}

/** A refusal: the HTTP status to answer with, and why. */
export interface UpgradeRefusal {
  status: 400 | 426;
  reason: string;
}

/** Applies §4.2.1's checks to a complete request. */
export function checkRequest(request: HeadParser): UpgradeRequest | UpgradeRefusal {
  const match = /^([A-Z]+) (\S+) HTTP\/(\d\.\d)$/.exec(request.firstLine);
  if (match === null) return { status: 400, reason: "not an HTTP request line" };
  // §4.2.1 (1): "An HTTP/1.1 or higher GET request".
  if (match[1] !== "GET") return { status: 400, reason: `the method must be GET, not ${match[1]}` };
  if (match[3] !== "1.1") return { status: 400, reason: "the request must be HTTP/1.1" };
  const one = (name: string): string | null => {
    const v = request.values(name);
    return v.length === 1 ? v[0] : null;
  };
  const host = one("host");
  if (host === null || host === "") return { status: 400, reason: "exactly one Host header is required" };
  const upgrade = one("upgrade");
  if (upgrade === null || upgrade.toLowerCase() !== "websocket") return { status: 400, reason: "Upgrade must be websocket" };
  const connection = request.values("connection").join(",").split(",").map((t) => t.trim().toLowerCase());
  if (!connection.includes("upgrade")) return { status: 400, reason: "Connection must contain Upgrade" };
  // §4.2.2: a version other than 13 is answered 426 with the versions supported.
  if (one("sec-websocket-version") !== "13") return { status: 426, reason: "Sec-WebSocket-Version must be 13" };
  const key = one("sec-websocket-key");
  // §4.2.1 (5): the key is 16 bytes, base64-encoded.
  if (key === null || !/^[A-Za-z0-9+/]{21}[AQgw]==$/.test(key)) return { status: 400, reason: "Sec-WebSocket-Key must be 16 bytes in base64" };
  const offered = request.values("sec-websocket-protocol").join(",").split(",").map((p) => p.trim()).filter((p) => p !== "");
  if (!offered.every(isToken)) return { status: 400, reason: "Sec-WebSocket-Protocol must be a list of tokens" };
  return { resource: match[2], host, key, subprotocols: offered };
}

/** The 101 answer to a valid request. */
export function buildAcceptResponse(accept: string, subprotocol: string): Uint8Array {
  return utf8Encode(
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
      `Sec-WebSocket-Accept: ${accept}\r\n` +
      (subprotocol !== "" ? `Sec-WebSocket-Protocol: ${subprotocol}\r\n` : "") +
      "\r\n",
  );
}

/** The 400 or 426 answer to an invalid request, with the reason as its body. */
export function buildRefusal(refusal: UpgradeRefusal): Uint8Array {
  const body = refusal.reason + "\n";
  // RFC 9110 §8.6: Content-Length counts octets, and the body goes out as UTF-8
  // (the reason may quote request bytes above 0x7F), not UTF-16 units.
  return utf8Encode(
    `HTTP/1.1 ${refusal.status} ${refusal.status === 426 ? "Upgrade Required" : "Bad Request"}\r\n` +
      "Connection: close\r\nContent-Type: text/plain; charset=utf-8\r\n" +
      (refusal.status === 426 ? "Sec-WebSocket-Version: 13\r\n" : "") +
      `Content-Length: ${utf8Length(body)}\r\n\r\n${body}`,
  );
}
