// The Node half of the ECMA-419 TCP emulation (hosts/xs-test/ecma419-tcp.ts):
// a Relay that also answers the socket system calls of the Moddable
// simulator's lin/tcp.c and the resolver of lin/modResolve.c, playing the
// Linux kernel for each socket with a real net.Socket to 127.0.0.1:
//  - the receive queue: what the peer sent and the script's poll has not
//    read yet, then the FIN (read returns 0) or the pending error (read
//    returns -1 once, with ECONNRESET / ECONNREFUSED), in that order, as
//    Linux's tcp_recvmsg delivers queued data before the error;
//  - half-open after the peer's FIN (allowHalfOpen: the socket keeps
//    writing until the script closes it, as a plain socket does);
//  - write(2) after a reset: the pending error once (ECONNRESET), then EPIPE,
//    which raises SIGPIPE (recorded: in the simulator it ends the process);
//  - close(2): FIN after what was written, or RST when received bytes are
//    still unread (Linux's tcp_close);
//  - select(): writable once connected (or once the connect failed), while
//    Node holds less than SEND_BUFFER unsent; readable when the queue has
//    bytes, a FIN or an error.
// Where this differs from Linux: write(2) always takes everything (Node
// buffers it; a non-blocking write(2) in the simulator may take less, and
// lin/tcp.c would lose the rest, which needs a peer that stops reading);
// the receive and send buffers are fixed at 128 KiB; a reset noticed while
// Node had stopped reading (a full receive buffer) drops what the kernel
// still held, where Linux would deliver it before the error.
// It decides nothing about WebSocket.

import dns from "node:dns";
import net from "node:net";
import { asciiBytes, asciiText, message, readU32 } from "../../hosts/xs-test/protocol.js";
import {
  EV_RESOLVED,
  OP_RESOLVE,
  OP_TCP_CLOSE,
  OP_TCP_CONNECT,
  OP_TCP_POLL,
  OP_TCP_WRITE,
  POLL_READABLE,
  POLL_WRITABLE,
  READ_DATA,
  READ_EOF,
  READ_ERROR,
  WRITE_FAILED,
  WRITE_OK,
  WRITE_SIGPIPE,
} from "../../hosts/xs-test/ecma419-protocol.js";
import { Relay } from "./relay.js";

const EMPTY = new Uint8Array(0);
/** Past this many unread bytes the kernel's receive window is full: the socket stops reading (TCP holds the peer back). */
const RECEIVE_BUFFER = 128 * 1024;
/** Past this many unsent bytes select() no longer reports the socket writable. */
const SEND_BUFFER = 128 * 1024;

/** What one emulated socket went through, for the tests' checks. */
export interface KernelSocketLog {
  id: number;
  /** Bytes the script read, and wrote; the read(2) calls that returned data, and the largest. */
  bytesRead: number;
  reads: number;
  largestRead: number;
  bytesWritten: number;
  /** How the script's close(2) ended it: "fin", "rst", or "" while open. */
  closedWith: "" | "fin" | "rst";
  /** What read(2) and write(2) reported, in order ("EOF", "ECONNRESET", "SIGPIPE EPIPE"...). */
  events: string[];
}

class KernelSocket {
  readonly log: KernelSocketLog;
  readonly socket: net.Socket;
  private connected = false;
  private connectFailed = false;
  private readonly queue: Buffer[] = [];
  private queued = 0;
  private fin = false;
  /** sk_err: reported once, by the next read(2) or write(2). */
  private pendingError: string | null = null;
  /** The connection was reset (or its connect failed): writes fail with EPIPE once the error was reported. */
  private reset = false;
  private closed = false;

  constructor(id: number, port: number, address: string, nodelay: boolean) {
    this.log = { id, bytesRead: 0, reads: 0, largestRead: 0, bytesWritten: 0, closedWith: "", events: [] };
    const socket = net.connect({ host: address, port, allowHalfOpen: true });
    this.socket = socket;
    socket.setNoDelay(nodelay);
    socket.once("connect", () => {
      this.connected = true;
    });
    socket.on("data", (chunk: Buffer) => {
      if (this.closed) {
        // Bytes for a socket the script closed: the kernel answers them with RST.
        socket.resetAndDestroy();
        return;
      }
      this.queue.push(chunk);
      this.queued += chunk.length;
      if (this.queued > RECEIVE_BUFFER) socket.pause();
    });
    socket.on("end", () => {
      this.fin = true;
    });
    socket.on("error", (err: NodeJS.ErrnoException) => {
      if (this.closed) return;
      if (this.pendingError === null) this.pendingError = err.code ?? "EIO";
      if (!this.connected) this.connectFailed = true;
      this.reset = true;
    });
  }

  /** select() with a zero timeout, then read(2) of at most maxRead bytes when readable. */
  poll(wantWrite: boolean, maxRead: number): Uint8Array {
    const writable = wantWrite && (this.connectFailed || this.reset || (this.connected && this.socket.writableLength < SEND_BUFFER));
    const readable = maxRead > 0 && (this.queued > 0 || this.fin || this.pendingError !== null || this.reset);
    const flags = (writable ? POLL_WRITABLE : 0) | (readable ? POLL_READABLE : 0);
    if (!readable) return Uint8Array.of(flags);
    if (this.queued > 0) {
      const parts: Buffer[] = [];
      let n = 0;
      while (n < maxRead && this.queue.length > 0) {
        const head = this.queue[0];
        const take = Math.min(head.length, maxRead - n);
        parts.push(head.subarray(0, take));
        n += take;
        if (take === head.length) this.queue.shift();
        else this.queue[0] = head.subarray(take);
      }
      this.queued -= n;
      if (this.queued <= RECEIVE_BUFFER && this.socket.isPaused()) this.socket.resume();
      this.log.bytesRead += n;
      this.log.reads++;
      if (n > this.log.largestRead) this.log.largestRead = n;
      const out = new Uint8Array(2 + n);
      out[0] = flags;
      out[1] = READ_DATA;
      out.set(Buffer.concat(parts), 2);
      return out;
    }
    if (this.pendingError !== null) {
      const why = this.pendingError;
      this.pendingError = null;
      this.log.events.push(`read ${why}`);
      return concat(Uint8Array.of(flags, READ_ERROR), asciiBytes(why));
    }
    this.log.events.push("read EOF");
    return Uint8Array.of(flags, READ_EOF);
  }

  write(bytes: Uint8Array): Uint8Array {
    if (this.pendingError !== null) {
      const why = this.pendingError;
      this.pendingError = null;
      this.log.events.push(`write ${why}`);
      return concat(Uint8Array.of(WRITE_FAILED), asciiBytes(why));
    }
    if (this.reset || this.socket.destroyed) {
      this.log.events.push("write EPIPE (SIGPIPE)");
      return concat(Uint8Array.of(WRITE_SIGPIPE), asciiBytes("EPIPE: write(2) after the connection was reset raises SIGPIPE"));
    }
    this.log.bytesWritten += bytes.length;
    // Buffer.from copies: the request's bytes are not ours to keep.
    this.socket.write(Buffer.from(bytes));
    return Uint8Array.of(WRITE_OK);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.queued > 0) {
      this.log.closedWith = "rst";
      this.socket.resetAndDestroy();
      return;
    }
    this.log.closedWith = "fin";
    if (this.socket.destroyed) return;
    this.socket.end(() => this.socket.destroy());
  }

  destroy(): void {
    this.closed = true;
    this.socket.destroy();
  }
}

/** A Relay that also plays the kernel for the ECMA-419 TCP emulation and its resolver. */
export class ModdableRelay extends Relay {
  private readonly kernelSockets = new Map<number, KernelSocket>();
  /** Every emulated socket's log, in creation order (kept after close). */
  readonly socketLogs: KernelSocketLog[] = [];

  override answer(request: Uint8Array): Uint8Array {
    const id = readU32(request, 1);
    switch (request[0]) {
      case OP_TCP_CONNECT: {
        this.stats.requests++;
        const port = (request[5] << 8) | request[6];
        const socket = new KernelSocket(id, port, asciiText(request, 8), request[7] === 1);
        this.kernelSockets.set(id, socket);
        this.socketLogs.push(socket.log);
        return EMPTY;
      }
      case OP_TCP_POLL: {
        this.stats.requests++;
        const socket = this.kernelSockets.get(id);
        if (socket === undefined) return Uint8Array.of(0);
        const answer = socket.poll(request[5] === 1, readU32(request, 6));
        if (answer.length > 2 && answer[1] === READ_DATA) this.stats.bytesIn += answer.length - 2;
        return answer;
      }
      case OP_TCP_WRITE: {
        this.stats.requests++;
        const socket = this.kernelSockets.get(id);
        if (socket === undefined) return concat(Uint8Array.of(WRITE_FAILED), asciiBytes("EBADF"));
        const answer = socket.write(request.subarray(5));
        if (answer[0] === WRITE_OK) this.stats.bytesOut += request.length - 5;
        return answer;
      }
      case OP_TCP_CLOSE:
        this.stats.requests++;
        this.kernelSockets.get(id)?.close();
        this.kernelSockets.delete(id);
        return EMPTY;
      case OP_RESOLVE: {
        this.stats.requests++;
        const name = asciiText(request, 5);
        // GLib's resolver takes what getaddrinfo gives, in its order; lin/modResolve.c uses the first address only.
        dns.lookup(name, { all: true, verbatim: true }, (err, addresses) => {
          const first = err === null && addresses.length > 0 ? addresses[0] : null;
          const address = first !== null && first.family === 4 ? first.address : "";
          void this.deliver(message(EV_RESOLVED, id, asciiBytes(address)));
        });
        return EMPTY;
      }
      default:
        return super.answer(request);
    }
  }

  /** Every SIGPIPE the script's writes raised (each would have ended the simulator). */
  sigpipes(): string[] {
    return this.socketLogs.flatMap((log) => log.events.filter((e) => e.includes("SIGPIPE")).map((e) => `socket ${log.id}: ${e}`));
  }

  override shutdown(): void {
    for (const socket of this.kernelSockets.values()) socket.destroy();
    this.kernelSockets.clear();
    super.shutdown();
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
