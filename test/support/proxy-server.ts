// A real HTTP proxy on 127.0.0.1: TooTallNate's `proxy` (npm), which answers
// CONNECT by opening a TCP connection to the target and splicing the two.
// Optionally with Basic proxy authentication.

import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { createProxy } from "proxy";

export interface TestProxy {
  port: number;
  /** "http://127.0.0.1:port", with user:password@ when given. */
  url(credentials?: string): string;
  /** The target of each CONNECT request, in arrival order. */
  connects: string[];
  /** The Proxy-Authorization header of each CONNECT ("" when none). */
  authorizations: string[];
  /** From now on, answer 407 to a CONNECT without these credentials ("user:password"; undefined: none wanted). */
  requireCredentials(credentials: string | undefined): void;
  stop(): Promise<void>;
}

/**
 * Starts the proxy (on `port`, 0: any); with `credentials` ("user:password")
 * it answers 407 to any CONNECT without them.
 */
export async function startProxy(credentials?: string, port = 0): Promise<TestProxy> {
  const server = createProxy(http.createServer());
  const connects: string[] = [];
  const authorizations: string[] = [];
  const sockets = new Set<Socket>();
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  // Listeners run in the order added: this one sees each CONNECT before the proxy handles it.
  server.prependListener("connect", (req: http.IncomingMessage) => {
    connects.push(req.url ?? "");
    authorizations.push(req.headers["proxy-authorization"] ?? "");
  });
  let expected: string | null = null;
  const requireCredentials = (c: string | undefined): void => {
    expected = c === undefined ? null : "Basic " + Buffer.from(c, "utf8").toString("base64");
  };
  requireCredentials(credentials);
  server.authenticate = (req) => expected === null || req.headers["proxy-authorization"] === expected;
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  const listening = (server.address() as AddressInfo).port;
  return {
    port: listening,
    url: (c?: string) => `http://${c !== undefined ? c + "@" : ""}127.0.0.1:${listening}`,
    connects,
    authorizations,
    requireCredentials,
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
