// HTTP Basic credentials (RFC 7617), for the handshake's Authorization and a
// proxy's Proxy-Authorization. The credentials go into the header value and
// nowhere else: no message, refusal or log line ever quotes them.

import { base64Encode } from "./base64.js";
import { utf8Encode } from "./utf8.js";
import { Pattern } from "./pattern.js";

/**
 * RFC 7617 §2: user-id and password MUST NOT contain control characters,
 * and the user-id MUST NOT contain a colon (the colon ends it).
 */
const CONTROL = new Pattern(String.raw`[\x00-\x1f\x7f]`);

/** Why `username` / `password` cannot be sent, with the field named but never its value; null when they can. */
export function checkCredentials(username: unknown, password: unknown, userField: string, passwordField: string): string | null {
  if (typeof username !== "string") return `${userField} must be a string`;
  if (typeof password !== "string") return `${passwordField} must be a string`;
  if (username.includes(":")) return `${userField} contains a colon, which Basic authentication cannot carry in a user-id (RFC 7617 §2)`;
  if (CONTROL.test(username)) return `${userField} contains a control character (RFC 7617 §2)`;
  if (CONTROL.test(password)) return `${passwordField} contains a control character (RFC 7617 §2)`;
  return null;
}

/** The header value "Basic base64(user-id ":" password)", the pair encoded as UTF-8 (RFC 7617 §2.1, charset="UTF-8"). */
export function basicCredentials(username: string, password: string): string {
  return "Basic " + base64Encode(utf8Encode(username + ":" + password));
}

/**
 * The user and password of a URL's userinfo ("user:pass", each
 * percent-encoded, RFC 3986 §3.2.1); null when an escape is malformed.
 */
export function splitUserinfo(userinfo: string): { username: string; password: string } | null {
  const colon = userinfo.indexOf(":");
  try {
    return {
      username: decodeURIComponent(colon < 0 ? userinfo : userinfo.slice(0, colon)),
      password: colon < 0 ? "" : decodeURIComponent(userinfo.slice(colon + 1)),
    };
  } catch {
    return null;
  }
}
