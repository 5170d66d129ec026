// The Moddable `timer` module inside the xsnap worker, on the relay's timers
// (Node's setTimeout). Semantics of modules/base/timer (mc/timer.c over
// lin/timer.c's modTimer): Timer.set(callback, interval, repeat) first fires
// after `interval` ms, then every `repeat` ms when repeat > 0; the callback
// gets the timer; a one-shot timer is released once it has fired, so a later
// Timer.clear of it does nothing; Timer.clear of anything else that is not a
// live timer does nothing either.

import { cancelTimer, relayNow, startTimer } from "./runtime.js";

type TimerCallback = (timer: TimerHandle) => void;

/** What Timer.set returns: an opaque object, as Moddable's host object is. */
interface TimerHandle {
  readonly brand?: never;
}

interface TimerRecord {
  callback: TimerCallback | null;
  repeat: number;
  /** The relay timer armed for the next firing, or -1 while unscheduled. */
  relayTimer: number;
}

const records = new WeakMap<TimerHandle, TimerRecord>();

function milliseconds(value: unknown): number {
  // xsmcToInteger: a number truncated toward zero; what is not a number is 0.
  const n = Math.trunc(Number(value));
  return Number.isFinite(n) && n > 0 ? n : 0;
}

function arm(handle: TimerHandle, record: TimerRecord, ms: number): void {
  record.relayTimer = startTimer(ms, () => {
    record.relayTimer = -1;
    const callback = record.callback;
    if (callback === null) return;
    if (record.repeat > 0) arm(handle, record, record.repeat);
    else release(handle, record);
    callback.call(globalThis, handle);
  });
}

function release(handle: TimerHandle, record: TimerRecord): void {
  record.callback = null;
  records.delete(handle);
}

function create(callback: TimerCallback, interval: number, repeat: number): TimerHandle {
  if (typeof callback !== "function") throw new TypeError("Timer: callback is not a function");
  const handle: TimerHandle = Object.freeze({});
  const record: TimerRecord = { callback, repeat, relayTimer: -1 };
  records.set(handle, record);
  arm(handle, record, interval);
  return handle;
}

const Timer = Object.freeze({
  set(callback: TimerCallback, interval?: number, repeat?: number): TimerHandle {
    return create(callback, milliseconds(interval), milliseconds(repeat));
  },
  repeat(callback: TimerCallback, interval: number): TimerHandle {
    const ms = milliseconds(interval);
    return create(callback, ms, ms);
  },
  /** schedule(timer) stops it without releasing it; schedule(timer, interval, repeat) arms it again. */
  schedule(timer: TimerHandle, interval?: number, repeat?: number): void {
    const record = records.get(timer);
    if (record === undefined) throw new TypeError("Timer.schedule: not a live timer");
    if (record.relayTimer >= 0) cancelTimer(record.relayTimer);
    record.relayTimer = -1;
    if (interval === undefined) return;
    record.repeat = milliseconds(repeat);
    arm(timer, record, milliseconds(interval));
  },
  clear(timer: TimerHandle | undefined | null): void {
    if (timer === undefined || timer === null) return;
    const record = records.get(timer);
    if (record === undefined) return;
    if (record.relayTimer >= 0) cancelTimer(record.relayTimer);
    record.relayTimer = -1;
    release(timer, record);
  },
  /** Blocks for `ms` (the simulator's usleep): here, on the relay's clock. */
  delay(ms: number): void {
    const until = relayNow() + milliseconds(ms);
    while (relayNow() < until) {
      // busy: Timer.delay blocks the VM on the device too
    }
  },
});

export default Timer;
