// The command channel of the ECMA-419 TCP emulation (ecma419-tcp.ts inside
// the xsnap worker, test/xs/ecma419-kernel.ts in Node): what the Moddable
// simulator's lin/tcp.c and lin/modResolve.c ask of the Linux kernel and of
// GLib's resolver, one system call per request. The ECMA-419 socket object
// itself (its 1,536-byte read buffer, bytesWritable, the 20 ms poll task and
// its triggers) lives in XS; Node plays the kernel's socket only.
//
// Same framing as protocol.ts (opcode byte, u32 id, big-endian, ASCII text);
// the opcodes do not overlap with it, so one Relay answers both.
//
// XS -> Node (issueCommand):
//   TCP_CONNECT  21 id port:u16 nodelay:u8 address  -> (empty)   socket() + non-blocking connect()
//   TCP_POLL     22 id wantWrite:u8 maxRead:u32      -> POLL answer: select() with a zero timeout, then read(maxRead) when readable
//   TCP_WRITE    23 id bytes...                      -> WRITE answer: write(2)
//   TCP_CLOSE    24 id                               -> (empty)   close(2): FIN, or RST when received bytes are unread
//   RESOLVE      25 id name                          -> (empty)   g_resolver_lookup_by_name_async; RESOLVED follows
//
// Node -> XS (a `?` delivery):
//   RESOLVED     A1 id address                       the first address found, "" when none or not IPv4
//
// POLL answer:  flags:u8 (bit 0 writable, bit 1 readable), then when readable:
//               kind:u8 (READ_DATA bytes... | READ_EOF | READ_ERROR errno-text)
// WRITE answer: kind:u8 (WRITE_OK | WRITE_FAILED errno-text | WRITE_SIGPIPE errno-text)

export const OP_TCP_CONNECT = 0x21;
export const OP_TCP_POLL = 0x22;
export const OP_TCP_WRITE = 0x23;
export const OP_TCP_CLOSE = 0x24;
export const OP_RESOLVE = 0x25;

export const EV_RESOLVED = 0xa1;

export const POLL_WRITABLE = 1;
export const POLL_READABLE = 2;

/** read(2) returned > 0. */
export const READ_DATA = 1;
/** read(2) returned 0: the peer's FIN (or a socket already reset and its error reported). */
export const READ_EOF = 0;
/** read(2) returned -1 (ECONNRESET, ECONNREFUSED...). */
export const READ_ERROR = 2;

export const WRITE_OK = 0;
/** write(2) returned -1 with the socket's pending error (ECONNRESET): no signal. */
export const WRITE_FAILED = 1;
/**
 * write(2) returned -1 with EPIPE: on Linux the kernel also raises SIGPIPE,
 * and lin/tcp.c neither passes MSG_NOSIGNAL nor ignores the signal
 * (lin_xs.c restores SIG_DFL after connecting to xsbug), so in the
 * simulator this write ends the process.
 */
export const WRITE_SIGPIPE = 2;
