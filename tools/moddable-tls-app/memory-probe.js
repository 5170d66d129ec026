/*
 * Measurement only (tools/moddable-tls-app): the module "websock-sim-probe".
 * xsPeak() reads the XS machine's own peaks of chunk and slot heap use (the
 * instruments show only the current figures, sampled once a second), given
 * true it starts new peaks from the current figures. tlsHeap() reads the
 * counters of mbedTLS's heap, which count only in a build linked against
 * copies of mbedTLS's static libraries whose calloc and free were renamed to
 * ws_heap_calloc and ws_heap_free (tools/moddable-tls/heap-libs.sh); with the
 * shared libraries, allocations stays 0. ignoreBrokenPipe() makes a write to a
 * closed socket fail rather than end the simulator (SIGPIPE). memory_probe.c
 * has the C.
 */

export function xsPeak(reset) @ "xs_sim_probe_xs_peak";
export function tlsHeap(reset) @ "xs_sim_probe_tls_heap";
export function ignoreBrokenPipe() @ "xs_sim_probe_ignore_broken_pipe";
