// Which proxy a run goes through, as curl chooses: --proxy (-x) first, else
// the environment: for ws:// http_proxy (lower case only: curl ignores
// HTTP_PROXY, which a CGI server sets from a request's "Proxy:" header),
// for wss:// https_proxy or HTTPS_PROXY, then all_proxy or ALL_PROXY; the
// lower-case name wins. --noproxy, else no_proxy or NO_PROXY, names the hosts
// that go direct, and applies to --proxy too. An empty --proxy "" turns
// proxies off.

export type Env = Readonly<Record<string, string | undefined>>;

function fromEnv(env: Env, ...names: string[]): string | undefined {
  for (const name of names) {
    const value = env[name];
    if (value !== undefined && value !== "") return value;
  }
  return undefined;
}

/**
 * Whether `hostname` is in a no_proxy list: comma-separated names, each
 * matching the host itself or any name under it (a leading "." is the
 * same), IP addresses matched as written, ports ignored, "*" for every host.
 */
export function bypassesProxy(hostname: string, list: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, "").replace(/\.$/, "");
  for (const raw of list.split(",")) {
    let entry = raw.trim().toLowerCase();
    if (entry === "") continue;
    if (entry === "*") return true;
    // "[::1]:8080" or "host:8080": the port is not compared (curl ignores it).
    if (entry.startsWith("[")) entry = entry.slice(1, entry.indexOf("]") < 0 ? undefined : entry.indexOf("]"));
    else if ((entry.match(/:/g) ?? []).length === 1) entry = entry.slice(0, entry.indexOf(":"));
    entry = entry.replace(/^\./, "").replace(/\.$/, "");
    if (host === entry || host.endsWith("." + entry)) return true;
  }
  return false;
}

/** The proxy URL to use for `hostname` (undefined: go direct). */
export function chooseProxy(option: string | undefined, noproxyOption: string | undefined, hostname: string, secured: boolean, env: Env): string | undefined {
  const proxy = option !== undefined
    ? option
    : secured
      ? fromEnv(env, "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY")
      : fromEnv(env, "http_proxy", "all_proxy", "ALL_PROXY");
  if (proxy === undefined || proxy === "") return undefined;
  const noProxy = noproxyOption ?? fromEnv(env, "no_proxy", "NO_PROXY");
  if (noProxy !== undefined && bypassesProxy(hostname, noProxy)) return undefined;
  return proxy;
}
