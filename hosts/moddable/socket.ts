// An ECMA-419 TCP socket (embedded:io/socket/tcp) to a host name or an IPv4
// address: the name is resolved first with Net.resolve (lwIP's DNS on ESP32,
// the system resolver in the simulator), since the socket takes addresses only.
//
// What ECMA-419 TCP does, and what the transports above rely on:
//  - onWritable(n) first means "connected"; later, "n bytes may be written";
//  - onReadable(n): n bytes are waiting in total (not n more);
//  - write(bytes) throws when bytes > what may be written, else it returns
//    what may be written afterwards;
//  - onError means the connection is over, a clean FIN included, and comes
//    only after every received byte was read. Before the first onWritable it
//    is a failure to connect.

import TCP from "embedded:io/socket/tcp";
import Net from "net";
import Timer from "timer";

/**
 * The socket as this host uses it. The typings (npm and SDK alike) declare
 * write() as returning void; Moddable's lwIP and Linux sockets return what
 * may be written afterwards, which is what the transports need.
 */
export interface Socket419 {
  read(buffer: Uint8Array): unknown;
  write(bytes: Uint8Array | ArrayBuffer): number;
  close(): void;
}

export interface SocketEvents {
  onWritable(count: number): void;
  onReadable(count: number): void;
  onError(): void;
  /** The name could not be resolved, or the socket could not be created. */
  onFailure(kind: "dns" | "connect", message: string): void;
}

const IPV4 = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

/** Runs `fn` on a later turn (never inside the caller's call). */
export function later(fn: () => void): void {
  Timer.set(fn, 0);
}

/** A socket of ours: cancel() closes it; detach() stops using it without closing it and gives it back. */
export interface OpenSocket {
  socket(): Socket419 | null;
  cancel(): void;
  detach(): Socket419 | null;
}

/**
 * Resolves `hostname` and connects, or (with `from`) takes over a socket the
 * application already has: ECMA-419's `from` moves an accepted or connected
 * socket, with what it has buffered, into a new instance with our callbacks.
 * `events` are called on later turns only.
 */
export function openSocket(hostname: string, port: number, events: SocketEvents, from?: object): OpenSocket {
  let socket: Socket419 | null = null;
  let cancelled = false;

  function connectTo(address: string): void {
    if (cancelled) return;
    try {
      socket = new TCP({
        ...(from !== undefined ? { from: from as TCP } : { address, port }),
        nodelay: true,
        onWritable: (count: number) => {
          if (!cancelled) events.onWritable(count);
        },
        onReadable: (count: number) => {
          if (!cancelled) events.onReadable(count);
        },
        onError: () => {
          if (!cancelled) events.onError();
        },
      }) as unknown as Socket419;
    } catch (e) {
      const message = from !== undefined ? `the stream could not be taken over: ${String(e)}` : `${hostname}:${port}: the socket could not be created: ${String(e)}`;
      later(() => {
        if (!cancelled) events.onFailure("connect", message);
      });
    }
  }

  if (from !== undefined) {
    later(() => connectTo(""));
  } else if (hostname.includes(":")) {
    // Moddable's ECMA-419 TCP speaks IPv4 only (sockaddr_in on Linux, an IPv4 address string on lwIP).
    later(() => {
      if (!cancelled) events.onFailure("connect", `${hostname}: IPv6 addresses are not supported by Moddable's TCP socket`);
    });
  } else if (IPV4.test(hostname)) {
    later(() => connectTo(hostname));
  } else {
    try {
      Net.resolve(hostname, (_name: string, address?: string) => {
        if (cancelled) return;
        if (typeof address !== "string" || !IPV4.test(address)) events.onFailure("dns", `${hostname} could not be resolved`);
        else connectTo(address);
      });
    } catch (e) {
      // lwIP's DNS queue is small: when full, resolve throws.
      const message = `${hostname} could not be resolved: ${String(e)}`;
      later(() => {
        if (!cancelled) events.onFailure("dns", message);
      });
    }
  }

  return {
    socket: () => socket,
    detach(): Socket419 | null {
      cancelled = true;
      const s = socket;
      socket = null;
      return s;
    },
    cancel(): void {
      if (cancelled) return;
      cancelled = true;
      const s = socket;
      socket = null;
      try {
        s?.close();
      } catch {
        // closing a socket that already failed: nothing left to release
      }
    },
  };
}
