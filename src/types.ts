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
}

/** Settings for websock_attach_client / websock_attach_server: the config without the address. */
export type websock_attach_config_t = Omit<websock_config_t, "hostname" | "port" | "uri" | "secured" | "ssl_config">;

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
  /** Server side: the resource and Host the client asked for, and the subprotocols it offered. */
  resource?: string;
  host?: string;
  offered_subprotocols?: string[];
}

/** An opaque connection handle. */
export interface websock_handle_t {
  readonly __websock_handle: true;
}
