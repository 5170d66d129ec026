// `node dist/tools/deflate-echo-server.js [port] [window bits]`: an echo server
// that compresses, for examples/memory's permessage-deflate figures (websock's
// own echo server never compresses). It is `ws` with permessage-deflate, every
// message compressed (threshold 0), context takeover kept (ws's default), on
// 127.0.0.1.
//
// Without [window bits] it takes the client's server_max_window_bits (ws
// answers with the value offered); with it, ws's serverMaxWindowBits is set:
// ws then declines an offer asking for less (the connection opens uncompressed),
// so give it only to force a window at most the client's.
//
// Each connection is logged with the Sec-WebSocket-Extensions it answered, and
// at its end with the messages echoed and the bytes the server wrote (so the
// log shows the echoes did go compressed).

import { WebSocketServer } from "ws";
import type { AddressInfo } from "node:net";

const port = Number(process.argv[2] ?? 8080);
const bits = process.argv[3] === undefined ? undefined : Number(process.argv[3]);
if (bits !== undefined && !(bits >= 9 && bits <= 15)) throw new Error(`window bits ${process.argv[3]}: 9 to 15`);

const server = new WebSocketServer({
  host: "127.0.0.1",
  port,
  perMessageDeflate: { threshold: 0, ...(bits === undefined ? {} : { serverMaxWindowBits: bits }) },
});

let count = 0;
const answered = new WeakMap<object, string>();
server.on("headers", (headers, request) => {
  const line = headers.find((h) => /^sec-websocket-extensions:/i.test(h));
  answered.set(request, line === undefined ? "no extension" : line.slice(line.indexOf(":") + 1).trim());
});
server.on("connection", (ws, request) => {
  const id = ++count;
  let messages = 0;
  let bytesIn = 0;
  console.log(`connection ${id}: ${answered.get(request) ?? "?"}`);
  ws.on("message", (data, isBinary) => {
    messages++;
    bytesIn += (data as Buffer).length;
    ws.send(data, { binary: isBinary });
  });
  ws.on("close", () => {
    console.log(`connection ${id} closed: ${messages} messages echoed (${bytesIn} B inflated), ${request.socket.bytesWritten} B written on the socket`);
  });
});
server.on("listening", () => {
  const at = (server.address() as AddressInfo).port;
  console.log(`deflate echo server on ws://127.0.0.1:${at}/ (${bits === undefined ? "the client's window" : `window bits ${bits}`}; Ctrl-C stops it)`);
});
