// websock_config_t checked and completed with defaults, before anything is
// allocated. Every refusal names the field.

import { isToken } from "./handshake.js";
import { MIN_RX_BUFFER } from "./receiver.js";
import { MIN_TX_BUFFER } from "./sender.js";
import type { websock_config_t, websock_ssl_config_t } from "./types.js";

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

/** Headers the handshake itself sets; the caller may not override them. */
const RESERVED_HEADERS = Object.freeze([
  "upgrade", "connection", "sec-websocket-key", "sec-websocket-version",
  "sec-websocket-accept", "sec-websocket-extensions", "sec-websocket-protocol",
]);

export interface ResolvedConfig {
  hostname: string;
  port: number;
  uri: string;
  secured: boolean;
  ssl: websock_ssl_config_t;
  timeOut: number;
  headers: Array<[string, string]>;
  subprotocols: string[];
  rxBufferSize: number;
  txBufferSize: number;
  /** The caller's buffers, when given: nothing is allocated for them. */
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
}

export type ConfigResult = { ok: true; config: ResolvedConfig } | { ok: false; message: string };

function refuse(message: string): ConfigResult {
  return { ok: false, message };
}

function isWholeNumber(value: unknown, min: number, max: number): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= min && value <= max;
}

/** Whether `text` is free of spaces and control characters (CR and LF above all). */
function isPrintable(text: string): boolean {
  return /^[\x21-\x7e\u0080-\uffff]+$/.test(text);
}

/** `attached`: for websock_attach_*, where the stream exists and there is no address to check. */
export function resolveConfig(cfg: websock_config_t | null | undefined, attached = false): ConfigResult {
  if (cfg === null || typeof cfg !== "object") return refuse("cfg must be a websock_config_t object");
  const hostname = attached && cfg.hostname === undefined ? "localhost" : cfg.hostname;
  if (typeof hostname !== "string" || hostname === "") return refuse("hostname is missing");
  if (!isPrintable(hostname) || /[/?#@]/.test(hostname)) return refuse(`hostname is not a host name or IP address: ${JSON.stringify(hostname)}`);
  const secured = cfg.secured === undefined ? false : cfg.secured;
  if (typeof secured !== "boolean") return refuse("secured must be a boolean");
  const port = cfg.port === undefined ? (secured ? 443 : 80) : cfg.port;
  if (!isWholeNumber(port, 1, 65535)) return refuse("port must be an integer from 1 to 65535");
  const uri = cfg.uri === undefined ? "/" : cfg.uri;
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
    const value = cfg[field] === undefined ? DEFAULTS[field] : cfg[field];
    if (!isWholeNumber(value, min, max)) return refuse(`${field} must be an integer from ${min} to ${max}`);
    n[field] = value;
  }
  const maxMessageSize = cfg.max_message_size === undefined ? 0 : cfg.max_message_size;
  if (!isWholeNumber(maxMessageSize, 0, Number.MAX_SAFE_INTEGER)) return refuse("max_message_size must be a non-negative integer");
  const autoPong = cfg.auto_pong === undefined ? true : cfg.auto_pong;
  if (typeof autoPong !== "boolean") return refuse("auto_pong must be a boolean");
  const rawMode = cfg.raw_mode === undefined ? false : cfg.raw_mode;
  if (typeof rawMode !== "boolean") return refuse("raw_mode must be a boolean");
  for (const [field, min] of [["rx_buffer", MIN_RX_BUFFER], ["tx_buffer", MIN_TX_BUFFER]] as const) {
    const buffer = cfg[field];
    if (buffer !== undefined && (!(buffer instanceof Uint8Array) || buffer.length < min || buffer.length > MAX_BUFFER_SIZE)) {
      return refuse(`${field} must be a Uint8Array of ${min} to ${MAX_BUFFER_SIZE} bytes`);
    }
  }
  if (cfg.rx_buffer !== undefined && cfg.rx_buffer === cfg.tx_buffer) return refuse("rx_buffer and tx_buffer must be different buffers");

  const headers = resolveHeaders(cfg);
  if (typeof headers === "string") return refuse(headers);

  const subprotocols = cfg.subprotocols === undefined ? [] : cfg.subprotocols;
  if (!Array.isArray(subprotocols) || !subprotocols.every((p) => typeof p === "string" && isToken(p))) {
    return refuse("subprotocols must be a list of tokens (no spaces, commas or control characters)");
  }
  if (new Set(subprotocols).size !== subprotocols.length) return refuse("subprotocols lists a protocol twice");

  const ssl = cfg.ssl_config === undefined ? {} : cfg.ssl_config;
  if (ssl === null || typeof ssl !== "object") return refuse("ssl_config must be a websock_ssl_config_t object");
  if (ssl.verify !== undefined && typeof ssl.verify !== "boolean") return refuse("ssl_config.verify must be a boolean");

  const bracketed = hostname.includes(":") ? `[${hostname}]` : hostname;
  const defaultPort = secured ? 443 : 80;
  return {
    ok: true,
    config: {
      hostname,
      port,
      uri,
      secured,
      ssl,
      timeOut: n.time_out,
      headers,
      subprotocols: subprotocols.slice(),
      rxBufferSize: cfg.rx_buffer?.length ?? n.rx_buffer_size,
      txBufferSize: cfg.tx_buffer?.length ?? n.tx_buffer_size,
      rxBuffer: cfg.rx_buffer ?? null,
      txBuffer: cfg.tx_buffer ?? null,
      rawMode,
      pingInterval: n.ping_interval,
      pongTimeout: n.pong_timeout,
      closeTimeout: n.close_timeout,
      sendTimeout: n.send_timeout,
      fragmentSize: n.fragment_size,
      autoPong,
      maxMessageSize,
      hostHeader: port === defaultPort ? bracketed : `${bracketed}:${port}`,
    },
  };
}

/** Splits "Key:value" handshake headers; returns them, or a refusal naming the header. */
function resolveHeaders(cfg: websock_config_t): Array<[string, string]> | string {
  const list = cfg.hndshk_hdrs === undefined ? [] : cfg.hndshk_hdrs;
  if (!Array.isArray(list)) return "hndshk_hdrs must be a list of \"Key:value\" strings";
  const count = cfg.num_hndshk_hdrs === undefined ? list.length : cfg.num_hndshk_hdrs;
  if (!isWholeNumber(count, 0, list.length)) return `num_hndshk_hdrs must be an integer from 0 to ${list.length} (the length of hndshk_hdrs)`;
  const headers: Array<[string, string]> = [];
  for (let i = 0; i < count; i++) {
    const header = list[i];
    if (typeof header !== "string") return `hndshk_hdrs[${i}] is not a string`;
    // A CR or LF would let a header value inject headers (or a body) into the request.
    if (/[\r\n\0]/.test(header)) return `hndshk_hdrs[${i}] contains CR, LF or NUL`;
    const colon = header.indexOf(":");
    const name = colon > 0 ? header.slice(0, colon).trim() : "";
    if (!isToken(name)) return `hndshk_hdrs[${i}] is not "Key:value": ${JSON.stringify(header)}`;
    if (RESERVED_HEADERS.includes(name.toLowerCase())) return `hndshk_hdrs[${i}] sets ${name}, which the handshake sets itself`;
    headers.push([name, header.slice(colon + 1).trim()]);
  }
  return headers;
}
