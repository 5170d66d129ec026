// The memory app of ../main.ts on Moddable's own ECMA-419 WebSocket client
// (embedded:network/websocket/client, $MODDABLE/examples/io/tcp/websocketclient),
// for the side-by-side figures of issue 17: each idle open connection, and
// 1,000 sequential echoes, with the same creation sizes and the same echo server.
//
//   node dist/tools/echo-server.js 8080
//   mcconfig -d -m -p lin -t build examples/memory/moddable-client/manifest.json
//   xvfb-run -a node $MODDABLE/tools/xsbug-log $MODDABLE/build/bin/lin/release/mcsim \
//     $MODDABLE/build/bin/lin/mc/debug/moddable-client/mc.so
//
// The client has no rx/tx buffers of its own: the socket's native buffers hold
// the bytes, and each read returns a new ArrayBuffer (its documented use). The
// client is preloaded with its manifest (it lives in flash on a device), so
// there is no import figure here. Output as in ../main.ts: RESULT and MARK lines.

import config from "mc/config";
import Debug from "debug";
import Instrumentation from "instrumentation";
import Timer from "timer";

const PORT = Number(config.port ?? 8080);
const CONNECTIONS = Number(config.connections ?? 4);
const ECHOES = Number(config.echoes ?? 1000);
const SIZE = Number(config.size ?? 1024);
const CLOSE_OTHERS = Number(config.close_others ?? 1) !== 0;	// as in ../main.ts
const SLOT_BYTES = 32;

const SLOTS = Instrumentation.map("XS Slot Heap Used");
const CHUNKS = Instrumentation.map("XS Chunk Heap Used");
const GCS = Instrumentation.map("XS Garbage Collection Count");
const PROMISES = Instrumentation.map("XS Promises Settled");

function read() {
	return {
		chunks: Instrumentation.get(CHUNKS),
		slots: Instrumentation.get(SLOTS),
		gcs: Instrumentation.get(GCS),
		promises: Instrumentation.get(PROMISES),
	};
}
function retained() {
	Debug.gc();
	return read();
}
function result(name, value) {
	trace(`RESULT ${name} ${value}\n`);
}
function delta(name, from, to) {
	const slots = to.slots - from.slots;
	result(`${name}.chunk_bytes`, to.chunks - from.chunks);
	result(`${name}.slot_bytes`, slots);
	result(`${name}.slots`, slots / SLOT_BYTES);
}
function markPhase(name) {
	const now = read();
	trace(`MARK ${name} gcs=${now.gcs} promises=${now.promises}\n`);
}
function sleep(ms) {
	return new Promise(resolve => Timer.set(() => resolve(), ms));
}

const PAYLOAD = new Uint8Array(SIZE);
for (let i = 0; i < SIZE; i++) PAYLOAD[i] = (i * 7 + (i >> 8)) & 255;
// As in ../main.ts: running sums, no per-echo arrays.
const tally = { slots: 0, chunks: 0, gcs: 0, quiet: 0, slotGrowth: 0, chunkGrowth: 0, peakSlots: 0 };
function mark(i) {
	const slots = Instrumentation.get(SLOTS);
	const chunks = Instrumentation.get(CHUNKS);
	const gcs = Instrumentation.get(GCS);
	if (i === 0) {
		tally.quiet = tally.slotGrowth = tally.chunkGrowth = 0;
		tally.peakSlots = slots;
	}
	else if ((gcs === tally.gcs) && (slots >= tally.slots) && (chunks >= tally.chunks)) {
		tally.quiet++;
		tally.slotGrowth += slots - tally.slots;
		tally.chunkGrowth += chunks - tally.chunks;
	}
	if (slots > tally.peakSlots) tally.peakSlots = slots;
	tally.slots = slots;
	tally.chunks = chunks;
	tally.gcs = gcs;
}

// One set of handlers for every connection (methods: `this` is the client), so
// that no closure per connection is counted against the client.
const WebSocketClient = device.network.ws.io;
const run = { done: 0, mismatches: 0, got: 0, failure: "", echoing: null, finish: null, pendingOpen: null, pendingSend: false };

function send(client) {
	try {
		client.write(PAYLOAD);
		run.pendingSend = false;
	}
	catch {
		run.pendingSend = true;		// not writable yet: onWritable sends it
	}
}
const handlers = {
	onWritable() {
		if (run.pendingOpen) {
			const resolve = run.pendingOpen;
			run.pendingOpen = null;
			resolve(this);
		}
		else if (run.pendingSend && (this === run.echoing))
			send(this);
	},
	onReadable(count, options) {
		const data = new Uint8Array(this.read(count));
		if (this !== run.echoing) return;
		const at = run.got;
		for (let i = 0; i < data.length; i++) if (data[i] !== PAYLOAD[at + i]) run.mismatches++;
		run.got += data.length;
		if (options.more) return;
		if (run.got !== SIZE) run.mismatches++;
		run.got = 0;
		run.done++;
		mark(run.done);
		if (run.done === ECHOES) run.finish?.();
		else send(this);
	},
	onControl() {},
	onClose() {
		run.failure = "closed";
		run.finish?.();
	},
	onError() {
		run.failure = "error";
		if (run.pendingOpen) run.pendingOpen(null);
		run.finish?.();
	},
};

function open() {
	return new Promise(resolve => {
		run.pendingOpen = resolve;
		new WebSocketClient({
			...device.network.ws,
			host: "127.0.0.1",
			port: PORT,
			path: "/",
			...handlers,
		});
	});
}

function echoes(client) {
	return new Promise(resolve => {
		let progress = 0;
		const watchdog = Timer.repeat(() => {
			if (progress === run.done) {
				run.failure = `no echo for 10 s after ${run.done}`;
				run.finish();
			}
			progress = run.done;
		}, 10000);
		run.finish = () => {
			Timer.clear(watchdog);
			run.finish = null;
			run.echoing = null;
			resolve();
		};
		run.echoing = client;
		mark(0);
		send(client);
	});
}

async function main() {
	trace(`memory (Moddable's client): ${CONNECTIONS} connections to ws://127.0.0.1:${PORT}/, ${ECHOES} echoes of ${SIZE} B, others ${CLOSE_OTHERS ? "closed" : "open"} during the echoes\n`);
	const start = retained();
	result("start.chunk_bytes", start.chunks);
	result("start.slot_bytes", start.slots);

	const clients = [];
	const opened = [];
	let previous = start;
	for (let i = 0; i < CONNECTIONS; i++) {
		const client = await open();
		if (client === null) {
			result("open.failure", JSON.stringify(run.failure));
			trace("RESULT failed 1\n");
			return;
		}
		clients.push(client);
		await sleep(100);
		const now = retained();
		delta(`connection_${i + 1}`, previous, now);
		opened.push(now);
		previous = now;
	}
	if (CONNECTIONS > 1) {
		const n = CONNECTIONS - 1;
		result("idle_connection.chunk_bytes", ((opened[n].chunks - opened[0].chunks) / n).toFixed(0));
		result("idle_connection.slots", ((opened[n].slots - opened[0].slots) / n / SLOT_BYTES).toFixed(0));
	}

	if (CLOSE_OTHERS) {
		for (let i = 1; i < clients.length; i++) clients[i].close();
		await sleep(100);
		delta("after_closing_others", opened[CONNECTIONS - 1], retained());
	}

	const before = retained();
	markPhase("callback.begin");
	await echoes(clients[0]);
	markPhase("callback.end");
	await sleep(100);
	result("callback.echoes", run.done);
	result("callback.mismatches", run.mismatches);
	if (run.failure !== "") result("callback.failure", JSON.stringify(run.failure));
	result("callback.echoes_without_collection", tally.quiet);
	result("callback.garbage_slots_per_echo", tally.quiet === 0 ? "n/a" : (tally.slotGrowth / tally.quiet / SLOT_BYTES).toFixed(1));
	result("callback.garbage_chunk_bytes_per_echo", tally.quiet === 0 ? "n/a" : (tally.chunkGrowth / tally.quiet).toFixed(0));
	result("callback.peak_slot_bytes_seen", tally.peakSlots);
	delta("callback.retained", before, retained());

	for (let i = CLOSE_OTHERS ? 1 : clients.length; i-- > 0;) clients[i].close();
	const end = retained();
	result("end.chunk_bytes", end.chunks);
	result("end.slot_bytes", end.slots);
	trace("memory: done\n");
}

main().catch(e => trace(`memory: failed: ${e}\nRESULT failed 1\n`));
