// After a failed open, a second look to tell the user what the server is:
//  - an answer other than 101: websock_last_error gives only the status, so
//    the same upgrade request is sent once more with node:http(s) to show the
//    status line, the response headers and the first bytes of the body (a 401
//    shows its WWW-Authenticate);
//  - ws:// to a port that speaks TLS, or wss:// to one that speaks plain HTTP:
//    a TLS handshake, or an HTTP request, on the same port says which.
// Each look is bounded in time and its failure only means "no hint".

import { randomBytes } from "node:crypto";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import tls from "node:tls";
import type { websock_config_t } from "websock-rfc6455";

const LOOK_MS = 3000;
const BODY_BYTES = 200;

function hostHeader(cfg: websock_config_t): string {
  const host = cfg.hostname.includes(":") ? `[${cfg.hostname}]` : cfg.hostname;
  const defaultPort = cfg.secured ? 443 : 80;
  return cfg.port === undefined || cfg.port === defaultPort ? host : `${host}:${cfg.port}`;
}

type PemField = string | Uint8Array | Array<string | Uint8Array> | undefined;
function pemList(value: PemField): string[] | undefined {
  if (value === undefined) return undefined;
  return (Array.isArray(value) ? value : [value]).map((v) => (typeof v === "string" ? v : Buffer.from(v).toString("latin1")));
}

/** The same upgrade request websock sent, with node:http(s); `secured` picks TLS or not. */
function upgradeRequest(cfg: websock_config_t, secured: boolean): http.ClientRequest {
  const headers: Record<string, string> = {
    Host: hostHeader(cfg),
    Upgrade: "websocket",
    Connection: "Upgrade",
    "Sec-WebSocket-Key": randomBytes(16).toString("base64"),
    "Sec-WebSocket-Version": "13",
  };
  for (const line of cfg.hndshk_hdrs ?? []) {
    const colon = line.indexOf(":");
    if (colon > 0) headers[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
  }
  if (cfg.username !== undefined) headers.Authorization = `Basic ${Buffer.from(`${cfg.username}:${cfg.password ?? ""}`, "utf8").toString("base64")}`;
  if (cfg.subprotocols !== undefined && cfg.subprotocols.length > 0) headers["Sec-WebSocket-Protocol"] = cfg.subprotocols.join(", ");
  const options: https.RequestOptions = { host: cfg.hostname, port: cfg.port ?? (cfg.secured ? 443 : 80), path: cfg.uri ?? "/", headers, timeout: LOOK_MS, agent: false };
  if (!secured) return http.request(options);
  const ssl = cfg.ssl_config ?? {};
  return https.request({
    ...options,
    servername: ssl.server_name ?? (net.isIP(cfg.hostname) ? undefined : cfg.hostname),
    // The CLI fills these with the PEM text of --cacert, --cert and --key.
    ca: pemList(ssl.ca),
    cert: pemList(ssl.cert) as string[] | undefined,
    key: pemList(ssl.key) as string[] | undefined,
    rejectUnauthorized: ssl.verify !== false,
  });
}

/** The refused upgrade's response as lines (status, headers, empty line, body start), or null. */
export function refusedResponse(cfg: websock_config_t): Promise<string[] | null> {
  return new Promise((resolve) => {
    const req = upgradeRequest(cfg, cfg.secured === true);
    const done = (lines: string[] | null): void => {
      req.destroy();
      resolve(lines);
    };
    req.on("upgrade", () => done(null)); // 101 this time: nothing to show
    req.on("timeout", () => done(null));
    req.on("error", () => done(null));
    req.on("response", (res) => {
      const lines = [`HTTP/${res.httpVersion} ${res.statusCode} ${res.statusMessage ?? ""}`.trimEnd()];
      for (let i = 0; i < res.rawHeaders.length; i += 2) lines.push(`${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}`);
      const body: Buffer[] = [];
      let length = 0;
      const finish = (): void => {
        const bytes = Buffer.concat(body).subarray(0, BODY_BYTES);
        if (bytes.length > 0) {
          lines.push("", ...bytes.toString("utf8").replace(/\r/g, "").split("\n"));
          if (length > BODY_BYTES || !res.complete) lines.push(`(the first ${bytes.length} bytes of the body)`);
        }
        done(lines);
      };
      res.on("data", (chunk: Buffer) => {
        body.push(chunk);
        length += chunk.length;
        if (length >= BODY_BYTES) finish();
      });
      res.on("end", finish);
      res.on("error", finish);
    });
    req.end();
  });
}

/** True when a TLS handshake on host:port succeeds (the server speaks TLS). */
export function speaksTls(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host, port, servername: net.isIP(host) ? undefined : host, rejectUnauthorized: false, timeout: LOOK_MS });
    const done = (yes: boolean): void => {
      socket.destroy();
      resolve(yes);
    };
    socket.once("secureConnect", () => done(true));
    socket.once("error", () => done(false));
    socket.once("timeout", () => done(false));
  });
}

/** True when the server answers the upgrade request over plain HTTP, with anything at all. */
export function speaksPlainHttp(cfg: websock_config_t): Promise<boolean> {
  return new Promise((resolve) => {
    const req = upgradeRequest(cfg, false);
    const done = (yes: boolean): void => {
      req.destroy();
      resolve(yes);
    };
    req.on("upgrade", () => done(true));
    req.on("response", () => done(true));
    req.on("timeout", () => done(false));
    req.on("error", () => done(false));
    req.end();
  });
}
