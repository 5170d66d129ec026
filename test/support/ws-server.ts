// A real `ws` server on 127.0.0.1 with the routes the integration tests use.
// Each route is a behaviour no mock would have to get right.

import http from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer, type WebSocket } from "ws";

export interface WsTestServer {
  port: number;
  url(path: string): string;
  /** Close codes the server received from clients, by route, in arrival order. */
  closes: Array<{ path: string; code: number; reason: string }>;
  /** Pong payloads the server received (hex). */
  pongs: string[];
  /** Request headers of each upgrade, in arrival order. */
  requests: Array<{ path: string; headers: http.IncomingHttpHeaders }>;
  /** Drops every client's TCP connection (no close frame: 1006), and goes on listening. */
  dropClients(): void;
  stop(): Promise<void>;
}

/**
 * Routes:
 *  /echo          echoes every message with its type
 *  /fragments     on any message, sends "frag-" + "mented" as 2 text fragments and 3 binary fragments
 *  /ping          on any message, pings with that message's bytes as payload
 *  /close4001     closes with 4001 "going away now" right after the handshake
 *  /silent        accepts and never sends anything
 *  /subprotocol   accepts the first offered subprotocol
 *  /404 and /200  answer the upgrade with that status instead of 101
 * On `port` (0: any; a given one lets a test restart a server where it was).
 */
export async function startWsServer(server?: http.Server | import("node:https").Server, port = 0): Promise<WsTestServer> {
  const httpServer = server ?? http.createServer();
  const wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (protocols) => {
      const first = protocols.values().next();
      return first.done ? false : first.value;
    },
  });
  const closes: WsTestServer["closes"] = [];
  const pongs: string[] = [];
  const requests: WsTestServer["requests"] = [];
  const sockets = new Set<import("node:stream").Duplex>();

  httpServer.on("upgrade", (req, socket, head) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    const path = (req.url ?? "/").split("?")[0];
    requests.push({ path, headers: req.headers });
    if (path === "/404" || path === "/200") {
      const status = path === "/404" ? "404 Not Found" : "200 OK";
      socket.end(`HTTP/1.1 ${status}\r\nContent-Length: 2\r\nConnection: close\r\n\r\nno`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => route(path, ws));
  });

  function route(path: string, ws: WebSocket): void {
    ws.on("close", (code, reason) => closes.push({ path, code, reason: reason.toString() }));
    ws.on("pong", (data) => pongs.push(data.toString("hex")));
    ws.on("error", () => {});
    switch (path) {
      case "/echo":
        ws.on("message", (data, isBinary) => ws.send(data as Buffer, { binary: isBinary }));
        break;
      case "/fragments":
        ws.on("message", () => {
          ws.send("frag-", { fin: false });
          ws.send("mented", { fin: true });
          ws.send(Buffer.from([1, 2]), { binary: true, fin: false });
          ws.send(Buffer.from([3]), { binary: true, fin: false });
          ws.send(Buffer.from([4, 5, 6]), { binary: true, fin: true });
        });
        break;
      case "/ping":
        ws.on("message", (data) => ws.ping(data as Buffer));
        break;
      case "/close4001":
        ws.close(4001, "going away now");
        break;
      case "/subprotocol":
        ws.on("message", () => ws.send(ws.protocol));
        break;
      default:
        break;
    }
  }

  await new Promise<void>((resolve) => httpServer.listen(port, "127.0.0.1", resolve));
  const listening = (httpServer.address() as AddressInfo).port;
  const scheme = "key" in (httpServer as object) || httpServer instanceof (await import("node:https")).Server ? "wss" : "ws";
  return {
    port: listening,
    url: (path) => `${scheme}://127.0.0.1:${listening}${path}`,
    closes,
    pongs,
    requests,
    dropClients: () => {
      for (const ws of wss.clients) ws.terminate();
    },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const ws of wss.clients) ws.terminate();
        for (const s of sockets) s.destroy();
        wss.close();
        httpServer.close(() => resolve());
      }),
  };
}

/** Resolves once `check` is true, polling; rejects after `ms`. For state a peer reaches asynchronously. */
export async function eventually(check: () => boolean, ms = 3000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error("condition not reached in time");
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A bare `ws` server on 127.0.0.1 whose every connection goes to `onConnection` (with its socket). */
export async function startWsPeer(onConnection: (ws: WebSocket, socket: import("node:net").Socket) => void): Promise<{ port: number; stop(): Promise<void> }> {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, maxPayload: 64 * 1024 * 1024 });
  await new Promise<void>((r) => wss.once("listening", () => r()));
  wss.on("connection", (ws, req) => {
    ws.on("error", () => {});
    onConnection(ws, req.socket as import("node:net").Socket);
  });
  return {
    port: (wss.address() as AddressInfo).port,
    stop: () =>
      new Promise<void>((r) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => r());
      }),
  };
}
