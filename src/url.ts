// ws:// and wss:// URLs to websock_config_t fields (XS has no URL class).

import { splitUserinfo } from "./basic-auth.js";
import type { websock_config_t } from "./types.js";
import { Pattern } from "./pattern.js";

// RFC 3986 §3.2.1: userinfo = *( unreserved / pct-encoded / sub-delims / ":" ).
const WS_URL = new Pattern(String.raw`^(wss?)://(?:([A-Za-z0-9\-._~!$&'()*+,;=:%]*)@)?(\[[0-9A-Fa-f:.]+\]|[^/?#:@\s[\]]+)(?::(\d{1,5}))?([/?][^\s#]*)?$`, "i");

export type websock_url_t = Pick<websock_config_t, "hostname" | "port" | "uri" | "secured" | "username" | "password">;

/**
 * Parses "ws://[user:password@]host[:port][/path][?query]"; returns null when
 * it is not such a URL. A user:password@ (percent-decoded) becomes username
 * and password: HTTP Basic credentials for the handshake (RFC 7617).
 */
export function websock_parse_url(url: string): websock_url_t | null {
  if (typeof url !== "string") return null;
  const match = WS_URL.exec(url);
  if (match === null) return null;
  const secured = match[1].toLowerCase() === "wss";
  const host = match[3];
  const port = match[4] === undefined ? (secured ? 443 : 80) : Number(match[4]);
  if (port < 1 || port > 65535) return null;
  let uri = match[5] ?? "/";
  if (uri.startsWith("?")) uri = "/" + uri;
  const parsed: websock_url_t = { hostname: host.startsWith("[") ? host.slice(1, -1) : host, port, uri, secured };
  if (match[2] !== undefined) {
    const credentials = splitUserinfo(match[2]);
    if (credentials === null) return null;
    parsed.username = credentials.username;
    parsed.password = credentials.password;
  }
  return parsed;
}
