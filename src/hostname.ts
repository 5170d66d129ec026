// The syntax of what websock connects to: a host name, an IPv4 address or an
// IPv6 address (RFC 3986 §3.2.2), and the Host header built from it (RFC 9110
// §7.2). Checked before anything reaches DNS, so a name no resolver could
// look up is an INVALID_ARG naming the field, not a connect error.

import { Pattern } from "./pattern.js";

/** RFC 3986 §3.2.2 dec-octet: no leading zeros (inet_aton would read "010" as octal). */
const DEC_OCTET = "(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";
const IPV4 = new Pattern(`^${DEC_OCTET}\\.${DEC_OCTET}\\.${DEC_OCTET}\\.${DEC_OCTET}$`);
/**
 * A DNS label (RFC 1123 §2.1: letters, digits, hyphens, not at either end),
 * plus "_", which names in use carry (service and container names).
 */
const LABEL = new Pattern(String.raw`^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$`);
const HEX_GROUP = new Pattern(String.raw`^[0-9A-Fa-f]{1,4}$`);
/** RFC 6874: ZoneID = 1*( unreserved / pct-encoded ). */
const ZONE_ID = new Pattern(String.raw`^(?:[A-Za-z0-9._~-]|%[0-9A-Fa-f]{2})+$`);
/** RFC 3986 §3.2.2 reg-name: 1*( unreserved / pct-encoded / sub-delims ). */
const REG_NAME = new Pattern(String.raw`^(?:[A-Za-z0-9._~!$&'()*+,;=-]|%[0-9A-Fa-f]{2})+$`);

export function isIPv4(text: string): boolean {
  return IPV4.test(text);
}

/** RFC 4291 §2.2: eight groups of 1-4 hex digits, one "::" for a run of zeros, the last 32 bits optionally dotted. */
export function isIPv6(text: string): boolean {
  const halves = text.split("::");
  if (halves.length > 2) return false;
  const head = halves[0] === "" ? [] : halves[0].split(":");
  const tail = halves.length === 2 && halves[1] !== "" ? halves[1].split(":") : [];
  const groups = head.concat(tail);
  let count = 0;
  for (let i = 0; i < groups.length; i++) {
    const group = groups[i];
    if (HEX_GROUP.test(group)) count += 1;
    // The dotted form is the last 32 bits, so only the very last group.
    else if (i === groups.length - 1 && (halves.length === 1 || tail.length > 0) && isIPv4(group)) count += 2;
    else return false;
  }
  return halves.length === 2 ? count <= 7 : count === 8;
}

/** A DNS name of labels, at most 253 characters (a trailing dot allowed), whose last label is not all digits. */
export function isHostName(text: string): boolean {
  const name = text.endsWith(".") ? text.slice(0, -1) : text;
  if (name === "" || name.length > 253) return false;
  const labels = name.split(".");
  for (const label of labels) if (!LABEL.test(label)) return false;
  // RFC 1123 §2.1: a top-level label is never all-numeric, so such a name is an IPv4 address or nothing
  // (resolvers would read "1.2.3" or "300.1.1.1" as numbers).
  return !/^[0-9]+$/.test(labels[labels.length - 1]);
}

export interface Address {
  /** What the host connects to: the name, or the address without brackets (an IPv6 zone kept). */
  connectName: string;
  /** The address as a Host header's uri-host: IPv6 in brackets, its zone's "%" as "%25" (RFC 6874). */
  uriHost: string;
}

/**
 * `hostname` as given in websock_config_t: a host name, an IPv4 address, an
 * IPv6 address (with or without brackets, with an optional "%zone"); null
 * when it is none of them.
 */
export function parseHostname(hostname: string): Address | null {
  if (isIPv4(hostname) || isHostName(hostname)) return { connectName: hostname, uriHost: hostname };
  const inner = hostname.startsWith("[") && hostname.endsWith("]") ? hostname.slice(1, -1) : hostname;
  const percent = inner.indexOf("%");
  const address = percent < 0 ? inner : inner.slice(0, percent);
  const zone = percent < 0 ? "" : inner.slice(percent + 1);
  if (!isIPv6(address) || (percent >= 0 && !ZONE_ID.test(zone))) return null;
  return { connectName: inner, uriHost: `[${address}${percent < 0 ? "" : "%25" + zone}]` };
}

/**
 * A Host header's value (RFC 9110 §7.2: uri-host [ ":" port ]): a reg-name,
 * an IPv4 address or a bracketed IPv6 address, and an optional port.
 */
export function isHostHeaderValue(text: string): boolean {
  const match = /^(\[[^\]]*\]|[^[\]:]+)(?::([0-9]{0,5}))?$/.exec(text);
  if (match === null) return false;
  const port = match[2];
  if (port !== undefined && port !== "" && Number(port) > 65535) return false;
  const host = match[1];
  if (!host.startsWith("[")) return REG_NAME.test(host);
  const inner = host.slice(1, -1);
  const zone = inner.indexOf("%25");
  if (zone < 0) return isIPv6(inner);
  return isIPv6(inner.slice(0, zone)) && ZONE_ID.test(inner.slice(zone + 3));
}
