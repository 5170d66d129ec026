/// <reference path="../xsnap-globals.d.ts" />
// What the Moddable module shims (timer, time, crypt, net, and the ECMA-419
// TCP socket in ../ecma419-tcp.ts) share inside the xsnap worker: the
// command channel to the Node relay, the relay's clock and timers, and the
// one globalThis.handleCommand that receives the relay's events. It stands
// where the simulator's GLib main loop stands: every timer and resolver
// callback runs in a delivery from Node, then the promise jobs it started.
//
// Nothing here runs while the module loads: the runtime is set up on first
// use, as the Moddable host expects of the modules it imports.

import { EV_TIMER, OP_CLEAR_TIMER, OP_NOW, OP_REPORT, OP_SET_TIMER, asciiBytes, asciiJson, f64Bytes, message, readF64, readU32 } from "../protocol.js";
import { EV_RESOLVED } from "../ecma419-protocol.js";

export function issue(request: Uint8Array): Uint8Array {
  // issueCommand takes a whole ArrayBuffer: every request here owns its buffer.
  return new Uint8Array(issueCommand(request.buffer as ArrayBuffer));
}

/** The relay's monotonic clock (performance.now() in Node), in ms with a fraction. */
export function relayNow(): number {
  return readF64(issue(new Uint8Array([OP_NOW])), 0);
}

/** How the emulation is tuned by the test that runs it. */
export const emulation = {
  /**
   * lin/tcp.c's kTaskInterval: every socket is polled this often (20 ms in
   * the simulator). Each poll moves at most 1,536 bytes each way.
   */
  tcpPollMs: 20,
};

const timers = new Map<number, () => void>();
const resolves = new Map<number, (address: string) => void>();
let nextTimer = 1;
let nextResolve = 1;
let installed = false;

function install(): void {
  if (installed) return;
  installed = true;
  globalThis.handleCommand = (buffer: ArrayBuffer): undefined => {
    const bytes = new Uint8Array(buffer);
    const id = readU32(bytes, 1);
    switch (bytes[0]) {
      case EV_TIMER: {
        const fire = timers.get(id);
        // A timer cleared while its event was on the way is ignored.
        if (fire !== undefined) {
          timers.delete(id);
          fire();
        }
        return undefined;
      }
      case EV_RESOLVED: {
        const done = resolves.get(id);
        if (done !== undefined) {
          resolves.delete(id);
          let address = "";
          for (let i = 5; i < bytes.length; i++) address += String.fromCharCode(bytes[i]);
          done(address);
        }
        return undefined;
      }
      default:
        throw new Error(`Moddable shims: unknown event 0x${bytes[0].toString(16)}`);
    }
  };
}

/** A one-shot relay timer; returns its id for cancelTimer. */
export function startTimer(ms: number, fire: () => void): number {
  install();
  const id = nextTimer++;
  timers.set(id, fire);
  issue(message(OP_SET_TIMER, id, f64Bytes(ms)));
  return id;
}

export function cancelTimer(id: number): void {
  if (timers.delete(id)) issue(message(OP_CLEAR_TIMER, id));
}

/** Registers the callback of one RESOLVE request; returns the request's id. */
export function awaitResolve(done: (address: string) => void): number {
  install();
  const id = nextResolve++;
  resolves.set(id, done);
  return id;
}

/** Sends a test entry's result to Node (REPORT), as ASCII JSON. */
export function report(value: unknown): void {
  const json = asciiBytes(asciiJson(value));
  const request = new Uint8Array(1 + json.length);
  request[0] = OP_REPORT;
  request.set(json, 1);
  issue(request);
}

/** Relay timers pending (for a test's status). */
export function pendingTimers(): number {
  return timers.size;
}
