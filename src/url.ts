// ws:// and wss:// URLs to websock_config_t fields (XS has no URL class).

import type { websock_config_t } from "./types.js";

const WS_URL = /^(wss?):\/\/(\[[0-9A-Fa-f:.]+\]|[^/?#:@\s[\]]+)(?::(\d{1,5}))?([/?][^\s#]*)?$/i;

/** Parses "ws://host[:port][/path][?query]"; returns null when it is not such a URL. */
export function websock_parse_url(url: string): Pick<websock_config_t, "hostname" | "port" | "uri" | "secured"> | null {
  if (typeof url !== "string") return null;
  const match = WS_URL.exec(url);
  if (match === null) return null;
  const secured = match[1].toLowerCase() === "wss";
  const host = match[2];
  const port = match[3] === undefined ? (secured ? 443 : 80) : Number(match[3]);
  if (port < 1 || port > 65535) return null;
  let uri = match[4] ?? "/";
  if (uri.startsWith("?")) uri = "/" + uri;
  return { hostname: host.startsWith("[") ? host.slice(1, -1) : host, port, uri, secured };
}
