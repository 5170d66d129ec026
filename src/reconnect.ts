// The reconnect policy, pure: which endings can heal by connecting again,
// and how long to wait before the next attempt. It decides; the driver
// (reconnector.ts) acts. Randomness and time come from the caller (the
// Host), so tests reproduce every delay with an injected clock and RNG.
//
// RFC 6455 §7.2.3: "the first reconnect attempt SHOULD be delayed by a
// random amount of time. [...] Choosing a random value between 0 and 5
// seconds is a reasonable initial delay [...]. Should the first reconnect
// attempt fail, subsequent reconnect attempts SHOULD be delayed by
// increasingly longer amounts of time, using a method such as truncated
// binary exponential backoff."

import { ERR, TLS_REASON } from "./errors.js";
import type { Failure } from "./connection.js";
import { parseHttpDate } from "./http-date.js";
import type { TunnelFailure } from "./proxy.js";

/** HTTP statuses worth another attempt: too many requests, and the server side's temporary failures. */
const RETRY_HTTP_STATUSES: readonly number[] = Object.freeze([429, 500, 502, 503, 504]);

/**
 * Close codes worth another attempt (RFC 6455 §7.4.1 and the IANA registry):
 * 1001 going away, 1006 abnormal (no close frame), 1011 internal error,
 * 1012 service restart, 1013 try again later, 1014 bad gateway.
 */
const RETRY_CLOSE_CODES: readonly number[] = Object.freeze([1001, 1006, 1011, 1012, 1013, 1014]);

/** The longest wait the policy ever asks for (the host's timer limit; Retry-After beyond it is cut to it). */
export const MAX_RETRY_DELAY = 0x7fffffff;

/** reconnect in websock_config_t, checked and completed with defaults (config.ts). */
export interface ReconnectPolicy {
  enabled: boolean;
  /** The first attempt after a drop waits a random time in [0, firstDelay] ms (§7.2.3). */
  firstDelay: number;
  /** The second attempt's delay; each further one doubles, up to maxDelay. */
  minDelay: number;
  /** The cap of the exponential delay (Retry-After may ask for longer). */
  maxDelay: number;
  /** Attempts allowed since the last connection that stayed up (0: no limit). */
  maxAttempts: number;
  /** ms allowed from the drop to the last attempt (0: no limit). */
  maxTime: number;
  /** A connection that stayed up this long (ms) resets the backoff. */
  stableAfter: number;
}

export const RECONNECT_DEFAULTS = Object.freeze({
  first_delay: 5000,
  min_delay: 1000,
  max_delay: 60000,
  max_attempts: 0,
  max_time: 0,
  stable_after: 10000,
});

export const RECONNECT_OFF: ReconnectPolicy = Object.freeze({
  enabled: false,
  firstDelay: RECONNECT_DEFAULTS.first_delay,
  minDelay: RECONNECT_DEFAULTS.min_delay,
  maxDelay: RECONNECT_DEFAULTS.max_delay,
  maxAttempts: 0,
  maxTime: 0,
  stableAfter: RECONNECT_DEFAULTS.stable_after,
});

/**
 * Whether connecting again can heal the ending `f`: a network that failed,
 * a server that restarts or is overloaded. Never an ending the application
 * asked for, a refusal (4xx other than 429), a TLS verification failure, or
 * a protocol error (the server's frames, or its handshake response). A
 * proxy's failure (WEBSOCK_ERR_PROXY) is judged as the server's would be.
 */
export function isRetryable(f: Failure): boolean {
  switch (f.error) {
    case ERR.DNS:
    case ERR.CONNECT:
    case ERR.TIMEOUT:
    case ERR.IO:
    case ERR.HANDSHAKE_EOF:
    case ERR.CONNECTION_LOST:
    case ERR.PONG_TIMEOUT:
    case ERR.SEND_TIMEOUT:
      return true;
    case ERR.TLS:
      // A reset or a cut during the TLS handshake; every verification reason (untrusted_ca,
      // hostname_mismatch, expired, pin_mismatch ...) is a configuration that retrying cannot fix.
      return f.tlsReason === TLS_REASON.HANDSHAKE;
    case ERR.HTTP_STATUS:
      return f.httpStatus !== undefined && RETRY_HTTP_STATUSES.includes(f.httpStatus);
    case ERR.PROXY:
      // The proxy's answer to CONNECT, by the same rules as the server's: its 5xx (it could not reach
      // the server: 500, 502, 503, 504) and 429 heal, its 4xx (407 above all: the credentials) never.
      // One that hung up before answering is EOF during the handshake; an answer that is not HTTP is
      // the proxy's protocol error.
      if (f.httpStatus !== undefined) return RETRY_HTTP_STATUSES.includes(f.httpStatus);
      return (f as TunnelFailure).hungUp === true;
    case ERR.CLOSED_BY_PEER:
      return f.closeCode !== undefined && RETRY_CLOSE_CODES.includes(f.closeCode);
    default:
      // CLOSED_LOCALLY (the application's close), protocol errors (1002, 1007, 1009 ...),
      // bad handshake responses, INTERNAL, CALLBACK: the next connection would end the same way.
      return false;
  }
}

/**
 * Retry-After (RFC 9110 §10.2.3) in ms from a handshake response's header
 * lines ("Name: value", LF between them); -1 when absent or neither form.
 *
 * delay-seconds is a wait in itself (cut to MAX_RETRY_DELAY). An HTTP-date
 * (http-date.ts) is an instant, and a wait only against a "now": the
 * response's own Date when it has one (both instants then come from the
 * server's clock, so the wait is exact whatever ours reads: RFC 9110 §6.6.1
 * makes Date the moment the response was generated), else `wallNow`, the
 * host's real-time clock (ms since 1970; NaN when the host has none, and
 * then the date is ignored). A date in the past is a wait of 0. The result
 * is clamped to `cap` (the policy's max_delay): a wait computed from two
 * clocks is no better than their agreement, and a device whose clock was
 * never set reads 1970.
 */
export function retryAfterMs(headerText: string, wallNow: number, cap: number): number {
  const value = headerValue(headerText, "retry-after");
  if (value === null) return -1;
  if (/^[0-9]{1,10}$/.test(value)) {
    const ms = Number(value) * 1000;
    return ms > MAX_RETRY_DELAY ? MAX_RETRY_DELAY : ms;
  }
  const date = headerValue(headerText, "date");
  const serverNow = date === null ? NaN : parseHttpDate(date, wallNow);
  const now = Number.isFinite(serverNow) ? serverNow : wallNow;
  const at = parseHttpDate(value, now);
  if (!Number.isFinite(at) || !Number.isFinite(now)) return -1;
  const ms = at - now;
  if (ms <= 0) return 0;
  return ms > cap ? cap : ms;
}

/** The value of the first header line named `lower` (lower case), OWS trimmed; null when there is none. */
function headerValue(headerText: string, lower: string): string | null {
  let at = 0;
  while (at < headerText.length) {
    let end = headerText.indexOf("\n", at);
    if (end < 0) end = headerText.length;
    const colon = headerText.indexOf(":", at);
    if (colon > at && colon < end && headerText.slice(at, colon).toLowerCase() === lower) {
      // RFC 9110 §5.5: OWS around a field value is not part of it (spaces and tabs only).
      return headerText.slice(colon + 1, end).replace(/^[ \t]+|[ \t\r]+$/g, "");
    }
    at = end + 1;
  }
  return null;
}

/** What Backoff.next returns when the limits say stop. */
export const GIVE_UP = -1;

/** A source of uniform random numbers in [0, 1): the Host's randomFill, through a fixed scratch buffer. */
export interface RandomSource {
  randomFill(out: Uint8Array): void;
}

/**
 * The delays of one outage: attempt 1 waits random [0, firstDelay]; attempt
 * k >= 2 waits in [d/2, d] with d = min(maxDelay, minDelay * 2^(k-2))
 * ("equal jitter": never less than half the exponential step, so clients
 * that dropped together spread out but still back off). A connection that
 * stayed up stableAfter ms resets it.
 */
export class Backoff {
  readonly policy: ReconnectPolicy;
  /** Attempts since the last reset. */
  attempt = 0;
  /** When the outage began (host clock); meaningful while attempt > 0. */
  outageStart = 0;
  private readonly scratch = new Uint8Array(4);

  constructor(policy: ReconnectPolicy) {
    this.policy = policy;
  }

  reset(): void {
    this.attempt = 0;
  }

  /**
   * The delay (ms) before the next attempt, at `now`, or GIVE_UP when the
   * attempt or time limit is reached. `retryAfter` (ms, -1 for none) is
   * the server's own Retry-After: the delay is never shorter.
   */
  next(now: number, random: RandomSource, retryAfter: number): number {
    const p = this.policy;
    if (this.attempt === 0) this.outageStart = now;
    if (p.maxAttempts > 0 && this.attempt >= p.maxAttempts) return GIVE_UP;
    this.attempt++;
    let delay: number;
    if (this.attempt === 1) {
      delay = Math.floor(this.uniform(random) * (p.firstDelay + 1));
    } else {
      // 2^(k-2) stops growing once past the cap: no overflow however many attempts.
      let step = p.minDelay;
      for (let k = 2; k < this.attempt && step < p.maxDelay; k++) step *= 2;
      if (step > p.maxDelay) step = p.maxDelay;
      const half = Math.floor(step / 2);
      delay = half + Math.floor(this.uniform(random) * (step - half + 1));
    }
    if (retryAfter > delay) delay = retryAfter;
    if (p.maxTime > 0 && now + delay - this.outageStart > p.maxTime) return GIVE_UP;
    return delay;
  }

  /** A uniform number in [0, 1) from 32 random bits. */
  private uniform(random: RandomSource): number {
    const b = this.scratch;
    random.randomFill(b);
    return (b[0] * 0x1000000 + ((b[1] << 16) | (b[2] << 8) | b[3])) / 0x100000000;
  }
}
