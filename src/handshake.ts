// The client's opening handshake (RFC 6455 §4.1): the GET request, and an
// incremental parser for the response that is bounded in size and checks
// everything §4.1 says a client MUST check.

import { ERR, type ErrorRow } from "./errors.js";
import { base64Encode } from "./base64.js";
import { utf8Encode } from "./utf8.js";

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
}

export interface HandshakeFailure {
  error: ErrorRow;
  detail: string;
  httpStatus?: number;
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
  for (const [name, value] of req.headers) {
    if (name.toLowerCase() !== "host") text += `${name}: ${value}\r\n`;
  }
  return utf8Encode(text + "\r\n");
}

const TOKEN_CHARS = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export function isToken(text: string): boolean {
  return TOKEN_CHARS.test(text);
}

/**
 * Parses the response a byte run at a time. feed() returns how many bytes
 * belong to the response; what follows them is WebSocket frames.
 */
export class ResponseParser {
  status = 0;
  readonly headers: Array<[string, string]> = [];
  done = false;
  failure: HandshakeFailure | null = null;

  private line = "";
  private total = 0;

  /** Consumes bytes of buf[start, end) up to the end of the headers; returns the count consumed. */
  feed(buf: Uint8Array, start: number, end: number): number {
    let i = start;
    while (i < end && !this.done && this.failure === null) {
      let lf = i;
      while (lf < end && buf[lf] !== 0x0a) lf++;
      const stop = lf < end ? lf + 1 : end;
      if (this.total + (stop - i) > MAX_RESPONSE_HEADER_BYTES) {
        this.fail(ERR.RESPONSE_TOO_LARGE, `more than ${MAX_RESPONSE_HEADER_BYTES} bytes of headers`);
        return stop - start;
      }
      this.total += stop - i;
      for (let k = i; k < lf; k++) this.line += String.fromCharCode(buf[k]);
      i = stop;
      if (lf < end) {
        const line = this.line.endsWith("\r") ? this.line.slice(0, -1) : this.line;
        this.line = "";
        this.takeLine(line);
      }
    }
    return i - start;
  }

  private takeLine(line: string): void {
    if (line.includes("\r")) return this.fail(ERR.BAD_RESPONSE, "a bare CR in the response headers");
    if (this.status === 0) {
      // §4.1: the response is an HTTP/1.1 status line.
      const match = /^HTTP\/1\.1 (\d\d\d)(?: .*)?$/.exec(line);
      if (match === null) return this.fail(ERR.BAD_RESPONSE, `not an HTTP/1.1 status line: ${JSON.stringify(line.slice(0, 60))}`);
      this.status = Number(match[1]);
      return;
    }
    if (line === "") {
      this.done = true;
      return;
    }
    const colon = line.indexOf(":");
    const name = colon > 0 ? line.slice(0, colon) : "";
    if (!isToken(name)) return this.fail(ERR.BAD_RESPONSE, `not a header line: ${JSON.stringify(line.slice(0, 60))}`);
    this.headers.push([name, line.slice(colon + 1).trim()]);
  }

  private fail(error: ErrorRow, detail: string): void {
    this.failure = { error, detail };
  }
}

/**
 * Applies §4.1's checks to a complete response; returns the failure, or null
 * with the chosen subprotocol ("" for none) in `chosen`.
 */
export function checkResponse(
  response: ResponseParser,
  expectedAccept: string,
  offered: readonly string[],
  chosen: { subprotocol: string },
): HandshakeFailure | null {
  if (response.status !== 101) {
    return { error: ERR.HTTP_STATUS, detail: `the server answered ${response.status}`, httpStatus: response.status };
  }
  const values = (name: string): string[] =>
    response.headers.filter(([n]) => n.toLowerCase() === name).map(([, v]) => v);

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
  // §4.1 (5): no extension was offered, so none may be in use.
  const extensions = values("sec-websocket-extensions").filter((v) => v !== "");
  if (extensions.length > 0) {
    return { error: ERR.BAD_EXTENSION, detail: `Sec-WebSocket-Extensions: ${extensions.join(", ")}` };
  }
  // §4.1 (6): a subprotocol must be one the client offered.
  const protocol = values("sec-websocket-protocol");
  if (protocol.length > 1 || (protocol.length === 1 && !offered.includes(protocol[0]))) {
    return { error: ERR.BAD_SUBPROTOCOL, detail: `Sec-WebSocket-Protocol: ${protocol.join(", ")}; offered: ${offered.join(", ") || "(none)"}` };
  }
  chosen.subprotocol = protocol.length === 1 ? protocol[0] : "";
  return null;
}
