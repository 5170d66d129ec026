// `websock [options] <url>`: a WebSocket netcat on the Node host (npx websock --help).
// This file only wires the process to the modules in tools/cli/: arguments,
// configuration, the session, and the exit status.

import { parseArgs } from "./cli/args.js";
import { buildConfig } from "./cli/config.js";
import { EXIT, oneLine } from "./cli/exit-codes.js";
import { HELP } from "./cli/help.js";
import { Output } from "./cli/output.js";
import { runListener } from "./cli/listen.js";
import { runSession } from "./cli/session.js";
import { versionLine } from "./cli/version.js";

async function main(argv: readonly string[], output: Output): Promise<number> {
  const parsed = parseArgs(argv);
  if (parsed.kind === "help") {
    await output.write(HELP);
    return EXIT.OK;
  }
  if (parsed.kind === "version") {
    await output.write(versionLine());
    return EXIT.OK;
  }
  const usage = (message: string): number => {
    output.log(`websock: ${oneLine(message)} (see websock --help)`);
    return EXIT.USAGE;
  };
  if (parsed.kind === "usage") return usage(parsed.message);

  // The first Ctrl-C closes normally; a second one leaves at once.
  const interrupted = new Promise<void>((resolve) => {
    process.once("SIGINT", () => {
      process.once("SIGINT", () => process.exit(EXIT.INTERRUPTED));
      resolve();
    });
  });
  const interactive = process.stdin.isTTY === true && process.stdout.isTTY === true;
  let outcome;
  if (parsed.options.listen !== undefined) {
    outcome = await runListener(parsed.options, { stdin: process.stdin, output, interrupted });
  } else {
    const built = buildConfig(parsed.options);
    if (!built.ok) return usage(built.message);
    outcome = await runSession(parsed.options, built.config, { stdin: process.stdin, stdout: process.stdout, output, interrupted, interactive });
  }
  if (outcome.message !== undefined) {
    if (outcome.code === EXIT.USAGE) return usage(outcome.message);
    output.log(`websock: ${outcome.message}`);
    for (const line of outcome.details ?? []) output.log(`  ${line}`);
  }
  return outcome.code;
}

const output = new Output(process.stdout, process.stderr);
main(process.argv.slice(2), output)
  .catch((e: unknown) => {
    output.log(`websock: internal error: ${oneLine(e instanceof Error ? e.message : String(e))}`);
    return EXIT.OTHER;
  })
  .then(async (code) => {
    await output.flush();
    // stdin may still be waiting for input no one will read: leave now.
    process.exit(code);
  });
