// The reconnect policy (src/reconnect.ts) on its own: which endings are
// retried, Retry-After, and the backoff's delays, with an injected RNG and
// clock (no sleeps).

import { strict as assert } from "node:assert";
import { Backoff, GIVE_UP, isRetryable, retryAfterMs, type ReconnectPolicy } from "../src/reconnect.js";
import { ERR, TLS_REASON } from "../src/errors.js";
import { resolveConfig } from "../src/config.js";

/** An RNG that yields the given 32-bit values in turn (as big-endian bytes), then repeats the last. */
function fixedRandom(...values: number[]): { randomFill(out: Uint8Array): void } {
  let i = 0;
  return {
    randomFill(out: Uint8Array): void {
      const v = values[Math.min(i++, values.length - 1)];
      out[0] = v >>> 24;
      out[1] = (v >>> 16) & 255;
      out[2] = (v >>> 8) & 255;
      out[3] = v & 255;
    },
  };
}
const LOWEST = 0;
const HIGHEST = 0xffffffff;

function policy(over: Partial<ReconnectPolicy> = {}): ReconnectPolicy {
  return { enabled: true, firstDelay: 5000, minDelay: 1000, maxDelay: 60000, maxAttempts: 0, maxTime: 0, stableAfter: 10000, ...over };
}

describe("reconnect policy: what is retried", () => {
  const retried: Array<[string, Parameters<typeof isRetryable>[0]]> = [
    ["a DNS failure", { error: ERR.DNS, detail: "" }],
    ["a refused connect", { error: ERR.CONNECT, detail: "" }],
    ["an open timeout", { error: ERR.TIMEOUT, detail: "" }],
    ["a reset", { error: ERR.IO, detail: "", closeCode: 1006 }],
    ["EOF during the handshake", { error: ERR.HANDSHAKE_EOF, detail: "" }],
    ["EOF without a close frame", { error: ERR.CONNECTION_LOST, detail: "", closeCode: 1006 }],
    ["a missing pong", { error: ERR.PONG_TIMEOUT, detail: "" }],
    ["a reset during the TLS handshake", { error: ERR.TLS, detail: "", tlsReason: TLS_REASON.HANDSHAKE }],
    ["a proxy that closed before answering CONNECT", { error: ERR.PROXY, detail: "", hungUp: true } as Parameters<typeof isRetryable>[0]],
  ];
  for (const status of [429, 500, 502, 503, 504]) retried.push([`the proxy's ${status} to CONNECT`, { error: ERR.PROXY, detail: "", httpStatus: status }]);
  for (const status of [429, 500, 502, 503, 504]) retried.push([`HTTP ${status}`, { error: ERR.HTTP_STATUS, detail: "", httpStatus: status }]);
  for (const code of [1001, 1006, 1011, 1012, 1013, 1014]) retried.push([`a close with ${code}`, { error: ERR.CLOSED_BY_PEER, detail: "", closeCode: code }]);
  for (const [what, f] of retried) it(`retries ${what}`, () => assert.equal(isRetryable(f), true));

  const final: Array<[string, Parameters<typeof isRetryable>[0]]> = [
    ["the application's close", { error: ERR.CLOSED_LOCALLY, detail: "", closeCode: 1000 }],
    ["an untrusted CA", { error: ERR.TLS, detail: "", tlsReason: TLS_REASON.UNTRUSTED_CA }],
    ["a hostname mismatch", { error: ERR.TLS, detail: "", tlsReason: TLS_REASON.HOSTNAME_MISMATCH }],
    ["an expired certificate", { error: ERR.TLS, detail: "", tlsReason: TLS_REASON.EXPIRED }],
    ["a server's masked frame (protocol error)", { error: ERR.MASKED_FRAME, detail: "", closeCode: 1002 }],
    ["a server's invalid UTF-8", { error: ERR.INVALID_UTF8, detail: "", closeCode: 1007 }],
    ["a wrong Sec-WebSocket-Accept", { error: ERR.BAD_ACCEPT, detail: "" }],
    ["a frame callback that threw", { error: ERR.CALLBACK, detail: "" }],
  ];
  for (const status of [400, 401, 403, 404, 426, 501, 505]) final.push([`HTTP ${status}`, { error: ERR.HTTP_STATUS, detail: "", httpStatus: status }]);
  for (const status of [400, 403, 404, 407, 501]) final.push([`the proxy's ${status} to CONNECT`, { error: ERR.PROXY, detail: "", httpStatus: status }]);
  final.push(["a proxy's answer that is not HTTP", { error: ERR.PROXY, detail: "" }]);
  final.push(["a redirect that cannot be followed", { error: ERR.REDIRECT, detail: "", httpStatus: 302 }]);
  for (const code of [1000, 1002, 1003, 1007, 1008, 1009, 1010, 4000]) final.push([`a close with ${code}`, { error: ERR.CLOSED_BY_PEER, detail: "", closeCode: code }]);
  for (const [what, f] of final) it(`never retries ${what}`, () => assert.equal(isRetryable(f), false));
});

describe("reconnect policy: Retry-After (RFC 9110 §10.2.3)", () => {
  const NO_CLOCK = NaN;
  const CAP = 60000;
  // 2026-12-02T06:00:00Z, a Wednesday: the host's wall clock in these tests.
  const WALL = Date.UTC(2026, 11, 2, 6, 0, 0);

  it("reads delay-seconds, whatever the header name's case", () => {
    assert.equal(retryAfterMs("Content-Length: 0\nRetry-After: 7", NO_CLOCK, CAP), 7000);
    assert.equal(retryAfterMs("retry-after:  0 ", NO_CLOCK, CAP), 0);
  });
  it("ignores garbage and absence", () => {
    assert.equal(retryAfterMs("Retry-After: -3", WALL, CAP), -1);
    assert.equal(retryAfterMs("Retry-After: 1.5", WALL, CAP), -1);
    assert.equal(retryAfterMs("Server: x", WALL, CAP), -1);
    assert.equal(retryAfterMs("", WALL, CAP), -1);
  });
  it("cuts huge delay-seconds to the timer's limit (not to max_delay: no clock is involved)", () =>
    assert.equal(retryAfterMs("Retry-After: 9999999999", NO_CLOCK, CAP), 0x7fffffff));

  it("an HTTP-date is a wait against the response's Date: Retry-After minus Date, whatever the host's clock reads", () => {
    const head = "Date: Fri, 31 Dec 1999 23:59:00 GMT\nRetry-After: Fri, 31 Dec 1999 23:59:59 GMT";
    assert.equal(retryAfterMs(head, NO_CLOCK, CAP), 59000);
    assert.equal(retryAfterMs(head, WALL, CAP), 59000, "the host's clock is 27 years later: Date is the reference");
    // The order of the lines does not matter, nor the case of the names.
    assert.equal(retryAfterMs("retry-after: Fri, 31 Dec 1999 23:59:59 GMT\nDATE: Fri, 31 Dec 1999 23:59:49 GMT", NO_CLOCK, CAP), 10000);
  });
  it("an HTTP-date without a Date header is a wait against the host's wall clock, and ignored when the host has none", () => {
    assert.equal(retryAfterMs("Retry-After: Wed, 02 Dec 2026 06:00:30 GMT", WALL, CAP), 30000);
    assert.equal(retryAfterMs("Retry-After: Wed, 02 Dec 2026 06:00:30 GMT", NO_CLOCK, CAP), -1);
    // A Date header that is not a date leaves the host's clock as the reference.
    assert.equal(retryAfterMs("Date: yesterday\nRetry-After: Wed, 02 Dec 2026 06:00:30 GMT", WALL, CAP), 30000);
  });
  it("a date in the past is no wait; one beyond max_delay is clamped to it (two clocks are only as good as their agreement)", () => {
    assert.equal(retryAfterMs("Retry-After: Wed, 02 Dec 2026 05:00:00 GMT", WALL, CAP), 0);
    assert.equal(retryAfterMs("Retry-After: Thu, 03 Dec 2026 06:00:00 GMT", WALL, CAP), CAP);
    // An ESP32 whose clock was never set, if a host passed 1970 on: clamped, not 56 years.
    assert.equal(retryAfterMs("Retry-After: Wed, 02 Dec 2026 06:00:30 GMT", 0, 5000), 5000);
  });
  it("RFC 9110 §5.6.7: the two obsolete forms recipients MUST accept, rfc850-date and asctime-date", () => {
    const date = "Date: Sun, 06 Nov 1994 08:49:00 GMT\n";
    assert.equal(retryAfterMs(date + "Retry-After: Sunday, 06-Nov-94 08:49:37 GMT", NO_CLOCK, CAP), 37000);
    assert.equal(retryAfterMs(date + "Retry-After: Sun Nov  6 08:49:37 1994", NO_CLOCK, CAP), 37000);
    assert.equal(retryAfterMs(date + "Retry-After: Sun Nov 06 08:49:37 1994", NO_CLOCK, CAP), 37000);
  });
  it("rfc850-date's two-digit year: more than 50 years ahead of the reference is the century before", () => {
    // Against 2026: "30" is 2030 (a Wednesday, 2 Jan 2030 ...), "99" is 1999.
    assert.equal(retryAfterMs("Date: Wed, 02 Jan 2030 00:00:00 GMT\nRetry-After: Wednesday, 02-Jan-30 00:00:05 GMT", NO_CLOCK, CAP), 5000);
    assert.equal(retryAfterMs("Retry-After: Friday, 31-Dec-99 23:59:59 GMT", WALL, CAP), 0, "1999: in the past");
    assert.equal(retryAfterMs("Date: Fri, 31 Dec 1999 23:59:00 GMT\nRetry-After: Friday, 31-Dec-99 23:59:59 GMT", NO_CLOCK, CAP), 59000);
  });
  it("parses strictly: case, spacing, zone, weekday, calendar and clock ranges", () => {
    const date = "Date: Fri, 31 Dec 1999 23:59:00 GMT\nRetry-After: ";
    const bad = [
      "fri, 31 Dec 1999 23:59:59 GMT", // day names are case-sensitive
      "Fri, 31 dec 1999 23:59:59 GMT",
      "Fri, 31 Dec 1999 23:59:59 gmt",
      "Fri, 31 Dec 1999 23:59:59 UTC",
      "Fri, 31 Dec 1999 23:59:59 +0000",
      "Fri,  31 Dec 1999 23:59:59 GMT", // two spaces
      "Fri, 31 Dec 99 23:59:59 GMT", // IMF-fixdate has a 4-digit year
      "Fri, 1 Dec 1999 23:59:59 GMT", // and a 2-digit day
      "Thu, 31 Dec 1999 23:59:59 GMT", // 31 Dec 1999 was a Friday
      "Fri, 31 Nov 1999 23:59:59 GMT", // November has 30 days
      "Sun, 29 Feb 1900 00:00:00 GMT", // 1900 was not a leap year
      "Fri, 31 Dec 1999 24:00:00 GMT",
      "Fri, 31 Dec 1999 23:60:00 GMT",
      "Fri, 31 Dec 1999 12:00:60 GMT", // a leap second only at 23:59:60
      "Fri, 31 Dec 1999 23:59:59 GMT trailing",
      "Fri 31 Dec 1999 23:59:59 GMT",
      "Fri, 31-Dec-99 23:59:59 GMT", // rfc850-date has the long day name
      "Friday, 31-Dec-1999 23:59:59 GMT",
      "Fri Dec 31 23:59:59 1999 GMT", // asctime-date has no zone
      "Fri Dec 1 23:59:59 1999", // its 1-digit day is space-padded
    ];
    for (const text of bad) assert.equal(retryAfterMs(date + text, NO_CLOCK, CAP), -1, text);
    // A leap second is a valid time-of-day (RFC 9110 §5.6.7: "00:00:00 - 23:59:60").
    assert.equal(retryAfterMs(date + "Fri, 31 Dec 1999 23:59:60 GMT", NO_CLOCK, CAP), 60000);
    // 2000 was a leap year.
    assert.equal(retryAfterMs("Date: Tue, 29 Feb 2000 00:00:00 GMT\nRetry-After: Tue, 29 Feb 2000 00:00:01 GMT", NO_CLOCK, CAP), 1000);
  });
  it("agrees with the engine's Date on every IMF-fixdate of a sweep of instants from 1900 to 2400", () => {
    // The date arithmetic is the core's own (no Date in src/): checked against the engine's.
    const days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    const two = (n: number): string => String(n).padStart(2, "0");
    const from = Date.UTC(1900, 0, 1);
    const to = Date.UTC(2400, 0, 1);
    for (let t = from; t < to; t += 86400000 * 37 + 3600000 * 5 + 61000) {
      const d = new Date(t);
      const text = `${days[d.getUTCDay()]}, ${two(d.getUTCDate())} ${months[d.getUTCMonth()]} ${d.getUTCFullYear()} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} GMT`;
      assert.equal(retryAfterMs(`Retry-After: ${text}`, t - 1000, CAP), 1000, text);
    }
  });
});

describe("reconnect policy: the backoff", () => {
  it("RFC 6455 §7.2.3: the first delay is random from 0 to first_delay", () => {
    assert.equal(new Backoff(policy()).next(0, fixedRandom(LOWEST), -1), 0);
    assert.equal(new Backoff(policy()).next(0, fixedRandom(HIGHEST), -1), 5000);
    assert.equal(new Backoff(policy()).next(0, fixedRandom(0x80000000), -1), 2500);
  });

  it("then doubles from min_delay with jitter in [d/2, d], up to max_delay", () => {
    const low = new Backoff(policy({ maxDelay: 8000 }));
    const high = new Backoff(policy({ maxDelay: 8000 }));
    const lows: number[] = [];
    const highs: number[] = [];
    for (let i = 0; i < 7; i++) {
      lows.push(low.next(0, fixedRandom(LOWEST), -1));
      highs.push(high.next(0, fixedRandom(HIGHEST), -1));
    }
    assert.deepEqual(lows, [0, 500, 1000, 2000, 4000, 4000, 4000]);
    assert.deepEqual(highs, [5000, 1000, 2000, 4000, 8000, 8000, 8000]);
  });

  it("never overflows, however many attempts", () => {
    const b = new Backoff(policy());
    let d = 0;
    for (let i = 0; i < 5000; i++) d = b.next(0, fixedRandom(HIGHEST), -1);
    assert.equal(d, 60000);
  });

  it("honours Retry-After when it asks for longer", () => {
    const b = new Backoff(policy());
    assert.equal(b.next(0, fixedRandom(LOWEST), 30000), 30000);
    assert.equal(b.next(0, fixedRandom(HIGHEST), 10), 1000);
  });

  it("stops after max_attempts, and starts over after reset()", () => {
    const b = new Backoff(policy({ maxAttempts: 2 }));
    assert.notEqual(b.next(0, fixedRandom(LOWEST), -1), GIVE_UP);
    assert.notEqual(b.next(0, fixedRandom(LOWEST), -1), GIVE_UP);
    assert.equal(b.next(0, fixedRandom(LOWEST), -1), GIVE_UP);
    b.reset();
    assert.equal(b.next(0, fixedRandom(HIGHEST), -1), 5000);
  });

  it("stops when the next attempt would come after max_time from the drop (the injected clock)", () => {
    const b = new Backoff(policy({ maxTime: 4000, firstDelay: 0 }));
    assert.equal(b.next(100_000, fixedRandom(HIGHEST), -1), 0);
    assert.equal(b.next(100_000, fixedRandom(HIGHEST), -1), 1000);
    assert.equal(b.next(101_000, fixedRandom(HIGHEST), -1), 2000);
    // 102,000 + 4,000 is 6 s after the drop.
    assert.equal(b.next(102_000, fixedRandom(HIGHEST), -1), GIVE_UP);
    // A Retry-After past the limit gives up too, rather than wait for nothing.
    const c = new Backoff(policy({ maxTime: 4000 }));
    assert.equal(c.next(0, fixedRandom(LOWEST), 5000), GIVE_UP);
  });
});

describe("reconnect config", () => {
  const base = { hostname: "127.0.0.1", port: 9 };
  it("is off when absent, on when given", () => {
    const off = resolveConfig(base);
    assert.ok(off.ok && !off.config.reconnect.enabled);
    const on = resolveConfig({ ...base, reconnect: {} });
    assert.ok(on.ok && on.config.reconnect.enabled && on.config.reconnect.firstDelay === 5000);
    const disabled = resolveConfig({ ...base, reconnect: { enabled: false } });
    assert.ok(disabled.ok && !disabled.config.reconnect.enabled);
  });
  it("refuses, naming the field: unknown keys, bad numbers, a cap under the base, a non-function on_open", () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ reconnect: { retries: 3 } }, /reconnect\.retries is not a field of websock_reconnect_config_t/],
      [{ reconnect: { max_delay: -1 } }, /reconnect\.max_delay must be an integer/],
      [{ reconnect: { first_delay: 1.5 } }, /reconnect\.first_delay must be an integer/],
      [{ reconnect: { enabled: "yes" } }, /reconnect\.enabled must be a boolean/],
      [{ reconnect: { min_delay: 5000, max_delay: 100 } }, /reconnect\.max_delay must be at least reconnect\.min_delay/],
      [{ reconnect: 5 }, /reconnect must be a websock_reconnect_config_t object/],
      [{ on_open: "subscribe" }, /on_open must be a function/],
    ];
    for (const [extra, message] of cases) {
      const r = resolveConfig({ ...base, ...(extra as object) });
      assert.ok(!r.ok, JSON.stringify(extra));
      assert.match(r.message, message);
    }
  });
});
