// The globals of an xsnap worker (XS 13 built by @agoric/xsnap) that the
// XS-side test code uses. Nothing in src/ may see these: only hosts/xs-test/
// and the XS entry points under test/xs/ and tools/bench/ reference this file.

/** Sends bytes to the parent process and blocks until it answers. */
declare function issueCommand(request: ArrayBuffer): ArrayBuffer;

/** Writes its arguments, space-separated, and a newline to the worker's stdout. */
declare function print(...values: unknown[]): void;

/**
 * Called by the worker for each `?` delivery from the parent. Its return value
 * (or that value's `.result`), when an ArrayBuffer, is the delivery's reply; a
 * returned Promise is not awaited.
 */
declare var handleCommand: ((message: ArrayBuffer) => unknown) | undefined;
