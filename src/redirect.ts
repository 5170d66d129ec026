// Following a handshake's redirect (RFC 6455 §4.1: "the server might
// redirect the client using a 3xx status code (but clients are not required
// to follow them)"). Opt-in with follow_redirects (how many); each hop is a
// new connection made by websock_open before it returns a handle. Here: which
// statuses are followed, the Location resolved against the current URL
// (RFC 9110 §10.2.2, RFC 3986 §5), the scheme rules and what is dropped when
// the host changes.

import type { ResolvedConfig } from "./config.js";
import type { Failure } from "./connection.js";
import { ERR } from "./errors.js";
import { parseHostname } from "./hostname.js";
import { websock_parse_url } from "./url.js";

/** RFC 9110 §15.4: the redirects whose Location names the resource elsewhere (300, 304 and 305 are not followed). */
const FOLLOWED = Object.freeze([301, 302, 303, 307, 308]);

/** Whether a handshake answered with `status` is a redirect websock follows (when follow_redirects allows). */
export function isFollowedRedirect(status: number): boolean {
  return FOLLOWED.indexOf(status) >= 0;
}

/** The URL a config connects to, as websock_get_info reports it (no credentials). */
export function urlOf(c: Pick<ResolvedConfig, "hostname" | "port" | "uri" | "secured">): string {
  const host = parseHostname(c.hostname)?.uriHost ?? c.hostname;
  const defaultPort = c.secured ? 443 : 80;
  return `${c.secured ? "wss" : "ws"}://${host}${c.port === defaultPort ? "" : `:${c.port}`}${c.uri}`;
}

/**
 * The config of the next hop: `from` with the target of `location`, or the
 * failure that stops here. `followed` redirects were followed before this
 * one. The caller's credentials (username/password, an Authorization header)
 * and its Host header go only to the host they were given for: a hop to
 * another host or port drops them (so a server cannot send them elsewhere).
 */
export function nextHop(from: ResolvedConfig, status: number, location: string | undefined, followed: number): ResolvedConfig | Failure {
  const fail = (detail: string): Failure => ({ error: ERR.REDIRECT, detail, httpStatus: status });
  if (followed >= from.followRedirects) {
    return fail(`the server answered ${status} again after ${followed} redirects (follow_redirects is ${from.followRedirects})`);
  }
  // RFC 9110 §10.2.2: a 3xx redirect carries the new target in Location.
  if (location === undefined || location === "") return fail(`the server answered ${status} without a Location`);
  const target = resolveLocation(urlOf(from), location);
  if (typeof target === "string") return fail(target);
  // Downgrading would send on in the clear what the caller asked to protect.
  if (from.secured && !target.secured) return fail(`the server redirected wss:// to ws:// (${location}): refused, it would drop TLS`);
  const sameHost = target.hostname.toLowerCase() === from.hostname.toLowerCase() && target.port === from.port;
  const address = parseHostname(target.hostname)!;
  const defaultPort = target.secured ? 443 : 80;
  return {
    ...from,
    hostname: address.connectName,
    port: target.port!,
    uri: target.uri!,
    secured: target.secured!,
    hostHeader: target.port === defaultPort ? address.uriHost : `${address.uriHost}:${target.port}`,
    headers: sameHost ? from.headers : from.headers.filter(([name]) => !CREDENTIAL_HEADERS.includes(name.toLowerCase())),
    authorization: sameHost ? from.authorization : null,
    // A server_name was given for the first host; another host is verified against its own name.
    ssl: sameHost || from.ssl.server_name === undefined ? from.ssl : withoutServerName(from.ssl),
  };
}

/** Headers only the host they were meant for may see: the caller's Host names that host, Authorization and Cookie prove who it is there. */
const CREDENTIAL_HEADERS = Object.freeze(["authorization", "cookie", "host"]);

function withoutServerName(ssl: ResolvedConfig["ssl"]): ResolvedConfig["ssl"] {
  const copy = { ...ssl };
  delete copy.server_name;
  return Object.freeze(copy);
}

type Target = NonNullable<ReturnType<typeof websock_parse_url>>;

/**
 * Location resolved against `base` (a ws:// or wss:// URL): absolute
 * (ws, wss, or http/https, taken as ws/wss: RFC 6455 §3 maps them so),
 * scheme-relative ("//host/path"), absolute-path or relative. The fragment is
 * dropped (§3: a WebSocket URI has none). A string says why not.
 */
export function resolveLocation(base: string, location: string): Target | string {
  let ref = location.trim();
  const hash = ref.indexOf("#");
  if (hash >= 0) ref = ref.slice(0, hash);
  if (/[\s\x00-\x1f\x7f]/.test(ref)) return `the Location ${quote(location)} contains spaces or control characters`;
  const baseMatch = /^(wss?):\/\/([^/?]*)([^?]*)(\?.*)?$/.exec(base)!;
  const baseScheme = baseMatch[1];
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(ref)?.[1]?.toLowerCase();
  let absolute: string;
  if (scheme !== undefined) {
    const mapped = scheme === "http" ? "ws" : scheme === "https" ? "wss" : scheme;
    if (mapped !== "ws" && mapped !== "wss") return `the Location ${quote(location)} is not a ws://, wss://, http:// or https:// URL`;
    absolute = mapped + ref.slice(scheme.length);
  } else if (ref.startsWith("//")) {
    absolute = `${baseScheme}:${ref}`;
  } else {
    const authority = `${baseScheme}://${baseMatch[2]}`;
    if (ref.startsWith("/")) absolute = authority + removeDotSegments(ref);
    else if (ref === "") absolute = base;
    else if (ref.startsWith("?")) absolute = authority + baseMatch[3] + ref;
    else {
      // RFC 3986 §5.2.3: merge with the base path up to its last "/".
      const basePath = baseMatch[3] === "" ? "/" : baseMatch[3];
      absolute = authority + removeDotSegments(basePath.slice(0, basePath.lastIndexOf("/") + 1) + ref);
    }
  }
  if (/^wss?:\/\/[^/?]*@/i.test(absolute)) return `the Location ${quote(location)} carries credentials (user@): not followed`;
  const target = websock_parse_url(absolute);
  if (target === null) return `the Location ${quote(location)} is not a valid URL`;
  return target;
}

/** RFC 3986 §5.2.4, on a path with its query: "." and ".." segments removed. */
function removeDotSegments(pathAndQuery: string): string {
  const q = pathAndQuery.indexOf("?");
  const path = q < 0 ? pathAndQuery : pathAndQuery.slice(0, q);
  const query = q < 0 ? "" : pathAndQuery.slice(q);
  const out: string[] = [];
  const segments = path.split("/");
  for (let i = 1; i < segments.length; i++) {
    const s = segments[i];
    const last = i === segments.length - 1;
    if (s === ".") {
      if (last) out.push("");
    } else if (s === "..") {
      if (out.length > 0) out.pop();
      if (last) out.push("");
    } else out.push(s);
  }
  return "/" + out.join("/") + query;
}

function quote(text: string): string {
  return JSON.stringify(text.length > 80 ? text.slice(0, 80) + "..." : text);
}
