// websock on Moddable: the websock_* API bound to the Moddable host. This is
// the module "websock" (hosts/moddable/manifest.json): `import { websock_open }
// from "websock"`.
//
// The API object is created on the first call, not while this module loads:
// if an app preloads this module, its state (the handle table, the last
// error) must not be frozen into flash at build time. The src/ modules it
// imports hold only constants and frozen tables, and are preloaded.

import { createWebsock, type WebsockApi } from "websock/src/websock";
import { moddableHost } from "websock/hosts/moddable/moddable-host";
import type {
  websock_attach_config_t,
  websock_callback_t,
  websock_config_t,
  websock_error_t,
  websock_handle_t,
  websock_info_t,
  websock_msg_hdr_t,
} from "websock/src/types";

let api: WebsockApi | null = null;

function websock(): WebsockApi {
  api ??= createWebsock(moddableHost);
  return api;
}

export function websock_open(cfg: websock_config_t): Promise<websock_handle_t | null> {
  return websock().websock_open(cfg);
}
export function websock_send_text(h: websock_handle_t, payload: string | Uint8Array, len?: number): Promise<number> {
  return websock().websock_send_text(h, payload, len);
}
export function websock_send_binary(h: websock_handle_t, payload: Uint8Array, len?: number): Promise<number> {
  return websock().websock_send_binary(h, payload, len);
}
export function websock_send_frame(h: websock_handle_t, opcode: number, payload: string | Uint8Array, len: number | undefined, fin: boolean): Promise<number> {
  return websock().websock_send_frame(h, opcode, payload, len, fin);
}
export function websock_ping(h: websock_handle_t, payload?: string | Uint8Array): Promise<number> {
  return websock().websock_ping(h, payload);
}
export function websock_recv(h: websock_handle_t, hdr: websock_msg_hdr_t, buf: Uint8Array, len: number, timeout: number): Promise<number> {
  return websock().websock_recv(h, hdr, buf, len, timeout);
}
export function websock_close(h: websock_handle_t): Promise<void> {
  return websock().websock_close(h);
}
export function websock_close_with_code(h: websock_handle_t, code: number, reason?: string): Promise<number> {
  return websock().websock_close_with_code(h, code, reason);
}
export function websock_last_error(h?: websock_handle_t | null): websock_error_t {
  return websock().websock_last_error(h);
}
export function websock_get_info(h: websock_handle_t): websock_info_t | null {
  return websock().websock_get_info(h);
}
export function websock_attach_client(stream: unknown, flags: number, resource: string, host: string, cfg?: websock_attach_config_t): Promise<websock_handle_t | null> {
  return websock().websock_attach_client(stream, flags, resource, host, cfg);
}
export function websock_attach_server(stream: unknown, flags: number, cfg?: websock_attach_config_t): Promise<websock_handle_t | null> {
  return websock().websock_attach_server(stream, flags, cfg);
}
export function websock_detach(h: websock_handle_t): Promise<unknown> {
  return websock().websock_detach(h);
}
export function websock_send(h: websock_handle_t, payload: string | Uint8Array, len?: number): Promise<number> {
  return websock().websock_send(h, payload, len);
}
export function websock_send_raw(h: websock_handle_t, bytes: Uint8Array, len?: number): Promise<number> {
  return websock().websock_send_raw(h, bytes, len);
}
export function websock_set_callback(h: websock_handle_t, callback: websock_callback_t | null): number {
  return websock().websock_set_callback(h, callback);
}

export {
  WEBSOCK_ERR,
  WEBSOCK_OK,
  WEBSOCK_OP,
  WEBSOCK_WAIT_FOREVER,
  WS_BINARY,
  WS_NOHTTP,
  WS_TEXT,
  websock_msg_hdr_init,
} from "websock/src/websock";
export { websock_parse_url } from "websock/src/url";
export type {
  websock_attach_config_t,
  websock_callback_t,
  websock_config_t,
  websock_error_t,
  websock_handle_t,
  websock_info_t,
  websock_msg_hdr_t,
  websock_ssl_config_t,
} from "websock/src/types";
