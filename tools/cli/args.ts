// The command line, getopt style: "-vk", "-n2", "-n 2", "--count=2",
// "--count 2", "--" ends the options. An option that takes a value takes the
// next word whatever it starts with ("-q -1"), as getopt does. Every refusal
// is one line naming the option.

export interface CliOptions {
  url: string;
  /** -d/--data, in order: one message each, sent before stdin. */
  data: string[];
  binary: boolean;
  /** false with --no-split: the whole of stdin is one message. */
  split: boolean;
  raw: boolean;
  /** -n/--count: exit after this many messages; undefined: no limit. */
  count: number | undefined;
  /** -q/--quit-after, in seconds: how long to keep receiving after stdin ends; < 0: until the server closes. */
  quitAfter: number | undefined;
  /** -w/--wait, in seconds: after stdin ends, how long to wait for replies (one per message sent). */
  wait: number;
  /** --close-timeout, in seconds, or undefined for the library's default. */
  closeTimeout: number | undefined;
  /** -o/--origin: the Origin header. */
  origin: string | undefined;
  /** --auth user:password (HTTP Basic); a user:password@ in the URL is the same. */
  auth: string | undefined;
  /** -x/--proxy URL: an HTTP proxy ("" turns the environment's off); undefined: the environment's, as curl reads it. */
  proxy: string | undefined;
  /** --noproxy LIST: hosts that go direct (instead of NO_PROXY). */
  noproxy: string | undefined;
  /** -L/--location: follow redirects, at most maxRedirs. */
  location: boolean;
  maxRedirs: number;
  /** -l/--listen [HOST:]PORT: serve instead of connecting. */
  listen: string | undefined;
  /** -P/--show-ping-pong: pings and pongs as lines on stdout. */
  showPingPong: boolean;
  /** --reconnect: connect again with backoff after a drop that can heal (websock_config_t.reconnect). */
  reconnect: boolean;
  /** Seconds, or undefined for the library's default. */
  timeout: number | undefined;
  pingInterval: number | undefined;
  pongTimeout: number | undefined;
  headers: string[];
  subprotocols: string[];
  cacert: string[];
  cert: string | undefined;
  key: string | undefined;
  servername: string | undefined;
  pins: string[];
  insecure: boolean;
  showHeaders: boolean;
  verbose: boolean;
}

/** -L's redirects unless --max-redirs says otherwise; the library takes at most 20. */
export const DEFAULT_MAX_REDIRS = 10;
const MAX_REDIRS = 20;

/** -w's default: long enough for a reply over the internet, short enough not to feel like a hang. */
export const DEFAULT_WAIT_SECONDS = 2;

export type ParsedArgs =
  | { kind: "help" }
  | { kind: "version" }
  | { kind: "run"; options: CliOptions }
  | { kind: "usage"; message: string };

type Kind = "flag" | "value" | "list";

interface OptionSpec {
  readonly long: string;
  readonly short?: string;
  readonly kind: Kind;
}

const OPTIONS: readonly OptionSpec[] = Object.freeze([
  { long: "help", short: "h", kind: "flag" },
  { long: "version", short: "V", kind: "flag" },
  { long: "data", short: "d", kind: "list" },
  { long: "binary", kind: "flag" },
  { long: "no-split", kind: "flag" },
  { long: "raw", kind: "flag" },
  { long: "count", short: "n", kind: "value" },
  { long: "quit-after", short: "q", kind: "value" },
  { long: "wait", short: "w", kind: "value" },
  { long: "close-timeout", kind: "value" },
  { long: "origin", short: "o", kind: "value" },
  { long: "auth", kind: "value" },
  { long: "proxy", short: "x", kind: "value" },
  { long: "noproxy", kind: "value" },
  { long: "location", short: "L", kind: "flag" },
  { long: "max-redirs", kind: "value" },
  { long: "listen", short: "l", kind: "value" },
  { long: "show-ping-pong", short: "P", kind: "flag" },
  { long: "reconnect", kind: "flag" },
  { long: "timeout", kind: "value" },
  { long: "ping-interval", kind: "value" },
  { long: "pong-timeout", kind: "value" },
  { long: "header", short: "H", kind: "list" },
  { long: "subprotocol", kind: "list" },
  { long: "cacert", kind: "list" },
  { long: "cert", kind: "value" },
  { long: "key", kind: "value" },
  { long: "servername", kind: "value" },
  { long: "pin-sha256", kind: "list" },
  { long: "insecure", short: "k", kind: "flag" },
  { long: "show-headers", kind: "flag" },
  { long: "verbose", short: "v", kind: "flag" },
] as const);

const BY_LONG: ReadonlyMap<string, OptionSpec> = new Map(OPTIONS.map((o) => [o.long, o]));
const BY_SHORT: ReadonlyMap<string, OptionSpec> = new Map(OPTIONS.filter((o) => o.short !== undefined).map((o) => [o.short!, o]));

/** What the words said, before the values are checked. */
interface Collected {
  flags: Set<string>;
  values: Map<string, string>;
  lists: Map<string, string[]>;
  positionals: string[];
}

function optionName(spec: OptionSpec): string {
  return spec.short !== undefined ? `-${spec.short}/--${spec.long}` : `--${spec.long}`;
}

function record(into: Collected, spec: OptionSpec, value: string | undefined): void {
  if (spec.kind === "flag") into.flags.add(spec.long);
  else if (spec.kind === "value") into.values.set(spec.long, value!);
  else {
    const list = into.lists.get(spec.long) ?? [];
    list.push(value!);
    into.lists.set(spec.long, list);
  }
}

function collect(argv: readonly string[]): Collected | string {
  const out: Collected = { flags: new Set(), values: new Map(), lists: new Map(), positionals: [] };
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i];
    if (word === "--") {
      out.positionals.push(...argv.slice(i + 1));
      break;
    }
    if (word.startsWith("--")) {
      const eq = word.indexOf("=");
      const name = word.slice(2, eq < 0 ? undefined : eq);
      const spec = BY_LONG.get(name);
      if (spec === undefined) return `unknown option --${name}`;
      if (spec.kind === "flag") {
        if (eq >= 0) return `--${name} takes no value`;
        record(out, spec, undefined);
      } else if (eq >= 0) {
        record(out, spec, word.slice(eq + 1));
      } else {
        if (i + 1 >= argv.length) return `${optionName(spec)} needs a value`;
        record(out, spec, argv[++i]);
      }
      continue;
    }
    if (word.startsWith("-") && word.length > 1) {
      // A cluster of short options; one that takes a value takes the rest of the word, or the next word.
      for (let j = 1; j < word.length; j++) {
        const spec = BY_SHORT.get(word[j]);
        if (spec === undefined) return `unknown option -${word[j]}`;
        if (spec.kind === "flag") {
          record(out, spec, undefined);
          continue;
        }
        if (j + 1 < word.length) record(out, spec, word.slice(j + 1));
        else if (i + 1 < argv.length) record(out, spec, argv[++i]);
        else return `${optionName(spec)} needs a value`;
        break;
      }
      continue;
    }
    out.positionals.push(word);
  }
  return out;
}

/** A decimal number of seconds; "any" for -q (negative: no limit), "zero" for -w (0: do not wait). */
function seconds(name: string, text: string | undefined, allowed: "positive" | "zero" | "any"): number | undefined | string {
  if (text === undefined) return undefined;
  const value = /^-?(\d+\.?\d*|\.\d+)$/.test(text.trim()) ? Number(text) : NaN;
  if (!Number.isFinite(value)) return `${name} must be a number of seconds, not ${JSON.stringify(text)}`;
  if (allowed === "positive" && value <= 0) return `${name} must be more than 0 seconds`;
  if (allowed === "zero" && value < 0) return `${name} must be 0 seconds or more`;
  // The library takes whole milliseconds up to 2^31 - 1.
  if (Math.abs(value) * 1000 > 0x7fffffff) return `${name} must be at most ${Math.floor(0x7fffffff / 1000)} seconds`;
  return value;
}

export function parseArgs(argv: readonly string[]): ParsedArgs {
  const c = collect(argv);
  if (typeof c === "string") return { kind: "usage", message: c };
  if (c.flags.has("help")) return { kind: "help" };
  if (c.flags.has("version")) return { kind: "version" };
  const listen = c.values.get("listen");
  if (listen !== undefined) {
    if (c.positionals.length > 0) return { kind: "usage", message: `-l/--listen serves: no URL to connect to (got ${c.positionals.join(" ")})` };
  } else if (c.positionals.length === 0) return { kind: "usage", message: "no URL given (websock [options] ws://host[:port]/path)" };
  if (c.positionals.length > 1) return { kind: "usage", message: `one URL expected, got ${c.positionals.length}: ${c.positionals.join(" ")}` };

  let count: number | undefined;
  const countText = c.values.get("count");
  if (countText !== undefined) {
    if (!/^\d+$/.test(countText) || !Number.isSafeInteger(Number(countText))) return { kind: "usage", message: `-n/--count must be a whole number >= 0, not ${JSON.stringify(countText)}` };
    count = Number(countText);
  }
  let maxRedirs = DEFAULT_MAX_REDIRS;
  const redirsText = c.values.get("max-redirs");
  if (redirsText !== undefined) {
    if (!/^\d+$/.test(redirsText) || Number(redirsText) > MAX_REDIRS) return { kind: "usage", message: `--max-redirs must be a whole number from 0 to ${MAX_REDIRS}, not ${JSON.stringify(redirsText)}` };
    maxRedirs = Number(redirsText);
  }
  const times: Array<[string, string, "positive" | "zero" | "any"]> = [
    ["quit-after", "-q/--quit-after", "any"],
    ["timeout", "--timeout", "positive"],
    ["ping-interval", "--ping-interval", "positive"],
    ["pong-timeout", "--pong-timeout", "positive"],
    ["wait", "-w/--wait", "zero"],
    ["close-timeout", "--close-timeout", "positive"],
  ];
  const t = new Map<string, number | undefined>();
  for (const [key, name, allowed] of times) {
    const value = seconds(name, c.values.get(key), allowed);
    if (typeof value === "string") return { kind: "usage", message: value };
    t.set(key, value);
  }

  const list = (name: string): string[] => c.lists.get(name) ?? [];
  return {
    kind: "run",
    options: {
      url: c.positionals[0] ?? "",
      data: list("data"),
      binary: c.flags.has("binary"),
      split: !c.flags.has("no-split"),
      raw: c.flags.has("raw"),
      count,
      quitAfter: t.get("quit-after"),
      wait: t.get("wait") ?? DEFAULT_WAIT_SECONDS,
      closeTimeout: t.get("close-timeout"),
      origin: c.values.get("origin"),
      auth: c.values.get("auth"),
      proxy: c.values.get("proxy"),
      noproxy: c.values.get("noproxy"),
      location: c.flags.has("location"),
      maxRedirs,
      listen,
      showPingPong: c.flags.has("show-ping-pong"),
      reconnect: c.flags.has("reconnect"),
      timeout: t.get("timeout"),
      pingInterval: t.get("ping-interval"),
      pongTimeout: t.get("pong-timeout"),
      headers: list("header"),
      subprotocols: list("subprotocol"),
      cacert: list("cacert"),
      cert: c.values.get("cert"),
      key: c.values.get("key"),
      servername: c.values.get("servername"),
      pins: list("pin-sha256"),
      insecure: c.flags.has("insecure"),
      showHeaders: c.flags.has("show-headers"),
      verbose: c.flags.has("verbose"),
    },
  };
}
