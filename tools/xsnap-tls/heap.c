/*
 * Benchmarks only (tools/xsnap-tls/build.mjs --heap): mbedTLS's heap,
 * counted. The build copies Debian's static mbedTLS libraries with their
 * calloc and free renamed to these (objcopy --redefine-sym), so every byte
 * mbedTLS allocates, and only mbedTLS, passes through here. websockTlsHeap()
 * in the worker returns { current, peak, allocations } and, given true,
 * starts a new peak from the current figure.
 */

#include "xs.h"

#include <malloc.h>
#include <stdlib.h>

static size_t current;
static size_t peak;
static size_t allocations;

void *ws_heap_calloc(size_t count, size_t size)
{
	void *p = calloc(count, size);
	if (p != NULL) {
		/* The block's usable size: what it costs the allocator, near enough, on any heap. */
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

static void xs_websock_tls_heap(xsMachine *the)
{
	if (xsToInteger(xsArgc) > 0 && xsTest(xsArg(0))) peak = current;
	xsResult = xsNewObject();
	xsSet(xsResult, xsID("current"), xsNumber((double)current));
	xsSet(xsResult, xsID("peak"), xsNumber((double)peak));
	xsSet(xsResult, xsID("allocations"), xsNumber((double)allocations));
}

void websock_tls_install_heap(xsMachine *the)
{
	xsBeginHost(the);
	xsResult = xsNewHostFunction(xs_websock_tls_heap, 1);
	xsDefine(xsGlobal, xsID("websockTlsHeap"), xsResult, xsDontEnum);
	xsEndHost(the);
}
