// The websock command line, run for real: `node dist/tools/cli.js` spawned
// against real `ws` servers (plain and TLS, with certificates made by openssl
// at test time) and against raw TCP servers that misbehave on purpose.

import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { createHash, X509Certificate } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import https from "node:https";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eventually, startWsServer, type WsTestServer } from "./support/ws-server.js";

const CLI = "dist/tools/cli.js";

interface Run {
  code: number | null;
  stdout: string;
  stdoutBytes: Buffer;
  stderr: string;
}

/** Runs the CLI with `stdin` piped in (then ended); kills it after `killAfterMs` so a hang fails the test. */
function run(args: string[], stdin: string | Buffer = "", killAfterMs = 8000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (c: Buffer) => out.push(c));
    child.stderr.on("data", (c: Buffer) => err.push(c));
    const killer = setTimeout(() => child.kill("SIGKILL"), killAfterMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(killer);
      const stdoutBytes = Buffer.concat(out);
      resolve({ code, stdout: stdoutBytes.toString("utf8"), stdoutBytes, stderr: Buffer.concat(err).toString("utf8") });
    });
    child.stdin.on("error", () => {}); // the CLI may exit before reading stdin (-n 0)
    child.stdin.end(stdin);
  });
}

/** Every failure is exactly one line on stderr, "websock: ...". */
function assertOneErrorLine(r: Run, pattern: RegExp): void {
  const lines = r.stderr.split("\n").filter((l) => l !== "");
  assert.equal(lines.length, 1, `expected one stderr line, got: ${JSON.stringify(r.stderr)}`);
  assert.match(lines[0], /^websock: /);
  assert.match(lines[0], pattern);
}

// ---- certificates, made with openssl in a temp dir ----

interface Certs {
  dir: string;
  caPem: string;
  serverKey: string;
  serverCert: string;
  clientKey: string;
  clientCert: string;
  file(name: string): string;
}

function makeCerts(): Certs {
  const dir = mkdtempSync(join(tmpdir(), "websock-cli-"));
  const file = (name: string): string => join(dir, name);
  const openssl = (...args: string[]): void => {
    execFileSync("/usr/bin/openssl", args, { cwd: dir, stdio: "pipe" });
  };
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  openssl("req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=websock test CA");
  writeFileSync(file("server.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
  writeFileSync(file("client.ext"), "extendedKeyUsage=clientAuth\n");
  for (const [name, cn] of [["server", "127.0.0.1"], ["client", "websock test client"]]) {
    openssl("req", ...ec, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${cn}`);
    openssl("x509", "-req", "-in", `${name}.csr`, "-CA", "ca.pem", "-CAkey", "ca.key", "-set_serial", name === "server" ? "2" : "3",
      "-days", "2", "-out", `${name}.pem`, "-extfile", `${name}.ext`);
  }
  const read = (name: string): string => readFileSync(file(name), "utf8");
  return { dir, file, caPem: read("ca.pem"), serverKey: read("server.key"), serverCert: read("server.pem"), clientKey: read("client.key"), clientCert: read("client.pem") };
}

function spkiPin(pem: string): string {
  return createHash("sha256").update(new X509Certificate(pem).publicKey.export({ type: "spki", format: "der" })).digest("base64");
}

// ---- raw TCP servers that break the rules on purpose ----

interface RawServer {
  port: number;
  stop(): Promise<void>;
}

/**
 * Answers the upgrade with a valid 101 (unless `handshake` is false: then it
 * says nothing at all), then hands the socket to `after`.
 */
async function startRawServer(handshake: boolean, after: (socket: net.Socket) => void): Promise<RawServer> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    if (!handshake) return;
    let head = "";
    const onData = (chunk: Buffer): void => {
      head += chunk.toString("latin1");
      if (!head.includes("\r\n\r\n")) return;
      socket.off("data", onData);
      const key = /sec-websocket-key:\s*(\S+)/i.exec(head)?.[1] ?? "";
      const accept = createHash("sha1").update(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest("base64");
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
      after(socket);
    };
    socket.on("data", onData);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A port on 127.0.0.1 that nothing listens on. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("websock command line (tools/cli.ts)", function () {
  this.timeout(20000);
  let ws: WsTestServer;
  let wss: WsTestServer;
  let mtls: WsTestServer;
  let certs: Certs;
  const raws: RawServer[] = [];

  before(function () {
    this.timeout(30000);
    execFileSync(process.execPath, ["tools/build.mjs", "--no-types"], { stdio: "pipe" });
    certs = makeCerts();
  });
  before(async function () {
    ws = await startWsServer();
    wss = await startWsServer(https.createServer({ key: certs.serverKey, cert: certs.serverCert }));
    mtls = await startWsServer(https.createServer({ key: certs.serverKey, cert: certs.serverCert, ca: certs.caPem, requestCert: true, rejectUnauthorized: true }));
    assert.match(wss.url("/"), /^wss:\/\//);
  });
  after(async function () {
    await Promise.all([ws?.stop(), wss?.stop(), mtls?.stop(), ...raws.map((r) => r.stop())]);
    if (certs !== undefined) rmSync(certs.dir, { recursive: true, force: true });
  });

  describe("sending and receiving", function () {
    it("sends each stdin line as a text message and prints each reply as a line (-n 2)", async function () {
      const r = await run(["-n", "2", ws.url("/echo")], "hello\nwörld\n");
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "hello\nwörld\n");
      assert.equal(r.stderr, "");
    });

    it("closes normally (1000) right after stdin ends when nothing waits for messages", async function () {
      const before = ws.closes.length;
      const r = await run([ws.url("/echo")], "one line\n");
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, "");
      await eventually(() => ws.closes.length > before);
      assert.deepEqual(ws.closes[ws.closes.length - 1], { path: "/echo", code: 1000, reason: "" });
    });

    it("-q keeps receiving after stdin ends: a last line without a newline and a CRLF line come back", async function () {
      const r = await run(["-q", "0.5", ws.url("/echo")], "crlf\r\nlast");
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "crlf\nlast\n");
    });

    it("-d sends initial messages, one each, before stdin", async function () {
      const r = await run(["-d", "first", "--data", "second", "-d", "", "-n", "4", ws.url("/echo")], "third\n");
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "first\nsecond\n\nthird\n");
    });

    it("-n 0 exits right after the handshake, without reading stdin; --show-headers prints the 101 response", async function () {
      const before = ws.closes.length;
      const r = await run(["-n", "0", "--show-headers", ws.url("/echo")], "never sent\n");
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
      assert.match(r.stdout, /^Sec-WebSocket-Accept: [A-Za-z0-9+/]{27}=\r$/im);
      assert.ok(r.stdout.endsWith("\r\n\r\n"), JSON.stringify(r.stdout));
      assert.ok(!r.stdout.includes("never sent"));
      await eventually(() => ws.closes.length > before);
      assert.equal(ws.closes[ws.closes.length - 1].code, 1000);
    });

    it("--binary sends lines as binary; binary replies print as hex, or as raw bytes with --raw", async function () {
      const hex = await run(["--binary", "-n", "2", ws.url("/echo")], "ab\n\xff\n");
      assert.equal(hex.code, 0, hex.stderr);
      assert.equal(hex.stdout, "6162\nc3bf\n"); // "\xff" in a JS string is U+00FF: two bytes of UTF-8
      const raw = await run(["--binary", "--raw", "-n", "1", ws.url("/echo")], Buffer.from([0x00, 0xfe, 0x0a]));
      assert.equal(raw.code, 0, raw.stderr);
      assert.deepEqual([...raw.stdoutBytes], [0x00, 0xfe]);
    });

    it("--no-split sends all of stdin as one message", async function () {
      const r = await run(["--no-split", "-n", "1", ws.url("/echo")], "a\nb\n");
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "a\nb\n\n");
    });

    it("reassembles fragmented messages (text whole, binary as one hex line)", async function () {
      const r = await run(["-d", "go", "-n", "2", ws.url("/fragments")]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "frag-mented\n010203040506\n");
    });

    it("prints a message larger than the 64 KiB receive buffer whole", async function () {
      const big = "x".repeat(200 * 1024);
      const r = await run(["-n", "1", ws.url("/echo")], big + "\n");
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.length, big.length + 1);
      assert.equal(r.stdout, big + "\n");
    });

    it("-H headers and --subprotocol reach the server", async function () {
      const before = ws.requests.length;
      const r = await run(["-H", "X-Token: abc 123", "--header=X-Other:2", "--subprotocol", "chat", "--subprotocol", "v2", "-d", "which?", "-n", "1", ws.url("/subprotocol")]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "chat\n");
      const req = ws.requests[before];
      assert.equal(req.headers["x-token"], "abc 123");
      assert.equal(req.headers["x-other"], "2");
      assert.equal(req.headers["sec-websocket-protocol"], "chat, v2");
    });

    it("answers the server's pings", async function () {
      const r = await run(["-d", "abc", "-q", "0.5", ws.url("/ping")]);
      assert.equal(r.code, 0, r.stderr);
      await eventually(() => ws.pongs.includes("616263"));
    });

    it("waits for the reply to piped input before closing: echo hello | websock URL prints hello", async function () {
      const before = ws.closes.length;
      const r = await run([ws.url("/echo")], "hello\n");
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "hello\n");
      await eventually(() => ws.closes.length > before);
      assert.equal(ws.closes[ws.closes.length - 1].code, 1000);
    });

    it("-w bounds that wait when no reply comes, then closes normally (exit 0)", async function () {
      const before = ws.closes.length;
      const r = await run(["-v", "-w", "0.3", ws.url("/silent")], "anyone?\n");
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "");
      assert.match(r.stderr, /^\* stdin ended 0\.3 s ago \(-w\), 0 message\(s\) received for 1 sent: closing$/m);
      await eventually(() => ws.closes.length > before);
      assert.equal(ws.closes[ws.closes.length - 1].code, 1000);
    });

    it("-v logs the control frames too: the server's ping, our pong, our close and the server's close", async function () {
      const pinged = await run(["-v", "-d", "abc", "-q", "0.5", ws.url("/ping")]);
      assert.equal(pinged.code, 0, pinged.stderr);
      assert.match(pinged.stderr, /^< ping opcode=9 len=3 fin=1$/m);
      assert.match(pinged.stderr, /^> pong opcode=10 len=3 fin=1$/m);
      assert.match(pinged.stderr, /^> close opcode=8 len=2 fin=1 code=1000$/m);
      await eventually(() => ws.pongs.includes("616263"));
      const closed = await run(["-v", "-q", "-1", ws.url("/close4001")]);
      assert.equal(closed.code, 7, closed.stderr);
      assert.match(closed.stderr, /^< close opcode=8 len=16 fin=1 code=4001 reason="going away now"$/m);
    });

    it("-P prints the pings received and the pongs sent on stdout", async function () {
      const r = await run(["-P", "-d", "hi there", "-q", "0.5", ws.url("/ping")]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, '< ping "hi there"\n> pong "hi there"\n');
    });

    it("-o/--origin sends Origin", async function () {
      const before = ws.requests.length;
      const r = await run(["-o", "https://example.test", "-n", "0", ws.url("/echo")]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(ws.requests[before].headers.origin, "https://example.test");
    });

    it("ends quietly when the reader of its output goes away (| head -1)", async function () {
      const child = spawn(process.execPath, [CLI, ws.url("/echo")], { stdio: ["pipe", "pipe", "pipe"] });
      let stderr = "";
      child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
      child.stdout.once("data", () => child.stdout.destroy()); // as head does after its line
      child.stdin.on("error", () => {});
      child.stdin.end("line\n".repeat(20000));
      const killer = setTimeout(() => child.kill("SIGKILL"), 8000);
      const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
      clearTimeout(killer);
      assert.equal(stderr, "");
      assert.equal(code, 0);
    });

    it("-v logs each frame on stderr: direction, opcode, length, fin", async function () {
      const r = await run(["-v", "-n", "1", ws.url("/echo")], "hello\n");
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /^> text opcode=1 len=5 fin=1$/m);
      assert.match(r.stderr, /^< text opcode=1 len=5 fin=1$/m);
      assert.equal(r.stdout, "hello\n");
    });
  });

  describe("on a terminal (a pseudo-terminal made by util-linux's script)", function () {
    const SCRIPT = "/usr/bin/script";
    before(function () {
      if (!existsSync(SCRIPT)) this.skip(); // util-linux's script (Debian: bsdutils, always installed)
    });

    /** What a terminal shows: a line as it stands after its last "cursor to column 1" (ESC[1G), escapes removed. */
    function visible(raw: string): string {
      return raw
        .split("\n")
        .map((line) => {
          const column1 = line.lastIndexOf("\x1b[1G");
          return (column1 < 0 ? line : line.slice(column1)).replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "");
        })
        .join("\n");
    }

    /** Runs the CLI on a pseudo-terminal; `step` writes what is typed once `expect` has appeared on the screen. */
    async function onTerminal(args: string[], steps: Array<[RegExp, string]>): Promise<{ code: number | null; screen: string }> {
      const command = [process.execPath, CLI, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" ");
      const child = spawn(SCRIPT, ["-qfec", command, "/dev/null"], { stdio: ["pipe", "pipe", "pipe"] });
      let raw = "";
      let screen = "";
      let next = 0;
      child.stdout.on("data", (c: Buffer) => {
        raw += c.toString("utf8");
        screen = visible(raw);
        while (next < steps.length && steps[next][0].test(screen)) child.stdin.write(steps[next++][1]);
      });
      child.stdin.on("error", () => {});
      const killer = setTimeout(() => child.kill("SIGKILL"), 10000);
      const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
      clearTimeout(killer);
      return { code, screen };
    }

    it("prompts with \"> \", marks what arrived with \"< \", and /close sends a code and reason", async function () {
      const before = ws.closes.length;
      const r = await onTerminal([ws.url("/echo")], [
        [/> $/, "hello\r"],
        [/< hello/, "/close 4002 bye now\r"],
      ]);
      assert.equal(r.code, 0, r.screen);
      assert.match(r.screen, /^< hello\r?$/m);
      await eventually(() => ws.closes.length > before);
      assert.deepEqual(ws.closes[ws.closes.length - 1], { path: "/echo", code: 4002, reason: "bye now" });
    });

    it("/ping and /pong send control frames (-v shows them), //text sends /text, an unknown command is named", async function () {
      const before = ws.pongs.length;
      const r = await onTerminal(["-v", ws.url("/echo")], [
        [/> $/, "/ping are you there\r"],
        [/> ping opcode=9 len=13 fin=1/, "/pong unasked\r"],
        [/> pong opcode=10 len=7 fin=1/, "//slash\r"],
        [/< \/slash/, "/nope\r"],
        [/unknown command \/nope/, "\x04"], // Ctrl-D
      ]);
      assert.equal(r.code, 0, r.screen);
      assert.match(r.screen, /^< \/slash\r?$/m);
      assert.match(r.screen, /unknown command \/nope \(commands: \/ping/);
      // The ws server got our ping (it answers with a pong, consumed by websock) and logged no pong of its own ping.
      assert.equal(ws.pongs.length, before + 1);
      assert.equal(ws.pongs[ws.pongs.length - 1], Buffer.from("unasked").toString("hex"));
    });
  });

  describe("-l/--listen: serving", function () {
    it("sends each stdin line to the clients and prints what they send; Ctrl-C closes them with 1001 (exit 130)", async function () {
      const child = spawn(process.execPath, [CLI, "-l", "127.0.0.1:0"], { stdio: ["pipe", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
      child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
      const killer = setTimeout(() => child.kill("SIGKILL"), 10000);
      const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
      try {
        await eventually(() => /listening on ws:\/\/127\.0\.0\.1:\d+\//.test(stderr));
        const url = /listening on (ws:\/\/\S+)/.exec(stderr)![1];
        const { default: WebSocket } = await import("ws");
        const clients = [new WebSocket(url + "a"), new WebSocket(url + "b")];
        const got: string[][] = [[], []];
        const closes: number[] = [];
        clients.forEach((c, i) => {
          c.on("message", (d) => got[i].push(d.toString()));
          c.on("close", (code) => closes.push(code));
        });
        await Promise.all(clients.map((c) => new Promise((r, j) => (c.once("open", r), c.once("error", j)))));
        clients[0].send("from a");
        clients[1].send("from b");
        await eventually(() => stdout.split("\n").length === 3);
        assert.deepEqual(stdout.split("\n").sort(), ["", "from a", "from b"]);
        child.stdin.write("to everyone\n");
        await eventually(() => got[0].length === 1 && got[1].length === 1);
        assert.deepEqual(got, [["to everyone"], ["to everyone"]]);
        child.kill("SIGINT");
        assert.equal(await exited, 130, stderr);
        await eventually(() => closes.length === 2);
        assert.deepEqual(closes, [1001, 1001]);
      } finally {
        clearTimeout(killer);
        child.kill("SIGKILL");
      }
    });
  });

  describe("TLS", function () {
    it("refuses a server whose CA is not trusted (exit 4)", async function () {
      const r = await run(["-n", "0", wss.url("/echo")]);
      assert.equal(r.code, 4, r.stderr);
      assertOneErrorLine(r, /TLS.*--cacert/);
    });

    it("--cacert trusts the test CA", async function () {
      const r = await run(["--cacert", certs.file("ca.pem"), "-n", "1", wss.url("/echo")], "secure\n");
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "secure\n");
    });

    it("--insecure skips verification, explicitly", async function () {
      const r = await run(["-k", "-n", "1", wss.url("/echo")], "anyway\n");
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "anyway\n");
    });

    it("--servername is the name verified (a wrong one fails with exit 4)", async function () {
      const ok = await run(["--cacert", certs.file("ca.pem"), "--servername", "localhost", "-n", "0", wss.url("/echo")]);
      assert.equal(ok.code, 0, ok.stderr);
      const wrong = await run(["--cacert", certs.file("ca.pem"), "--servername", "wrong.example", "-n", "0", wss.url("/echo")]);
      assert.equal(wrong.code, 4, wrong.stderr);
      assertOneErrorLine(wrong, /--servername/);
    });

    it("--pin-sha256: the server's key pin passes, another fails even with --insecure", async function () {
      const pin = spkiPin(certs.serverCert);
      const ok = await run(["--cacert", certs.file("ca.pem"), "--pin-sha256", `sha256//${pin}`, "-n", "0", wss.url("/echo")]);
      assert.equal(ok.code, 0, ok.stderr);
      const other = spkiPin(certs.caPem);
      const wrong = await run(["-k", "--pin-sha256", other, "-n", "0", wss.url("/echo")]);
      assert.equal(wrong.code, 4, wrong.stderr);
      assertOneErrorLine(wrong, /pin/);
    });

    it("--cert/--key present a client certificate (mutual TLS)", async function () {
      const r = await run(["--cacert", certs.file("ca.pem"), "--cert", certs.file("client.pem"), "--key", certs.file("client.key"), "-n", "1", mtls.url("/echo")], "mutual\n");
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "mutual\n");
    });

    it("fails without a client certificate where one is required", async function () {
      const r = await run(["--cacert", certs.file("ca.pem"), "-n", "1", mtls.url("/echo")], "mutual\n");
      assert.equal(r.code, 4, r.stderr);
      assertOneErrorLine(r, /client certificate.*--cert and --key/);
    });
  });

  describe("exit codes", function () {
    it("--version prints the package's version (0)", async function () {
      const r = await run(["--version"]);
      assert.equal(r.code, 0);
      const pkg = JSON.parse(readFileSync("package.json", "utf8")) as { name: string; version: string };
      assert.equal(r.stdout, `websock ${pkg.version} (${pkg.name}), Node ${process.version}\n`);
    });

    it("--help prints usage, examples and the exit codes (0)", async function () {
      const r = await run(["--help"]);
      assert.equal(r.code, 0);
      for (const part of ["Usage: websock", "Examples:", "Exit codes:", "--pin-sha256", "--quit-after"]) assert.ok(r.stdout.includes(part), part);
    });

    const usageCases: Array<[string, string[], RegExp]> = [
      ["no URL", [], /no URL/],
      ["an http URL", ["http://127.0.0.1/"], /http:\/\/ is not a WebSocket URL: use ws:\/\/127\.0\.0\.1\//],
      ["a URL without a scheme", ["127.0.0.1:8080/x"], /no ws:\/\/ or wss:\/\/ in front \(try ws:\/\/127\.0\.0\.1:8080\/x\)/],
      ["a port out of range", ["ws://127.0.0.1:65536/"], /port 65536 is out of range \(1 to 65535\)/],
      ["a port that is not a number", ["ws://127.0.0.1:80a/"], /the port must be a number, not "80a"/],
      ["a fragment", ["ws://127.0.0.1/chat#top"], /a fragment \(#top\).*RFC 6455 §3/],
      ["a space in the path", ["ws://127.0.0.1/a b"], /a space at character 17.*%20/],
      ["--auth without a colon", ["--auth", "alice", "ws://127.0.0.1/"], /--auth needs user:password/],
      ["-w that is negative", ["-w", "-1", "ws://127.0.0.1/"], /-w\/--wait must be 0 seconds or more/],
      ["--listen with a URL", ["-l", "0", "ws://127.0.0.1/"], /-l\/--listen serves: no URL/],
      ["an unknown option", ["--nope", "ws://127.0.0.1/"], /unknown option --nope/],
      ["a missing value", ["ws://127.0.0.1/", "-n"], /-n\/--count needs a value/],
      ["a bad count", ["-n", "two", "ws://127.0.0.1/"], /-n\/--count/],
      ["a bad time", ["--timeout", "soon", "ws://127.0.0.1/"], /--timeout/],
      ["a TLS option on ws://", ["--insecure", "ws://127.0.0.1/"], /--insecure needs a wss:\/\/ URL/],
      ["--cert without --key", ["--cert", "c.pem", "wss://127.0.0.1/"], /--cert and --key/],
      ["a missing --cacert file", ["--cacert", "/nonexistent/ca.pem", "wss://127.0.0.1/"], /--cacert \/nonexistent\/ca\.pem: no such file/],
    ];
    for (const [what, args, pattern] of usageCases) {
      it(`2 on usage errors: ${what}`, async function () {
        const r = await run(args);
        assert.equal(r.code, 2, r.stderr);
        assertOneErrorLine(r, pattern);
      });
    }

    it("2 when websock refuses an option's value (a reserved -H header, a --cacert that is not PEM)", async function () {
      const header = await run(["-H", "Sec-WebSocket-Key: x", ws.url("/echo")]);
      assert.equal(header.code, 2, header.stderr);
      assertOneErrorLine(header, /-H sets Sec-WebSocket-Key/);
      const notPem = await run(["--cacert", certs.file("server.ext"), "-n", "0", wss.url("/echo")]);
      assert.equal(notPem.code, 2, notPem.stderr);
      assertOneErrorLine(notPem, /--cacert is not a valid certificate/);
    });

    it("3 when nothing listens", async function () {
      const port = await closedPort();
      const r = await run(["-n", "0", `ws://127.0.0.1:${port}/`]);
      assert.equal(r.code, 3, r.stderr);
      assertOneErrorLine(r, new RegExp(`^websock: cannot connect to 127\\.0\\.0\\.1:${port}: ECONNREFUSED \\(nothing listens on that port\\)$`));
    });

    it("5 when the server answers the upgrade with 404: the status, the response headers and the body's first bytes", async function () {
      const r = await run(["-n", "0", ws.url("/404")]);
      assert.equal(r.code, 5, r.stderr);
      const lines = r.stderr.split("\n");
      assert.match(lines[0], /^websock: handshake failed: the server answered HTTP 404 instead of 101 Switching Protocols$/);
      assert.equal(lines[1], "  HTTP/1.1 404 Not Found");
      assert.ok(lines.includes("  Content-Length: 2"), r.stderr);
      assert.equal(lines[lines.length - 2], "  no"); // the body, after an empty line
      assert.equal(lines[lines.length - 3], "  ");
    });

    it("5 on a 401: the WWW-Authenticate header shows; --auth and user:password@ send Basic credentials", async function () {
      const seen: string[] = [];
      const server = net.createServer((socket) => {
        socket.on("error", () => {});
        socket.once("data", (chunk: Buffer) => {
          const auth = /^authorization: (.*)\r$/im.exec(chunk.toString("latin1"))?.[1];
          seen.push(auth ?? "none");
          socket.end('HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm="websock test"\r\nContent-Length: 0\r\n\r\n');
        });
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const port = (server.address() as net.AddressInfo).port;
      try {
        const r = await run(["-n", "0", `ws://127.0.0.1:${port}/private`]);
        assert.equal(r.code, 5, r.stderr);
        assert.match(r.stderr, /^websock: handshake failed: the server answered HTTP 401 /);
        assert.match(r.stderr, /^  WWW-Authenticate: Basic realm="websock test"$/m);
        await run(["-n", "0", "--auth", "alice:s3cret", `ws://127.0.0.1:${port}/private`]);
        await run(["-n", "0", `ws://bob:p%40ss@127.0.0.1:${port}/private`]);
        // Each run asked twice: the upgrade, then the look at the refusal.
        assert.deepEqual(seen, ["none", "none", `Basic ${Buffer.from("alice:s3cret").toString("base64")}`, `Basic ${Buffer.from("alice:s3cret").toString("base64")}`,
          `Basic ${Buffer.from("bob:p@ss").toString("base64")}`, `Basic ${Buffer.from("bob:p@ss").toString("base64")}`]);
      } finally {
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    });

    it("a ws:// URL to a TLS port, and a wss:// URL to a plain port, each get a hint", async function () {
      const toTls = await run(["--timeout", "2", "-n", "0", wss.url("/echo").replace("wss://", "ws://")]);
      assert.equal(toTls.code, 5, toTls.stderr);
      assertOneErrorLine(toTls, /^websock: handshake failed: the server closed the connection before it answered the upgrade \(port \d+ speaks TLS: use wss:\/\/\)$/);
      const toPlain = await run(["-k", "-n", "0", ws.url("/echo").replace("ws://", "wss://")]);
      assert.equal(toPlain.code, 4, toPlain.stderr);
      assertOneErrorLine(toPlain, /port \d+ speaks plain HTTP, not TLS: use ws:\/\/\)$/);
    });

    it("8 when the server does not answer our close within --close-timeout", async function () {
      const raw = await startRawServer(true, () => {}); // opens, then ignores everything, our close included
      raws.push(raw);
      const r = await run(["--close-timeout", "0.3", "-w", "0", `ws://127.0.0.1:${raw.port}/`], "bye\n");
      assert.equal(r.code, 8, r.stderr);
      assertOneErrorLine(r, /^websock: the server did not answer the close within 0\.3 s \(--close-timeout\)$/);
    });

    it("6 when the server breaks RFC 6455 (a frame with RSV1 set)", async function () {
      const raw = await startRawServer(true, (socket) => {
        socket.write(Buffer.from([0xc1, 0x02, 0x68, 0x69])); // FIN + RSV1 + text "hi"
        socket.on("data", () => socket.end()); // our close frame: end TCP as a server should
      });
      raws.push(raw);
      const r = await run(["-q", "-1", `ws://127.0.0.1:${raw.port}/`]);
      assert.equal(r.code, 6, r.stderr);
      assertOneErrorLine(r, /protocol error: .*reserved bits.*1002/);
      assert.equal(r.stdout, "");
    });

    it("7 when the server closes with a code other than 1000/1001, with the code and reason", async function () {
      const r = await run(["-q", "-1", ws.url("/close4001")]);
      assert.equal(r.code, 7, r.stderr);
      assertOneErrorLine(r, /closed by the server with code 4001: going away now/);
    });

    it("7 when the server drops TCP without a close frame, said once", async function () {
      const raw = await startRawServer(true, (socket) => setTimeout(() => socket.end(), 50));
      raws.push(raw);
      const r = await run(["-q", "-1", `ws://127.0.0.1:${raw.port}/`]);
      assert.equal(r.code, 7, r.stderr);
      assertOneErrorLine(r, /^websock: the server dropped the connection without a close frame \(1006\)$/);
    });

    it("8 when the handshake does not finish within --timeout", async function () {
      const raw = await startRawServer(false, () => {});
      raws.push(raw);
      const started = Date.now();
      const r = await run(["--timeout", "0.3", "-n", "0", `ws://127.0.0.1:${raw.port}/`]);
      assert.equal(r.code, 8, r.stderr);
      assertOneErrorLine(r, /not open after 0\.3 s.*see --timeout$/);
      assert.ok(Date.now() - started < 5000);
    });

    it("8 when a ping's pong does not come within --pong-timeout", async function () {
      const raw = await startRawServer(true, () => {}); // opens, then never answers anything
      raws.push(raw);
      const r = await run(["--ping-interval", "0.1", "--pong-timeout", "0.2", "--close-timeout", "0.2", "-q", "-1", `ws://127.0.0.1:${raw.port}/`]);
      assert.equal(r.code, 8, r.stderr);
      // In the option's words, said once.
      assertOneErrorLine(r, /^websock: the server did not answer a ping within 0\.2 s \(--pong-timeout\)$/);
    });

    it("130 on Ctrl-C (SIGINT), after closing normally (1000)", async function () {
      const before = ws.closes.length;
      const child = spawn(process.execPath, [CLI, "-v", ws.url("/echo")], { stdio: ["pipe", "pipe", "pipe"] });
      let stderr = "";
      let interrupted = false;
      child.stderr.on("data", (c: Buffer) => {
        stderr += c.toString();
        if (!interrupted && stderr.includes("* connected")) interrupted = child.kill("SIGINT"); // once: a second one leaves at once
      });
      const killer = setTimeout(() => child.kill("SIGKILL"), 8000);
      const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
      clearTimeout(killer);
      assert.equal(code, 130, stderr);
      assert.match(stderr, /^websock: interrupted$/m);
      await eventually(() => ws.closes.length > before);
      assert.equal(ws.closes[ws.closes.length - 1].code, 1000);
    });

    it("1 when a stdin line is not UTF-8 (text mode), after closing normally", async function () {
      const before = ws.closes.length;
      const r = await run([ws.url("/echo")], Buffer.from([0x6f, 0x6b, 0x0a, 0xff, 0x0a]));
      assert.equal(r.code, 1, r.stderr);
      assertOneErrorLine(r, /stdin line 2: .*UTF-8.*--binary/);
      await eventually(() => ws.closes.length > before);
      assert.equal(ws.closes[ws.closes.length - 1].code, 1000);
    });
  });
  describe("--reconnect", function () {
    it("connects again after the server drops it, says so on stderr, and prints the new connection's messages; a cut message is not printed", async function () {
      let n = 0;
      const raw = await startRawServer(true, (socket) => {
        n++;
        if (n === 1) {
          socket.write(Buffer.from([0x81, 0x03, 0x6f, 0x6e, 0x65])); // "one"
          socket.write(Buffer.from([0x01, 0x03, 0x63, 0x75, 0x74])); // "cut", not final: the drop cuts it
          setTimeout(() => socket.destroy(), 50);
        } else {
          socket.write(Buffer.from([0x81, 0x03, 0x74, 0x77, 0x6f])); // "two"
          socket.write(Buffer.from([0x88, 0x02, 0x03, 0xe8])); // close 1000
          socket.on("data", () => socket.end());
        }
      });
      raws.push(raw);
      // The first attempt waits a random 0-5 s (RFC 6455 §7.2.3): the kill timer leaves room for it.
      const r = await run(["--reconnect", "-q", "-1", `ws://127.0.0.1:${raw.port}/`], "", 15000);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "one\ntwo\n");
      assert.match(r.stderr, /^websock: the connection was re-established.*a message was cut/m);
    });

    it("without --reconnect the same drop ends the run (7)", async function () {
      const raw = await startRawServer(true, (socket) => setTimeout(() => socket.destroy(), 50));
      raws.push(raw);
      const r = await run(["-q", "-1", `ws://127.0.0.1:${raw.port}/`]);
      assert.equal(r.code, 7, r.stderr);
    });
  });
});
