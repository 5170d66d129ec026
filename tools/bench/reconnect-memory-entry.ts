/// <reference path="../../hosts/xs-test/xsnap-globals.d.ts" />
// Bundled and evaluated inside the xsnap worker by reconnect-memory.ts: one
// handle that reconnects (the websock_* API over the XS test host) and a
// websock_recv loop, as an application's. Node plays the peer
// (lib/flaky-server.ts) and reads the heap while the handle is open and idle.
//
// start(port) opens the handle; reportAt(n) sends one REPORT as soon as the
// handle has reconnected n times and is open.

import { installXsTestHost, type XsTestHost } from "../../hosts/xs-test/xs-test-host.js";
import { WEBSOCK_ERR, createWebsock, websock_msg_hdr_init, type WebsockApi } from "../../src/websock.js";
import type { websock_handle_t } from "../../src/types.js";

let xs: XsTestHost | null = null;
let api: WebsockApi | null = null;
let handle: websock_handle_t | null = null;
let reconnects = 0;
let reportWhen = -1;
let failure = "";

/** The loop's buffers, made once. */
const hdr = websock_msg_hdr_init();
const buf = new Uint8Array(256);

function status(): { attempts: number; reconnects: number; state: string; failure: string } {
  const info = handle !== null ? api!.websock_get_info(handle) : null;
  return { attempts: info?.attempts ?? -1, reconnects, state: info?.state ?? "none", failure };
}

function maybeReport(): void {
  if (reportWhen < 0 || reconnects < reportWhen) return;
  const s = status();
  if (s.state !== "OPEN" && failure === "") return;
  reportWhen = -1;
  xs!.report(s);
}

async function loop(): Promise<void> {
  for (;;) {
    const n = await api!.websock_recv(handle!, hdr, buf, buf.length, -1);
    if (n === WEBSOCK_ERR.RECONNECTED) {
      reconnects++;
      maybeReport();
      continue;
    }
    if (n < 0) {
      failure = `${api!.websock_last_error(handle!).name}: ${api!.websock_last_error(handle!).message}`;
      maybeReport();
      return;
    }
  }
}

export function start(port: number): void {
  xs = installXsTestHost();
  api = createWebsock(xs.host);
  void api
    .websock_open({
      hostname: "127.0.0.1",
      port,
      rx_buffer_size: 1024,
      tx_buffer_size: 1024,
      // Delays of 1-4 ms after the first, never reset: attempts follow each other quickly.
      reconnect: { first_delay: 0, min_delay: 4, max_delay: 4, stable_after: 0x7fffffff },
    })
    .then((h) => {
      if (h === null) {
        failure = `open: ${api!.websock_last_error().message}`;
        xs!.report(status());
        return;
      }
      handle = h;
      xs!.report(status());
      return loop();
    });
}

export function reportAt(n: number): void {
  reportWhen = n;
  maybeReport();
}

export function collect(): void {
  (globalThis as unknown as { gc(): void }).gc();
}
