/*
 * Test builds only: installs hosts/moddable/utf8/websock_utf8.c in the xsnap
 * worker as the global WebsockUtf8Writer, { write(text, state, out, start,
 * end) }, the shape hosts/moddable/utf8/utf8-writer.js gives it on Moddable
 * (where mcconfig binds the same C function through the module's `@ "..."`
 * declaration). tools/xsnap-utf8/build.mjs calls websock_utf8_install from
 * xsBuildAgent.
 */

#include "xs.h"

void xs_websock_utf8_write(xsMachine *the);
void websock_utf8_install(xsMachine *the);

void websock_utf8_install(xsMachine *the)
{
	xsBeginHost(the);
	xsVars(2);
	xsVar(0) = xsNewObject();
	xsVar(1) = xsNewHostFunction(xs_websock_utf8_write, 5);
	xsDefine(xsVar(0), xsID("write"), xsVar(1), xsDontEnum);
	xsDefine(xsGlobal, xsID("WebsockUtf8Writer"), xsVar(0), xsDontEnum);
	xsEndHost(the);
}
