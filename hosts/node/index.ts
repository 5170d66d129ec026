// websock on Node: the websock_* API (src/websock.ts) bound to the Node host.

import { useHost } from "../../src/registry.js";
import { nodeHost } from "./node-host.js";

useHost(nodeHost);

export * from "../../src/websock.js";
export type {
  websock_attach_config_t,
  websock_callback_t,
  websock_config_t,
  websock_error_t,
  websock_handle_t,
  websock_info_t,
  websock_msg_hdr_t,
  websock_reconnect_config_t,
  websock_ssl_config_t,
} from "../../src/types.js";
