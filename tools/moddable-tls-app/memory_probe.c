/*
 * Measurement only (tools/moddable-tls-app): the C of memory-probe.js.
 *
 * xs_sim_probe_xs_peak reads the machine's peakChunksSize and peakHeapCount,
 * which XS keeps in every build but which neither the instruments nor xsbug
 * report in the simulator; xsAll.h is the machine's own declaration.
 *
 * ws_heap_calloc and ws_heap_free count mbedTLS's heap: a build that links
 * copies of Debian's static libmbed*.a whose calloc and free were renamed to
 * these (objcopy --redefine-sym, tools/moddable-tls/heap-libs.sh) sends every
 * allocation mbedTLS makes, and only mbedTLS's, through here. The figure is
 * the blocks' usable size, what they cost the allocator near enough; the
 * engine's own block (websock_tls.c's one calloc) is not among them.
 *
 * xs_sim_probe_ignore_broken_pipe: the simulator's TCP socket writes with
 * write(2) (modules/io/socket/lin/tcp.c), so a write to a connection the peer
 * has closed raises SIGPIPE, which ends mcsim; the matrix has servers that
 * close in the middle of a handshake, and ignores the signal so that such a
 * write fails (EPIPE) instead. No device has the signal.
 */

#include "xsAll.h"
#include "xsmc.h"

#include <malloc.h>
#include <signal.h>
#include <stdlib.h>

static size_t current;
static size_t peak;
static size_t allocations;

void *ws_heap_calloc(size_t count, size_t size)
{
	void *p = calloc(count, size);
	if (p != NULL) {
		current += malloc_usable_size(p);
		allocations++;
		if (current > peak) peak = current;
	}
	return p;
}

void ws_heap_free(void *p)
{
	if (p != NULL) current -= malloc_usable_size(p);
	free(p);
}

static int reset_requested(xsMachine *the)
{
	return xsmcArgc > 0 && xsmcTest(xsArg(0));
}

void xs_sim_probe_xs_peak(xsMachine *the)
{
	xsmcVars(1);
	xsmcSetNewObject(xsResult);
	xsmcSetNumber(xsVar(0), (double)the->peakChunksSize);
	xsmcSet(xsResult, xsID("chunks"), xsVar(0));
	xsmcSetNumber(xsVar(0), (double)the->peakHeapCount * sizeof(txSlot));
	xsmcSet(xsResult, xsID("slots"), xsVar(0));
	xsmcSetNumber(xsVar(0), (double)the->currentChunksSize);
	xsmcSet(xsResult, xsID("currentChunks"), xsVar(0));
	xsmcSetNumber(xsVar(0), (double)the->currentHeapCount * sizeof(txSlot));
	xsmcSet(xsResult, xsID("currentSlots"), xsVar(0));
	if (reset_requested(the)) {
		the->peakChunksSize = the->currentChunksSize;
		the->peakHeapCount = the->currentHeapCount;
	}
}

void xs_sim_probe_tls_heap(xsMachine *the)
{
	xsmcVars(1);
	xsmcSetNewObject(xsResult);
	xsmcSetNumber(xsVar(0), (double)current);
	xsmcSet(xsResult, xsID("current"), xsVar(0));
	xsmcSetNumber(xsVar(0), (double)peak);
	xsmcSet(xsResult, xsID("peak"), xsVar(0));
	xsmcSetNumber(xsVar(0), (double)allocations);
	xsmcSet(xsResult, xsID("allocations"), xsVar(0));
	if (reset_requested(the)) peak = current;
}

void xs_sim_probe_ignore_broken_pipe(xsMachine *the)
{
	(void)the;
	signal(SIGPIPE, SIG_IGN);
}
