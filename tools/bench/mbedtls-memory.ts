// The RAM of one wss:// connection through websock's mbedTLS engine, TLS 1.2,
// measured inside XS (an xsnap worker built with the engine and Debian's
// mbedTLS 2.28, tools/xsnap-tls/build.mjs --heap): mbedTLS's own heap,
// counted by its calloc and free (renamed in copies of the static
// libraries), once the connection is open and at its peak during the
// handshake; the engine's fixed block (websock_tls.c's struct and its two
// queues) and the transport's scratch array; and the XS side, as the slots
// the open connection holds after a collection (counted by the worker's meter;
// bytes at ESP32's 16 B a slot) beside the connection's fixed buffers.
//
//   npx tsx tools/bench/mbedtls-memory.ts   (npm run bench -- mbedtls)
//
// The server: Node's https + ws, an ECDSA P-256 certificate from a CA made
// for the run, TLS 1.2 (ECDHE-ECDSA, AES-GCM). Not measured here: Moddable's
// TLS in the same simulator (README, "Moddable TLS").

import https from "node:https";
import { fileURLToPath } from "node:url";
import { makeTestPki } from "../../test/support/certs.js";
import { startWsServer } from "../../test/support/ws-server.js";
import { ModdableRelay } from "../../test/xs/ecma419-kernel.js";
import { bundleModdableForXs } from "../../test/xs/moddable-bundle.js";
import { startXsWorker } from "../../test/xs/xsnap-driver.js";
// @ts-expect-error: a plain .mjs build script, no types
import { buildTlsWorker } from "../xsnap-tls/build.mjs";

const ENTRY = fileURLToPath(new URL("../../test/xs/mbedtls-entry.ts", import.meta.url));
/** hosts/moddable/mbedtls-transport.ts's QUEUE_SIZE. */
const QUEUE_SIZE = 2048;
const RX = 4096;
const TX = 4096;

interface Heap {
  current: number;
  peak: number;
  allocations: number;
}

const pki = await makeTestPki();
const server = https.createServer({ key: pki.server.keyPem, cert: pki.server.certPem, maxVersion: "TLSv1.2" });
const ws = await startWsServer(server);
const relay = new ModdableRelay();
const worker = startXsWorker({ binary: buildTlsWorker({ heap: true }), handleCommand: (r) => relay.answer(r) });
relay.attach(worker);
try {
  await worker.evaluate(await bundleModdableForXs(ENTRY, "XsTls"));
  const config = {
    hostname: "127.0.0.1", port: ws.port, uri: "/echo", secured: true, rx_buffer_size: RX, tx_buffer_size: TX,
    ssl_config: { ca: pki.ca.certPem, server_name: "localhost", tls_engine: "mbedtls" },
  };
  // A first connection warms what is made once (module state, the registry); the second is measured.
  for (let round = 0; round < 2; round++) {
    const idle = await worker.evaluate("gc()");
    const opened = relay.nextReport<{ opened: boolean; tls: { version: string; cipher: string }; before: Heap; after: Heap; error: unknown }>(20000);
    await worker.evaluate(`XsTls.holdOpen(${JSON.stringify(JSON.stringify(config))}, 2)`);
    const o = await opened;
    if (!o.opened) throw new Error(`open failed: ${JSON.stringify(o.error)}`);
    const open = await worker.evaluate("gc()");
    const closed = relay.nextReport<{ after: Heap }>(20000);
    await worker.evaluate("XsTls.closeHeld()");
    const c = await closed;
    if (round === 0) continue;
    const capsReport = relay.nextReport<{ engineSize: number; version: string; inContentLength: number; outContentLength: number }>(10000);
    await worker.evaluate("XsTls.capabilities()");
    const caps = await capsReport;
    const slots = open.meter.currentHeapCount - idle.meter.currentHeapCount;
    const heapOpen = o.after.current - o.before.current;
    const heapPeak = o.after.peak - o.before.current;
    console.log(`one wss:// connection, ${o.tls.version} ${o.tls.cipher}; ${caps.version}, record buffers ${caps.inContentLength} in / ${caps.outContentLength} out`);
    console.log(`  mbedTLS heap while open:          ${heapOpen} B (${o.after.allocations - o.before.allocations} allocations during the open)`);
    console.log(`  mbedTLS heap peak in the handshake: ${heapPeak} B`);
    console.log(`  after websock_close:              ${c.after.current - o.before.current} B left`);
    console.log(`  the engine's block:               ${caps.engineSize + 2 * QUEUE_SIZE} B (its struct ${caps.engineSize} B on 64-bit Linux, two ${QUEUE_SIZE} B queues)`);
    console.log(`  the transport's scratch array:    ${QUEUE_SIZE} B`);
    console.log(`  XS side: ${slots} slots held while open (${slots * 16} B at 16 B a slot on ESP32), plus rx ${RX} + tx ${TX} B buffers`);
  }
} finally {
  relay.shutdown();
  await worker.close();
  await ws.stop();
  await pki.cleanup();
}
