// The C-like structs of the websock_* API. Snake case belongs to this face of
// the library only (STYLE rule 10).

/** TLS settings; each host maps them onto its own TLS stack. */
export interface websock_ssl_config_t {
  /** Trusted CA certificates: PEM text, DER bytes, or a list of either. Absent: the host's default trust store. */
  ca?: string | Uint8Array | Array<string | Uint8Array>;
  /** Client certificate for mutual TLS (PEM or DER). */
  cert?: string | Uint8Array;
  /** Client private key for mutual TLS (PEM or DER). */
  key?: string | Uint8Array;
  /** SNI and the name verified in the server certificate; default: the hostname. */
  server_name?: string;
  /** Verify the server certificate; true unless explicitly false. */
  verify?: boolean;
  /** ALPN protocol names to offer. */
  alpn?: string[];
  /** Lowest TLS version accepted. */
  min_version?: "TLSv1.2" | "TLSv1.3";
  /** Base64 SHA-256 hashes of acceptable server public keys (SubjectPublicKeyInfo). */
  pin_sha256?: string[];
  /** Moddable only: the TLS engine, websock's mbedTLS binding or Moddable's TLS; default mbedTLS where the build links it (README, "Moddable TLS"). */
  tls_engine?: "mbedtls" | "moddable";
}

export interface websock_config_t {
  /** Server host name or IP address. */
  hostname: string;
  /** TCP port; default 80, or 443 when secured. */
  port?: number;
  /** Request target, starting with "/"; default "/". */
  uri?: string;
  /** wss:// (TLS) when true. */
  secured?: boolean;
  ssl_config?: websock_ssl_config_t;
  /** Milliseconds allowed for connect + TLS + handshake; default 10000. */
  time_out?: number;
  /** Extra handshake headers, each "Key:value". */
  hndshk_hdrs?: string[];
  /** How many of hndshk_hdrs to send; default all of them. */
  num_hndshk_hdrs?: number;
  /** Subprotocols to offer (Sec-WebSocket-Protocol), most preferred first. */
  subprotocols?: string[];
  /** Receive buffer, allocated once at open; default 4096, at least 256. */
  rx_buffer_size?: number;
  /** Transmit buffer, allocated once at open; default 4096, at least 256. */
  tx_buffer_size?: number;
  /** Send a ping every ping_interval ms (0: never, the default). */
  ping_interval?: number;
  /** Fail the connection when a ping's pong takes longer than this (ms); default 10000. */
  pong_timeout?: number;
  /** How long the close handshake may take (ms); default 5000. */
  close_timeout?: number;
  /** Fail the connection when a send makes no progress for this long (ms; 0: no limit, the default). */
  send_timeout?: number;
  /** Send messages longer than this as frames of at most this many bytes, so pings and pongs can go out between them (0: one frame per message, the default). */
  fragment_size?: number;
  /** Answer pings automatically (default true); when false, pings are delivered by websock_recv. */
  auto_pong?: boolean;
  /** Fail a message longer than this with 1009 (bytes; 0: no limit, the default). */
  max_message_size?: number;
  /** A receive buffer of the caller's (libdill's _mem variants): used instead of allocating rx_buffer_size. */
  rx_buffer?: Uint8Array;
  /** A transmit buffer of the caller's: used instead of allocating tx_buffer_size. */
  tx_buffer?: Uint8Array;
  /** After the handshake, pass bytes through untouched both ways (libcurl's CURLWS_RAW_MODE). */
  raw_mode?: boolean;
  /** Offer permessage-deflate (RFC 7692) and inflate compressed messages; absent: no compression. */
  deflate?: websock_deflate_config_t;
  /** An HTTP proxy to tunnel through with CONNECT: "http://[user:password@]host[:port]" (port default 1080, as curl's). */
  proxy?: string;
  /** Follow up to this many 301/302/303/307/308 redirects of the handshake (0: none, the default). */
  follow_redirects?: number;
  /** HTTP Basic credentials for the handshake (RFC 7617); never logged, dropped on a redirect to another host. */
  username?: string;
  password?: string;
  /** websock_open only: connect again, with backoff, after a drop that can heal (README, "Reconnect"). */
  reconnect?: websock_reconnect_config_t;
  /** websock_open only: called each time the connection opens (the first time and after every reconnect), before any send queued while it was down. */
  on_open?: (h: websock_handle_t) => unknown;
}

/** reconnect in websock_config_t. All times in ms. */
export interface websock_reconnect_config_t {
  /** Default true once the struct is given. */
  enabled?: boolean;
  /** The first attempt after a drop waits a random time from 0 to first_delay (RFC 6455 §7.2.3); default 5000. */
  first_delay?: number;
  /** The second attempt's delay, doubled for each further one (with jitter); default 1000. */
  min_delay?: number;
  /** The cap of that doubling; default 60000. */
  max_delay?: number;
  /** Attempts allowed since the last connection that stayed up (0: no limit, the default). */
  max_attempts?: number;
  /** Time allowed from the drop to the last attempt (0: no limit, the default). */
  max_time?: number;
  /** A connection that stayed up this long resets the backoff; default 10000. */
  stable_after?: number;
}


/** permessage-deflate settings (README: "Compression"). */
export interface websock_deflate_config_t {
  /** 9..15: the largest window the server may compress with; the inflate window is 2^this bytes (default 15). */
  server_max_window_bits?: number;
  /** Ask the server to compress each message on its own (no context kept between messages). */
  server_no_context_takeover?: boolean;
  /** Fail a message that inflates to more than this with 1009 (bytes; 0: no limit, the default). */
  max_inflated_message?: number;
  /** Compress what this side sends too (default false: sent uncompressed, RFC 7692 §6); needs a host that can (Node). */
  compress?: boolean;
}

/** Settings for websock_attach_client / websock_attach_server: the config without the address. */
export type websock_attach_config_t = Omit<websock_config_t, "hostname" | "port" | "uri" | "secured" | "ssl_config" | "proxy" | "follow_redirects" | "username" | "password" | "reconnect" | "on_open">;

/** Called with each frame piece instead of websock_recv; `data` is valid only during the call. */
export type websock_callback_t = (h: websock_handle_t, hdr: websock_msg_hdr_t, data: Uint8Array) => void;

/** Where a piece returned by websock_recv sits in its frame. */
export interface websock_msg_hdr_t {
  /** The frame's FIN bit. */
  fin: boolean;
  /** The frame's opcode as sent (0 for a continuation); -1 when nothing arrived. */
  opcode: number;
  /** The whole frame's payload length (exact up to 2^53). */
  payload_len: number;
  /** Offset of this piece in the frame's payload. */
  offset: number;
  /** Payload bytes of the frame still to come after this piece. */
  bytesleft: number;
}

export interface websock_error_t {
  /** 0, or a negative WEBSOCK_ERR_* code. */
  code: number;
  /** "WEBSOCK_OK" or the WEBSOCK_ERR_* name. */
  name: string;
  message: string;
  /** The HTTP status of a handshake response that was not 101. */
  http_status?: number;
  /** The close code sent or received; 1006 when the connection ended without one. */
  close_code?: number;
  /** The close reason received. */
  close_reason?: string;
  /** Why TLS failed: "untrusted_ca", "hostname_mismatch", "expired", "not_yet_valid", "handshake", ... */
  tls_reason?: string;
  /** A 401's WWW-Authenticate value (the scheme and realm the server wants). */
  www_authenticate?: string;
  /** WEBSOCK_ERR_RECONNECTED: the dropped connection ended in the middle of a message (its end never comes). */
  message_cut?: boolean;
}

export interface websock_info_t {
  state: "CONNECTING" | "OPEN" | "CLOSING" | "CLOSED";
  /** The subprotocol the server chose, or "" when none. */
  subprotocol: string;
  /** The handshake response's status (101 once open). */
  http_status: number;
  /** The handshake response's headers, names as the server sent them. */
  headers: Array<[string, string]>;
  /** TLS details when secured. */
  tls?: { version: string; cipher: string; alpn: string };
  /** websock_open: the URL connected to, after any redirects (no credentials). */
  url?: string;
  /** websock_open: how many redirects were followed to get there. */
  redirects?: number;
  /** Server side: the resource and Host the client asked for, and the subprotocols it offered. */
  resource?: string;
  host?: string;
  offered_subprotocols?: string[];
  /** permessage-deflate as agreed, when in use. */
  deflate?: {
    server_max_window_bits: number;
    server_no_context_takeover: boolean;
    client_max_window_bits: number;
    client_no_context_takeover: boolean;
    /** Whether this side compresses what it sends (a host capability). */
    compressing: boolean;
  };
  /** websock_open with reconnect: attempts made (each reconnect's included), connections re-established, and why the last connection or attempt ended (null: none did). */
  attempts?: number;
  reconnects?: number;
  last_failure?: websock_error_t | null;
  /** websock_open with reconnect, while waiting for the next attempt: the wait chosen before it (ms: the backoff's, or a Retry-After's). */
  retry_delay?: number;
}

/** An opaque connection handle. */
export interface websock_handle_t {
  readonly __websock_handle: true;
}
