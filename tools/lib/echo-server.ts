// An echo server on websock's own server side (websock_attach_server): every
// text and binary message comes back as it came, streamed piece by piece
// through fixed buffers. The demo and the tests use it; tools/echo-server.ts
// runs it alone.

import net from "node:net";
import type { AddressInfo } from "node:net";
import {
  WEBSOCK_OP,
  WS_BINARY,
  websock_attach_server,
  websock_close,
  websock_msg_hdr_init,
  websock_recv,
  websock_send_frame,
  websock_get_info,
  type websock_attach_config_t,
  type websock_handle_t,
} from "websock-rfc6455";

export interface EchoServer {
  port: number;
  /** What each client asked for: resource, Host and offered subprotocols. */
  sessions: Array<{ resource: string; host: string; subprotocols: string[] }>;
  stop(): Promise<void>;
}

/** Echoes one connection until it closes: each piece goes back out as it arrives. */
async function echo(h: websock_handle_t, bufferSize: number): Promise<void> {
  const hdr = websock_msg_hdr_init();
  const buf = new Uint8Array(bufferSize);
  for (;;) {
    const n = await websock_recv(h, hdr, buf, bufferSize, -1);
    if (n < 0) break;
    if (hdr.opcode === WEBSOCK_OP.PING) continue;
    // A frame's pieces go back as the fragments of one message: the first with the frame's opcode.
    const first = hdr.offset === 0 && hdr.opcode !== WEBSOCK_OP.CONTINUATION;
    const opcode = first ? hdr.opcode : WEBSOCK_OP.CONTINUATION;
    const last = hdr.fin && hdr.bytesleft === 0;
    if ((await websock_send_frame(h, opcode, buf, n, last)) < 0) break;
  }
  await websock_close(h);
}

export async function startEchoServer(port = 0, cfg: websock_attach_config_t = {}): Promise<EchoServer> {
  const sockets = new Set<net.Socket>();
  const sessions: EchoServer["sessions"] = [];
  const server = net.createServer(async (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    const h = await websock_attach_server(socket, WS_BINARY, { rx_buffer_size: 1024, tx_buffer_size: 1024, ...cfg });
    if (h === null) return; // refused with 400 / 426: the stream is closed already
    const info = websock_get_info(h)!;
    sessions.push({ resource: info.resource ?? "", host: info.host ?? "", subprotocols: info.offered_subprotocols ?? [] });
    await echo(h, cfg.rx_buffer_size ?? 1024);
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    sessions,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
