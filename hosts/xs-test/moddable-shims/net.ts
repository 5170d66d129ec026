// The Moddable `net` module's resolver inside the xsnap worker, as the
// simulator's lin/modResolve.c does it: an asynchronous look-up (GLib's
// resolver there, Node's dns.lookup in the relay), whose callback gets the
// name and the FIRST address found when that address is IPv4, or undefined
// (so a name whose first address is IPv6, such as "localhost" on many Linux
// systems, does not resolve in the simulator either).

import { asciiBytes, message } from "../protocol.js";
import { OP_RESOLVE } from "../ecma419-protocol.js";
import { awaitResolve, issue } from "./runtime.js";

const Net = Object.freeze({
  resolve(name: string, callback: (name: string, address?: string) => void): void {
    const host = String(name);
    const id = awaitResolve((address) => {
      callback.call(globalThis, host, address === "" ? undefined : address);
    });
    issue(message(OP_RESOLVE, id, asciiBytes(host)));
  },
});

export default Net;
