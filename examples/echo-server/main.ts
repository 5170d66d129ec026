// A WebSocket echo server on Moddable: an ECMA-419 Listener accepts TCP
// connections and websock_attach_server puts the server side of RFC 6455 on
// each (the upgrade request checked, 101 or 400 / 426, masked frames
// expected). Every message comes back piece by piece through fixed buffers.
//
//   mcconfig -d -m -p lin -t build port=8080        (then connect any client)
//   mcconfig -d -m -p esp32 ssid=... password=... port=80
//
// Config: port (the port to listen on), rx and tx (buffer sizes, bytes).

import config from "mc/config";
import Listener from "embedded:io/socket/listener";
import {
  WEBSOCK_OP,
  WS_BINARY,
  websock_attach_server,
  websock_close,
  websock_get_info,
  websock_last_error,
  websock_msg_hdr_init,
  websock_recv,
  websock_send_frame,
  type websock_handle_t,
} from "websock";

const PORT = Number(config.port ?? 8080);
const RX = Number(config.rx ?? 1024);
const TX = Number(config.tx ?? 1024);

/** Echoes one connection until it closes: each piece goes back out as it arrives. */
async function echo(h: websock_handle_t): Promise<void> {
  const hdr = websock_msg_hdr_init();
  const buf = new Uint8Array(RX);
  let messages = 0;
  for (;;) {
    const n = await websock_recv(h, hdr, buf, RX, -1);
    if (n < 0) break;
    if (hdr.opcode === WEBSOCK_OP.PING) continue;
    const first = hdr.offset === 0 && hdr.opcode !== WEBSOCK_OP.CONTINUATION;
    const last = hdr.fin && hdr.bytesleft === 0;
    if ((await websock_send_frame(h, first ? hdr.opcode : WEBSOCK_OP.CONTINUATION, buf, n, last)) < 0) break;
    if (last) messages++;
  }
  const e = websock_last_error(h);
  trace(`echo: ${messages} messages, then ${e.name}${e.close_code !== undefined ? ` (close ${e.close_code}${e.close_reason ? ` "${e.close_reason}"` : ""})` : ""}\n`);
  await websock_close(h);
}

async function serve(socket: object): Promise<void> {
  const h = await websock_attach_server(socket, WS_BINARY, { rx_buffer_size: RX, tx_buffer_size: TX, subprotocols: ["echo"] });
  if (h === null) {
    trace(`refused: ${websock_last_error().message}\n`);
    return;
  }
  const info = websock_get_info(h)!;
  trace(`open: ${info.resource} from Host ${info.host}, subprotocol "${info.subprotocol}"\n`);
  await echo(h);
}

new Listener({
  port: PORT,
  onReadable(this: Listener, count: number) {
    for (let i = 0; i < count; i++) serve(this.read() as object);
  },
});
trace(`websock echo server listening on port ${PORT}\n`);
