// websock on Node: the websock_* API bound to the Node host.

import { createWebsock } from "../../src/websock.js";
import { nodeHost } from "./node-host.js";

export const {
  websock_open,
  websock_send_text,
  websock_send_binary,
  websock_send_frame,
  websock_ping,
  websock_recv,
  websock_close,
  websock_close_with_code,
  websock_last_error,
  websock_get_info,
  websock_attach_client,
  websock_attach_server,
  websock_detach,
  websock_send,
  websock_send_raw,
  websock_set_callback,
} = createWebsock(nodeHost);

export {
  WEBSOCK_ERR,
  WEBSOCK_OK,
  WEBSOCK_OP,
  WEBSOCK_WAIT_FOREVER,
  WS_BINARY,
  WS_NOHTTP,
  WS_TEXT,
  websock_msg_hdr_init,
} from "../../src/websock.js";
export { websock_parse_url } from "../../src/url.js";
export type {
  websock_attach_config_t,
  websock_callback_t,
  websock_config_t,
  websock_error_t,
  websock_handle_t,
  websock_info_t,
  websock_msg_hdr_t,
  websock_ssl_config_t,
} from "../../src/types.js";
