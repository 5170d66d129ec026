// The command line's options as a websock_config_t: the URL split, seconds
// made milliseconds, PEM files read. A refusal is one line naming the option.

import { readFileSync } from "node:fs";
import type { websock_config_t, websock_ssl_config_t } from "websock-rfc6455";
import type { CliOptions } from "./args.js";
import { chooseProxy } from "./proxy-env.js";
import { parseCliUrl } from "./url.js";

/** Receive and transmit buffers: one websock_recv returns at most this much of a frame. */
export const BUFFER_SIZE = 64 * 1024;

export type ConfigResult = { ok: true; config: websock_config_t } | { ok: false; message: string };

function readPem(option: string, file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new Error(`${option} ${file}: ${err.code === "ENOENT" ? "no such file" : err.message}`);
  }
}

const ms = (s: number | undefined): number | undefined => (s === undefined ? undefined : Math.max(1, Math.round(s * 1000)));

/**
 * The credentials of --auth user:password, or of a user:password@ in the URL,
 * for the library's username/password (RFC 7617 Basic: it drops them on a
 * redirect to another host).
 */
function basicAuth(o: CliOptions, userinfo: string | undefined): { username?: string; password?: string; message?: string } {
  if (o.auth !== undefined && userinfo !== undefined) return { message: "--auth and a user:password@ in the URL: give only one" };
  let credentials = o.auth;
  if (userinfo !== undefined) {
    try {
      credentials = userinfo.split(":").map(decodeURIComponent).join(":");
    } catch {
      return { message: `the user:password@ in the URL has a bad %-escape: ${userinfo}` };
    }
  }
  if (credentials === undefined) return {};
  if (!credentials.includes(":")) return { message: `${o.auth !== undefined ? "--auth" : "the URL's user@"} needs user:password (a colon between them)` };
  const colon = credentials.indexOf(":");
  return { username: credentials.slice(0, colon), password: credentials.slice(colon + 1) };
}

export function buildConfig(o: CliOptions): ConfigResult {
  const url = parseCliUrl(o.url);
  if (!url.ok) return { ok: false, message: url.message };
  const target = url.target;
  const auth = basicAuth(o, url.userinfo);
  if (auth.message !== undefined) return { ok: false, message: auth.message };
  const headers = [...o.headers];
  if (o.origin !== undefined) headers.push(`Origin: ${o.origin}`);

  const tlsOptions: Array<[string, boolean]> = [
    ["--cacert", o.cacert.length > 0],
    ["--cert", o.cert !== undefined],
    ["--key", o.key !== undefined],
    ["--servername", o.servername !== undefined],
    ["--pin-sha256", o.pins.length > 0],
    ["--insecure", o.insecure],
  ];
  const tlsGiven = tlsOptions.filter(([, given]) => given).map(([name]) => name);
  // A TLS option on a ws:// URL would give a false sense of security: refuse it.
  if (!target.secured && tlsGiven.length > 0) return { ok: false, message: `${tlsGiven.join(", ")} needs a wss:// URL (this one is ws://)` };
  if ((o.cert === undefined) !== (o.key === undefined)) return { ok: false, message: "--cert and --key go together (a client certificate and its private key)" };

  const config: websock_config_t = {
    ...target,
    rx_buffer_size: BUFFER_SIZE,
    tx_buffer_size: BUFFER_SIZE,
    hndshk_hdrs: headers,
    subprotocols: o.subprotocols,
    // Pings reach the CLI, which answers them itself, so that -v and -P can show both.
    auto_pong: false,
  };
  if (auth.username !== undefined) {
    config.username = auth.username;
    config.password = auth.password;
  }
  const proxy = chooseProxy(o.proxy, o.noproxy, target.hostname, target.secured === true, process.env);
  if (proxy !== undefined) config.proxy = proxy;
  if (o.location) config.follow_redirects = o.maxRedirs;
  if (o.timeout !== undefined) config.time_out = ms(o.timeout);
  if (o.pingInterval !== undefined) config.ping_interval = ms(o.pingInterval);
  if (o.pongTimeout !== undefined) config.pong_timeout = ms(o.pongTimeout);
  if (o.closeTimeout !== undefined) config.close_timeout = ms(o.closeTimeout);
  // The library's defaults: a first delay of 0-5 s, then 1 s doubling to 60 s, no limit (Ctrl-C stops it).
  if (o.reconnect) config.reconnect = {};

  if (target.secured) {
    const ssl: websock_ssl_config_t = {};
    try {
      if (o.cacert.length > 0) ssl.ca = o.cacert.map((file) => readPem("--cacert", file));
      if (o.cert !== undefined) ssl.cert = readPem("--cert", o.cert);
      if (o.key !== undefined) ssl.key = readPem("--key", o.key);
    } catch (e) {
      return { ok: false, message: (e as Error).message };
    }
    if (o.servername !== undefined) ssl.server_name = o.servername;
    // curl writes pins "sha256//BASE64"; the library wants the base64 alone.
    if (o.pins.length > 0) ssl.pin_sha256 = o.pins.map((p) => p.replace(/^sha256\/\/?/, ""));
    if (o.insecure) ssl.verify = false;
    config.ssl_config = ssl;
  }
  return { ok: true, config };
}

/** The library names config fields; the user typed options. */
const FIELD_TO_OPTION: ReadonlyArray<readonly [RegExp, string]> = Object.freeze([
  [/ssl_config\.ca(\[\d+\])?/, "--cacert"],
  [/ssl_config\.cert/, "--cert"],
  [/ssl_config\.key/, "--key"],
  [/ssl_config\.server_name/, "--servername"],
  [/ssl_config\.pin_sha256/, "--pin-sha256"],
  [/hndshk_hdrs\[\d+\]/, "-H"],
  [/subprotocols/, "--subprotocol"],
  [/time_out/, "--timeout"],
  [/ping_interval/, "--ping-interval"],
  [/pong_timeout/, "--pong-timeout"],
  [/close_timeout/, "--close-timeout"],
  [/^proxy\b/, "--proxy (or the *_proxy environment variable)"],
  [/^username\b/, "--auth's user"],
  [/^password\b/, "--auth's password"],
] as const);

/** Rewrites a config refusal from websock_open in the words of the command line. */
export function inOptionTerms(message: string): string {
  let m = message.replace(/^invalid argument: /, "");
  for (const [field, option] of FIELD_TO_OPTION) m = m.replace(field, option);
  return m;
}
