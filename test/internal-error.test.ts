// A bug inside websock (here: the platform's random source throwing while a
// frame is being built) must not escape to the application or leave the
// handle half done: the connection fails with 1011 and WEBSOCK_ERR_INTERNAL,
// the pending send settles with it, and the peer gets the close frame.

import { strict as assert } from "node:assert";
import type net from "node:net";
import { WebSocketServer } from "ws";
import { WEBSOCK_ERR, createWebsock, websock_close, websock_last_error, websock_open, websock_send_text } from "websock-rfc6455";
import { nodeHost } from "../hosts/node/node-host.js";
import { eventually } from "./support/ws-server.js";

describe("an exception inside the core", () => {
  it("fails the connection with 1011 and WEBSOCK_ERR_INTERNAL, and the send that hit it settles with that code", async () => {
    let throwOnce = false;
    const faulty = {
      ...nodeHost,
      randomFill(out: Uint8Array): void {
        if (throwOnce) {
          throwOnce = false;
          throw new Error("injected fault");
        }
        nodeHost.randomFill(out);
      },
    };
    const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    await new Promise<void>((r) => wss.once("listening", () => r()));
    let closeCode = 0;
    wss.on("connection", (ws) => ws.on("close", (code) => (closeCode = code)));
    createWebsock(faulty);
    try {
      const h = await websock_open({ hostname: "127.0.0.1", port: (wss.address() as net.AddressInfo).port });
      assert.ok(h, websock_last_error().message);
      throwOnce = true; // the next mask key
      assert.equal(await websock_send_text(h, "x"), WEBSOCK_ERR.INTERNAL);
      assert.equal(websock_last_error(h).name, "WEBSOCK_ERR_INTERNAL");
      assert.match(websock_last_error(h).message, /injected fault/);
      await eventually(() => closeCode !== 0);
      assert.equal(closeCode, 1011);
      await websock_close(h);
    } finally {
      createWebsock(nodeHost);
      await new Promise<void>((r) => wss.close(() => r()));
    }
  });
});
