// Reconnecting one handle: the driver's side of websock_config_t.reconnect
// and on_open. The Session calls it at four points (the connection opened,
// it ended, the backoff timer is due, a send came while it is down); it
// decides with the pure policy (reconnect.ts) and acts through the Session.
//
// The handle stays the same across reconnects, and so do its fixed rx and
// tx buffers: each attempt is a fresh Connection on them (Connection's
// successor), so nothing of the old connection's state leaks into the new
// one and nothing grows. What the dropped connection delivered before its
// end is still read first: the next attempt starts once the backoff has
// passed and the reader has taken every piece of it, so a new connection's
// bytes never land behind (or glued to) the old one's.
//
// Each attempt dials the configured URL again, through the proxy when there
// is one (dial.ts: a fresh CONNECT tunnel per attempt), and follows the
// redirects it meets (follow_redirects, counted per attempt) at once, as
// websock_open did: a redirect is a hop of the attempt, not an attempt.
// Not the last Location: the configured URL is the one the application
// controls, and a redirect (a load balancer's 302/307 to one backend) most
// often points at what just went away.

import type { Connection, ConnectionOptions, Failure } from "./connection.js";
import { ERR } from "./errors.js";
import type { ResolvedConfig } from "./config.js";
import { armHop, redirectHop, requestOf, serverOf } from "./dial.js";
import type { HandshakeRequest } from "./handshake.js";
import type { ConnectTarget } from "./host.js";
import type { OutgoingMessage } from "./outgoing.js";
import { Backoff, GIVE_UP, isRetryable, retryAfterMs, type ReconnectPolicy } from "./reconnect.js";
import { urlOf } from "./redirect.js";
import { errorFrom, type Session } from "./session.js";
import type { websock_error_t, websock_handle_t } from "./types.js";

/** Up (or before the first open): nothing to do. */
export const PHASE_UP = 0;
/** Waiting out the backoff (retryAt), or for the reader to take the dropped connection's last pieces. */
export const PHASE_WAITING = 1;
/** An attempt is under way. */
export const PHASE_CONNECTING = 2;
/** Stopped: the application closed, the policy gave up, or an ending that cannot heal. */
export const PHASE_DONE = 3;

export class Reconnector {
  readonly policy: ReconnectPolicy;
  readonly backoff: Backoff;
  /** The configured URL's hop (websock_open's first), where every attempt starts. */
  private first: ResolvedConfig | null = null;
  // What an attempt to it needs, made once (an attempt that meets no redirect allocates none of it).
  private firstRequest: HandshakeRequest | null = null;
  private firstServer: ConnectTarget | null = null;
  private firstUrl = "";
  /** The hop the attempt under way (or due) dials, and the redirects it followed to get there. */
  private hop: ResolvedConfig | null = null;
  private followed = 0;
  /** The attempt due next is a redirect's hop of the one before, not a new attempt. */
  private redirecting = false;
  private readonly onOpen: ((h: websock_handle_t) => unknown) | null;
  private session: Session | null = null;
  private options: ConnectionOptions | null = null;

  phase = PHASE_UP;
  /** When the next attempt is due (host clock); Infinity while none is. */
  retryAt = Infinity;

  // websock_get_info.
  attempts = 0;
  reconnects = 0;
  lastFailure: websock_error_t | null = null;
  /** The wait (ms) chosen before the attempt that is due (websock_get_info's retry_delay); -1 while none is. */
  retryDelay = -1;

  /** websock_recv owes the application one WEBSOCK_ERR_RECONNECTED. */
  noticePending = false;
  /** The last piece the reader took on this connection ended its message (a drop after one that did not cuts it). */
  lastPieceComplete = true;
  /** What the notice reports: the dropped connection's end, and whether it cut a message. */
  private dropped: websock_error_t | null = null;
  private droppedCut = false;
  private openedAt = 0;

  // Sends made while down, in call order (linked through `next`): they go out after on_open.
  private heldHead: OutgoingMessage | null = null;
  private heldTail: OutgoingMessage | null = null;
  /** Made once per handle: flushes the held sends when an on_open that returned a Promise settles. */
  private readonly flushAfterOnOpen = (): void => this.flushHeld();

  constructor(policy: ReconnectPolicy, onOpen: ((h: websock_handle_t) => unknown) | null) {
    this.policy = policy;
    this.backoff = new Backoff(policy);
    this.onOpen = onOpen;
  }

  /** The configured URL (with the handle's buffers): every attempt dials it first. */
  startFrom(config: ResolvedConfig): void {
    this.first = config;
    this.firstRequest = requestOf(config);
    this.firstServer = serverOf(config);
    this.firstUrl = urlOf(config);
  }

  /** `options`: those the handle's first connection was made with (its fixed buffers), for each attempt's. */
  attach(s: Session, options: ConnectionOptions): void {
    this.session = s;
    this.options = options;
  }

  /** Between connections: the old end is not the reader's, sends wait. */
  get down(): boolean {
    return this.phase === PHASE_WAITING || this.phase === PHASE_CONNECTING;
  }

  get connecting(): boolean {
    return this.phase === PHASE_CONNECTING;
  }

  /** The connection opened (the first time, or an attempt succeeded): on_open, then what was held. */
  opened(): void {
    const s = this.session!;
    this.openedAt = s.host.now();
    this.lastPieceComplete = true;
    if (this.phase === PHASE_CONNECTING) {
      this.phase = PHASE_UP;
      this.reconnects++;
      this.noticePending = true;
    }
    let result: unknown = undefined;
    if (this.onOpen !== null) {
      try {
        result = this.onOpen(s as unknown as websock_handle_t);
      } catch (e) {
        // Like a frame callback that throws: the application's fault ends the connection with 1011.
        s.conn.abort(ERR.CALLBACK, `on_open threw: ${String(e)}`);
        return;
      }
    }
    // An async on_open (re-subscribing, say) is awaited: what was held goes after it.
    if (result !== null && typeof result === "object" && typeof (result as { then?: unknown }).then === "function") {
      (result as Promise<unknown>).then(this.flushAfterOnOpen, this.flushAfterOnOpen);
    } else {
      this.flushHeld();
    }
  }

  /** The connection (or the attempt) ended: wait and try again, or give up. */
  ended(): void {
    const s = this.session!;
    const conn = s.conn;
    if (!this.policy.enabled || this.phase === PHASE_DONE || this.phase === PHASE_WAITING) return;
    // The first open's failure is websock_open's to report.
    if (this.phase === PHASE_UP && !conn.opened) return;
    const failure = conn.endFailure;
    const error = errorFrom(failure);
    this.lastFailure = error;
    const now = s.host.now();
    if (this.phase === PHASE_UP) {
      this.dropped = error;
      this.droppedCut = !this.lastPieceComplete;
      // A connection that stayed up: this is a new outage, backed off from the start.
      if (now - this.openedAt >= this.policy.stableAfter) this.backoff.reset();
    }
    if (this.phase === PHASE_CONNECTING && this.redirect(failure, now)) return;
    if (!isRetryable(failure)) {
      this.giveUp(failure.error.code);
      return;
    }
    const wallNow = s.host.wallClock !== undefined ? s.host.wallClock() : NaN;
    const retryAfter = failure.error === ERR.HTTP_STATUS ? retryAfterMs(conn.peerHeaderText, wallNow, this.policy.maxDelay) : -1;
    const delay = this.backoff.next(now, s.host, retryAfter);
    if (delay === GIVE_UP) {
      this.giveUp(failure.error.code);
      return;
    }
    this.phase = PHASE_WAITING;
    this.retryAt = now + delay;
    this.retryDelay = delay;
  }

  /**
   * An attempt answered with a redirect to follow: its next hop is due at
   * once (true), or the redirect cannot be followed and ends the
   * reconnecting (true, given up). False: not a redirect of this handle's.
   */
  private redirect(failure: Failure, now: number): boolean {
    const hop = this.hop;
    const next = hop === null ? null : redirectHop(this.session!.host, hop, failure, this.followed);
    if (next === null) return false;
    if ("error" in next) {
      // Too many, wss:// to ws://, no Location ...: the next attempt would meet the same answer.
      // The reader is told this, as websock_open would have, not the 3xx it could not follow.
      this.session!.conn.ending = next;
      this.lastFailure = errorFrom(next);
      this.giveUp(next.error.code);
      return true;
    }
    this.hop = next;
    this.followed++;
    this.redirecting = true;
    this.phase = PHASE_WAITING;
    this.retryAt = now;
    this.retryDelay = 0;
    return true;
  }

  /** The handle's timer fired at `now`: the next attempt, once the reader has taken what the dropped connection delivered. */
  due(now: number): void {
    if (this.phase !== PHASE_WAITING || now < this.retryAt) return;
    const s = this.session!;
    const old = s.conn;
    old.advance();
    if (old.receiver.hasPiece()) {
      // readerAtEnd() starts it when the reader gets there.
      this.retryAt = Infinity;
      return;
    }
    this.retryAt = Infinity;
    this.attempt(old);
  }

  /** The reader reached the dropped connection's end (hidden from it): an attempt whose backoff passed may start. */
  readerAtEnd(): void {
    if (this.phase === PHASE_WAITING && this.retryAt === Infinity) this.retryAt = this.session!.host.now();
  }

  private attempt(old: Connection): void {
    const s = this.session!;
    if (this.redirecting) {
      this.redirecting = false;
    } else {
      // A new attempt: from the configured URL, whatever the last one was redirected to.
      this.attempts++;
      this.hop = this.first;
      this.followed = 0;
    }
    const hop = this.hop!;
    const atFirst = this.followed === 0;
    this.phase = PHASE_CONNECTING;
    this.retryDelay = -1;
    s.url = atFirst ? this.firstUrl : urlOf(hop);
    s.redirects = this.followed;
    const next = old.successor(this.options!);
    next.startHandshake(atFirst ? this.firstRequest! : requestOf(hop));
    // Through a proxy the session's tunnel is armed before the transport to the proxy is made
    // (reconnectWith connects to the target given, the proxy's address): CONNECT runs on it first.
    s.reconnectWith(next, armHop(hop, s, atFirst ? this.firstServer! : serverOf(hop)));
  }

  /** The notice websock_recv returns once after a reconnect; sets the handle's error to say what ended before. */
  takeNotice(): websock_error_t {
    this.noticePending = false;
    const before = this.dropped;
    const e: websock_error_t = {
      code: ERR.RECONNECTED.code,
      name: ERR.RECONNECTED.name,
      message: `${ERR.RECONNECTED.message} (after ${before !== null ? before.message : "a drop"}${this.droppedCut ? "; a message was cut" : ""})`,
    };
    if (this.droppedCut) e.message_cut = true;
    if (before?.close_code !== undefined) e.close_code = before.close_code;
    return e;
  }

  /** A send while down: it waits for the next connection (after on_open). */
  hold(m: OutgoingMessage): void {
    m.next = null;
    if (this.heldTail === null) this.heldHead = m;
    else this.heldTail.next = m;
    this.heldTail = m;
  }

  private flushHeld(): void {
    const s = this.session!;
    if (s.released || !s.conn.opened || s.conn.ending !== null) return;
    let m = this.heldHead;
    this.heldHead = this.heldTail = null;
    while (m !== null) {
      const next = m.next;
      m.next = null;
      s.sendHeld(m);
      m = next;
    }
    s.service();
  }

  /** No more attempts: what is held fails with `code`. */
  giveUp(code: number): void {
    this.phase = PHASE_DONE;
    this.retryAt = Infinity;
    this.retryDelay = -1;
    const s = this.session!;
    let m = this.heldHead;
    this.heldHead = this.heldTail = null;
    while (m !== null) {
      const next = m.next;
      m.next = null;
      s.failHeld(m, code);
      m = next;
    }
  }
}
