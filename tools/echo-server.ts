// `node dist/tools/echo-server.js [port]`: websock's own echo server on 127.0.0.1.

import { startEchoServer } from "./lib/echo-server.js";

const server = await startEchoServer(Number(process.argv[2] ?? 8080));
console.log(`websock echo server on ws://127.0.0.1:${server.port}/ (Ctrl-C stops it)`);
