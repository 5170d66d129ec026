// websock_open's fields for reaching the server: proxy, follow_redirects,
// username and password, checked with the rest of the config (config.ts).
// Refusals name the field and never quote a credential.

import { basicCredentials, checkCredentials } from "./basic-auth.js";
import { parseProxyUrl, type ProxySettings } from "./proxy.js";

export type { ProxySettings };

/** More redirects than this are refused in the config: a chain that long is a loop. */
export const MAX_FOLLOW_REDIRECTS = 20;

export interface OpeningFields {
  proxy: ProxySettings | null;
  followRedirects: number;
  authorization: string | null;
}

/** The fields of `f` (the config's snapshot), or a refusal; `headers` are the checked hndshk_hdrs. */
export function openingFields(f: Record<string, unknown>, headers: ReadonlyArray<readonly [string, string]>): OpeningFields | string {
  let proxy: ProxySettings | null = null;
  if (f.proxy !== undefined && f.proxy !== "") {
    const parsed = parseProxyUrl(f.proxy, "proxy");
    if (typeof parsed === "string") return parsed;
    proxy = parsed;
  }
  const follow = f.follow_redirects === undefined ? 0 : f.follow_redirects;
  if (typeof follow !== "number" || !Number.isInteger(follow) || follow < 0 || follow > MAX_FOLLOW_REDIRECTS) {
    return `follow_redirects must be an integer from 0 to ${MAX_FOLLOW_REDIRECTS}`;
  }
  let authorization: string | null = null;
  if (f.username !== undefined || f.password !== undefined) {
    if (f.username === undefined) return "password is set without username";
    const problem = checkCredentials(f.username, f.password ?? "", "username", "password");
    if (problem !== null) return problem;
    // One Authorization: the caller's header or the one made from username/password, not both.
    if (headers.some(([name]) => name.toLowerCase() === "authorization")) return "username is set and hndshk_hdrs has an Authorization header: give only one";
    authorization = basicCredentials(f.username as string, (f.password ?? "") as string);
  }
  return { proxy, followRedirects: follow, authorization };
}
