// The Moddable `time` module inside the xsnap worker. In the simulator
// (modules/base/time/lin/modTime.c) Time.ticks is gettimeofday() in whole
// milliseconds; here it is the relay's clock (Node's performance.now()),
// truncated to whole milliseconds the same way, so that the host's deadlines
// and the relay's timers run on one clock.

import { relayNow } from "./runtime.js";

function ticks(): number {
  return Math.floor(relayNow());
}

const Time = Object.freeze({
  get ticks(): number {
    return ticks();
  },
  delta(start: number, end?: number): number {
    return (end === undefined ? ticks() : end) - start;
  },
});

export default Time;
