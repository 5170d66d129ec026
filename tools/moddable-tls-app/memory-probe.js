/*
 * Measurement only (tools/moddable-tls-app): the module "websock-sim-probe".
 * xsPeak() reads the XS machine's own peaks of chunk and slot heap use (the
 * instruments show only the current figures, sampled once a second), given
 * true it starts new peaks from the current figures. tlsHeap() reads the
 * counters of mbedTLS's heap, which count only in a build linked against
 * copies of mbedTLS's static libraries whose calloc and free were renamed to
 * ws_heap_calloc and ws_heap_free (tools/moddable-tls/heap-libs.sh); with the
 * shared libraries, allocations stays 0. memory_probe.c has both.
 */

export function xsPeak(reset) @ "xs_sim_probe_xs_peak";
export function tlsHeap(reset) @ "xs_sim_probe_tls_heap";
