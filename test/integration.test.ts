// The websock_* API on the Node host against real peers on 127.0.0.1: the
// `ws` package as server, a raw TCP peer for what ws would never send, and a
// TLS server with a CA made at test time.

import { strict as assert } from "node:assert";
import https from "node:https";
import net from "node:net";
import {
  WEBSOCK_ERR,
  WEBSOCK_OP,
  websock_close,
  websock_close_with_code,
  websock_get_info,
  websock_last_error,
  websock_msg_hdr_init,
  websock_open,
  websock_parse_url,
  websock_ping,
  websock_recv,
  websock_send_binary,
  websock_send_frame,
  websock_send_text,
  type websock_config_t,
  type websock_handle_t,
} from "websock-rfc6455";
import { makeTestPki } from "./support/certs.js";
import { serverFrame, startRawServer, switchingProtocols } from "./support/raw-server.js";
import { eventually, startWsServer, type WsTestServer } from "./support/ws-server.js";

/** Reads one whole message piece by piece; returns its bytes, first opcode and the pieces' sizes. */
async function recvMessage(h: websock_handle_t, len = 1024, timeout = 5000): Promise<{ opcode: number; data: Buffer; pieces: number[] }> {
  const hdr = websock_msg_hdr_init();
  const buf = new Uint8Array(len);
  const parts: Buffer[] = [];
  const pieces: number[] = [];
  let opcode = -1;
  for (;;) {
    const n = await websock_recv(h, hdr, buf, len, timeout);
    if (n < 0) throw new Error(`recv failed: ${websock_last_error(h).name} ${websock_last_error(h).message}`);
    if (hdr.opcode < 0) throw new Error("recv timed out");
    if (opcode < 0) opcode = hdr.opcode;
    assert.equal(hdr.offset + n + hdr.bytesleft, hdr.payload_len, "offset + n + bytesleft = payload_len");
    parts.push(Buffer.from(buf.subarray(0, n)));
    pieces.push(n);
    if (hdr.fin && hdr.bytesleft === 0) return { opcode, data: Buffer.concat(parts), pieces };
  }
}

function pattern(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 131 + (i >> 8)) & 0xff;
  return out;
}

async function openTo(server: { port: number }, uri: string, extra: Partial<websock_config_t> = {}): Promise<websock_handle_t> {
  const h = await websock_open({ hostname: "127.0.0.1", port: server.port, uri, rx_buffer_size: 1024, tx_buffer_size: 1024, ...extra });
  assert.ok(h, `open failed: ${websock_last_error().message}`);
  return h;
}

describe("websock against a real ws server", () => {
  let server: WsTestServer;
  before(async () => {
    server = await startWsServer();
  });
  after(() => server.stop());

  for (const size of [0, 1, 125, 126, 65536, 1048576]) {
    it(`echoes ${size} B of binary through a 1 KiB rx buffer, in pieces that reassemble exactly`, async () => {
      const h = await openTo(server, "/echo");
      const payload = pattern(size);
      assert.equal(await websock_send_binary(h, payload), 0);
      const m = await recvMessage(h);
      assert.equal(m.opcode, WEBSOCK_OP.BINARY);
      assert.ok(m.data.equals(payload), "echoed bytes differ");
      assert.ok(Math.max(...m.pieces) <= 1024, "a piece was larger than the caller's buffer");
      if (size > 1024) assert.ok(m.pieces.length >= size / 1024, "a large frame must come in several pieces");
      await websock_close(h);
    });

    it(`echoes ${size} B of text (multi-byte UTF-8 included)`, async () => {
      const h = await openTo(server, "/echo");
      const text = "aé€𝄞".repeat(Math.ceil(size / 10)).slice(0, size);
      assert.equal(await websock_send_text(h, text), 0);
      const m = await recvMessage(h);
      assert.equal(m.opcode, WEBSOCK_OP.TEXT);
      assert.equal(m.data.toString("utf8"), text);
      await websock_close(h);
    });
  }

  it("sends text given as UTF-8 bytes, and only a prefix when len is given", async () => {
    const h = await openTo(server, "/echo");
    assert.equal(await websock_send_text(h, new TextEncoder().encode("héllo world"), 6), 0);
    assert.equal((await recvMessage(h)).data.toString(), "héllo");
    assert.equal(await websock_send_binary(h, Uint8Array.of(1, 2, 3, 4), 2), 0);
    assert.deepEqual([...(await recvMessage(h)).data], [1, 2]);
    await websock_close(h);
  });

  it("does not modify the caller's payload while masking", async () => {
    const h = await openTo(server, "/echo");
    const payload = pattern(5000);
    const copy = payload.slice();
    assert.equal(await websock_send_binary(h, payload), 0);
    assert.ok(Buffer.from(payload).equals(Buffer.from(copy)));
    await recvMessage(h);
    await websock_close(h);
  });

  it("delivers the server's fragmented messages frame by frame, with opcode 0 for continuations", async () => {
    const h = await openTo(server, "/fragments");
    await websock_send_text(h, "go");
    const hdr = websock_msg_hdr_init();
    const buf = new Uint8Array(64);
    const frames: Array<[number, boolean, string]> = [];
    while (frames.length < 5) {
      const n = await websock_recv(h, hdr, buf, 64, 2000);
      assert.ok(n >= 0 && hdr.opcode >= 0);
      frames.push([hdr.opcode, hdr.fin, Buffer.from(buf.subarray(0, n)).toString("hex")]);
    }
    assert.deepEqual(frames, [
      [1, false, Buffer.from("frag-").toString("hex")],
      [0, true, Buffer.from("mented").toString("hex")],
      [2, false, "0102"],
      [0, false, "03"],
      [0, true, "040506"],
    ]);
    await websock_close(h);
  });

  it("sends a fragmented message with websock_send_frame, and refuses a continuation with none started", async () => {
    const h = await openTo(server, "/echo");
    assert.equal(await websock_send_frame(h, WEBSOCK_OP.CONTINUATION, "x", undefined, true), WEBSOCK_ERR.INVALID_ARG);
    assert.match(websock_last_error(h).message, /continuation/);
    assert.equal(await websock_send_frame(h, WEBSOCK_OP.TEXT, "Hel", undefined, false), 0);
    assert.equal(await websock_send_text(h, "other"), WEBSOCK_ERR.INVALID_ARG, "a new message inside a fragmented one");
    assert.equal(await websock_send_frame(h, WEBSOCK_OP.CONTINUATION, new TextEncoder().encode("lo €"), undefined, true), 0);
    assert.equal((await recvMessage(h)).data.toString(), "Hello €");
    await websock_close(h);
  });

  it("answers the server's ping with a pong carrying the same payload", async () => {
    const h = await openTo(server, "/ping");
    await websock_send_text(h, "ping-payload");
    // The pong goes out from inside recv; this recv only has to run while the ping arrives.
    await websock_recv(h, websock_msg_hdr_init(), new Uint8Array(16), 16, 300);
    await eventually(() => server.pongs.includes(Buffer.from("ping-payload").toString("hex")));
    await websock_close(h);
  });

  it("with auto_pong false, delivers the ping to the caller and sends no pong", async () => {
    const before = server.pongs.length;
    const h = await openTo(server, "/ping", { auto_pong: false });
    await websock_send_text(h, "manual");
    const hdr = websock_msg_hdr_init();
    const buf = new Uint8Array(16);
    const n = await websock_recv(h, hdr, buf, 16, 2000);
    assert.equal(hdr.opcode, WEBSOCK_OP.PING);
    assert.equal(Buffer.from(buf.subarray(0, n)).toString(), "manual");
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(server.pongs.length, before);
    // The application answers by hand: a pong with the ping's payload.
    assert.equal(await websock_send_frame(h, WEBSOCK_OP.PONG, buf.subarray(0, n), undefined, true), 0);
    await eventually(() => server.pongs.includes(Buffer.from("manual").toString("hex")));
    await websock_close(h);
  });

  it("reports a server close with 4001 and its reason: recv < 0, last_error has both", async () => {
    const h = await openTo(server, "/close4001");
    const n = await websock_recv(h, websock_msg_hdr_init(), new Uint8Array(16), 16, 2000);
    assert.equal(n, WEBSOCK_ERR.CLOSED_BY_PEER);
    const e = websock_last_error(h);
    assert.equal(e.name, "WEBSOCK_ERR_CLOSED_BY_PEER");
    assert.equal(e.close_code, 4001);
    assert.equal(e.close_reason, "going away now");
    assert.equal(await websock_send_text(h, "late"), WEBSOCK_ERR.NOT_OPEN);
    // The client echoed the close: the server saw a clean close with its own code.
    await eventually(() => server.closes.some((c) => c.path === "/close4001" && c.code === 4001));
    await websock_close(h);
  });

  it("closes with 1000 by default, and with a code and reason on request", async () => {
    const before = server.closes.length;
    const h1 = await openTo(server, "/silent");
    await websock_close(h1);
    await eventually(() => server.closes.length === before + 1);
    const h2 = await openTo(server, "/silent");
    assert.equal(await websock_close_with_code(h2, 4002, "done here"), 0);
    await eventually(() => server.closes.length === before + 2);
    const codes = server.closes.slice(before);
    assert.deepEqual(codes.map((c) => [c.code, c.reason]), [[1000, ""], [4002, "done here"]]);
  });

  it("refuses close codes that may not be sent, and reasons over 123 bytes", async () => {
    const h = await openTo(server, "/echo");
    for (const code of [999, 1004, 1005, 1006, 1015, 2000, 5000]) {
      assert.equal(await websock_close_with_code(h, code, ""), WEBSOCK_ERR.INVALID_ARG, `code ${code}`);
    }
    assert.equal(await websock_close_with_code(h, 1000, "€".repeat(42)), WEBSOCK_ERR.INVALID_ARG);
    assert.equal(await websock_close_with_code(h, 1000, "€".repeat(41)), 0);
  });

  it("negotiates a subprotocol and reports it with the response headers", async () => {
    const h = await openTo(server, "/subprotocol", { subprotocols: ["v2.chat", "v1.chat"] });
    const info = websock_get_info(h)!;
    assert.equal(info.subprotocol, "v2.chat");
    assert.equal(info.http_status, 101);
    assert.equal(info.state, "OPEN");
    assert.ok(info.headers.some(([n, v]) => n.toLowerCase() === "sec-websocket-protocol" && v === "v2.chat"));
    await websock_send_text(h, "which?");
    assert.equal((await recvMessage(h)).data.toString(), "v2.chat");
    await websock_close(h);
  });

  it("sends the caller's handshake headers, and the port in Host", async () => {
    const h = await openTo(server, "/echo?hdrs", { hndshk_hdrs: ["Authorization: Bearer abc", "X-Device:esp32-01", "X-Unused: 1"], num_hndshk_hdrs: 2 });
    const req = server.requests[server.requests.length - 1];
    assert.equal(req.headers.authorization, "Bearer abc");
    assert.equal(req.headers["x-device"], "esp32-01");
    assert.equal(req.headers["x-unused"], undefined);
    assert.equal(req.headers.host, `127.0.0.1:${server.port}`);
    assert.equal(req.headers["sec-websocket-version"], "13");
    assert.equal(Buffer.from(req.headers["sec-websocket-key"] as string, "base64").length, 16);
    await websock_close(h);
  });

  it("returns 0 with opcode -1 when nothing arrives within the timeout, and polls with 0", async () => {
    const h = await openTo(server, "/silent");
    const hdr = websock_msg_hdr_init();
    const started = Date.now();
    assert.equal(await websock_recv(h, hdr, new Uint8Array(8), 8, 150), 0);
    assert.equal(hdr.opcode, -1);
    assert.ok(Date.now() - started >= 140);
    assert.equal(await websock_recv(h, hdr, new Uint8Array(8), 8, 0), 0);
    assert.equal(hdr.opcode, -1);
    await websock_close(h);
  });

  it("refuses a second recv while one waits", async () => {
    const h = await openTo(server, "/silent");
    const first = websock_recv(h, websock_msg_hdr_init(), new Uint8Array(8), 8, 200);
    assert.equal(await websock_recv(h, websock_msg_hdr_init(), new Uint8Array(8), 8, 10), WEBSOCK_ERR.BUSY);
    assert.equal(await first, 0);
    await websock_close(h);
  });

  it("serializes sends issued without awaiting, in order", async () => {
    const h = await openTo(server, "/echo");
    const sends = Array.from({ length: 50 }, (_, i) => websock_send_text(h, `message ${i} ${"x".repeat(i * 40)}`));
    assert.deepEqual(await Promise.all(sends), new Array(50).fill(0));
    for (let i = 0; i < 50; i++) assert.equal((await recvMessage(h)).data.toString(), `message ${i} ${"x".repeat(i * 40)}`);
    await websock_close(h);
  });

  it("pings the server on request and keeps a heartbeat that the server answers", async () => {
    const h = await openTo(server, "/echo", { ping_interval: 50, pong_timeout: 500 });
    assert.equal(await websock_ping(h, "hello"), 0);
    assert.equal(await websock_ping(h, new Uint8Array(126)), WEBSOCK_ERR.INVALID_ARG);
    // Keep reading so pongs are consumed; the connection must stay open across several intervals.
    for (let i = 0; i < 6; i++) {
      const n = await websock_recv(h, websock_msg_hdr_init(), new Uint8Array(8), 8, 50);
      assert.ok(n >= 0, websock_last_error(h).message);
    }
    assert.equal(websock_get_info(h)!.state, "OPEN");
    await websock_close(h);
  });

  it("fails 404 and 200 answers with the HTTP status", async () => {
    for (const [path, status] of [["/404", 404], ["/200", 200]] as const) {
      const h = await websock_open({ hostname: "127.0.0.1", port: server.port, uri: path });
      assert.equal(h, null);
      const e = websock_last_error();
      assert.equal(e.name, "WEBSOCK_ERR_HTTP_STATUS");
      assert.equal(e.http_status, status);
      assert.match(e.message, new RegExp(String(status)));
    }
  });
});

describe("websock against raw TCP peers", () => {
  it("refuses a wrong Sec-WebSocket-Accept", async () => {
    const raw = await startRawServer((p) => p.socket.write(switchingProtocols("dGhlIHNhbXBsZSBub25jZQ==")));
    try {
      assert.equal(await websock_open({ hostname: "127.0.0.1", port: raw.port }), null);
      assert.equal(websock_last_error().name, "WEBSOCK_ERR_BAD_ACCEPT");
    } finally {
      await raw.stop();
    }
  });

  it("delivers frames that arrive in the same TCP segment as the 101", async () => {
    const raw = await startRawServer((p) =>
      p.socket.write(Buffer.concat([Buffer.from(switchingProtocols(p.request.accept)), serverFrame(1, "in the same segment"), serverFrame(2, Buffer.from([9, 8, 7]))])),
    );
    try {
      const h = await openTo(raw, "/");
      assert.equal((await recvMessage(h)).data.toString(), "in the same segment");
      assert.deepEqual([...(await recvMessage(h)).data], [9, 8, 7]);
      await websock_close(h);
    } finally {
      await raw.stop();
    }
  });

  it("fails a masked server frame with close 1002 sent to the server", async () => {
    const raw = await startRawServer((p) =>
      p.socket.write(Buffer.concat([Buffer.from(switchingProtocols(p.request.accept)), Buffer.from("818537fa213d7f9f4d5158", "hex")])),
    );
    try {
      const h = await openTo(raw, "/");
      const n = await websock_recv(h, websock_msg_hdr_init(), new Uint8Array(16), 16, 2000);
      assert.equal(n, WEBSOCK_ERR.MASKED_FRAME);
      assert.equal(websock_last_error(h).close_code, 1002);
      await eventually(() => raw.peers[0].frames().some((f) => f.opcode === 8));
      const close = raw.peers[0].frames().find((f) => f.opcode === 8)!;
      assert.equal((close.payload[0] << 8) | close.payload[1], 1002);
      await websock_close(h);
    } finally {
      await raw.stop();
    }
  });

  it("lets the caller act on a message before a violation right behind it in the same segment fails the connection", async () => {
    const raw = await startRawServer((p) =>
      p.socket.write(Buffer.concat([Buffer.from(switchingProtocols(p.request.accept)), serverFrame(1, "echo me"), Buffer.from("c10548656c6c6f", "hex")])),
    );
    try {
      const h = await openTo(raw, "/");
      assert.equal((await recvMessage(h)).data.toString(), "echo me");
      // The RSV frame behind it is parsed at the next read, not before the caller could answer.
      assert.equal(await websock_send_text(h, "echo me"), 0);
      assert.equal(await websock_recv(h, websock_msg_hdr_init(), new Uint8Array(16), 16, 2000), WEBSOCK_ERR.RSV_BITS);
      await eventually(() => raw.peers[0].frames().some((f) => f.opcode === 8));
      assert.deepEqual(raw.peers[0].frames().map((f) => [f.opcode, Buffer.from(f.payload).toString("hex")]), [
        [1, Buffer.from("echo me").toString("hex")],
        [8, "03ea"],
      ]);
      await websock_close(h);
    } finally {
      await raw.stop();
    }
  });

  it("reports 1006 when the server ends TCP without a close frame, after the data it sent", async () => {
    const raw = await startRawServer((p) => {
      p.socket.write(Buffer.concat([Buffer.from(switchingProtocols(p.request.accept)), serverFrame(1, "last words")]));
      p.socket.end();
    });
    try {
      const h = await openTo(raw, "/");
      assert.equal((await recvMessage(h)).data.toString(), "last words");
      const n = await websock_recv(h, websock_msg_hdr_init(), new Uint8Array(16), 16, 2000);
      assert.equal(n, WEBSOCK_ERR.CONNECTION_LOST);
      assert.equal(websock_last_error(h).close_code, 1006);
      await websock_close(h);
    } finally {
      await raw.stop();
    }
  });

  it("fails the connection when pongs stop (ping_interval + pong_timeout)", async () => {
    const raw = await startRawServer((p) => p.socket.write(switchingProtocols(p.request.accept)));
    try {
      const h = await openTo(raw, "/", { ping_interval: 40, pong_timeout: 120 });
      const n = await websock_recv(h, websock_msg_hdr_init(), new Uint8Array(16), 16, 3000);
      assert.equal(n, WEBSOCK_ERR.PONG_TIMEOUT);
      assert.equal(websock_last_error(h).close_code, 1006);
      assert.ok(raw.peers[0].frames().some((f) => f.opcode === 9), "the client sent a ping");
      await raw.peers[0].ended;
      await websock_close(h);
    } finally {
      await raw.stop();
    }
  });

  it("bounds websock_close by close_timeout when the server never answers the close", async () => {
    const raw = await startRawServer((p) => p.socket.write(switchingProtocols(p.request.accept)));
    try {
      const h = await openTo(raw, "/", { close_timeout: 200 });
      const started = Date.now();
      await websock_close(h);
      const took = Date.now() - started;
      assert.ok(took >= 190 && took < 2000, `close took ${took} ms`);
      assert.ok(raw.peers[0].frames().some((f) => f.opcode === 8), "the client sent its close frame");
      await raw.peers[0].ended;
    } finally {
      await raw.stop();
    }
  });

  it("gives up on a server that never answers, within time_out", async () => {
    const raw = await startRawServer(() => {}, { silent: true });
    try {
      const started = Date.now();
      assert.equal(await websock_open({ hostname: "127.0.0.1", port: raw.port, time_out: 300 }), null);
      assert.ok(Date.now() - started < 2000);
      const e = websock_last_error();
      assert.equal(e.name, "WEBSOCK_ERR_TIMEOUT");
      assert.match(e.message, /300 ms/);
    } finally {
      await raw.stop();
    }
  });

  it("reports a closed port as a connect error", async () => {
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    assert.equal(await websock_open({ hostname: "127.0.0.1", port }), null);
    const e = websock_last_error();
    assert.equal(e.name, "WEBSOCK_ERR_CONNECT");
    assert.match(e.message, /ECONNREFUSED/);
  });
});

describe("websock over TLS (wss://) with a CA made at test time", () => {
  it("opens, echoes and closes against a local https + ws server", async function () {
    const pki = await makeTestPki();
    const server = await startWsServer(https.createServer({ key: pki.server.keyPem, cert: pki.server.certPem }));
    try {
      const url = websock_parse_url(`wss://localhost:${server.port}/echo`)!;
      const h = await websock_open({ ...url, ssl_config: { ca: pki.ca.certPem }, rx_buffer_size: 1024 });
      assert.ok(h, websock_last_error().message);
      assert.equal(await websock_send_text(h, "over TLS"), 0);
      assert.equal((await recvMessage(h)).data.toString(), "over TLS");
      assert.ok(websock_get_info(h)!.tls!.version.startsWith("TLS"));
      await websock_close(h);
    } finally {
      await server.stop();
      await pki.cleanup(); // the PKI's private keys do not outlive the test
    }
  });
});

describe("bad arguments get WEBSOCK_ERR_INVALID_ARG naming the argument, never a throw", () => {
  let server: WsTestServer;
  before(async () => {
    server = await startWsServer();
  });
  after(() => server.stop());

  const badConfigs: Array<[string, unknown, RegExp]> = [
    ["no config", undefined, /cfg/],
    ["a missing hostname", {}, /hostname/],
    ["an empty hostname", { hostname: "" }, /hostname/],
    ["a port out of range", { hostname: "127.0.0.1", port: 70000 }, /port/],
    ["a uri without /", { hostname: "127.0.0.1", uri: "chat" }, /uri/],
    ["a uri with a space", { hostname: "127.0.0.1", uri: "/a b" }, /uri/],
    ["an rx buffer below the minimum", { hostname: "127.0.0.1", rx_buffer_size: 100 }, /rx_buffer_size/],
    ["a tx buffer that is not a number", { hostname: "127.0.0.1", tx_buffer_size: "big" }, /tx_buffer_size/],
    ["a non-numeric time_out", { hostname: "127.0.0.1", time_out: "soon" }, /time_out/],
    ["a header with CR LF", { hostname: "127.0.0.1", hndshk_hdrs: ["X-A: 1\r\nX-Injected: 2"] }, /hndshk_hdrs\[0\]/],
    ["a header without a colon", { hostname: "127.0.0.1", hndshk_hdrs: ["nocolon"] }, /hndshk_hdrs\[0\]/],
    ["a header the handshake sets", { hostname: "127.0.0.1", hndshk_hdrs: ["Sec-WebSocket-Key: x"] }, /hndshk_hdrs\[0\]/],
    ["num_hndshk_hdrs beyond the list", { hostname: "127.0.0.1", hndshk_hdrs: ["A: 1"], num_hndshk_hdrs: 2 }, /num_hndshk_hdrs/],
    ["a subprotocol with a space", { hostname: "127.0.0.1", subprotocols: ["a b"] }, /subprotocols/],
    ["malformed PEM", { hostname: "127.0.0.1", secured: true, ssl_config: { ca: "-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n" } }, /ssl_config\.ca/],
  ];
  for (const [what, cfg, field] of badConfigs) {
    it(`open with ${what}`, async () => {
      assert.equal(await websock_open(cfg as websock_config_t), null);
      const e = websock_last_error();
      assert.equal(e.code, WEBSOCK_ERR.INVALID_ARG);
      assert.match(e.message, field);
    });
  }

  it("calls with an unknown or closed handle", async () => {
    const fake = { __websock_handle: true } as websock_handle_t;
    assert.equal(await websock_send_text(fake, "x"), WEBSOCK_ERR.INVALID_ARG);
    assert.match(websock_last_error().message, /handle/);
    const h = await openTo(server, "/echo");
    await websock_close(h);
    assert.equal(await websock_send_text(h, "x"), WEBSOCK_ERR.INVALID_ARG);
    assert.equal(await websock_recv(h, websock_msg_hdr_init(), new Uint8Array(4), 4, 0), WEBSOCK_ERR.INVALID_ARG);
    assert.equal(websock_get_info(h), null);
    await websock_close(h); // a second close is refused quietly, not thrown
    assert.equal(await websock_send_text(null as unknown as websock_handle_t, "x"), WEBSOCK_ERR.INVALID_ARG);
  });

  it("calls with bad lengths, buffers, timeouts and payloads", async () => {
    const h = await openTo(server, "/echo");
    const hdr = websock_msg_hdr_init();
    assert.equal(await websock_send_binary(h, new Uint8Array(4), 5), WEBSOCK_ERR.INVALID_ARG);
    assert.match(websock_last_error(h).message, /len/);
    assert.equal(await websock_send_text(h, "abc", 4), WEBSOCK_ERR.INVALID_ARG);
    assert.equal(await websock_send_binary(h, "text" as unknown as Uint8Array), WEBSOCK_ERR.INVALID_ARG);
    assert.match(websock_last_error(h).message, /payload/);
    assert.equal(await websock_send_text(h, Uint8Array.of(0xc0, 0x80)), WEBSOCK_ERR.INVALID_ARG);
    assert.match(websock_last_error(h).message, /UTF-8/);
    assert.equal(await websock_recv(h, hdr, new Uint8Array(4), 5, 0), WEBSOCK_ERR.INVALID_ARG);
    assert.match(websock_last_error(h).message, /len/);
    assert.equal(await websock_recv(h, hdr, new Uint8Array(4), 4, "later" as unknown as number), WEBSOCK_ERR.INVALID_ARG);
    assert.match(websock_last_error(h).message, /timeout/);
    assert.equal(await websock_recv(h, hdr, [] as unknown as Uint8Array, 1, 0), WEBSOCK_ERR.INVALID_ARG);
    assert.match(websock_last_error(h).message, /buf/);
    assert.equal(await websock_send_frame(h, 8, "", undefined, true), WEBSOCK_ERR.INVALID_ARG);
    assert.equal(await websock_send_frame(h, 3, "", undefined, true), WEBSOCK_ERR.INVALID_ARG);
    // The connection is still fine after all of that.
    assert.equal(await websock_send_text(h, "still open"), 0);
    assert.equal((await recvMessage(h)).data.toString(), "still open");
    await websock_close(h);
  });

  it("parses ws:// and wss:// URLs", () => {
    assert.deepEqual(websock_parse_url("ws://example.com/chat?x=1"), { hostname: "example.com", port: 80, uri: "/chat?x=1", secured: false });
    assert.deepEqual(websock_parse_url("wss://[::1]:8443"), { hostname: "::1", port: 8443, uri: "/", secured: true });
    assert.equal(websock_parse_url("http://example.com/"), null);
    assert.equal(websock_parse_url("ws://exa mple.com/"), null);
  });
});
