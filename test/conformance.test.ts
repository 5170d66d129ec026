// Conformance through the real socket and the public API, grouped like
// Autobahn|Testsuite's client sections: a raw TCP server writes crafted
// frames, websock_recv reads them, and each test checks what was delivered,
// how recv ended (its return and websock_last_error) and the close frame the
// client sent back (decoded from what the server received). The core-level
// vectors (test/vectors) cover the same rules through every chunking; these
// cover the way through the Node host, the facade and TCP.
//
// At the end, the Autobahn echo client (tools/autobahn.ts) runs for real
// against the fuzzing-server stand-in (test/support/fuzzing-server.ts).

import { strict as assert } from "node:assert";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import net from "node:net";
import WebSocket from "ws";
import { WEBSOCK_ERR, websock_close, websock_msg_hdr_init, websock_open, websock_recv } from "websock-rfc6455";
import { assertClosedByPeer, assertCleanOutput, assertFailed, CraftedServer, type CraftedRun, type Write } from "./support/crafted.js";
import { be64, closeFrame, frame, messageBytes } from "./support/frames.js";
import { startFuzzingServer, type FuzzingServer } from "./support/fuzzing-server.js";
import { startRawServer, switchingProtocols } from "./support/raw-server.js";
import { decodeClientFrames } from "./vectors/runner.js";

const CLOSE = closeFrame(1000);
const hex = (h: string): Buffer => Buffer.from(h.replace(/\s+/g, ""), "hex");
const utf8 = (s: string): Buffer => Buffer.from(s, "utf8");

let server: CraftedServer;
before(async () => {
  server = await CraftedServer.start();
});
after(() => server.stop());

function run(script: Write[], options: Parameters<CraftedServer["run"]>[1] = {}): Promise<CraftedRun> {
  return server.run(script, options);
}

describe("1 framing: every length class through the socket", () => {
  for (const n of [0, 1, 125, 126, 127, 128, 65535, 65536, 1 << 20]) {
    for (const kind of ["text", "binary"] as const) {
      it(`delivers a ${n}-byte ${kind} frame intact through a 256-byte rx buffer`, async () => {
        const data = messageBytes(kind, n);
        const r = await run([frame(kind === "text" ? 1 : 2, data), CLOSE]);
        assert.equal(r.frames.length, 1);
        assert.equal(r.frames[0].opcode, kind === "text" ? 1 : 2);
        assert.equal(r.frames[0].length, n);
        assert.ok(r.frames[0].fin);
        assert.ok(r.frames[0].data.equals(data), "payload differs");
        // websock_recv's len is 1024 here (crafted.ts): a frame larger than that comes in pieces of at most 1024.
        if (n > 1024) assert.ok(r.frames[0].pieces >= n / 1024, "a frame larger than the read buffer arrives in pieces");
        assertClosedByPeer(r);
      });
    }
  }

  for (const kind of ["text", "binary"] as const) {
    it(`fills websock_recv's buffer past the 256-byte rx buffer with a ${kind} frame's bytes that are in`, async () => {
      // The server writes the 64 KiB frame at once: a websock_recv with a 64 KiB buffer takes
      // as much of it as has arrived, through rx 256 bytes at a time, instead of returning
      // each rx buffer's worth as a piece of its own.
      const data = messageBytes(kind, 65536);
      let largest = 0;
      const r = await run([frame(kind === "text" ? 1 : 2, data), CLOSE], {
        readSize: 65536,
        onPiece: (piece) => {
          largest = Math.max(largest, piece.length);
        },
      });
      assert.equal(r.frames.length, 1);
      assert.ok(r.frames[0].data.equals(data), "payload differs");
      assert.ok(largest > 256, `the largest piece was ${largest} bytes: no piece went past the rx buffer`);
      assert.ok(r.frames[0].pieces < 65536 / 256, `${r.frames[0].pieces} pieces: one per rx buffer's worth`);
      assertClosedByPeer(r);
    });
  }

  it("delivers frames that came in the same TCP segment as the 101", async () => {
    const r = await run([Buffer.concat([frame(1, "first"), frame(2, hex("0102")), CLOSE])], { withResponse: true });
    assert.deepEqual(r.messages.map((m) => [m.opcode, m.data.toString("hex")]), [[1, utf8("first").toString("hex")], [2, "0102"]]);
    assertClosedByPeer(r);
  });

  it("reads a 256-byte rx buffer's worth of frames one byte at a time with len 1", async () => {
    const r = await run([frame(1, "abc"), frame(2, messageBytes("binary", 300)), CLOSE], { readSize: 1 });
    assert.equal(r.frames[0].pieces, 3);
    assert.equal(r.frames[1].pieces, 300);
    assert.ok(r.frames[1].data.equals(messageBytes("binary", 300)));
    assertClosedByPeer(r);
  });

  it("streams a frame that announces 2^63 - 1 bytes, with exact offsets, until TCP ends (1006)", async () => {
    const head = Buffer.concat([Buffer.from([0x82, 127]), hex("7fffffffffffffff")]);
    let lastOffset = -1;
    const r = await run([Buffer.concat([head, messageBytes("binary", 5000)]), { wait: 20 }, { endTcp: true }], {
      onPiece: (piece, hdr) => {
        assert.equal(hdr.payload_len, 2 ** 63);
        lastOffset = hdr.offset + piece.length;
      },
    });
    assert.equal(lastOffset, 5000);
    assert.ok(r.frames[0].data.equals(messageBytes("binary", 5000)));
    assert.equal(r.error.name, "WEBSOCK_ERR_CONNECTION_LOST");
    assert.equal(r.error.close_code, 1006);
    assert.match(r.error.message, /middle of a frame/);
  });

  it("fails a 16-bit length that fits in 7 bits with 1002", async () => {
    assertFailed(await run([Buffer.concat([hex("817e0005"), utf8("Hello")])]), "NON_MINIMAL_LENGTH", 1002);
  });

  it("fails a 64-bit length that fits in 16 bits with 1002", async () => {
    assertFailed(await run([Buffer.concat([hex("827f"), be64(200), messageBytes("binary", 200)])]), "NON_MINIMAL_LENGTH", 1002);
  });

  it("fails a 64-bit length with its most significant bit set with 1002", async () => {
    assertFailed(await run([Buffer.concat([hex("827f8000000000000000"), messageBytes("binary", 10)])]), "LENGTH_TOO_LARGE", 1002);
  });

  it("fails a masked server frame with 1002", async () => {
    assertFailed(await run([frame(1, "Hello", { mask: hex("37fa213d") })]), "MASKED_FRAME", 1002);
  });

  it("fails a message over max_message_size with 1009, before its payload arrives", async () => {
    const r = await run([Buffer.concat([hex("827f"), be64(1 << 20)]), { awaitClientClose: true }], { cfg: { max_message_size: 65536 } });
    assertFailed(r, "MESSAGE_TOO_BIG", 1009);
    assert.ok(r.closedEarly);
  });
});

describe("2 pings and pongs", () => {
  it("answers a ping without payload with a pong without payload", async () => {
    const r = await run([frame(9), CLOSE]);
    assert.deepEqual(r.client.pongs.map((p) => p.toString("hex")), [""]);
    assert.deepEqual(r.frames, [], "pings are consumed inside recv");
    assertClosedByPeer(r);
  });

  it("answers a ping with a text payload and one with a binary payload, each with its own bytes", async () => {
    const r = await run([frame(9, "Hello, world!"), { wait: 10 }, frame(9, hex("00fffefdfcfb00ff")), CLOSE]);
    assert.deepEqual(r.client.pongs.map((p) => p.toString("hex")), [utf8("Hello, world!").toString("hex"), "00fffefdfcfb00ff"]);
    assertClosedByPeer(r);
  });

  it("answers a 125-byte ping with the same 125 bytes", async () => {
    const payload = messageBytes("binary", 125);
    const r = await run([frame(9, payload), CLOSE]);
    assert.equal(r.client.pongs.length, 1);
    assert.ok(r.client.pongs[0].equals(payload));
    assertClosedByPeer(r);
  });

  it("fails a 126-byte ping with 1002 and sends no pong", async () => {
    const r = await run([frame(9, Buffer.alloc(126, 0xfe))]);
    assertFailed(r, "CONTROL_TOO_LONG", 1002);
    assert.deepEqual(r.client.pongs, []);
  });

  it("answers a 125-byte ping written one byte at a time", async () => {
    const payload = Buffer.alloc(125, 0x21);
    const r = await run([{ chop: 1, bytes: frame(9, payload) }, CLOSE]);
    assert.ok(r.client.pongs.length === 1 && r.client.pongs[0].equals(payload));
    assertClosedByPeer(r);
  });

  it("ignores unsolicited pongs, with and without payload, and answers the ping after them", async () => {
    const r = await run([frame(10), frame(10, "unsolicited"), frame(9, "solicited"), frame(1, "still open"), CLOSE]);
    assert.deepEqual(r.client.pongs.map((p) => p.toString()), ["solicited"]);
    assert.deepEqual(r.messages.map((m) => m.data.toString()), ["still open"]);
    assertClosedByPeer(r);
  });

  it("answers at least the last of 10 pings sent in one segment (RFC 6455 §5.5.3)", async () => {
    const r = await run([Buffer.concat(Array.from({ length: 10 }, (_, i) => frame(9, `ping ${i}`))), CLOSE]);
    assert.ok(r.client.pongs.length >= 1);
    assert.equal(r.client.pongs[r.client.pongs.length - 1].toString(), "ping 9");
    assertClosedByPeer(r);
  });

  it("answers each of 10 pings sent apart, in order", async () => {
    const script: Write[] = [];
    for (let i = 0; i < 10; i++) script.push(frame(9, `ping ${i}`), { wait: 3 });
    const r = await run([...script, CLOSE]);
    assert.deepEqual(r.client.pongs.map((p) => p.toString()), Array.from({ length: 10 }, (_, i) => `ping ${i}`));
    assertClosedByPeer(r);
  });

  it("answers a ping between the fragments of a message, which arrives whole", async () => {
    const r = await run([frame(1, "frag", { fin: false }), frame(9, "between"), frame(0, "ment"), CLOSE]);
    assert.deepEqual(r.client.pongs.map((p) => p.toString()), ["between"]);
    assert.deepEqual(r.messages.map((m) => m.data.toString()), ["fragment"]);
    assertClosedByPeer(r);
  });

  it("answers a ping that waits behind a frame larger than the buffer, once the frame is read", async () => {
    const data = messageBytes("binary", 10000);
    const r = await run([Buffer.concat([frame(2, data), frame(9, "behind")]), CLOSE]);
    assert.ok(r.messages[0].data.equals(data));
    assert.deepEqual(r.client.pongs.map((p) => p.toString()), ["behind"]);
    assertClosedByPeer(r);
  });

  it("with auto_pong false, delivers a 125-byte ping as opcode 9 and sends no pong", async () => {
    const payload = messageBytes("binary", 125);
    const r = await run([frame(9, payload), CLOSE], { cfg: { auto_pong: false } });
    assert.equal(r.frames.length, 1);
    assert.equal(r.frames[0].opcode, 9);
    assert.ok(r.frames[0].data.equals(payload));
    assert.deepEqual(r.client.pongs, []);
    assertClosedByPeer(r);
  });
});

describe("3 reserved bits", () => {
  for (let rsv = 1; rsv <= 7; rsv++) {
    it(`fails a text frame with RSV = ${rsv} with 1002`, async () => {
      assertFailed(await run([frame(1, "Hello", { rsv })]), "RSV_BITS", 1002);
    });
  }

  it("delivers the message before a frame with RSV = 2, then fails with 1002 and answers no later ping", async () => {
    const r = await run([frame(1, "Hello"), { wait: 20 }, Buffer.concat([frame(1, "Hello", { rsv: 2 }), frame(9, "never")])]);
    assert.deepEqual(r.messages.map((m) => m.data.toString()), ["Hello"]);
    assertFailed(r, "RSV_BITS", 1002);
    assert.deepEqual(r.client.pongs, []);
  });

  it("fails the same sequence written one byte at a time", async () => {
    const r = await run([{ chop: 1, bytes: Buffer.concat([frame(1, "Hello"), frame(1, "Hello", { rsv: 3 }), frame(9, "never")]) }]);
    assert.deepEqual(r.messages.map((m) => m.data.toString()), ["Hello"]);
    assertFailed(r, "RSV_BITS", 1002);
    assert.deepEqual(r.client.pongs, []);
  });

  it("fails a binary frame with RSV = 5, a ping with RSV = 6 and a close with RSV = 7, each with 1002", async () => {
    assertFailed(await run([frame(2, hex("0102ff"), { rsv: 5 })]), "RSV_BITS", 1002);
    const ping = await run([frame(9, "ping", { rsv: 6 })]);
    assertFailed(ping, "RSV_BITS", 1002);
    assert.deepEqual(ping.client.pongs, []);
    assertFailed(await run([frame(8, hex("03e8"), { rsv: 7 })]), "RSV_BITS", 1002);
  });
});

describe("4 opcodes", () => {
  for (const op of [3, 4, 5, 6, 7]) {
    it(`fails reserved non-control opcode ${op} with 1002, with or without payload`, async () => {
      assertFailed(await run([frame(op)]), "RESERVED_OPCODE", 1002);
      assertFailed(await run([frame(op, "reserved payload")]), "RESERVED_OPCODE", 1002);
    });
  }
  for (const op of [11, 12, 13, 14, 15]) {
    it(`fails reserved control opcode ${op} with 1002, with or without payload`, async () => {
      assertFailed(await run([frame(op)]), "RESERVED_OPCODE", 1002);
      assertFailed(await run([frame(op, "reserved payload")]), "RESERVED_OPCODE", 1002);
    });
  }

  it("delivers a text message, then fails reserved opcode 5 and answers no later ping", async () => {
    const r = await run([frame(1, "Hello"), { wait: 20 }, Buffer.concat([frame(5, "x"), frame(9, "never")])]);
    assert.deepEqual(r.messages.map((m) => m.data.toString()), ["Hello"]);
    assertFailed(r, "RESERVED_OPCODE", 1002);
    assert.deepEqual(r.client.pongs, []);
  });
});

describe("5 fragmentation", () => {
  it("delivers text in 2 fragments as opcode 1 (fin false) then opcode 0 (fin true)", async () => {
    const r = await run([frame(1, "frag", { fin: false }), frame(0, "ment"), CLOSE]);
    assert.deepEqual(r.frames.map((f) => [f.opcode, f.fin, f.data.toString()]), [[1, false, "frag"], [0, true, "ment"]]);
    assertClosedByPeer(r);
  });

  it("delivers binary in 3 fragments, the middle one empty", async () => {
    const r = await run([frame(2, hex("0102"), { fin: false }), frame(0, "", { fin: false }), frame(0, hex("03")), CLOSE]);
    assert.deepEqual(r.frames.map((f) => [f.opcode, f.fin, f.data.toString("hex")]), [[2, false, "0102"], [0, false, ""], [0, true, "03"]]);
    assertClosedByPeer(r);
  });

  it("delivers text in 5 fragments with pings between and a pause in the middle, answering both pings", async () => {
    const r = await run([
      Buffer.concat([frame(1, "fragment1", { fin: false }), frame(0, "fragment2", { fin: false }), frame(9, "pongme 1!")]),
      { wait: 30 },
      Buffer.concat([frame(0, "fragment3", { fin: false }), frame(0, "fragment4", { fin: false }), frame(9, "pongme 2!"), frame(0, "fragment5")]),
      CLOSE,
    ]);
    assert.deepEqual(r.messages.map((m) => m.data.toString()), ["fragment1fragment2fragment3fragment4fragment5"]);
    assert.deepEqual(r.client.pongs.map((p) => p.toString()), ["pongme 1!", "pongme 2!"]);
    assertClosedByPeer(r);
  });

  it("consumes a pong between fragments without answering it", async () => {
    const r = await run([{ chop: 1, bytes: Buffer.concat([frame(1, "frag", { fin: false }), frame(10, "between"), frame(0, "ment")]) }, CLOSE]);
    assert.deepEqual(r.messages.map((m) => m.data.toString()), ["fragment"]);
    assert.deepEqual(r.client.pongs, []);
    assertClosedByPeer(r);
  });

  for (const [name, op] of [["ping", 9], ["pong", 10], ["close", 8]] as const) {
    it(`fails a fragmented ${name} with 1002`, async () => {
      const r = await run([Buffer.concat([frame(op, op === 8 ? hex("03e8") : utf8("frag"), { fin: false }), frame(0, "ment")])]);
      assertFailed(r, "CONTROL_FRAGMENTED", 1002);
      assert.deepEqual(r.client.pongs, []);
    });
  }

  it("fails a continuation (fin) with nothing to continue with 1002", async () => {
    assertFailed(await run([Buffer.concat([frame(0, "fragment"), frame(1, "never")])]), "UNEXPECTED_CONTINUATION", 1002);
  });

  it("fails a continuation (not fin) with nothing to continue with 1002", async () => {
    assertFailed(await run([Buffer.concat([frame(0, "fragment", { fin: false }), frame(1, "never")])]), "UNEXPECTED_CONTINUATION", 1002);
  });

  it("fails a continuation after a complete message with 1002, after delivering the message", async () => {
    const r = await run([Buffer.concat([frame(1, "complete"), frame(0, "stray")])]);
    assert.deepEqual(r.messages.map((m) => m.data.toString()), ["complete"]);
    assertFailed(r, "UNEXPECTED_CONTINUATION", 1002);
  });

  it("fails a new text frame inside a fragmented message with 1002, after the first fragment", async () => {
    const r = await run([Buffer.concat([frame(1, "frag", { fin: false }), frame(1, "ment")])]);
    assert.deepEqual(r.frames.map((f) => [f.opcode, f.fin, f.data.toString()]), [[1, false, "frag"]]);
    assertFailed(r, "EXPECTED_CONTINUATION", 1002);
  });

  it("fails a new binary frame inside a fragmented text message with 1002", async () => {
    assertFailed(await run([Buffer.concat([frame(1, "frag", { fin: false }), frame(2, hex("00"))])]), "EXPECTED_CONTINUATION", 1002);
  });

  it("fails a continuation with nothing to continue, after 2 fragments that completed a message", async () => {
    const r = await run([Buffer.concat([frame(1, "fragment1", { fin: false }), frame(0, "fragment2"), frame(0, "fragment3", { fin: false }), frame(1, "never")])]);
    assert.deepEqual(r.messages.map((m) => m.data.toString()), ["fragment1fragment2"]);
    assertFailed(r, "UNEXPECTED_CONTINUATION", 1002);
  });
});

describe("6 UTF-8", () => {
  const validCases: Array<[string, string]> = [
    ["κόσμε", "cebae1bdb9cf83cebcceb5"],
    ["U+0080, the first 2-byte sequence", "c280"],
    ["U+0800, the first 3-byte sequence", "e0a080"],
    ["U+10000, the first 4-byte sequence", "f0908080"],
    ["U+007F, the last 1-byte sequence", "7f"],
    ["U+07FF, the last 2-byte sequence", "dfbf"],
    ["U+FFFF, the last 3-byte sequence", "efbfbf"],
    ["U+10FFFF, the last code point", "f48fbfbf"],
    ["U+D7FF and U+E000, the neighbours of the surrogates", "ed9fbfee8080"],
    ["U+FFFD and a BOM", "efbfbdefbbbf"],
    ["NUL", "00"],
  ];
  for (const [what, h] of validCases) {
    it(`delivers valid UTF-8: ${what}`, async () => {
      const r = await run([frame(1, hex(h)), CLOSE]);
      assert.equal(r.messages[0].data.toString("hex"), h);
      assertClosedByPeer(r);
    });
  }

  it("delivers 'Hello-µ@ßöäüàá-UTF-8!!' split into 2 fragments at every byte position", async () => {
    const text = utf8("Hello-µ@ßöäüàá-UTF-8!!");
    const script: Write[] = [];
    for (let i = 0; i <= text.length; i++) script.push(frame(1, text.subarray(0, i), { fin: false }), frame(0, text.subarray(i)));
    const r = await run([...script, CLOSE]);
    assert.equal(r.messages.length, text.length + 1);
    for (const m of r.messages) assert.ok(m.data.equals(text));
    assertClosedByPeer(r);
  });

  it("delivers 'κόσμε' one byte per fragment, each fragment ending mid-character", async () => {
    const text = utf8("κόσμε");
    const script = [...text].map((b, i) => frame(i === 0 ? 1 : 0, Buffer.from([b]), { fin: i === text.length - 1 }));
    const r = await run([Buffer.concat(script), CLOSE]);
    assert.equal(r.frames.length, text.length);
    assert.ok(r.messages[0].data.equals(text));
    assertClosedByPeer(r);
  });

  it("delivers 64 KiB of multi-byte text through len 7 reads: pieces end mid-character, the message is whole", async () => {
    const text = messageBytes("text", 65536);
    const r = await run([frame(1, text), CLOSE], { readSize: 7 });
    assert.ok(r.messages[0].data.equals(text));
    assert.equal(r.messages[0].data.toString("utf8"), text.toString("utf8"));
    assertClosedByPeer(r);
  });

  const invalidCases: Array<[string, string]> = [
    ["κόσμε then a UTF-16 surrogate", "cebae1bdb9cf83cebcceb5eda080656469746564"],
    ["a 5-byte sequence", "f888808080"],
    ["a 6-byte sequence", "fc8480808080"],
    ["an overlong '/' in 2 bytes", "c0af"],
    ["an overlong '/' in 3 bytes", "e080af"],
    ["an overlong '/' in 4 bytes", "f08080af"],
    ["the largest overlong 2-byte sequence", "c1bf"],
    ["a code point above U+10FFFF", "f4908080"],
    ["a lone high surrogate", "eda080"],
    ["a lone low surrogate", "edbfbf"],
    ["a surrogate pair encoded in 6 bytes (CESU-8)", "eda080edb080"],
    ["a lone continuation byte", "80"],
    ["0xfe", "fe"],
    ["0xff", "ff"],
    ["a 2-byte start followed by a space", "c020"],
    ["a 4-byte start followed by 2 continuations and ASCII", "f09f9841"],
    ["a message ending mid-character", "cebae1bd"],
  ];
  for (const [what, h] of invalidCases) {
    it(`fails invalid UTF-8 with 1007: ${what}`, async () => {
      const r = await run([frame(1, hex(h))]);
      assertFailed(r, "INVALID_UTF8", 1007);
      // Fail fast: only bytes of the valid prefix were ever delivered.
      if (r.messages.length > 0) assert.ok(hex(h).subarray(0, r.messages[0].data.length).equals(r.messages[0].data));
    });
  }

  it("fails an invalid sequence split across two fragments with 1007, delivering only the valid first fragment", async () => {
    const r = await run([Buffer.concat([frame(1, hex("cebae1"), { fin: false }), frame(0, hex("80"))])]);
    assertFailed(r, "INVALID_UTF8", 1007);
    assert.ok(r.messages.length === 0 || r.messages[0].data.toString("hex") === "cebae1".slice(0, r.messages[0].data.length * 2));
  });

  it("fails a message whose last fragment ends mid-character with 1007", async () => {
    assertFailed(await run([Buffer.concat([frame(1, "κό", { fin: false }), frame(0, hex("cf"))])]), "INVALID_UTF8", 1007);
  });

  it("fails fast across fragments: the 1007 close goes out before the third fragment is sent", async () => {
    const r = await run([frame(1, "κόσμε", { fin: false }), frame(0, hex("f4908080"), { fin: false }), { awaitClientClose: true }, frame(0, "edited")]);
    assertFailed(r, "INVALID_UTF8", 1007);
    assert.ok(r.closedEarly, "the client waited for more input before failing");
  });

  it("fails fast inside one frame: the 1007 close goes out before the frame's end is sent", async () => {
    const whole = frame(1, Buffer.concat([utf8("κόσμε"), hex("f4908080"), utf8("edited")]));
    const cut = 2 + utf8("κόσμε").length + 2;
    const r = await run([whole.subarray(0, cut), { awaitClientClose: true }, whole.subarray(cut)]);
    assertFailed(r, "INVALID_UTF8", 1007);
    assert.ok(r.closedEarly, "the client waited for the rest of the frame before failing");
  });

  it("fails on the invalid byte itself when the frame arrives one byte at a time", async () => {
    const whole = frame(1, Buffer.concat([utf8("κόσμε"), hex("eda080"), utf8("edited")]));
    const bad = 2 + utf8("κόσμε").length + 2;
    const r = await run([{ chop: 1, bytes: whole.subarray(0, bad) }, { awaitClientClose: true }, whole.subarray(bad)]);
    assertFailed(r, "INVALID_UTF8", 1007);
    assert.ok(r.closedEarly);
    // Only bytes before the invalid one are ever delivered (how many depends on how fast recv ran),
    // the 0xed that starts the bad sequence included: it is a valid prefix until 0xa0 arrives.
    const valid = Buffer.concat([utf8("κόσμε"), hex("ed")]);
    assert.ok(r.messages.length === 0 || r.messages[0].data.equals(valid.subarray(0, r.messages[0].data.length)));
  });

  it("fails invalid UTF-8 in a close reason with 1007", async () => {
    assertFailed(await run([closeFrame(1000, hex("cebae1bdb9cf83cebcceb5eda080656469746564"))]), "INVALID_UTF8", 1007);
  });

  it("never checks binary messages as UTF-8", async () => {
    const r = await run([frame(2, hex("c0afeda080ff")), CLOSE]);
    assert.equal(r.messages[0].data.toString("hex"), "c0afeda080ff");
    assertClosedByPeer(r);
  });
});

describe("7 close handling", () => {
  it("delivers a text message, then ends with the server's close 1000, echoed", async () => {
    const r = await run([frame(1, "Hello World!"), CLOSE]);
    assert.deepEqual(r.messages.map((m) => m.data.toString()), ["Hello World!"]);
    assertClosedByPeer(r, 1000);
  });

  it("answers a close followed by another close with exactly one close", async () => {
    const r = await run([Buffer.concat([CLOSE, closeFrame(1001)])]);
    assertClosedByPeer(r, 1000);
    assert.equal(r.client.frames.filter((f) => f.opcode === 8).length, 1);
  });

  it("answers no ping that follows a close", async () => {
    const r = await run([Buffer.concat([CLOSE, frame(9, "too late")])]);
    assertClosedByPeer(r);
    assert.deepEqual(r.client.pongs, []);
  });

  it("delivers no text that follows a close", async () => {
    const r = await run([Buffer.concat([CLOSE, frame(1, "too late")])]);
    assertClosedByPeer(r);
    assert.deepEqual(r.frames, []);
  });

  it("delivers the first fragment, then the close; the fragment after the close is never delivered", async () => {
    const r = await run([Buffer.concat([frame(1, "frag", { fin: false }), CLOSE, frame(0, "ment")])]);
    assert.deepEqual(r.frames.map((f) => [f.opcode, f.fin, f.data.toString()]), [[1, false, "frag"]]);
    assertClosedByPeer(r);
  });

  it("delivers a 256 KiB message written together with the close before reporting the close", async () => {
    const data = messageBytes("binary", 262144);
    const r = await run([Buffer.concat([frame(2, data), CLOSE])]);
    assert.ok(r.messages[0].data.equals(data));
    assertClosedByPeer(r);
  });

  it("answers a close with no payload with a close with no payload, reporting 1005", async () => {
    const r = await run([closeFrame()]);
    assertClosedByPeer(r, 1005);
    assert.equal(r.client.close!.reason.length, 0);
  });

  it("fails a close with a 1-byte payload with 1002", async () => {
    assertFailed(await run([frame(8, hex("03"))]), "BAD_CLOSE_PAYLOAD", 1002);
  });

  it("reports the close reason, and echoes the code", async () => {
    assertClosedByPeer(await run([closeFrame(1000, "Hello World!")]), 1000, "Hello World!");
  });

  it("accepts a 123-byte reason, the longest that fits", async () => {
    assertClosedByPeer(await run([closeFrame(1000, "*".repeat(123))]), 1000, "*".repeat(123));
  });

  it("fails a 124-byte reason (a 126-byte close payload) with 1002", async () => {
    assertFailed(await run([closeFrame(1000, "*".repeat(124))]), "CONTROL_TOO_LONG", 1002);
  });

  for (const code of [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999]) {
    it(`accepts close code ${code} and echoes it`, async () => {
      assertClosedByPeer(await run([closeFrame(code)]), code);
    });
  }

  for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535]) {
    it(`fails close code ${code} with 1002`, async () => {
      assertFailed(await run([closeFrame(code)]), "BAD_CLOSE_CODE", 1002);
    });
  }

  it("reports 1006 when TCP ends without a close frame, after delivering what came before", async () => {
    const r = await run([frame(1, "last words"), { endTcp: true }]);
    assert.deepEqual(r.messages.map((m) => m.data.toString()), ["last words"]);
    assert.equal(r.error.name, "WEBSOCK_ERR_CONNECTION_LOST");
    assert.equal(r.result, WEBSOCK_ERR.CONNECTION_LOST);
    assert.equal(r.error.close_code, 1006);
    assert.equal(r.client.close, null, "no close frame on a connection that is gone");
    assertCleanOutput(r);
  });

  it("completes the close handshake the client starts, discarding data the server sends meanwhile", async () => {
    const raw = await startRawServer(async (peer) => {
      peer.socket.write(switchingProtocols(peer.request.accept));
      const closeIn = (): boolean => decodeClientFrames(new Uint8Array(peer.received())).frames.some((f) => f.opcode === 8);
      while (!closeIn()) await new Promise((r) => setTimeout(r, 2));
      // §7.1.2: after sending its close the client discards data until the server's close arrives.
      peer.socket.write(Buffer.concat([frame(1, "discarded"), frame(9, "unanswered"), closeFrame(1000)]));
      peer.socket.end();
    });
    try {
      const h = await websock_open({ hostname: "127.0.0.1", port: raw.port, close_timeout: 3000 });
      assert.ok(h);
      const started = Date.now();
      await websock_close(h);
      assert.ok(Date.now() - started < 1500, "websock_close waited for close_timeout instead of the server's close");
      await raw.peers[0].ended;
      const sent = decodeClientFrames(new Uint8Array(raw.peers[0].received())).frames;
      assert.deepEqual(sent.map((f) => [f.opcode, Buffer.from(f.payload).toString("hex")]), [[8, "03e8"]]);
      assert.equal(await websock_recv(h, websock_msg_hdr_init(), new Uint8Array(8), 8, 0), WEBSOCK_ERR.INVALID_ARG, "the handle is released");
    } finally {
      await raw.stop();
    }
  });
});

describe("9 large messages through small buffers", () => {
  /** websock_recv's len in these runs (crafted.ts's default): a piece is at most that, whatever rx is. */
  const READ_SIZE = 1024;
  for (const [kind, n, rx] of [["text", 4 << 20, 1024], ["binary", 4 << 20, 1024], ["binary", 1 << 20, 256], ["text", 1 << 20, 256]] as const) {
    it(`delivers a ${n >> 20} MiB ${kind} message through a ${rx}-byte rx buffer, exactly`, async () => {
      const data = messageBytes(kind, n);
      const digest = createHash("sha256");
      let pieces = 0;
      const r = await run([frame(kind === "text" ? 1 : 2, data), CLOSE], {
        cfg: { rx_buffer_size: rx },
        discard: true,
        onPiece: (piece) => {
          digest.update(piece);
          pieces++;
          assert.ok(piece.length <= READ_SIZE);
        },
      });
      assert.equal(digest.digest("hex"), createHash("sha256").update(data).digest("hex"));
      assert.ok(pieces >= n / READ_SIZE);
      assertClosedByPeer(r);
    });
  }

  it("delivers a 1 MiB message sent in 1 KiB fragments, fragment by fragment", async () => {
    const data = messageBytes("binary", 1 << 20);
    const fragments: Buffer[] = [];
    for (let o = 0; o < data.length; o += 1024) fragments.push(frame(o === 0 ? 2 : 0, data.subarray(o, o + 1024), { fin: o + 1024 >= data.length }));
    const r = await run([Buffer.concat(fragments), CLOSE]);
    assert.equal(r.frames.length, 1024);
    assert.ok(r.messages[0].data.equals(data));
    assertClosedByPeer(r);
  });
});

describe("chopped TCP writes", () => {
  const sequence = Buffer.concat([
    frame(1, "Hello"),
    frame(2, messageBytes("binary", 300)),
    frame(9, "ping"),
    frame(1, "κό", { fin: false }),
    frame(10, "pong"),
    frame(0, "σμε"),
    frame(2, messageBytes("binary", 70000)),
    closeFrame(1000, "bye"),
  ]);
  for (const chop of [1, 2, 3, 7, 13, 100, 1000]) {
    it(`delivers the same frames whatever the chops: ${chop}-byte writes`, async () => {
      // Small chops over the first 600 bytes (every frame boundary but the last), then the rest.
      const r = await run(chop < 1000 ? [{ chop, bytes: sequence.subarray(0, 600) }, sequence.subarray(600)] : [{ chop, bytes: sequence }]);
      assert.deepEqual(r.messages.map((m) => [m.opcode, createHash("md5").update(m.data).digest("hex")]), [
        [1, createHash("md5").update("Hello").digest("hex")],
        [2, createHash("md5").update(messageBytes("binary", 300)).digest("hex")],
        [1, createHash("md5").update("κόσμε").digest("hex")],
        [2, createHash("md5").update(messageBytes("binary", 70000)).digest("hex")],
      ]);
      assert.deepEqual(r.client.pongs.map((p) => p.toString()), ["ping"]);
      assertClosedByPeer(r, 1000, "bye");
    });
  }

});

describe("the Autobahn echo client (tools/autobahn.ts) against the fuzzing-server stand-in", () => {
  let fuzzing: FuzzingServer;
  before(async () => {
    fuzzing = await startFuzzingServer();
  });
  after(() => fuzzing.stop());

  function runTool(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ["dist/tools/autobahn.js", ...args], { stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
      child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
      const killer = setTimeout(() => child.kill("SIGKILL"), 30000);
      child.on("error", reject);
      child.on("close", (code) => {
        clearTimeout(killer);
        resolve({ code, stdout, stderr });
      });
    });
  }

  it("runs every case, echoes right, answers every violation with the right close code, and prints one line", async function () {
    this.timeout(40000);
    const r = await runTool([fuzzing.url, "websock-test"]);
    assert.equal(r.stderr, "");
    assert.equal(r.stdout, `ran ${fuzzing.cases.length} cases\n`);
    assert.equal(r.code, 0);
    const mine = fuzzing.results.filter((x) => x.agent === "websock-test");
    assert.equal(mine.length, fuzzing.cases.length);
    const failed = mine.filter((x) => x.outcome === "FAILED").map((x) => `${x.id}: ${x.problems.join("; ")}`);
    assert.deepEqual(failed, []);
    // NON-STRICT only where the case allows it: the violation came right behind the message.
    for (const x of mine.filter((y) => y.outcome === "NON-STRICT")) assert.ok(fuzzing.cases[x.n - 1].echoesMayBeCut, `${x.id} is NON-STRICT`);
    assert.deepEqual(fuzzing.reports, ["websock-test"]);
  });

  it("is judged FAILED by the stand-in when the echo is wrong (the stand-in checks)", async () => {
    // A client (ws) that echoes text as binary: the verdicts must catch it.
    for (const n of [fuzzing.cases.findIndex((c) => c.id === "1.1.2") + 1, fuzzing.cases.findIndex((c) => c.id === "5.3") + 1]) {
      const ws = new WebSocket(`${fuzzing.url}/runCase?case=${n}&agent=broken`);
      ws.on("message", (data) => ws.send(data as Buffer, { binary: true }));
      await new Promise((resolve) => ws.on("close", resolve));
    }
    const broken = fuzzing.results.filter((x) => x.agent === "broken");
    assert.equal(broken.length, 2);
    assert.ok(broken.every((x) => x.outcome === "FAILED"), JSON.stringify(broken));
  });

  it("exits 1 with one line on stderr when the fuzzing server cannot be reached", async () => {
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const r = await runTool([`ws://127.0.0.1:${port}`]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /^autobahn: cannot reach the fuzzing server at .*ECONNREFUSED.*\n$/);
  });
});
