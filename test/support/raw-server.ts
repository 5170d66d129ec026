// A raw TCP peer on 127.0.0.1 for what no polite server sends: a wrong
// Accept, silence, frames in the 101's own segment, crafted frames. Each
// connection gets the client's request (parsed) and the socket.

import { createHash } from "node:crypto";
import net from "node:net";
import type { AddressInfo } from "node:net";
import { decodeClientFrames } from "../vectors/runner.js";

export interface RawRequest {
  text: string;
  key: string;
  /** The Accept a correct server would send. */
  accept: string;
  headers: Map<string, string>;
}

export interface RawPeer {
  socket: net.Socket;
  request: RawRequest;
  /** Everything the client sent after its request. */
  received(): Buffer;
  /** The client's frames so far, unmasked. */
  frames(): Array<{ fin: boolean; opcode: number; payload: Uint8Array; masked: boolean }>;
  /** Resolves when the client ends or resets the TCP connection. */
  ended: Promise<void>;
}

export interface RawServer {
  port: number;
  peers: RawPeer[];
  stop(): Promise<void>;
}

export function acceptFor(key: string): string {
  return createHash("sha1").update(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest("base64");
}

export function switchingProtocols(accept: string, extra = ""): string {
  return `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n${extra}\r\n`;
}

/** An unmasked server frame. */
export function serverFrame(opcode: number, payload: Uint8Array | string, fin = true): Buffer {
  const body = typeof payload === "string" ? Buffer.from(payload) : Buffer.from(payload);
  const n = body.length;
  const head = n < 126 ? Buffer.from([(fin ? 0x80 : 0) | opcode, n])
    : n < 0x10000 ? Buffer.from([(fin ? 0x80 : 0) | opcode, 126, n >> 8, n & 255])
    : Buffer.from([(fin ? 0x80 : 0) | opcode, 127, 0, 0, 0, 0, n >>> 24, (n >> 16) & 255, (n >> 8) & 255, n & 255]);
  return Buffer.concat([head, body]);
}

/**
 * Listens on 127.0.0.1; `onRequest` runs once the client's whole request has
 * arrived (or never, for a server that does not read: pass `silent`).
 */
export async function startRawServer(onRequest: (peer: RawPeer) => void, options: { silent?: boolean; port?: number } = {}): Promise<RawServer> {
  const peers: RawPeer[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    let endedResolve!: () => void;
    const ended = new Promise<void>((r) => (endedResolve = r));
    socket.on("close", () => {
      sockets.delete(socket);
      endedResolve();
    });
    if (options.silent) return;
    let buffered = Buffer.alloc(0);
    let after = Buffer.alloc(0);
    let peer: RawPeer | null = null;
    socket.on("data", (chunk: Buffer) => {
      if (peer !== null) {
        after = Buffer.concat([after, chunk]);
        return;
      }
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf("\r\n\r\n");
      if (end < 0) return;
      const text = buffered.subarray(0, end + 4).toString("latin1");
      after = buffered.subarray(end + 4);
      const headers = new Map<string, string>();
      for (const line of text.split("\r\n").slice(1)) {
        const colon = line.indexOf(":");
        if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
      }
      const key = headers.get("sec-websocket-key") ?? "";
      peer = {
        socket,
        request: { text, key, accept: acceptFor(key), headers },
        received: () => after,
        frames: () => decodeClientFrames(new Uint8Array(after)).frames,
        ended,
      };
      peers.push(peer);
      onRequest(peer);
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    peers,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
