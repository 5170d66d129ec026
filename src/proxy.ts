// An HTTP proxy's tunnel (RFC 9110 §9.3.6, CONNECT): the proxy URL of the
// config, the CONNECT request, and the reading of the proxy's answer,
// bounded in size. The session (session.ts) drives a ProxyTunnel over the
// plain transport to the proxy before the WebSocket handshake; for wss://
// TLS then starts over the tunnel, end to end with the server (Host.startTls).

import type { Failure } from "./connection.js";
import { ERR } from "./errors.js";
import type { ConnectTarget, Transport, TransportFailure } from "./host.js";
import { basicCredentials, checkCredentials, splitUserinfo } from "./basic-auth.js";
import { parseHostname } from "./hostname.js";
import { utf8Encode } from "./utf8.js";
import { Pattern } from "./pattern.js";

/** A proxy's answer with a head longer than this fails the open (the same bound as a handshake response's). */
export const MAX_PROXY_RESPONSE_BYTES = 8192;
/** curl's default proxy port, when the proxy URL names none. */
export const DEFAULT_PROXY_PORT = 1080;

export interface ProxySettings {
  /** What the host connects to: a name or an IP address (IPv6 without brackets). */
  hostname: string;
  port: number;
  /** "host:port" as messages show it (never with the credentials). */
  label: string;
  /** The Proxy-Authorization value (Basic), or null. */
  authorization: string | null;
}

const PROXY_URL = new Pattern(String.raw`^(?:([A-Za-z][A-Za-z0-9+.-]*)://)?(?:([^/?#@\s]*)@)?(\[[0-9A-Fa-f:.]+\]|[^/?#:@\s[\]]+)(?::(\d{1,5}))?/?$`);

/**
 * "http://[user:pass@]host[:port]" (the scheme may be left out, as curl
 * allows; the port defaults to 1080, as curl's does). Returns the settings
 * or a refusal naming `field`, never quoting the credentials.
 */
export function parseProxyUrl(text: unknown, field: string): ProxySettings | string {
  if (typeof text !== "string") return `${field} must be a string: "http://[user:password@]host:port"`;
  const match = PROXY_URL.exec(text);
  if (match === null) return `${field} is not "http://[user:password@]host[:port]"`;
  const scheme = match[1] === undefined ? "http" : match[1].toLowerCase();
  if (scheme !== "http") return `${field}: only http:// proxies are supported (the tunnel is CONNECT over plain TCP), not ${scheme}://`;
  const address = parseHostname(match[3].startsWith("[") ? match[3].slice(1, -1) : match[3]);
  if (address === null) return `${field} does not name a host name or IP address`;
  const port = match[4] === undefined ? DEFAULT_PROXY_PORT : Number(match[4]);
  if (port < 1 || port > 65535) return `${field}'s port must be from 1 to 65535`;
  let authorization: string | null = null;
  if (match[2] !== undefined) {
    const credentials = splitUserinfo(match[2]);
    if (credentials === null) return `${field}'s user:password has a malformed %-escape`;
    const problem = checkCredentials(credentials.username, credentials.password, `${field}'s user`, `${field}'s password`);
    if (problem !== null) return problem;
    authorization = basicCredentials(credentials.username, credentials.password);
  }
  return { hostname: address.connectName, port, label: `${address.uriHost}:${port}`, authorization };
}

/**
 * RFC 9110 §9.3.6: "CONNECT server.example.com:80 HTTP/1.1" with the
 * authority-form target (an IPv6 address in brackets, RFC 9112 §3.2.3) and
 * the same authority in Host; Basic credentials in Proxy-Authorization
 * (RFC 9110 §11.7.2).
 */
export function buildConnectRequest(authority: string, authorization: string | null): Uint8Array {
  let text = `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n`;
  if (authorization !== null) text += `Proxy-Authorization: ${authorization}\r\n`;
  return utf8Encode(text + "\r\n");
}

/** A tunnel's failure; `hungUp` when the proxy closed the connection before it answered (retryable, as EOF during a handshake). */
export interface TunnelFailure extends Failure {
  hungUp?: boolean;
}

/** ProxyTunnel's steps: keep waiting, the tunnel is up, or it failed (see `failure`). */
export const TUNNEL_PENDING = 0;
export const TUNNEL_OPEN = 1;
export const TUNNEL_FAILED = 2;

const STATUS_LINE = new Pattern(String.raw`^HTTP/1\.[01] (\d\d\d)(?: .*)?$`);

/**
 * One CONNECT exchange over the transport to the proxy: the request is
 * written as the transport takes it, the answer read and parsed line by
 * line. The tunnel reads only what the proxy says; the server cannot speak
 * before our handshake (or our TLS ClientHello), so a byte past the proxy's
 * head is a proxy error, never data to keep.
 */
export class ProxyTunnel {
  /** Why the tunnel failed (TUNNEL_FAILED). */
  failure: TunnelFailure | null = null;
  /** The server to reach, as messages name it. */
  readonly target: string;
  readonly proxy: ProxySettings;
  /** wss://: the server TLS starts with over the tunnel once it is up; null for ws://. */
  readonly tls: ConnectTarget | null;
  private readonly request: Uint8Array;
  private written = 0;
  private connected = false;
  private readonly scratch = new Uint8Array(256);
  private line = "";
  private total = 0;
  private status = 0;
  private authenticate = "";
  private done = false;

  constructor(proxy: ProxySettings, authority: string, tls: ConnectTarget | null) {
    this.proxy = proxy;
    this.target = authority;
    this.tls = tls;
    this.request = buildConnectRequest(authority, proxy.authorization);
  }

  /** The transport to the proxy is up: the request goes out. */
  connect(t: Transport): number {
    this.connected = true;
    return this.write(t);
  }

  /** Writes what is left of the request (onConnect, onWritable). */
  write(t: Transport): number {
    if (!this.connected) return TUNNEL_PENDING;
    while (this.written < this.request.length) {
      const n = t.write(this.request.subarray(this.written));
      if (n === 0) return TUNNEL_PENDING;
      this.written += n;
    }
    return TUNNEL_PENDING;
  }

  /** Reads the proxy's answer as far as it has come. */
  read(t: Transport): number {
    for (;;) {
      const n = t.read(this.scratch, 0, this.scratch.length);
      if (n === 0) return TUNNEL_PENDING;
      const step = this.feed(this.scratch, n);
      if (step !== TUNNEL_PENDING) return step;
    }
  }

  /** The proxy closed the connection before the tunnel was up. */
  ended(): number {
    const step = this.fail(ERR.PROXY, `the proxy ${this.proxy.label} closed the connection before answering CONNECT ${this.target}`);
    this.failure!.hungUp = true;
    return step;
  }

  /** A transport failure while talking to the proxy, said to be the proxy's. */
  describe(f: TransportFailure): TransportFailure {
    const label = this.proxy.label;
    // Hosts name where they failed ("host:port: ..."): said once, as the proxy.
    const message = f.message.startsWith(label + ": ") ? f.message.slice(label.length + 2) : f.message;
    return { kind: f.kind, message: `the proxy ${label}: ${message}`, tlsReason: f.tlsReason };
  }

  private feed(buf: Uint8Array, end: number): number {
    for (let i = 0; i < end; i++) {
      if (this.done) return this.fail(ERR.PROXY, `the proxy ${this.proxy.label} sent bytes after its 2xx answer to CONNECT, before the tunnel was used`);
      if (++this.total > MAX_PROXY_RESPONSE_BYTES) return this.fail(ERR.PROXY, `the proxy's answer to CONNECT has more than ${MAX_PROXY_RESPONSE_BYTES} bytes of headers`);
      const b = buf[i];
      if (b !== 0x0a) {
        this.line += String.fromCharCode(b);
        continue;
      }
      const line = this.line.endsWith("\r") ? this.line.slice(0, -1) : this.line;
      this.line = "";
      const step = this.takeLine(line);
      if (step === TUNNEL_FAILED) return step;
    }
    // Every byte read belongs to the head; the tunnel is up once the head ended with nothing after it.
    return this.done ? this.opened() : TUNNEL_PENDING;
  }

  private takeLine(line: string): number {
    if (this.status === 0) {
      const match = STATUS_LINE.exec(line);
      if (match === null) return this.fail(ERR.PROXY, `the proxy ${this.proxy.label} did not answer CONNECT with an HTTP status line: ${JSON.stringify(line.slice(0, 60))}`);
      this.status = Number(match[1]);
      return TUNNEL_PENDING;
    }
    if (line !== "") {
      const colon = line.indexOf(":");
      if (colon > 0 && line.slice(0, colon).toLowerCase() === "proxy-authenticate") this.authenticate = line.slice(colon + 1).trim();
      return TUNNEL_PENDING;
    }
    // RFC 9110 §15.2: interim 1xx answers come before the final one.
    if (this.status < 200) {
      this.status = 0;
      return TUNNEL_PENDING;
    }
    if (this.status >= 300) {
      const status = this.status;
      let detail = `the proxy ${this.proxy.label} answered ${status} to CONNECT ${this.target}`;
      // RFC 9110 §15.5.8: a 407 carries Proxy-Authenticate, the scheme the proxy wants.
      if (status === 407) {
        detail += this.proxy.authorization === null ? " (it wants credentials: http://user:password@host:port)" : " (it refused the credentials)";
        if (this.authenticate !== "") detail += `; Proxy-Authenticate: ${this.authenticate}`;
      }
      return this.fail(ERR.PROXY, detail, status);
    }
    this.done = true;
    return TUNNEL_PENDING;
  }

  private opened(): number {
    return TUNNEL_OPEN;
  }

  private fail(error: typeof ERR.PROXY, detail: string, httpStatus?: number): number {
    this.failure = { error, detail, httpStatus };
    return TUNNEL_FAILED;
  }
}
