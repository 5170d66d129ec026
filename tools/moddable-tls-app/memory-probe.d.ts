// The types of memory-probe.js (memory_probe.c).

/** The XS machine's peaks and current figures, in bytes (slots: bytes too, 32 B a slot in the 64-bit simulator). */
export interface XsPeak {
  chunks: number;
  slots: number;
  currentChunks: number;
  currentSlots: number;
}

/** mbedTLS's heap, as its renamed calloc/free counted it: usable bytes in use, the peak, calls made. */
export interface TlsHeap {
  current: number;
  peak: number;
  allocations: number;
}

/** The peaks since the last reset; `reset` true starts new peaks from the current figures (after reading). */
export function xsPeak(reset?: boolean): XsPeak;
/** mbedTLS's heap; `reset` true starts a new peak from the current figure (after reading). */
export function tlsHeap(reset?: boolean): TlsHeap;
/** The simulator only: SIGPIPE ignored, so that a write to a socket the peer closed fails instead of ending mcsim. */
export function ignoreBrokenPipe(): void;
