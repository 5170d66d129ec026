// How one hop of websock_open is reached: its handshake request, whether the
// host can connect as it asks, and the first transport: straight to the
// server, or to the HTTP proxy with the CONNECT tunnel (proxy.ts) armed on
// the session. websock_open's first connection and its redirects
// (websock.ts) and every reconnect attempt (reconnector.ts) dial through
// here, so an attempt goes exactly where the first connection went.

import type { ResolvedConfig } from "./config.js";
import type { Failure } from "./connection.js";
import { ERR } from "./errors.js";
import type { HandshakeRequest } from "./handshake.js";
import type { ConnectTarget, Host, Transport } from "./host.js";
import { parseHostname } from "./hostname.js";
import { ProxyTunnel } from "./proxy.js";
import { isFollowedRedirect, nextHop } from "./redirect.js";
import type { Session } from "./session.js";

const NO_SSL = Object.freeze({});

/** The opening handshake's request of a hop, with the Authorization made from username/password. */
export function requestOf(config: ResolvedConfig): HandshakeRequest {
  const headers = config.authorization === null ? config.headers : [...config.headers, ["Authorization", config.authorization] as const];
  return { host: config.hostHeader, uri: config.uri, subprotocols: config.subprotocols, headers };
}

/** Why `host` cannot connect as `config` asks (a failure to report), or null. */
export function hopProblem(host: Host, config: ResolvedConfig): Failure | null {
  if (!config.secured) return null;
  const sslProblem = host.checkSsl(config.ssl);
  if (sslProblem !== null) return { error: ERR.INVALID_ARG, detail: sslProblem };
  if (config.proxy !== null && host.startTls === undefined) {
    return { error: ERR.UNSUPPORTED, detail: "wss:// through a proxy needs TLS over the proxy's tunnel, which this host's TLS cannot do (ws:// through a proxy works)" };
  }
  return null;
}

/**
 * Where an attempt that ended with `failure` goes next, having followed
 * `followed` redirects to reach `hop`: null when the failure is not a
 * redirect this hop follows (RFC 9110 §15.4; follow_redirects); the next hop;
 * or, for a redirect that cannot be followed (too many, wss:// to ws://, no
 * usable Location, a hop this host cannot dial), the failure to report.
 * websock_open's loop and the reconnector's attempts both decide here.
 */
export function redirectHop(host: Host, hop: ResolvedConfig, failure: Failure, followed: number): ResolvedConfig | Failure | null {
  if (failure.error !== ERR.HTTP_STATUS || hop.followRedirects === 0 || !isFollowedRedirect(failure.httpStatus ?? 0)) return null;
  const next = nextHop(hop, failure.httpStatus!, failure.location, followed);
  if ("error" in next) return next;
  return hopProblem(host, next) ?? next;
}

/** The server a hop reaches, as the host connects to it (directly, or with TLS over the tunnel). */
export function serverOf(config: ResolvedConfig): ConnectTarget {
  return { hostname: config.hostname, port: config.port, secured: config.secured, ssl: config.ssl };
}

/**
 * What the host connects to first for `config`: the server, or its proxy.
 * Through a proxy, `s.tunnel` is set to the CONNECT exchange that runs on
 * that transport before anything else; straight, it is cleared (a tunnel an
 * earlier attempt left when its time ran out must not catch this one's bytes).
 * `server` is serverOf(config), when the caller keeps it.
 */
export function armHop(config: ResolvedConfig, s: Session, server: ConnectTarget = serverOf(config)): ConnectTarget {
  const proxy = config.proxy;
  if (proxy === null) {
    // Written only when set: on an idle connection an unwritten cold field costs no slot.
    if (s.tunnel !== null) s.tunnel = null;
    return server;
  }
  const authority = `${parseHostname(config.hostname)?.uriHost ?? config.hostname}:${config.port}`;
  s.tunnel = new ProxyTunnel(proxy, authority, config.secured ? server : null);
  return { hostname: proxy.hostname, port: proxy.port, secured: false, ssl: NO_SSL };
}

/** The transport of a hop's first connection: straight to the server, or to the proxy with the tunnel armed. */
export function connectHop(host: Host, config: ResolvedConfig, s: Session): Transport {
  return host.connect(armHop(config, s), s);
}
