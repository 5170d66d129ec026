// websock_config_t checked and completed with defaults, before anything is
// allocated. Every refusal names the field.
//
// The caller's objects are read once, field by field, into a snapshot of
// plain values, and only the snapshot is used afterwards and handed to the
// host: a getter cannot answer one thing to the check and another to the
// use, and a getter or Proxy that throws becomes a refusal naming the field
// instead of an exception (no websock_* call throws). A key the struct does
// not define is refused rather than ignored: `{ proxies: ... }` or a typo such
// as `ssl_confg` would otherwise open a connection that does not do what the
// caller asked.

import { isFieldValue, isToken } from "./handshake.js";
import { parseHostname, isHostHeaderValue } from "./hostname.js";
import { MIN_RX_BUFFER } from "./receiver.js";
import { MIN_TX_BUFFER } from "./sender.js";
import { utf8Length } from "./utf8.js";
import { DEFAULT_WINDOW_BITS, MIN_OFFER_WINDOW_BITS, type DeflateOffer } from "./permessage-deflate.js";
import { openingFields, type ProxySettings } from "./open-options.js";
import { RECONNECT_DEFAULTS, RECONNECT_OFF, type ReconnectPolicy } from "./reconnect.js";
import type { websock_attach_config_t, websock_config_t, websock_deflate_config_t, websock_handle_t, websock_reconnect_config_t, websock_ssl_config_t } from "./types.js";
import { Pattern } from "./pattern.js";

export const DEFAULTS = Object.freeze({
  time_out: 10000,
  rx_buffer_size: 4096,
  tx_buffer_size: 4096,
  ping_interval: 0,
  pong_timeout: 10000,
  close_timeout: 5000,
  send_timeout: 0,
  fragment_size: 0,
});
/** Buffers larger than this are refused rather than attempted. */
export const MAX_BUFFER_SIZE = 16 * 1024 * 1024;
/** Lists (headers, subprotocols, CAs, ALPN names, pins) longer than this are refused before they are read. */
export const MAX_LIST_LENGTH = 1024;

/** Headers the handshake itself sets; the caller may not set them (Host only once, replacing the default). */
const RESERVED_HEADERS = Object.freeze([
  "upgrade", "connection", "sec-websocket-key", "sec-websocket-version",
  "sec-websocket-accept", "sec-websocket-extensions", "sec-websocket-protocol",
  // The upgrade is a GET without a body (RFC 6455 §4.1): with either of these the
  // server would read the first frames as the request's body.
  "content-length", "transfer-encoding",
]);

/** The fields of each struct: a key that is not here is refused. `satisfies` keeps each list equal to its type. */
type FieldSet<T> = { readonly [K in keyof Required<T>]: true };
const SSL_FIELDS = Object.freeze({
  ca: true, cert: true, key: true, server_name: true, verify: true, alpn: true, min_version: true, pin_sha256: true,
  tls_engine: true,
} satisfies FieldSet<websock_ssl_config_t>);
const ATTACH_FIELDS = Object.freeze({
  time_out: true, hndshk_hdrs: true, num_hndshk_hdrs: true, subprotocols: true, rx_buffer_size: true,
  tx_buffer_size: true, ping_interval: true, pong_timeout: true, close_timeout: true, send_timeout: true,
  fragment_size: true, auto_pong: true, max_message_size: true, rx_buffer: true, tx_buffer: true, raw_mode: true,
  deflate: true,
} satisfies FieldSet<websock_attach_config_t>);
const DEFLATE_FIELDS = Object.freeze({
  server_max_window_bits: true, server_no_context_takeover: true, max_inflated_message: true, compress: true,
} satisfies FieldSet<websock_deflate_config_t>);
const CONFIG_FIELDS = Object.freeze({
  ...ATTACH_FIELDS, hostname: true, port: true, uri: true, secured: true, ssl_config: true,
  proxy: true, follow_redirects: true, username: true, password: true,
  reconnect: true, on_open: true,
} satisfies FieldSet<websock_config_t>);
const RECONNECT_FIELDS = Object.freeze({
  enabled: true, first_delay: true, min_delay: true, max_delay: true, max_attempts: true, max_time: true, stable_after: true,
} satisfies FieldSet<websock_reconnect_config_t>);

export interface ResolvedConfig {
  /** What the host connects to: a host name or an IP address (IPv6 without brackets). */
  hostname: string;
  port: number;
  uri: string;
  secured: boolean;
  /** The snapshot of ssl_config, shape-checked and frozen (the host checks what its TLS can honour). */
  ssl: websock_ssl_config_t;
  timeOut: number;
  headers: Array<[string, string]>;
  subprotocols: string[];
  rxBufferSize: number;
  txBufferSize: number;
  /** The caller's buffers, when given (fresh views of the caller's memory): nothing is allocated for them. */
  rxBuffer: Uint8Array | null;
  txBuffer: Uint8Array | null;
  rawMode: boolean;
  pingInterval: number;
  pongTimeout: number;
  closeTimeout: number;
  /** ms a send may make no progress before the connection is dropped (0: no limit). */
  sendTimeout: number;
  /** Longer messages go out as frames of at most this many bytes (0: one frame per message). */
  fragmentSize: number;
  autoPong: boolean;
  maxMessageSize: number;
  /** The Host header's value. */
  hostHeader: string;
  /** permessage-deflate to offer; null: none. */
  deflate: DeflateOffer | null;
  /** The HTTP proxy to tunnel through (proxy.ts), or null. */
  proxy: ProxySettings | null;
  /** How many redirects websock_open follows (0: none). */
  followRedirects: number;
  /** The Authorization value from username/password (Basic), or null. */
  authorization: string | null;
  /** websock_open only (RECONNECT_OFF otherwise). */
  reconnect: ReconnectPolicy;
  onOpen: ((h: websock_handle_t) => unknown) | null;
}

export type ConfigResult = { ok: true; config: ResolvedConfig } | { ok: false; message: string };

type Snapshot = Record<string, unknown>;

function refuse(message: string): ConfigResult {
  return { ok: false, message };
}

/** websock_open's config. */
export function resolveConfig(cfg: websock_config_t | null | undefined): ConfigResult {
  const snapshot = readStruct(cfg, CONFIG_FIELDS, "cfg", "", "websock_config_t");
  return typeof snapshot === "string" ? refuse(snapshot) : resolveSnapshot(snapshot, false);
}

/**
 * websock_attach_*'s config (absent: all defaults), with the request target
 * given apart (websock_attach_client's resource). Reads `cfg` itself, so a
 * hostile object is refused here rather than throwing where it is spread.
 */
export function resolveAttachConfig(cfg: websock_attach_config_t | undefined, resource?: string): ConfigResult {
  const snapshot = cfg === undefined ? {} : readStruct(cfg, ATTACH_FIELDS, "cfg", "", "websock_attach_config_t");
  if (typeof snapshot === "string") return refuse(snapshot);
  if (resource !== undefined) snapshot.uri = resource;
  return resolveSnapshot(snapshot, true);
}

function resolveSnapshot(f: Snapshot, attached: boolean): ConfigResult {
  const hostname = attached ? "localhost" : f.hostname;
  if (hostname === undefined || hostname === "") return refuse("hostname is missing");
  if (typeof hostname !== "string") return refuse("hostname must be a string (a host name or IP address)");
  // Checked here, not left to DNS: a name no resolver can look up is the caller's mistake, not a connect error.
  const address = parseHostname(hostname);
  if (address === null) return refuse(`hostname is not a host name or IP address: ${quote(hostname)}`);
  const secured = f.secured === undefined ? false : f.secured;
  if (typeof secured !== "boolean") return refuse("secured must be a boolean");
  const port = f.port === undefined ? (secured ? 443 : 80) : f.port;
  if (!isWholeNumber(port, 1, 65535)) return refuse("port must be an integer from 1 to 65535");
  const uri = f.uri === undefined ? "/" : f.uri;
  if (typeof uri !== "string" || !uri.startsWith("/") || !isPrintable(uri)) {
    return refuse("uri must start with \"/\" and contain no spaces or control characters");
  }

  const numbers: Array<[keyof typeof DEFAULTS, number, number]> = [
    ["time_out", 1, 0x7fffffff],
    ["rx_buffer_size", MIN_RX_BUFFER, MAX_BUFFER_SIZE],
    ["tx_buffer_size", MIN_TX_BUFFER, MAX_BUFFER_SIZE],
    ["ping_interval", 0, 0x7fffffff],
    ["pong_timeout", 1, 0x7fffffff],
    ["close_timeout", 1, 0x7fffffff],
    ["send_timeout", 0, 0x7fffffff],
    ["fragment_size", 0, MAX_BUFFER_SIZE],
  ];
  const n = {} as Record<keyof typeof DEFAULTS, number>;
  for (const [field, min, max] of numbers) {
    const value = f[field] === undefined ? DEFAULTS[field] : f[field];
    if (!isWholeNumber(value, min, max)) return refuse(`${field} must be an integer from ${min} to ${max}`);
    n[field] = value;
  }
  const maxMessageSize = f.max_message_size === undefined ? 0 : f.max_message_size;
  if (!isWholeNumber(maxMessageSize, 0, Number.MAX_SAFE_INTEGER)) return refuse("max_message_size must be a non-negative integer");
  const autoPong = f.auto_pong === undefined ? true : f.auto_pong;
  if (typeof autoPong !== "boolean") return refuse("auto_pong must be a boolean");
  const rawMode = f.raw_mode === undefined ? false : f.raw_mode;
  if (typeof rawMode !== "boolean") return refuse("raw_mode must be a boolean");

  const rxBuffer = callerBuffer(f.rx_buffer, "rx_buffer", MIN_RX_BUFFER);
  if (typeof rxBuffer === "string") return refuse(rxBuffer);
  const txBuffer = callerBuffer(f.tx_buffer, "tx_buffer", MIN_TX_BUFFER);
  if (typeof txBuffer === "string") return refuse(txBuffer);
  // Sends would overwrite received data not yet read: any shared byte is refused, disjoint views of one buffer are fine.
  if (rxBuffer !== null && txBuffer !== null && rxBuffer.buffer === txBuffer.buffer &&
    rxBuffer.byteOffset < txBuffer.byteOffset + txBuffer.length && txBuffer.byteOffset < rxBuffer.byteOffset + rxBuffer.length) {
    return refuse("rx_buffer and tx_buffer overlap (views of one ArrayBuffer sharing bytes): they must not share memory");
  }

  const headers = resolveHeaders(f.hndshk_hdrs, f.num_hndshk_hdrs);
  if (typeof headers === "string") return refuse(headers);

  const subprotocols = resolveSubprotocols(f.subprotocols);
  if (typeof subprotocols === "string") return refuse(subprotocols);

  const ssl = resolveSsl(f.ssl_config);
  if (typeof ssl === "string") return refuse(ssl);

  const deflate = resolveDeflate(f.deflate);
  if (typeof deflate === "string") return refuse(deflate);
  if (deflate !== null && rawMode) return refuse("deflate and raw_mode exclude each other: raw mode has no frames to compress");
  const opening = openingFields(f, headers);
  if (typeof opening === "string") return refuse(opening);
  const reconnect = resolveReconnect(f.reconnect);
  if (typeof reconnect === "string") return refuse(reconnect);
  const onOpen = f.on_open === undefined ? null : f.on_open;
  if (onOpen !== null && typeof onOpen !== "function") return refuse("on_open must be a function (h) => void");

  const defaultPort = secured ? 443 : 80;
  return {
    ok: true,
    config: {
      ...opening,
      hostname: address.connectName,
      port,
      uri,
      secured,
      ssl,
      timeOut: n.time_out,
      headers,
      subprotocols,
      rxBufferSize: rxBuffer?.length ?? n.rx_buffer_size,
      txBufferSize: txBuffer?.length ?? n.tx_buffer_size,
      rxBuffer,
      txBuffer,
      rawMode,
      pingInterval: n.ping_interval,
      pongTimeout: n.pong_timeout,
      closeTimeout: n.close_timeout,
      sendTimeout: n.send_timeout,
      fragmentSize: n.fragment_size,
      autoPong,
      maxMessageSize,
      hostHeader: port === defaultPort ? address.uriHost : `${address.uriHost}:${port}`,
      deflate,
      reconnect,
      onOpen: onOpen as ((h: websock_handle_t) => unknown) | null,
    },
  };
}

/** Splits "Key:value" handshake headers; returns them, or a refusal naming the header. */
function resolveHeaders(listValue: unknown, countValue: unknown): Array<[string, string]> | string {
  if (listValue === undefined) {
    if (countValue !== undefined && countValue !== 0) return "num_hndshk_hdrs is set without hndshk_hdrs";
    return [];
  }
  const list = readList(listValue, "hndshk_hdrs", "a list of \"Key:value\" strings", "num_hndshk_hdrs", countValue);
  if (typeof list === "string") return list;
  const headers: Array<[string, string]> = [];
  let host = false;
  for (let i = 0; i < list.length; i++) {
    const header = list[i];
    if (typeof header !== "string") return `hndshk_hdrs[${i}] is not a string`;
    // A CR or LF would let a header value inject headers (or a body) into the request.
    if (/[\r\n\0]/.test(header)) return `hndshk_hdrs[${i}] contains CR, LF or NUL`;
    const colon = header.indexOf(":");
    const name = colon > 0 ? trimWhitespace(header.slice(0, colon)) : "";
    if (!isToken(name)) return `hndshk_hdrs[${i}] is not "Key:value": ${quote(header)}`;
    const value = trimWhitespace(header.slice(colon + 1));
    if (!isFieldValue(value)) {
      return `hndshk_hdrs[${i}] holds a character no header value may (RFC 9110 §5.5: visible characters, spaces and tabs between them): ${quote(header)}`;
    }
    const lower = name.toLowerCase();
    if (RESERVED_HEADERS.includes(lower)) return `hndshk_hdrs[${i}] sets ${name}, which the handshake sets itself`;
    if (lower === "host") {
      // RFC 9110 §7.2: exactly one Host, and a client sends it with the target's host; it replaces the default.
      if (host) return `hndshk_hdrs[${i}] is a second Host header (a request has exactly one)`;
      if (value === "") return `hndshk_hdrs[${i}] is an empty Host header`;
      if (!isHostHeaderValue(value)) return `hndshk_hdrs[${i}] is not a Host value (host or IP address, optionally ":port"): ${quote(header)}`;
      host = true;
    }
    headers.push([name, value]);
  }
  return headers;
}

function resolveSubprotocols(value: unknown): string[] | string {
  if (value === undefined) return [];
  const what = "a list of tokens (no spaces, commas or control characters)";
  const list = readList(value, "subprotocols", what);
  if (typeof list === "string") return list;
  for (let i = 0; i < list.length; i++) {
    const p = list[i];
    if (typeof p !== "string" || !isToken(p)) return `subprotocols must be ${what}; subprotocols[${i}] is not one`;
    if (list.indexOf(p) !== i) return "subprotocols lists a protocol twice";
  }
  return list as string[];
}

/** reconnect: absent is off; given, it is on unless enabled is false. */
function resolveReconnect(value: unknown): ReconnectPolicy | string {
  if (value === undefined) return RECONNECT_OFF;
  const f = readStruct(value, RECONNECT_FIELDS, "reconnect", "reconnect.", "websock_reconnect_config_t");
  if (typeof f === "string") return f;
  const enabled = f.enabled === undefined ? true : f.enabled;
  if (typeof enabled !== "boolean") return "reconnect.enabled must be a boolean";
  const n = {} as Record<keyof typeof RECONNECT_DEFAULTS, number>;
  for (const field of Object.keys(RECONNECT_DEFAULTS) as Array<keyof typeof RECONNECT_DEFAULTS>) {
    const v = f[field] === undefined ? RECONNECT_DEFAULTS[field] : f[field];
    const max = 0x7fffffff;
    if (!isWholeNumber(v, 0, max)) return `reconnect.${field} must be an integer from 0 to ${max}`;
    n[field] = v;
  }
  if (n.max_delay < n.min_delay) return "reconnect.max_delay must be at least reconnect.min_delay";
  return Object.freeze({
    enabled,
    firstDelay: n.first_delay,
    minDelay: n.min_delay,
    maxDelay: n.max_delay,
    maxAttempts: n.max_attempts,
    maxTime: n.max_time,
    stableAfter: n.stable_after,
  });
}

const NO_SSL: websock_ssl_config_t = Object.freeze({});
const VERSIONS: readonly string[] = Object.freeze(["TLSv1.2", "TLSv1.3"]);
const PIN = new Pattern(String.raw`^[A-Za-z0-9+/]{43}=$`);

/**
 * The shape of ssl_config, the same on every host: types, values, and
 * cert/key given together. What a host's TLS can honour (certificate
 * formats, several CAs, TLS 1.3, pins ...) is its checkSsl's business.
 */
/** websock_deflate_config_t: the offer, or null when absent. */
function resolveDeflate(value: unknown): DeflateOffer | string | null {
  if (value === undefined) return null;
  const f = readStruct(value, DEFLATE_FIELDS, "deflate", "deflate.", "websock_deflate_config_t");
  if (typeof f === "string") return f;
  const bits = f.server_max_window_bits === undefined ? DEFAULT_WINDOW_BITS : f.server_max_window_bits;
  if (bits === 8) {
    // permessage-deflate.ts: zlib servers cannot compress with an 8-bit window.
    return "deflate.server_max_window_bits is 8, which zlib-based servers cannot honour (their smallest raw window is 9): use 9 to 15";
  }
  if (!isWholeNumber(bits, MIN_OFFER_WINDOW_BITS, DEFAULT_WINDOW_BITS)) return "deflate.server_max_window_bits must be an integer from 9 to 15";
  const noContext = f.server_no_context_takeover === undefined ? false : f.server_no_context_takeover;
  if (typeof noContext !== "boolean") return "deflate.server_no_context_takeover must be a boolean";
  const max = f.max_inflated_message === undefined ? 0 : f.max_inflated_message;
  if (!isWholeNumber(max, 0, Number.MAX_SAFE_INTEGER)) return "deflate.max_inflated_message must be a non-negative integer";
  const compress = f.compress === undefined ? false : f.compress;
  if (typeof compress !== "boolean") return "deflate.compress must be a boolean";
  return { serverMaxWindowBits: bits, serverNoContextTakeover: noContext, maxInflatedMessage: max, compress };
}

function resolveSsl(value: unknown): websock_ssl_config_t | string {
  if (value === undefined) return NO_SSL;
  const f = readStruct(value, SSL_FIELDS, "ssl_config", "ssl_config.", "websock_ssl_config_t");
  if (typeof f === "string") return f;
  const ssl: websock_ssl_config_t = {};

  if (f.ca !== undefined) {
    const single = pemOrDer(f.ca);
    if (single !== null) {
      if (single.length === 0) return "ssl_config.ca is empty";
      ssl.ca = single;
    } else {
      const list = readList(f.ca, "ssl_config.ca", "PEM text, DER bytes, or a list of either");
      if (typeof list === "string") return list;
      if (list.length === 0) return "ssl_config.ca is an empty list (omit it to use the default CAs)";
      const cas: Array<string | Uint8Array> = [];
      for (let i = 0; i < list.length; i++) {
        const ca = pemOrDer(list[i]);
        if (ca === null) return `ssl_config.ca[${i}] must be PEM text or DER bytes`;
        if (ca.length === 0) return `ssl_config.ca[${i}] is empty`;
        cas.push(ca);
      }
      ssl.ca = Object.freeze(cas) as Array<string | Uint8Array>;
    }
  }
  for (const field of ["cert", "key"] as const) {
    if (f[field] === undefined) continue;
    const item = pemOrDer(f[field]);
    if (item === null) return `ssl_config.${field} must be PEM text or DER bytes`;
    if (item.length === 0) return `ssl_config.${field} is empty`;
    ssl[field] = item;
  }
  // Mutual TLS needs both: a certificate proves nothing without its key, and a key alone has nothing to prove.
  if (ssl.key !== undefined && ssl.cert === undefined) return "ssl_config.key is set without ssl_config.cert";
  if (ssl.cert !== undefined && ssl.key === undefined) return "ssl_config.cert is set without ssl_config.key";

  if (f.server_name !== undefined) {
    const name = typeof f.server_name === "string" ? parseHostname(f.server_name) : null;
    if (name === null) return "ssl_config.server_name must be a host name or IP address";
    ssl.server_name = name.connectName;
  }
  if (f.verify !== undefined) {
    if (typeof f.verify !== "boolean") return "ssl_config.verify must be a boolean";
    ssl.verify = f.verify;
  }
  if (f.alpn !== undefined) {
    const what = "a list of protocol names (1 to 255 bytes each)";
    const list = readList(f.alpn, "ssl_config.alpn", what);
    if (typeof list === "string") return list;
    // RFC 7301 §3.1: a ProtocolName is 1 to 255 bytes.
    for (const p of list) if (typeof p !== "string" || p === "" || utf8Length(p) > 255) return `ssl_config.alpn must be ${what}`;
    ssl.alpn = Object.freeze(list) as string[];
  }
  if (f.min_version !== undefined) {
    if (typeof f.min_version !== "string" || !VERSIONS.includes(f.min_version)) return "ssl_config.min_version must be \"TLSv1.2\" or \"TLSv1.3\"";
    ssl.min_version = f.min_version as "TLSv1.2" | "TLSv1.3";
  }
  if (f.pin_sha256 !== undefined) {
    const what = "a list of base64 SHA-256 hashes (44 characters each)";
    const list = readList(f.pin_sha256, "ssl_config.pin_sha256", what);
    if (typeof list === "string") return list;
    for (const p of list) if (typeof p !== "string" || !PIN.test(p)) return `ssl_config.pin_sha256 must be ${what}`;
    // An empty list would pin nothing, or refuse everything: either way not what was meant.
    if (list.length === 0) return "ssl_config.pin_sha256 is empty (omit it to not pin)";
    ssl.pin_sha256 = Object.freeze(list) as string[];
  }
  if (f.tls_engine !== undefined) {
    if (f.tls_engine !== "mbedtls" && f.tls_engine !== "moddable") return "ssl_config.tls_engine must be \"mbedtls\" or \"moddable\"";
    ssl.tls_engine = f.tls_engine;
  }
  return Object.freeze(ssl);
}

/** PEM text as given, or DER bytes as a fresh view of them; null when `value` is neither. */
function pemOrDer(value: unknown): string | Uint8Array | null {
  return typeof value === "string" ? value : ownView(value);
}

// ---- reading the caller's objects ----

/**
 * Reads the fields of one struct, each exactly once (inherited getters
 * included), after checking that every own key is one of `fields`. Returns
 * the snapshot, or a refusal naming the key or the field that threw.
 */
function readStruct(value: unknown, fields: object, name: string, prefix: string, type: string): Snapshot | string {
  let keys: string[];
  try {
    if (value === null || typeof value !== "object" || Array.isArray(value)) return `${name} must be a ${type} object`;
    keys = Object.keys(value);
  } catch (e) {
    return `${name} could not be read: ${thrownText(e)}`;
  }
  for (const key of keys) {
    if (!Object.hasOwn(fields, key)) return `${prefix}${key} is not a field of ${type}`;
  }
  const snapshot: Snapshot = {};
  for (const key of Object.keys(fields)) {
    let field: unknown;
    try {
      field = (value as Snapshot)[key];
    } catch (e) {
      return `${prefix}${key} could not be read: ${thrownText(e)}`;
    }
    if (field !== undefined) snapshot[key] = field;
  }
  return snapshot;
}

/**
 * A fresh array of the list's entries, each read once: all of them, or the
 * first `count` when a count field is given (the C API's num_hndshk_hdrs).
 */
function readList(value: unknown, field: string, what: string, countField?: string, count?: unknown): unknown[] | string {
  let length: unknown;
  try {
    if (!Array.isArray(value)) return `${field} must be ${what}`;
    length = value.length;
  } catch (e) {
    return `${field} could not be read: ${thrownText(e)}`;
  }
  if (!isWholeNumber(length, 0, 0xffffffff)) return `${field} must be ${what}`;
  let take = length;
  if (countField !== undefined && count !== undefined) {
    if (!isWholeNumber(count, 0, length)) return `${countField} must be an integer from 0 to ${length} (the length of ${field})`;
    take = count;
  }
  if (take > MAX_LIST_LENGTH) return `${field} has ${take} entries; at most ${MAX_LIST_LENGTH} are accepted`;
  const out: unknown[] = [];
  for (let i = 0; i < take; i++) {
    try {
      out.push((value as unknown[])[i]);
    } catch (e) {
      return `${field}[${i}] could not be read: ${thrownText(e)}`;
    }
  }
  return out;
}

// The intrinsic accessors of typed arrays: unlike `value.length`, neither own
// properties nor a Proxy can make them lie (they throw for anything that is not
// a typed array). Not the Symbol.toStringTag accessor: nothing names it, so a
// Moddable build strips it as dead code, and calling it aborts the VM.
const TYPED_ARRAY_PROTOTYPE = Object.getPrototypeOf(Uint8Array.prototype) as object;
function intrinsicGetter(key: string | symbol): (this: unknown) => unknown {
  return Object.getOwnPropertyDescriptor(TYPED_ARRAY_PROTOTYPE, key)!.get! as (this: unknown) => unknown;
}
const typedArrayBuffer = intrinsicGetter("buffer");
const typedArrayOffset = intrinsicGetter("byteOffset");
const typedArrayLength = intrinsicGetter("byteLength");

/** A fresh Uint8Array over the same bytes as `value`, when it is a genuine Uint8Array (a Node Buffer is); else null. */
function ownView(value: unknown): Uint8Array | null {
  // instanceof picks Uint8Array (a Node Buffer is one) among the typed arrays; the getters
  // below throw for anything that only claims its prototype (a Proxy, Object.create).
  try {
    if (!(value instanceof Uint8Array)) return null;
    return new Uint8Array(typedArrayBuffer.call(value) as ArrayBuffer, typedArrayOffset.call(value) as number, typedArrayLength.call(value) as number);
  } catch {
    return null; // a Proxy's trap threw, not a typed array after all, or a detached buffer
  }
}

/** The caller's rx_buffer or tx_buffer as a view of its memory, null when absent, or a refusal. */
function callerBuffer(value: unknown, field: string, min: number): Uint8Array | null | string {
  if (value === undefined) return null;
  const view = ownView(value);
  if (view === null || view.length < min || view.length > MAX_BUFFER_SIZE) return `${field} must be a Uint8Array of ${min} to ${MAX_BUFFER_SIZE} bytes`;
  return view;
}

// ---- small helpers ----

function isWholeNumber(value: unknown, min: number, max: number): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= min && value <= max;
}

/** Whether `text` is free of spaces and control characters (CR and LF above all). */
function isPrintable(text: string): boolean {
  return /^[\x21-\x7e\u0080-\uffff]+$/.test(text);
}

/** RFC 9110 §5.6.3: OWS is spaces and tabs, and only those (String.prototype.trim would take \v and more). */
function trimWhitespace(text: string): string {
  return text.replace(/^[ \t]+|[ \t]+$/g, "");
}

/** Text quoted for a message, cut to a readable length. */
function quote(text: string): string {
  return JSON.stringify(text.length > 80 ? text.slice(0, 80) + "..." : text);
}

/** What an exception said, without letting a hostile one throw again. */
function thrownText(e: unknown): string {
  try {
    const text: unknown = e instanceof Error ? e.message : String(e);
    return typeof text === "string" ? text.slice(0, 200) : "an exception";
  } catch {
    return "an exception";
  }
}
