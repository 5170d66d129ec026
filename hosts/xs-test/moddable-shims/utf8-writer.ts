// "websock/hosts/moddable/utf8/utf8-writer" in the XS emulation bundle: the
// writer websock_utf8.c defines when the xsnap worker was built with it
// (tools/xsnap-utf8/build.mjs installs it as the global WebsockUtf8Writer),
// else null: the core then encodes with the host's TextEncoder, as before.

import type realWriter from "../../moddable/utf8/utf8-writer.js";

const linked = (globalThis as { WebsockUtf8Writer?: typeof realWriter }).WebsockUtf8Writer;

export default (linked ?? null) as typeof realWriter;
