// websock on Moddable: the websock_* API (src/websock.ts) bound to the
// Moddable host. This is the module "websock" (hosts/moddable/manifest.json):
// `import { websock_open } from "websock"`.
//
// Binding the host is the only thing done as this module loads: preloaded,
// that binding sits in flash with the modules' code and frozen tables. The
// state a connection needs is created when it opens.

import { useHost } from "websock/src/registry";
import { moddableHost } from "websock/hosts/moddable/moddable-host";

useHost(moddableHost);

export * from "websock/src/websock";
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
} from "websock/src/types";
