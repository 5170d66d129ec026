/*
 * Test builds only: installs hosts/moddable/mbedtls/websock_tls.c in the
 * xsnap worker as the global class WebsockTLSEngine, the shape that
 * hosts/moddable/mbedtls/tls-engine.js gives it on Moddable (where mcconfig
 * binds the same C functions through the module's `@ "..."` declarations).
 * tools/xsnap-tls/build.mjs calls websock_tls_install from xsBuildAgent.
 */

#include "xs.h"

void xs_websock_tls_destructor(void *data);
void xs_websock_tls_constructor(xsMachine *the);
void xs_websock_tls_handshake(xsMachine *the);
void xs_websock_tls_feed(xsMachine *the);
void xs_websock_tls_room(xsMachine *the);
void xs_websock_tls_end(xsMachine *the);
void xs_websock_tls_take(xsMachine *the);
void xs_websock_tls_pending(xsMachine *the);
void xs_websock_tls_read(xsMachine *the);
void xs_websock_tls_write(xsMachine *the);
void xs_websock_tls_close_notify(xsMachine *the);
void xs_websock_tls_failure(xsMachine *the);
void xs_websock_tls_info(xsMachine *the);
void xs_websock_tls_close(xsMachine *the);
void xs_websock_tls_capabilities(xsMachine *the);
void websock_tls_install(xsMachine *the);
#ifdef WS_TLS_HEAP_STATS
void websock_tls_install_heap(xsMachine *the);
#endif

static const struct {
	const char *name;
	xsCallback callback;
	int length;
} methods[] = {
	{ "handshake", xs_websock_tls_handshake, 0 },
	{ "feed", xs_websock_tls_feed, 1 },
	{ "room", xs_websock_tls_room, 0 },
	{ "end", xs_websock_tls_end, 0 },
	{ "take", xs_websock_tls_take, 1 },
	{ "pending", xs_websock_tls_pending, 0 },
	{ "read", xs_websock_tls_read, 1 },
	{ "write", xs_websock_tls_write, 1 },
	{ "closeNotify", xs_websock_tls_close_notify, 0 },
	{ "failure", xs_websock_tls_failure, 0 },
	{ "info", xs_websock_tls_info, 0 },
	{ "close", xs_websock_tls_close, 0 },
};

/*
 * A host constructor gets no `this` of its own from XS (Moddable's `class
 * ... @` gives the C one, made from the class's host prototype): this one
 * makes it, a host instance of new.target's prototype, then runs the
 * engine's constructor on it.
 */
static void construct(xsMachine *the)
{
	xsResult = xsGet(xsTarget, xsID("prototype"));
	xsResult = xsNewHostInstance(xsResult);
	xsThis = xsResult;
	xs_websock_tls_constructor(the);
}

void websock_tls_install(xsMachine *the)
{
	xsBeginHost(the);
	xsVars(3);
	/* A host prototype: `new` makes host instances that carry its destructor (fxNewHostInstance). */
	xsVar(0) = xsNewHostObject(xs_websock_tls_destructor);
	for (unsigned i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		xsVar(1) = xsNewHostFunction(methods[i].callback, methods[i].length);
		xsDefine(xsVar(0), xsID(methods[i].name), xsVar(1), xsDontEnum);
	}
	xsVar(1) = xsNewHostConstructor(construct, 9, xsVar(0));
	xsVar(2) = xsNewHostFunction(xs_websock_tls_capabilities, 0);
	xsDefine(xsVar(1), xsID("capabilities"), xsVar(2), xsDontEnum);
	xsDefine(xsGlobal, xsID("WebsockTLSEngine"), xsVar(1), xsDontEnum);
	xsEndHost(the);
#ifdef WS_TLS_HEAP_STATS
	websock_tls_install_heap(the);
#endif
}
