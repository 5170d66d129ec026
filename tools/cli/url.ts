// The URL on the command line, checked piece by piece so that each problem
// gets its own message (websock_parse_url only says yes or no), and its
// user:password@ taken out for --auth. RFC 6455 §3: ws-URI = "ws:" "//" host
// [ ":" port ] path [ "?" query ], and no fragment.

import { websock_parse_url } from "websock-rfc6455";

export type Target = NonNullable<ReturnType<typeof websock_parse_url>>;

export type UrlResult = { ok: true; target: Target; userinfo: string | undefined } | { ok: false; message: string };

const refuse = (message: string): UrlResult => ({ ok: false, message });

export function parseCliUrl(url: string): UrlResult {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined) return refuse(`${JSON.stringify(url)} has no ws:// or wss:// in front (try ws://${url})`);
  if (scheme === "http" || scheme === "https") return refuse(`${scheme}:// is not a WebSocket URL: use ${scheme === "http" ? "ws" : "wss"}://${url.slice(scheme.length + 3)}`);
  if (scheme !== "ws" && scheme !== "wss") return refuse(`${scheme}:// is not a WebSocket URL: use ws:// or wss://`);

  const space = /[\s\x00-\x1f\x7f]/.exec(url);
  if (space !== null) {
    const what = space[0] === " " ? "a space" : `a control character (0x${space[0].charCodeAt(0).toString(16).padStart(2, "0")})`;
    return refuse(`the URL has ${what} at character ${space.index + 1}: write it percent-encoded (a space is %20)`);
  }
  const hash = url.indexOf("#");
  if (hash >= 0) return refuse(`the URL has a fragment (${url.slice(hash)}): WebSocket URLs cannot have one (RFC 6455 §3); remove it`);

  const rest = url.slice(scheme.length + 3);
  const authorityEnd = rest.search(/[/?]/);
  let authority = authorityEnd < 0 ? rest : rest.slice(0, authorityEnd);
  const pathAndQuery = authorityEnd < 0 ? "" : rest.slice(authorityEnd);

  let userinfo: string | undefined;
  const at = authority.lastIndexOf("@");
  if (at >= 0) {
    userinfo = authority.slice(0, at);
    authority = authority.slice(at + 1);
  }

  let host: string;
  let portText: string | undefined;
  if (authority.startsWith("[")) {
    const close = authority.indexOf("]");
    if (close < 0) return refuse(`the IPv6 address in the URL has no closing "]": ${authority}`);
    host = authority.slice(0, close + 1);
    const after = authority.slice(close + 1);
    if (after !== "" && !after.startsWith(":")) return refuse(`unexpected ${JSON.stringify(after)} after the IPv6 address`);
    portText = after === "" ? undefined : after.slice(1);
  } else {
    const colon = authority.indexOf(":");
    host = colon < 0 ? authority : authority.slice(0, colon);
    portText = colon < 0 ? undefined : authority.slice(colon + 1);
  }
  if (host === "" || host === "[]") return refuse(`the URL has no host name: ${url}`);
  if (portText !== undefined) {
    if (!/^\d+$/.test(portText)) return refuse(`the port must be a number, not ${JSON.stringify(portText)}`);
    const port = Number(portText);
    if (port < 1 || port > 65535) return refuse(`port ${portText} is out of range (1 to 65535)`);
  }

  const target = websock_parse_url(`${scheme}://${host}${portText !== undefined ? `:${portText}` : ""}${pathAndQuery}`);
  if (target === null) return refuse(`not a valid ${scheme}:// URL: ${url}`);
  return { ok: true, target, userinfo };
}
