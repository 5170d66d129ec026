// -l/--listen [HOST:]PORT: websock as the server (websock_attach_server, the
// project's own server side), as websocat's -s: each line of stdin goes to
// every client connected at that moment, each client's messages go to stdout.
// It serves until Ctrl-C (then closes every client with 1001 "going away",
// RFC 6455 §7.4.1), or until -n N messages arrived from clients in all.
// HOST defaults to 127.0.0.1: serving beyond this machine is a choice to type.

import net from "node:net";
import type { AddressInfo } from "node:net";
import type { Readable } from "node:stream";
import { WEBSOCK_OP, WS_TEXT, websock_attach_server, websock_close_with_code, websock_get_info, websock_send_binary, websock_send_text, type websock_handle_t } from "websock-rfc6455";
import type { CliOptions } from "./args.js";
import { BUFFER_SIZE } from "./config.js";
import { EXIT, type Outcome } from "./exit-codes.js";
import { lines, whole } from "./input.js";
import { frameLine, type Output } from "./output.js";
import { receiveMessages } from "./receive.js";

export interface ListenIo {
  stdin: Readable;
  output: Output;
  interrupted: Promise<void>;
}

/** "8080", "0.0.0.0:8080", "[::1]:8080" to a host and a port; a string when it is none of them. */
function listenAddress(text: string): { host: string; port: number } | string {
  const m = /^(?:(\[[0-9A-Fa-f:.]+\]|[^:[\]]+):)?(\d{1,5})$/.exec(text);
  if (m === null) return `-l/--listen takes [HOST:]PORT, not ${JSON.stringify(text)}`;
  const port = Number(m[2]);
  if (port > 65535) return `-l/--listen: port ${port} is out of range (0 to 65535)`;
  const host = m[1] === undefined ? "127.0.0.1" : m[1].replace(/^\[|\]$/g, "");
  return { host, port };
}

export async function runListener(o: CliOptions, io: ListenIo): Promise<Outcome> {
  const { output } = io;
  const address = listenAddress(o.listen!);
  if (typeof address === "string") return { code: EXIT.USAGE, message: address };

  const clients = new Set<websock_handle_t>();
  const sockets = new Set<net.Socket>();
  let clientCount = 0;
  let received = 0;
  let end!: (outcome: Outcome) => void;
  const ended = new Promise<Outcome>((resolve) => {
    end = resolve;
  });

  const server = net.createServer(async (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    const id = ++clientCount;
    const from = `${socket.remoteAddress}:${socket.remotePort}`;
    const h = await websock_attach_server(socket, WS_TEXT, {
      rx_buffer_size: BUFFER_SIZE,
      tx_buffer_size: BUFFER_SIZE,
      subprotocols: o.subprotocols,
      auto_pong: false,
    });
    if (h === null) {
      if (o.verbose) output.log(`* client ${id} from ${from}: not a WebSocket upgrade, refused`);
      return;
    }
    clients.add(h);
    if (o.verbose) output.log(`* client ${id} connected from ${from}: ${websock_get_info(h)?.resource ?? "/"}`);
    const r = await receiveMessages(
      h,
      {
        raw: o.raw,
        verbose: o.verbose,
        showPingPong: o.showPingPong,
        count: undefined,
        marker: "",
        asked: {},
        onMessage: () => {
          received++;
          if (o.count !== undefined && received >= o.count) end({ code: EXIT.OK });
        },
        onDone: () => {},
      },
      output,
    );
    clients.delete(h);
    if (o.verbose) output.log(`* client ${id} gone${r.message !== undefined ? `: ${r.message}` : ""}`);
    await websock_close_with_code(h, 1000);
  });

  const listening = await new Promise<AddressInfo | Error>((resolve) => {
    server.once("error", resolve);
    server.listen(address.port, address.host, () => resolve(server.address() as AddressInfo));
  });
  if (listening instanceof Error) return { code: EXIT.CONNECT, message: `cannot listen on ${o.listen}: ${listening.message}` };
  const shown = listening.family === "IPv6" ? `[${listening.address}]` : listening.address;
  output.log(`* listening on ws://${shown}:${listening.port}/ (Ctrl-C stops)`);

  void io.interrupted.then(() => end({ code: EXIT.INTERRUPTED, message: "interrupted" }));
  if (o.count === 0) end({ code: EXIT.OK });

  // stdin to every client connected now; its end changes nothing else.
  void (async () => {
    for await (const message of o.split ? lines(io.stdin) : whole(io.stdin)) {
      if (clients.size === 0 && o.verbose) output.log("* no client connected: line dropped");
      for (const h of clients) {
        const r = o.binary ? await websock_send_binary(h, message) : await websock_send_text(h, message);
        if (r === 0 && o.verbose) output.log(frameLine(">", o.binary ? WEBSOCK_OP.BINARY : WEBSOCK_OP.TEXT, message.length, true));
      }
    }
  })().catch(() => {});

  const outcome = await ended;
  server.close();
  // §7.4.1: 1001, the server is going away.
  await Promise.all([...clients].map((h) => websock_close_with_code(h, 1001, "")));
  for (const s of sockets) s.destroy();
  return outcome;
}
