// Issue 12, "Inputs the API lets through": what a careless or hostile caller
// hands websock_open and websock_attach_*, and what a careless or hostile
// peer sends before the handshake is done. Real sockets on 127.0.0.1
// throughout: a refused config must never reach the network, an accepted
// one must do exactly what it says.

import { strict as assert } from "node:assert";
import { createHash } from "node:crypto";
import { readFileSync, readdirSync } from "node:fs";
import net from "node:net";
import type { AddressInfo } from "node:net";
import {
  WEBSOCK_ERR,
  WS_BINARY,
  websock_attach_server,
  websock_close,
  websock_close_with_code,
  websock_get_info,
  websock_last_error,
  websock_msg_hdr_init,
  websock_open,
  websock_recv,
  websock_send_binary,
  websock_send_text,
  type websock_config_t,
  type websock_handle_t,
} from "websock-rfc6455";
import * as config from "../src/config.js";
import * as errors from "../src/errors.js";
import * as nodeTls from "../hosts/node/tls-options.js";
import { serverFrame, startRawServer, switchingProtocols, type RawServer } from "./support/raw-server.js";
import { startWsServer, type WsTestServer } from "./support/ws-server.js";

/** Bounds the opens that today's code would let through to DNS or a silent peer. */
const TIME_OUT = 3000;

async function recvText(h: websock_handle_t): Promise<string> {
  const hdr = websock_msg_hdr_init();
  const buf = new Uint8Array(4096);
  let text = "";
  for (;;) {
    const n = await websock_recv(h, hdr, buf, buf.length, 5000);
    if (n < 0) throw new Error(`recv: ${websock_last_error(h).message}`);
    if (hdr.opcode < 0) throw new Error("recv timed out");
    text += Buffer.from(buf.subarray(0, n)).toString();
    if (hdr.fin && hdr.bytesleft === 0) return text;
  }
}

/** websock_open resolves (never rejects) with null and INVALID_ARG naming `field`. */
async function refusedOpen(cfg: unknown, field: string | RegExp): Promise<void> {
  let h: websock_handle_t | null;
  try {
    h = await websock_open(cfg as websock_config_t);
  } catch (e) {
    assert.fail(`websock_open rejected instead of returning null: ${String(e)}`);
  }
  if (h !== null) await websock_close(h);
  assert.equal(h, null, "websock_open opened a connection");
  const e = websock_last_error();
  assert.equal(e.name, "WEBSOCK_ERR_INVALID_ARG", e.message);
  assert.equal(e.code, WEBSOCK_ERR.INVALID_ARG);
  if (typeof field === "string") assert.ok(e.message.includes(field), `message does not name ${field}: ${e.message}`);
  else assert.match(e.message, field);
}

/** An object whose fields are getters counting their reads. */
function counted(values: Record<string, unknown>, reads: Map<string, number>, prefix = ""): object {
  const o = {};
  for (const [key, value] of Object.entries(values)) {
    Object.defineProperty(o, key, {
      enumerable: true,
      get() {
        reads.set(prefix + key, (reads.get(prefix + key) ?? 0) + 1);
        return value;
      },
    });
  }
  return o;
}

function throwingGetter(key: string, extra: Record<string, unknown> = {}): object {
  const o: Record<string, unknown> = { ...extra };
  Object.defineProperty(o, key, {
    enumerable: true,
    get() {
      throw new Error(`${key} getter says no`);
    },
  });
  return o;
}

const throwingProxy = <T extends object>(target: T): T =>
  new Proxy(target, {
    get() {
      throw new Error("proxy get says no");
    },
  });

function revokedProxy(): object {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  return proxy;
}

/** A connected pair of TCP sockets on 127.0.0.1. */
async function socketPair(): Promise<[net.Socket, net.Socket]> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const accepted = new Promise<net.Socket>((r) => server.once("connection", r));
  const client = net.connect((server.address() as AddressInfo).port, "127.0.0.1");
  await new Promise((r) => client.once("connect", r));
  const other = await accepted;
  server.close();
  return [client, other];
}

describe("config: a key websock_config_t does not define is refused, naming it", () => {
  let server: WsTestServer;
  before(async () => {
    server = await startWsServer();
  });
  after(() => server.stop());
  const base = (): websock_config_t => ({ hostname: "127.0.0.1", port: server.port, uri: "/echo", time_out: TIME_OUT });

  for (const [what, extra, field] of [
    ["a list of proxies (the field is proxy, one string)", { proxies: ["http://127.0.0.1:3128"] }, "proxies"],
    ["ws's option name for compression", { perMessageDeflate: true }, "perMessageDeflate"],
    ["a typo of ssl_config", { ssl_confg: { verify: false } }, "ssl_confg"],
    ["a typo of rx_buffer_size", { rx_buffer_sz: 1024 }, "rx_buffer_sz"],
  ] as const) {
    it(`websock_config_t with ${what}`, async () => {
      const before = server.requests.length;
      await refusedOpen({ ...base(), ...extra }, field);
      assert.equal(server.requests.length, before, "the server was reached");
    });
  }

  it("websock_ssl_config_t with a key it does not define", async () => {
    await refusedOpen({ ...base(), ssl_config: { verfy: false } }, "ssl_config.verfy");
    await refusedOpen({ ...base(), ssl_config: { ca: "x", trust_all: true } }, "ssl_config.trust_all");
  });

  it("a known key whose value is undefined is the default, not an unknown key", async () => {
    const h = await websock_open({ ...base(), ssl_config: undefined, subprotocols: undefined });
    assert.ok(h, websock_last_error().message);
    assert.equal(await websock_send_text(h, "defaults"), 0);
    assert.equal(await recvText(h), "defaults");
    await websock_close(h);
  });

  it("websock_attach_config_t with a key it does not define, or one only websock_open takes", async () => {
    for (const [cfg, field] of [
      [{ proxy: "x" }, "proxy"],
      [{ ssl_confg: {} }, "ssl_confg"],
      [{ ssl_config: { verify: true } }, "ssl_config"],
      [{ hostname: "example.com" }, "hostname"],
      [{ secured: true }, "secured"],
    ] as const) {
      const [a, b] = await socketPair();
      try {
        const h = await websock_attach_server(a, WS_BINARY, cfg as object);
        if (h !== null) await websock_close(h);
        assert.equal(h, null, `attached with ${JSON.stringify(cfg)}`);
        const e = websock_last_error();
        assert.equal(e.code, WEBSOCK_ERR.INVALID_ARG, e.message);
        assert.ok(e.message.includes(field), e.message);
      } finally {
        a.destroy();
        b.destroy();
      }
    }
  });
});

describe("config: hostile objects are refused by field, never thrown, and read once", () => {
  let server: RawServer;
  before(async () => {
    server = await startRawServer((peer) => peer.socket.write(switchingProtocols(peer.request.accept)));
  });
  after(() => server.stop());
  const base = (): Record<string, unknown> => ({ hostname: "127.0.0.1", port: server.port, time_out: TIME_OUT, close_timeout: 200 });

  it("a throwing getter or a Proxy as the config", async () => {
    await refusedOpen(throwingGetter("hostname", { port: server.port }), "hostname could not be read");
    await refusedOpen(throwingGetter("port", { hostname: "127.0.0.1" }), "port could not be read");
    await refusedOpen(throwingProxy(base()), /could not be read/);
    await refusedOpen(new Proxy(base(), { ownKeys: () => { throw new Error("no keys"); } }), "cfg could not be read");
    await refusedOpen(revokedProxy(), "cfg");
    // What is thrown may itself be hostile: its message is not trusted either.
    await refusedOpen(Object.defineProperty({}, "hostname", { enumerable: true, get: () => { throw throwingProxy({}); } }), "hostname could not be read");
    assert.equal(server.peers.length, 0);
  });

  it("a throwing getter or a Proxy as hndshk_hdrs, subprotocols or their entries", async () => {
    await refusedOpen({ ...base(), hndshk_hdrs: throwingProxy(["X-A: 1"]) }, "hndshk_hdrs");
    await refusedOpen({ ...base(), hndshk_hdrs: throwingGetter("0", { length: 1 }) }, "hndshk_hdrs");
    const entry = ["X-A: 1"];
    Object.defineProperty(entry, 0, { get: () => { throw new Error("no entry"); } });
    await refusedOpen({ ...base(), hndshk_hdrs: entry }, "hndshk_hdrs[0] could not be read");
    await refusedOpen({ ...base(), hndshk_hdrs: revokedProxy() }, "hndshk_hdrs");
    await refusedOpen({ ...base(), subprotocols: throwingProxy(["chat"]) }, "subprotocols");
    await refusedOpen({ ...base(), subprotocols: new Proxy(["chat"], { get: (t, k) => (k === "length" ? 1e9 : Reflect.get(t, k)) }) }, "subprotocols");
    assert.equal(server.peers.length, 0);
  });

  it("a throwing getter or a Proxy in ssl_config (secured, so the host's checks are reached)", async () => {
    const secured = { ...base(), secured: true };
    await refusedOpen({ ...secured, ssl_config: throwingGetter("ca") }, "ssl_config.ca could not be read");
    await refusedOpen({ ...secured, ssl_config: throwingGetter("verify") }, "ssl_config.verify");
    await refusedOpen({ ...secured, ssl_config: throwingProxy({ verify: false }) }, "ssl_config.");
    await refusedOpen({ ...secured, ssl_config: revokedProxy() }, "ssl_config");
    await refusedOpen({ ...secured, ssl_config: { alpn: throwingProxy(["http/1.1"]) } }, "ssl_config.alpn");
    await refusedOpen({ ...secured, ssl_config: { ca: [throwingProxy(new Uint8Array(4))] } }, "ssl_config.ca[0]");
    assert.equal(server.peers.length, 0);
  });

  it("a Proxy or a doctored Uint8Array as rx_buffer or tx_buffer", async () => {
    await refusedOpen({ ...base(), rx_buffer: new Proxy(new Uint8Array(1024), {}) }, "rx_buffer");
    await refusedOpen({ ...base(), tx_buffer: throwingProxy(new Uint8Array(1024)) }, "tx_buffer");
    // Not a Uint8Array at all, whatever its prototype says.
    await refusedOpen({ ...base(), rx_buffer: Object.setPrototypeOf({ length: 1024 }, Uint8Array.prototype) }, "rx_buffer");
    assert.equal(server.peers.length, 0);
  });

  it("a Uint8Array with a lying own length is used by its real bytes", async () => {
    const rx = new Uint8Array(1024);
    Object.defineProperty(rx, "length", { get: () => { throw new Error("length says no"); } });
    const h = await websock_open({ ...base(), uri: "/lying", rx_buffer: rx } as websock_config_t);
    assert.ok(h, websock_last_error().message);
    const peer = server.peers.at(-1)!;
    peer.socket.write(serverFrame(1, "through a doctored buffer"));
    assert.equal(await recvText(h), "through a doctored buffer");
    await websock_close(h);
  });

  it("reads every field exactly once, so no getter can answer the check one thing and the use another", async () => {
    const reads = new Map<string, number>();
    const headers = ["X-A: 1", "X-B: 2"];
    const countedHeaders = new Proxy(headers, {
      get(t, k) {
        if (typeof k === "string") reads.set(`hndshk_hdrs.${k}`, (reads.get(`hndshk_hdrs.${k}`) ?? 0) + 1);
        return Reflect.get(t, k);
      },
    });
    const cfg = counted({
      hostname: "127.0.0.1", port: server.port, uri: "/counted", time_out: TIME_OUT, hndshk_hdrs: countedHeaders, num_hndshk_hdrs: 1,
      rx_buffer: new Uint8Array(1024), tx_buffer: new Uint8Array(512), ping_interval: 0, auto_pong: true, close_timeout: 200,
      ssl_config: counted({ verify: true, server_name: "localhost" }, reads, "ssl_config."),
    }, reads);
    const h = await websock_open(cfg as websock_config_t);
    assert.ok(h, websock_last_error().message);
    await websock_close(h);
    const wrong = [...reads].filter(([, n]) => n !== 1);
    assert.deepEqual(wrong, [], `fields read more than once: ${JSON.stringify(wrong)}`);
    for (const key of ["hostname", "port", "rx_buffer", "tx_buffer", "hndshk_hdrs", "num_hndshk_hdrs", "ssl_config", "ssl_config.verify", "hndshk_hdrs.0"]) {
      assert.equal(reads.get(key), 1, `${key} was read ${reads.get(key) ?? 0} times`);
    }
    // Only num_hndshk_hdrs entries are read (the C API: the rest may be garbage).
    assert.equal(reads.get("hndshk_hdrs.1"), undefined);
    assert.ok(server.peers.at(-1)!.request.text.includes("X-A: 1\r\n"));
    assert.ok(!server.peers.at(-1)!.request.text.includes("X-B"));
  });

  it("the host gets the snapshot, not the caller's ssl_config: each field read once on a secured open", async () => {
    // A TCP server that drops every connection: the TLS handshake fails after the host has used ssl_config.
    const dropper = net.createServer((s) => s.destroy());
    await new Promise<void>((r) => dropper.listen(0, "127.0.0.1", r));
    try {
      const reads = new Map<string, number>();
      const ssl = counted({ verify: false, server_name: "localhost", alpn: ["http/1.1"], min_version: "TLSv1.2" }, reads, "ssl_config.");
      const h = await websock_open({ hostname: "127.0.0.1", port: (dropper.address() as AddressInfo).port, secured: true, ssl_config: ssl, time_out: TIME_OUT } as websock_config_t);
      if (h !== null) await websock_close(h);
      assert.equal(h, null);
      assert.notEqual(websock_last_error().code, WEBSOCK_ERR.INVALID_ARG, websock_last_error().message);
      assert.deepEqual(Object.fromEntries(reads), { "ssl_config.verify": 1, "ssl_config.server_name": 1, "ssl_config.alpn": 1, "ssl_config.min_version": 1 });
    } finally {
      await new Promise((r) => dropper.close(r));
    }
  });

  it("websock_attach_*'s config is read by resolveAttachConfig, hostile or not", () => {
    // websock.ts spreads the attach config today ({ ...cfg }), which throws on a hostile one;
    // resolveAttachConfig reads it field by field instead (see the report for the one-line change).
    const resolve = config.resolveAttachConfig;
    assert.equal(typeof resolve, "function", "src/config.ts has no resolveAttachConfig");
    const refusal = (cfg: unknown, resource?: string): string => {
      const r = resolve(cfg as object, resource);
      assert.equal(r.ok, false, "accepted a config it should refuse");
      return (r as { message: string }).message;
    };
    assert.match(refusal(throwingProxy({})), /could not be read/);
    assert.match(refusal(revokedProxy()), /^cfg could not be read/);
    assert.match(refusal(throwingGetter("time_out")), /^time_out could not be read/);
    assert.match(refusal({ uri: "/x" }), /^uri is not a field of websock_attach_config_t/);
    assert.match(refusal({ ssl_confg: {} }), /ssl_confg/);
    const ok = resolve(undefined, "/chat");
    assert.ok(ok.ok && ok.config.uri === "/chat" && ok.config.hostname === "localhost");
  });
});

describe("config: rx_buffer and tx_buffer may share an ArrayBuffer, never a byte", () => {
  let server: WsTestServer;
  before(async () => {
    server = await startWsServer();
  });
  after(() => server.stop());
  const base = (): websock_config_t => ({ hostname: "127.0.0.1", port: server.port, uri: "/echo", time_out: TIME_OUT });

  it("refuses views of one ArrayBuffer whose byte ranges intersect", async () => {
    const memory = new ArrayBuffer(4096);
    const before = server.requests.length;
    await refusedOpen({ ...base(), rx_buffer: new Uint8Array(memory, 0, 1024), tx_buffer: new Uint8Array(memory, 512, 1024) }, /rx_buffer and tx_buffer overlap/);
    // One byte in common is enough.
    await refusedOpen({ ...base(), rx_buffer: new Uint8Array(memory, 1023, 1024), tx_buffer: new Uint8Array(memory, 0, 1024) }, /overlap/);
    await refusedOpen({ ...base(), rx_buffer: new Uint8Array(memory, 0, 2048), tx_buffer: new Uint8Array(memory, 512, 256) }, /overlap/);
    const same = new Uint8Array(memory, 0, 1024);
    await refusedOpen({ ...base(), rx_buffer: same, tx_buffer: same }, /overlap/);
    await refusedOpen({ ...base(), rx_buffer: Buffer.from(memory, 0, 1024), tx_buffer: new Uint8Array(memory, 1000, 1024) }, /overlap/);
    assert.equal(server.requests.length, before, "the server was reached");
  });

  it("accepts disjoint views of one ArrayBuffer, and they carry messages both ways", async () => {
    const memory = new ArrayBuffer(2048);
    const rx = new Uint8Array(memory, 0, 1024);
    const tx = new Uint8Array(memory, 1024, 1024);
    const h = await websock_open({ ...base(), rx_buffer: rx, tx_buffer: tx });
    assert.ok(h, websock_last_error().message);
    const big = "x".repeat(3000) + "é";
    assert.equal(await websock_send_text(h, big), 0);
    assert.equal(await recvText(h), big);
    assert.equal(await websock_send_binary(h, new Uint8Array(300).fill(7)), 0);
    await websock_close(h);
  });
});

describe("handshake headers and hostname: only what RFC 9110 allows goes out", () => {
  let server: WsTestServer;
  before(async () => {
    server = await startWsServer();
  });
  after(() => server.stop());
  const base = (): websock_config_t => ({ hostname: "127.0.0.1", port: server.port, uri: "/echo", time_out: TIME_OUT });

  for (const [what, headers, field] of [
    ["\\x01 in a value", ["X-A: a\x01b"], "hndshk_hdrs[0]"],
    ["\\x0b in a value", ["X-A: a\x0bb"], "hndshk_hdrs[0]"],
    ["\\x0b as the whole value (String.trim would have dropped it)", ["X-A: \x0b"], "hndshk_hdrs[0]"],
    ["DEL in a value", ["X-A: a\x7fb"], "hndshk_hdrs[0]"],
    ["NUL in a value", ["X-A: a\0b"], "hndshk_hdrs[0]"],
    ["a bare CR", ["X-A: a\rb"], "hndshk_hdrs[0]"],
    ["a bare LF", ["X-OK: 1", "X-A: a\nX-B: b"], "hndshk_hdrs[1]"],
    ["\\x0c before the name", ["\x0cX-A: 1"], "hndshk_hdrs[0]"],
    ["an empty Host", ["Host:"], "hndshk_hdrs[0] is an empty Host"],
    ["a Host of spaces", ["Host:   "], "hndshk_hdrs[0] is an empty Host"],
    ["two Host entries", ["Host: a.example", "host: b.example"], "hndshk_hdrs[1] is a second Host"],
    ["a Host that is no host", ["Host: a b"], "hndshk_hdrs[0]"],
    ["a Host with U+0085", ["Host: exa\u0085mple.com"], "hndshk_hdrs[0]"],
    ["Connection, which websock sets", ["Connection: close"], "hndshk_hdrs[0] sets Connection"],
    ["Sec-WebSocket-Protocol, which websock sets", ["Sec-WebSocket-Protocol: chat"], "hndshk_hdrs[0] sets Sec-WebSocket-Protocol"],
    ["Sec-WebSocket-Version, which websock sets", ["Sec-WebSocket-Version: 8"], "hndshk_hdrs[0]"],
    ["a Content-Length (the server would read frames as a body)", ["Content-Length: 5"], "hndshk_hdrs[0] sets Content-Length"],
    ["a Transfer-Encoding", ["Transfer-Encoding: chunked"], "hndshk_hdrs[0]"],
  ] as const) {
    it(`refuses hndshk_hdrs with ${what}`, async () => {
      const before = server.requests.length;
      await refusedOpen({ ...base(), hndshk_hdrs: [...headers] }, field);
      assert.equal(server.requests.length, before, "the server was reached");
    });
  }

  it("sends values with inner spaces and tabs, empty values, UTF-8, and one Host of the caller's", async () => {
    const h = await websock_open({ ...base(), hndshk_hdrs: ["X-Spaces:  a b\tc  ", "X-Empty:", "X-Utf8: héllo", "Host: example.com:8080"] });
    assert.ok(h, websock_last_error().message);
    await websock_close(h);
    const sent = server.requests.at(-1)!.headers;
    assert.equal(sent["x-spaces"], "a b\tc");
    assert.equal(sent["x-empty"], "");
    assert.equal(Buffer.from(sent["x-utf8"] as string, "latin1").toString(), "héllo");
    assert.equal(sent.host, "example.com:8080");
  });

  for (const hostname of ["exa\u0085mple.com", "bücher.example", "a..example", "-a.example", "a-.example", "999.1.1.1", "1.2.3.256", "1.2.3", "010.0.0.1", "::1::2", "[::1", "::1]", "fe80::1%", "example.com:80", "exa mple.com", "x".repeat(64) + ".example"]) {
    it(`refuses hostname ${JSON.stringify(hostname).replace(/[\u0080-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)} before any DNS`, async () => {
      await refusedOpen({ hostname, port: server.port, time_out: TIME_OUT }, "hostname");
    });
  }

  it("accepts host names, IPv4 and the name localhost", async () => {
    for (const hostname of ["127.0.0.1", "localhost"]) {
      const h = await websock_open({ ...base(), hostname });
      assert.ok(h, `${hostname}: ${websock_last_error().message}`);
      await websock_close(h);
    }
  });

  it("accepts an IPv6 literal with or without brackets, and sends it bracketed in Host", async function () {
    const v6 = await startRawServerOn("::1");
    if (v6 === null) this.skip();
    try {
      for (const hostname of ["::1", "[::1]", "0:0:0:0:0:0:0:1"]) {
        const h = await websock_open({ hostname, port: v6.port, time_out: TIME_OUT });
        assert.ok(h, `${hostname}: ${websock_last_error().message}`);
        await websock_close(h);
        assert.match(v6.requests.at(-1)!, new RegExp(`\r\nHost: \\[${hostname.replace(/[[\]]/g, "")}\\]:${v6.port}\r\n`));
      }
    } finally {
      await v6.stop();
    }
  });
});

/** A minimal 101-answering server on `address`; null when that address is not available (no IPv6). */
async function startRawServerOn(address: string): Promise<{ port: number; requests: string[]; stop(): Promise<void> } | null> {
  const requests: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
    let text = "";
    socket.on("data", (d: Buffer) => {
      text += d.toString("latin1");
      const end = text.indexOf("\r\n\r\n");
      if (end < 0 || requests.includes(text)) return;
      requests.push(text);
      const key = /Sec-WebSocket-Key: (\S+)/.exec(text)![1];
      socket.write(switchingProtocols(createHash("sha1").update(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest("base64")));
    });
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, address, resolve);
    });
  } catch {
    return null;
  }
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    stop: () => new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    }),
  };
}

describe("close codes are integers of type number", () => {
  let server: WsTestServer;
  before(async () => {
    server = await startWsServer();
  });
  after(() => server.stop());

  it("websock_close_with_code refuses \"1000\", 1000.5, NaN and 1e3 + 0.1, and the connection stays open", async () => {
    const h = await websock_open({ hostname: "127.0.0.1", port: server.port, uri: "/echo", time_out: TIME_OUT });
    assert.ok(h, websock_last_error().message);
    for (const code of ["1000", 1000.5, NaN, 1000.1, null, [1000]]) {
      assert.equal(await websock_close_with_code(h, code as number), WEBSOCK_ERR.INVALID_ARG, `accepted ${JSON.stringify(code)}`);
      assert.match(websock_last_error(h).message, /code/);
      assert.equal(websock_get_info(h)?.state, "OPEN");
    }
    assert.equal(await websock_send_text(h, "still open"), 0);
    assert.equal(await recvText(h), "still open");
    assert.equal(await websock_close_with_code(h, 4000, "done"), 0);
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(server.closes.at(-1), { path: "/echo", code: 4000, reason: "done" });
  });
});

describe("server side: refusals are prompt and their Content-Length is bytes", () => {
  let port: number;
  let listener: net.Server;
  const results: Array<websock_handle_t | null> = [];
  before(async () => {
    listener = net.createServer(async (socket) => {
      socket.on("error", () => {});
      // time_out is as long as it gets: only a refusal from the bytes themselves can answer these tests.
      const h = await websock_attach_server(socket, WS_BINARY, { time_out: 0x7fffffff });
      results.push(h);
      if (h !== null) await websock_close(h);
    });
    await new Promise<void>((r) => listener.listen(0, "127.0.0.1", r));
    port = (listener.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((r) => listener.close(() => r())));

  /** Sends `bytes` (and keeps the connection open); resolves with all the server sent once it closed. */
  async function exchange(...parts: Array<string | Buffer>): Promise<Buffer> {
    const socket = net.connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    socket.on("data", (d: Buffer) => chunks.push(d));
    socket.on("error", () => {});
    await new Promise((r) => socket.once("connect", r));
    for (const part of parts) {
      socket.write(typeof part === "string" ? Buffer.from(part, "latin1") : part);
      await new Promise((r) => setImmediate(r));
    }
    await new Promise((r) => socket.once("close", r));
    return Buffer.concat(chunks);
  }

  function parseAnswer(answer: Buffer): { status: number; headers: Map<string, string>; body: Buffer } {
    const end = answer.indexOf("\r\n\r\n");
    assert.ok(end > 0, `no HTTP head in ${JSON.stringify(answer.toString("latin1"))}`);
    const lines = answer.subarray(0, end).toString("latin1").split("\r\n");
    const headers = new Map(lines.slice(1).map((l) => [l.slice(0, l.indexOf(":")).toLowerCase(), l.slice(l.indexOf(":") + 1).trim()] as [string, string]));
    return { status: Number(lines[0].split(" ")[1]), headers, body: answer.subarray(end + 4) };
  }

  it("a 400's Content-Length counts the UTF-8 bytes of its body", async () => {
    // The reason quotes the header line, whose bytes above 0x7F become two UTF-8 bytes each.
    const answer = parseAnswer(await exchange("GET / HTTP/1.1\r\nHost: x\r\n\xe9\xe9\xe9\xe9\r\n\r\n"));
    assert.equal(answer.status, 400);
    assert.equal(Number(answer.headers.get("content-length")), answer.body.length, `body: ${answer.body.toString()}`);
    assert.ok(answer.body.toString().includes("éééé"), answer.body.toString());
  });

  for (const [what, bytes, mustSay] of [
    ["a TLS ClientHello", Buffer.from("16030100f5010000f10303" + "00".repeat(32), "hex"), "request line"],
    ["an SSH banner", "SSH-2.0-OpenSSH_9.2p1\r\n", "request line"],
    ["a method followed by CR", "HELLO\r", "request line"],
    ["a NUL in the method", "GE\0T / HTTP/1.1", "request line"],
    ["two spaces after the method", "GET  / HTTP/1.1", "request line"],
    ["a control character in the target", "GET /a\x01b HTTP/1.1", "request line"],
    ["a third word that is not HTTP-version", "GET / HTTQ", "request line"],
    ["a version with a letter for a digit", "GET / HTTP/1.x", "request line"],
    ["text after the version", "GET / HTTP/1.1 extra", "request line"],
  ] as const) {
    it(`refuses ${what} with a 400 as soon as the bytes can no longer begin a request line`, async () => {
      const answer = parseAnswer(await exchange(bytes));
      assert.equal(answer.status, 400);
      assert.ok(answer.body.toString().includes(mustSay), answer.body.toString());
      assert.equal(Number(answer.headers.get("content-length")), answer.body.length);
      assert.equal(results.at(-1), null);
    });
  }

  it("a valid request that arrives a few bytes at a time is not refused early", async () => {
    const socket = net.connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    socket.on("data", (d: Buffer) => chunks.push(d));
    await new Promise((r) => socket.once("connect", r));
    // An empty line first: RFC 9112 §2.2 lets a server ignore it.
    const request = "\r\nGET /slow HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    for (let i = 0; i < request.length; i += 3) {
      socket.write(request.slice(i, i + 3));
      await new Promise((r) => setTimeout(r, 1));
    }
    const until = Date.now() + 5000;
    while (!Buffer.concat(chunks).includes("\r\n\r\n") && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
    socket.destroy();
    assert.match(Buffer.concat(chunks).toString("latin1"), /^HTTP\/1\.1 101 /);
  });
});

describe("client side: interim 1xx responses before the 101 are skipped (RFC 9110 §15.2)", () => {
  it("opens after a 100 Continue in its own segment, then delivers the first frame", async () => {
    const server = await startRawServer((peer) => {
      peer.socket.write("HTTP/1.1 100 Continue\r\n\r\n");
      setTimeout(() => peer.socket.write(Buffer.concat([Buffer.from(switchingProtocols(peer.request.accept)), serverFrame(1, "after the 100")])), 20);
    });
    try {
      // The raw server never answers the close: a short close_timeout ends it.
      const h = await websock_open({ hostname: "127.0.0.1", port: server.port, time_out: TIME_OUT, close_timeout: 200 });
      assert.ok(h, websock_last_error().message);
      assert.equal(websock_get_info(h)?.http_status, 101);
      assert.equal(await recvText(h), "after the 100");
      await websock_close(h);
    } finally {
      await server.stop();
    }
  });

  it("opens after a 100 and a 103 with headers in the same segment as the 101", async () => {
    const server = await startRawServer((peer) => {
      peer.socket.write("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n" + switchingProtocols(peer.request.accept));
    });
    try {
      const h = await websock_open({ hostname: "127.0.0.1", port: server.port, time_out: TIME_OUT, close_timeout: 200 });
      assert.ok(h, websock_last_error().message);
      assert.ok(!websock_get_info(h)!.headers.some(([n]) => n.toLowerCase() === "link"), "the 103's headers were kept as the 101's");
      await websock_close(h);
    } finally {
      await server.stop();
    }
  });
});

describe("ssl_config's shape is checked once, in src/config.ts, for every host", () => {
  it("refuses a malformed ssl_config even when not secured (a mistake either way)", async () => {
    const base = { hostname: "127.0.0.1", port: 9, time_out: TIME_OUT };
    await refusedOpen({ ...base, ssl_config: { ca: 42 } }, "ssl_config.ca");
    await refusedOpen({ ...base, ssl_config: { cert: "x" } }, "ssl_config.cert");
    await refusedOpen({ ...base, ssl_config: { key: "x" } }, "ssl_config.key");
    await refusedOpen({ ...base, ssl_config: { verify: "yes" } }, "ssl_config.verify");
    await refusedOpen({ ...base, ssl_config: { min_version: "TLSv1.1" } }, "ssl_config.min_version");
    await refusedOpen({ ...base, ssl_config: "tls" }, "ssl_config");
  });

  it("refuses on Node what the Moddable host already refused: an empty CA list, a server_name no resolver takes", async () => {
    const base = { hostname: "127.0.0.1", port: 9, secured: true, time_out: TIME_OUT };
    await refusedOpen({ ...base, ssl_config: { ca: [] } }, "ssl_config.ca");
    await refusedOpen({ ...base, ssl_config: { server_name: "999.1.1.1" } }, "ssl_config.server_name");
    await refusedOpen({ ...base, ssl_config: { server_name: "exa\u0085mple.com" } }, "ssl_config.server_name");
    await refusedOpen({ ...base, ssl_config: { ca: new Uint8Array(0) } }, "ssl_config.ca");
    await refusedOpen({ ...base, ssl_config: { alpn: ["é".repeat(128)] } }, "ssl_config.alpn");
  });
});

describe("TLS reasons: one table, in src/errors.ts", () => {
  it("the Node host's TLS_REASON is the error table's", () => {
    assert.ok(errors.TLS_REASON, "src/errors.ts has no TLS_REASON");
    assert.equal(nodeTls.TLS_REASON, errors.TLS_REASON);
    assert.ok(Object.isFrozen(errors.TLS_REASON));
  });

  it("every tls_reason word a host or the facade writes is in the table, and no host keeps its own list", () => {
    const words = new Set(Object.values(errors.TLS_REASON ?? {}));
    const root = new URL("../", import.meta.url);
    const files = [
      ...readdirSync(new URL("hosts/node/", root)).map((f) => `hosts/node/${f}`),
      ...readdirSync(new URL("hosts/moddable/", root)).filter((f) => f.endsWith(".ts")).map((f) => `hosts/moddable/${f}`),
      "src/websock.ts",
    ];
    const strays: string[] = [];
    for (const file of files) {
      const text = readFileSync(new URL(file, root), "utf8");
      for (const m of text.matchAll(/tls_?[rR]eason\??:\s*[^,}\n]*?"([a-z_]+)"/g)) if (!words.has(m[1] as never)) strays.push(`${file}: ${m[1]}`);
      if (/TLS_REASON\s*=\s*Object\.freeze/.test(text)) strays.push(`${file} defines its own TLS_REASON`);
    }
    assert.deepEqual(strays, []);
  });
});
