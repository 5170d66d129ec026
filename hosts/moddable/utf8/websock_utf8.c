/*
 * websock's UTF-8 writer: a string's UTF-8, piece by piece, into a byte
 * buffer, straight from XS's own representation of the string, allocating
 * nothing. The module "websock/hosts/moddable/utf8/utf8-writer" binds it;
 * src/text-cursor.ts drives it (Host.utf8Writer) to put a text message into
 * the fixed tx buffer with no substring, no {read, written} result and no
 * string iterator.
 *
 *   write(text, state, out, start, end) -> bytes written into out[start, end)
 *
 * state is 8 bytes (a Uint8Array over a Uint32Array of 2: XS's buffer API
 * takes byte views only), two native-endian words: [0] the byte offset in
 * XS's representation of `text` where the next character starts, [1] the
 * string units still to encode. Set it to [0, units] to start and hand it
 * back untouched: each
 * call resumes where the last one stopped, so a message costs linear time
 * over all its pieces (XS keeps strings as UTF-8: locating unit i from the
 * start, as substring(i) does, is O(i)). Only whole characters are written:
 * one that does not fit stops the call (the caller writes that one into a
 * 4-byte spill with the same function); the call ends when state[1] is 0,
 * the string's end is reached or out has no room for the next character.
 *
 * What XS stores, and what is written (exactly what TextEncoder writes for
 * the same JavaScript string):
 *   - U+0000 is stored as C0 80 (Modified UTF-8): written 00.
 *   - A surrogate pair is, with mxCESU8 (xsnap), two 3-byte sequences
 *     ED A0..AF xx ED B0..BF xx: written as the one 4-byte character, two
 *     units. Without mxCESU8 (the Moddable SDK's default: ESP32, the
 *     simulators) a pair made whole is stored as its 4-byte UTF-8, which XS
 *     counts as one unit (String length counts code points there); two
 *     surrogates put side by side (concatenation) stay two 3-byte sequences
 *     and are joined as with CESU-8.
 *   - A lone surrogate (ED A0..BF xx, not part of a pair), or the first
 *     half of a pair cut by the unit budget, is written U+FFFD (EF BF BD),
 *     one unit: TextEncoder's replacement.
 * A unit is what XS's String length counts: one per sequence (the lead
 * bytes), whichever the encoding.
 *
 * The state is the caller's to keep: the offset is trusted to be one this
 * function returned for the same string (validating it would cost a scan of
 * the string per call); the unit budget and the string's terminating NUL
 * both stop it, and out is bounds-checked.
 */

#include "xsmc.h"

#include <stdint.h>
#include <string.h>

/* U+FFFD REPLACEMENT CHARACTER, TextEncoder's stand-in for a lone surrogate. */
static const uint8_t replacement[3] = { 0xEF, 0xBF, 0xBD };

static int isContinuation(uint8_t c)
{
	return (c & 0xC0) == 0x80;
}

/* A CESU-8 high surrogate (U+D800..U+DBFF) starts at p: ED A0..AF xx. */
static int isHighSurrogate(const uint8_t *p)
{
	return p[0] == 0xED && (p[1] & 0xF0) == 0xA0 && isContinuation(p[2]);
}

/* A CESU-8 low surrogate (U+DC00..U+DFFF) starts at p: ED B0..BF xx. */
static int isLowSurrogate(const uint8_t *p)
{
	return p[0] == 0xED && (p[1] & 0xF0) == 0xB0 && isContinuation(p[2]);
}

void xs_websock_utf8_write(xsMachine *the)
{
	const uint8_t *text, *src;
	void *stateData, *outData;
	xsUnsignedValue stateSize, outSize;
	uint32_t state[2];
	uint32_t units;
	xsIntegerValue start, end;
	uint8_t *dst, *stop;

	if (xsmcArgc < 5) xsTypeError("write(text, state, out, start, end)");
	xsType type = xsmcTypeOf(xsArg(0));
	if (type != xsStringType && type != xsStringXType) xsTypeError("text must be a string");
	xsmcGetBufferWritable(xsArg(1), &stateData, &stateSize);
	if (stateSize < sizeof(state)) xsRangeError("state must be 8 bytes (a Uint8Array over a Uint32Array of 2)");
	xsmcGetBufferWritable(xsArg(2), &outData, &outSize);
	start = xsmcToInteger(xsArg(3));
	end = xsmcToInteger(xsArg(4));
	if (start < 0 || end < start || (xsUnsignedValue)end > outSize) xsRangeError("out[start, end) is outside out");

	/* No XS call below this line: the string cannot move while it is read. */
	memcpy(state, stateData, sizeof(state));
	text = (const uint8_t *)xsmcToString(xsArg(0));
	src = text + state[0];
	units = state[1];
	if (isContinuation(*src)) xsRangeError("state is not a place in this string");
	dst = (uint8_t *)outData + start;
	stop = (uint8_t *)outData + end;

	while (units > 0) {
		uint8_t c = src[0];
		size_t room = (size_t)(stop - dst);
		if (c == 0) break;
		if (c < 0x80) {
			/* ASCII: a run of it at once. */
			if (room == 0) break;
			*dst++ = c;
			src++;
			units--;
			while (units > 0 && dst < stop && (c = *src) != 0 && c < 0x80) {
				*dst++ = c;
				src++;
				units--;
			}
			continue;
		}
		if (c == 0xC0 && src[1] == 0x80) {
			/* U+0000 (Modified UTF-8). */
			if (room < 1) break;
			*dst++ = 0;
			src += 2;
			units--;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF && isContinuation(src[1])) {
			if (room < 2) break;
			dst[0] = c;
			dst[1] = src[1];
			dst += 2;
			src += 2;
			units--;
			continue;
		}
		if ((c & 0xF0) == 0xE0 && isContinuation(src[1]) && isContinuation(src[2])) {
			if (c == 0xED && src[1] >= 0xA0) {
				/* A surrogate: src[2] is not NUL, so src[3..5] are within the string (its NUL at most). */
				if (isHighSurrogate(src) && units >= 2 && isLowSurrogate(src + 3)) {
					uint32_t high = ((uint32_t)(src[1] & 0x0F) << 6) | (src[2] & 0x3F);
					uint32_t low = ((uint32_t)(src[4] & 0x0F) << 6) | (src[5] & 0x3F);
					uint32_t code = 0x10000 + (high << 10) + low;
					if (room < 4) break;
					dst[0] = (uint8_t)(0xF0 | (code >> 18));
					dst[1] = (uint8_t)(0x80 | ((code >> 12) & 0x3F));
					dst[2] = (uint8_t)(0x80 | ((code >> 6) & 0x3F));
					dst[3] = (uint8_t)(0x80 | (code & 0x3F));
					dst += 4;
					src += 6;
					units -= 2;
					continue;
				}
				/* Lone, or a pair's first half cut by the unit budget. */
				if (room < 3) break;
				memcpy(dst, replacement, 3);
				dst += 3;
				src += 3;
				units--;
				continue;
			}
			if (room < 3) break;
			dst[0] = c;
			dst[1] = src[1];
			dst[2] = src[2];
			dst += 3;
			src += 3;
			units--;
			continue;
		}
		if ((c & 0xF8) == 0xF0 && isContinuation(src[1]) && isContinuation(src[2]) && isContinuation(src[3])) {
			/* A code point above U+FFFF (without mxCESU8): one unit to XS. */
			if (room < 4) break;
			memcpy(dst, src, 4);
			dst += 4;
			src += 4;
			units--;
			continue;
		}
		/* Not something XS makes: one unit of U+FFFD, its continuation bytes with it. */
		if (room < 3) break;
		memcpy(dst, replacement, 3);
		dst += 3;
		src++;
		while (isContinuation(*src)) src++;
		units--;
	}
	if (*src == 0) units = 0;

	state[0] = (uint32_t)(src - text);
	state[1] = units;
	memcpy(stateData, state, sizeof(state));
	xsmcSetInteger(xsResult, (xsIntegerValue)(dst - ((uint8_t *)outData + start)));
}
