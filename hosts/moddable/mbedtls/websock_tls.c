/*
 * websock's TLS engine on mbedTLS: an mbedtls_ssl_context whose BIO
 * callbacks read and write two fixed byte queues, never a socket. Sans-I/O,
 * like the protocol core: JavaScript feeds it the ciphertext the TCP socket
 * read (feed) and takes the ciphertext to write (take); it reads plaintext
 * out (read) and writes plaintext in (write). The same C runs under any XS
 * (the Moddable SDK on ESP32 and the simulator, the xsnap worker of the tests)
 * and over any byte source.
 *
 * Memory: one calloc per engine (the struct and both queues, sized once by
 * the constructor's queueSize), one entropy pool per process; mbedTLS allocates its record buffers
 * (MBEDTLS_SSL_IN/OUT_CONTENT_LEN, smaller where a max fragment length was
 * negotiated), the certificates and the handshake's state itself.
 * Every error path frees what it took: the struct is attached to its host
 * object before anything can throw, and close() or the destructor releases
 * all of it, whichever comes first.
 *
 * Compiles against mbedTLS 2.28 (Debian 12: TLS 1.2) and 3.x (ESP-IDF 5,
 * TLS 1.3 where MBEDTLS_SSL_PROTO_TLS1_3 is on); version guards where the
 * APIs differ.
 */

#include "xsmc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mbedtls/version.h"
#include "mbedtls/ssl.h"
#include "mbedtls/ctr_drbg.h"
#include "mbedtls/entropy.h"
#include "mbedtls/x509_crt.h"
#include "mbedtls/pk.h"
#include "mbedtls/sha256.h"
#include "mbedtls/error.h"
#if MBEDTLS_VERSION_MAJOR >= 3 && (defined(MBEDTLS_USE_PSA_CRYPTO) || defined(MBEDTLS_SSL_PROTO_TLS1_3))
#include "psa/crypto.h"
#define WS_TLS_PSA 1
#endif

#ifndef MBEDTLS_PRIVATE
/* 2.x: the struct members are public (3.x wraps the private ones in this macro). */
#define MBEDTLS_PRIVATE(member) member
#endif

#if MBEDTLS_VERSION_MAJOR >= 3 && defined(MBEDTLS_SSL_PROTO_TLS1_3)
#define WS_TLS_HAS_TLS13 1
#else
#define WS_TLS_HAS_TLS13 0
#endif

/* iPAddress subjectAltNames are matched by mbedTLS from 3.5 on; 2.28 matches DNS names (and the CN) only. */
#if MBEDTLS_VERSION_NUMBER >= 0x03050000
#define WS_TLS_HAS_IP_NAMES 1
#else
#define WS_TLS_HAS_IP_NAMES 0
#endif

/* The constructor's flags (hosts/moddable/mbedtls/tls-engine.js says the same). */
#define WS_TLS_VERIFY 1
#define WS_TLS_MIN_TLS13 2

#define WS_TLS_MAX_PINS 16
#define WS_TLS_MAX_ALPN 8
#define WS_TLS_MIN_QUEUE 256
#define WS_TLS_MAX_QUEUE (64 * 1024)

/* What read() returns besides a byte count. */
#define WS_TLS_READ_ENDED (-1)

enum {
	WS_TLS_HANDSHAKING = 0,
	WS_TLS_OPEN,
	WS_TLS_FAILED,
};

/* A ring of bytes of fixed size. */
typedef struct {
	uint8_t *data;
	size_t size;
	size_t start;
	size_t count;
} ws_queue;

typedef struct {
	mbedtls_ssl_context ssl;
	mbedtls_ssl_config conf;
	mbedtls_ctr_drbg_context drbg;
	mbedtls_x509_crt ca;
	mbedtls_x509_crt own;
	mbedtls_pk_context key;
	ws_queue in;
	ws_queue out;
	/* ALPN names: pointers into alpnText, NULL-terminated, as mbedtls_ssl_conf_alpn_protocols keeps them. */
	const char *alpn[WS_TLS_MAX_ALPN + 1];
	char *alpnText;
	uint8_t pins[WS_TLS_MAX_PINS][32];
	int pinCount;
	int pinFailed;
	int verify;
	int state;
	/* The TCP stream ended: recv reports end of file once the queue is empty. */
	int inputEnded;
	/* The failure: mbedTLS's code, the verify flags, the fatal alert received (-1: none). */
	int error;
	uint32_t flags;
	int alert;
	/* The server asked for a certificate (CertificateRequest): 1, 0, or -1 when this mbedTLS does not say. */
	int certificateRequested;
	uint8_t storage[];
} ws_tls;

/* ---- the queues ---- */

static size_t queue_put(ws_queue *q, const uint8_t *bytes, size_t length)
{
	size_t room = q->size - q->count;
	size_t n = length < room ? length : room;
	size_t done = 0;
	while (done < n) {
		size_t at = (q->start + q->count) % q->size;
		size_t run = q->size - at;
		if (run > n - done) run = n - done;
		memcpy(q->data + at, bytes + done, run);
		q->count += run;
		done += run;
	}
	return n;
}

static size_t queue_get(ws_queue *q, uint8_t *into, size_t length)
{
	size_t n = length < q->count ? length : q->count;
	size_t done = 0;
	while (done < n) {
		size_t run = q->size - q->start;
		if (run > n - done) run = n - done;
		memcpy(into + done, q->data + q->start, run);
		q->start = (q->start + run) % q->size;
		q->count -= run;
		done += run;
	}
	if (q->count == 0) q->start = 0;
	return n;
}

/* ---- mbedTLS's BIO: the queues instead of a socket ---- */

static int bio_send(void *context, const unsigned char *bytes, size_t length)
{
	ws_tls *tls = context;
	size_t n = queue_put(&tls->out, bytes, length);
	/* mbedTLS keeps what was not taken and sends it again: a partial write is allowed. */
	return n == 0 ? MBEDTLS_ERR_SSL_WANT_WRITE : (int)n;
}

static int bio_recv(void *context, unsigned char *into, size_t length)
{
	ws_tls *tls = context;
	size_t n = queue_get(&tls->in, into, length);
	if (n > 0) return (int)n;
	/* 0 is end of file to mbedTLS (MBEDTLS_ERR_SSL_CONN_EOF). */
	return tls->inputEnded ? 0 : MBEDTLS_ERR_SSL_WANT_READ;
}

/* ---- pinning: the leaf's SubjectPublicKeyInfo against pin_sha256 ---- */

static int sha256_of(const uint8_t *bytes, size_t length, uint8_t digest[32])
{
#if MBEDTLS_VERSION_MAJOR >= 3
	return mbedtls_sha256(bytes, length, digest, 0);
#else
	return mbedtls_sha256_ret(bytes, length, digest, 0);
#endif
}

/*
 * Called for each certificate of the chain as mbedTLS verifies it; depth 0
 * is the server's own. A pin that does not match fails the handshake before
 * the client sends anything more (its certificate included), verify or not.
 */
static int verify_certificate(void *context, mbedtls_x509_crt *crt, int depth, uint32_t *flags)
{
	ws_tls *tls = context;
	(void)flags;
	if (depth != 0 || tls->pinCount == 0) return 0;
	const mbedtls_x509_buf *spki = &crt->pk_raw;
	uint8_t digest[32];
	if (sha256_of(spki->p, spki->len, digest) != 0) {
		tls->pinFailed = 1;
		return MBEDTLS_ERR_X509_FATAL_ERROR;
	}
	for (int i = 0; i < tls->pinCount; i++) {
		if (memcmp(digest, tls->pins[i], 32) == 0) return 0;
	}
	tls->pinFailed = 1;
	return MBEDTLS_ERR_X509_FATAL_ERROR;
}

/*
 * One entropy pool for every engine of the process, made on first use and
 * kept: each engine seeds (and reseeds) its own DRBG from it. Per engine it
 * would cost RAM for nothing (38 KB on Debian's 2.28, whose pool includes
 * HAVEGE). mbedtls_entropy_func locks the pool where MBEDTLS_THREADING_C is
 * on (ESP-IDF); XS machines of one process that are not threads of their
 * own (the simulator, xsnap) need no lock.
 */
static mbedtls_entropy_context entropy_pool;
static int entropy_pool_ready;

static mbedtls_entropy_context *shared_entropy(void)
{
	if (!entropy_pool_ready) {
		mbedtls_entropy_init(&entropy_pool);
		entropy_pool_ready = 1;
	}
	return &entropy_pool;
}

/* ---- life ---- */

static void tls_release(ws_tls *tls)
{
	if (tls == NULL) return;
	mbedtls_ssl_free(&tls->ssl);
	mbedtls_ssl_config_free(&tls->conf);
	mbedtls_ctr_drbg_free(&tls->drbg);
	mbedtls_x509_crt_free(&tls->ca);
	mbedtls_x509_crt_free(&tls->own);
	mbedtls_pk_free(&tls->key);
	free(tls->alpnText);
	free(tls);
}

void xs_websock_tls_destructor(void *data)
{
	tls_release(data);
}

/* The engine of `this`, or a throw once it was closed. */
static ws_tls *engine_of(xsMachine *the)
{
	ws_tls *tls = xsmcGetHostData(xsThis);
	if (tls == NULL) xsUnknownError("the TLS engine is closed");
	return tls;
}

/* mbedTLS's parsers want PEM text NUL-terminated, its length counting the NUL; DER as it is. */
static int parse_certificates(mbedtls_x509_crt *chain, const uint8_t *bytes, size_t length)
{
	if (length > 0 && bytes[0] == '-') {
		uint8_t *text = malloc(length + 1);
		if (text == NULL) return MBEDTLS_ERR_X509_ALLOC_FAILED;
		memcpy(text, bytes, length);
		text[length] = 0;
		int r = mbedtls_x509_crt_parse(chain, text, length + 1);
		free(text);
		return r;
	}
	return mbedtls_x509_crt_parse_der(chain, bytes, length);
}

static int parse_key(ws_tls *tls, const uint8_t *bytes, size_t length)
{
	int pem = length > 0 && bytes[0] == '-';
	uint8_t *text = malloc(length + 1);
	if (text == NULL) return MBEDTLS_ERR_PK_ALLOC_FAILED;
	memcpy(text, bytes, length);
	text[length] = 0;
	size_t size = pem ? length + 1 : length;
#if MBEDTLS_VERSION_MAJOR >= 3
	int r = mbedtls_pk_parse_key(&tls->key, text, size, NULL, 0, mbedtls_ctr_drbg_random, &tls->drbg);
#else
	int r = mbedtls_pk_parse_key(&tls->key, text, size, NULL, 0);
#endif
	/* The key's bytes are secret: wiped before they go back to the heap. */
	memset(text, 0, length + 1);
	free(text);
	return r;
}

/* Frees the engine of `this` and throws `message` (with mbedTLS's code when not 0). */
static void fail_construction(xsMachine *the, ws_tls *tls, const char *message, int code)
{
	xsmcSetHostData(xsThis, NULL);
	tls_release(tls);
	if (code != 0) xsUnknownError("%s (mbedTLS -0x%04x)", message, (unsigned)-code);
	xsUnknownError("%s", message);
}

/* Reads a byte view argument (ArrayBuffer, typed array, DataView) into data/length; false when undefined. */
static int buffer_arg(xsMachine *the, int index, void **data, xsUnsignedValue *length)
{
	if (xsmcArgc <= index || xsmcTest(xsArg(index)) == 0) return 0;
	xsmcGetBufferReadable(xsArg(index), data, length);
	return 1;
}

/*
 * new TLSEngine(serverName, flags, cas, cert, key, alpn, pins, queueSize, maxFragment)
 *  serverName  SNI and the name verified ("" for none)
 *  flags       WS_TLS_VERIFY | WS_TLS_MIN_TLS13
 *  cas         an array of certificates (PEM or DER bytes, each may hold several), or undefined
 *  cert, key   the client's chain and key (PEM or DER bytes), or undefined
 *  alpn        an array of protocol names, or undefined
 *  pins        SHA-256 digests, 32 bytes each, concatenated, or undefined
 *  queueSize   bytes of each ciphertext queue
 *  maxFragment 0, or 512, 1024, 2048, 4096 (RFC 6066 max_fragment_length)
 */
void xs_websock_tls_constructor(xsMachine *the)
{
	int argc = xsmcArgc;
	if (argc < 8) xsTypeError("TLSEngine: 8 or 9 arguments");
	xsIntegerValue queueSize = xsmcToInteger(xsArg(7));
	if (queueSize < WS_TLS_MIN_QUEUE || queueSize > WS_TLS_MAX_QUEUE) xsRangeError("TLSEngine: queueSize out of range");
	xsIntegerValue flags = xsmcToInteger(xsArg(1));
	xsIntegerValue maxFragment = argc > 8 ? xsmcToInteger(xsArg(8)) : 0;
	xsmcVars(3);

	ws_tls *tls = calloc(1, sizeof(ws_tls) + 2 * (size_t)queueSize);
	if (tls == NULL) xsUnknownError("TLSEngine: not enough memory");
	mbedtls_ssl_init(&tls->ssl);
	mbedtls_ssl_config_init(&tls->conf);
	mbedtls_ctr_drbg_init(&tls->drbg);
	mbedtls_x509_crt_init(&tls->ca);
	mbedtls_x509_crt_init(&tls->own);
	mbedtls_pk_init(&tls->key);
	tls->in.data = tls->storage;
	tls->in.size = (size_t)queueSize;
	tls->out.data = tls->storage + queueSize;
	tls->out.size = (size_t)queueSize;
	tls->alert = -1;
	tls->verify = (flags & WS_TLS_VERIFY) != 0;
	/* Owned by the host object from here on: a throw below leaves nothing unreachable. */
	xsmcSetHostData(xsThis, tls);

	int r;
#ifdef WS_TLS_PSA
	if (psa_crypto_init() != PSA_SUCCESS) fail_construction(the, tls, "TLSEngine: PSA crypto could not start", 0);
#endif
	static const char personalization[] = "websock tls";
	r = mbedtls_ctr_drbg_seed(&tls->drbg, mbedtls_entropy_func, shared_entropy(), (const unsigned char *)personalization, sizeof(personalization) - 1);
	if (r != 0) fail_construction(the, tls, "TLSEngine: the random generator could not be seeded", r);

	r = mbedtls_ssl_config_defaults(&tls->conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
	if (r != 0) fail_construction(the, tls, "TLSEngine: mbedTLS's defaults could not be set", r);
	mbedtls_ssl_conf_rng(&tls->conf, mbedtls_ctr_drbg_random, &tls->drbg);

	/* TLS 1.2 at least (RFC 8996 deprecates 1.0 and 1.1); 1.3 where this mbedTLS has it. */
#if MBEDTLS_VERSION_MAJOR >= 3
	mbedtls_ssl_conf_min_tls_version(&tls->conf, (flags & WS_TLS_MIN_TLS13) ? MBEDTLS_SSL_VERSION_TLS1_3 : MBEDTLS_SSL_VERSION_TLS1_2);
	mbedtls_ssl_conf_max_tls_version(&tls->conf, WS_TLS_HAS_TLS13 ? MBEDTLS_SSL_VERSION_TLS1_3 : MBEDTLS_SSL_VERSION_TLS1_2);
#else
	if (flags & WS_TLS_MIN_TLS13) fail_construction(the, tls, "TLSEngine: this mbedTLS has no TLS 1.3", 0);
	mbedtls_ssl_conf_min_version(&tls->conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
	mbedtls_ssl_conf_max_version(&tls->conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
#endif

	/* verify false: the chain is still parsed and the pins checked, but its flags do not fail the handshake. */
	mbedtls_ssl_conf_authmode(&tls->conf, tls->verify ? MBEDTLS_SSL_VERIFY_REQUIRED : MBEDTLS_SSL_VERIFY_OPTIONAL);
	mbedtls_ssl_conf_verify(&tls->conf, verify_certificate, tls);

	if (xsmcTest(xsArg(2))) {
		xsmcGet(xsVar(0), xsArg(2), xsID("length"));
		xsIntegerValue count = xsmcToInteger(xsVar(0));
		for (xsIntegerValue i = 0; i < count; i++) {
			void *data;
			xsUnsignedValue length;
			xsmcSetInteger(xsVar(2), i);
			xsmcGetAt(xsVar(1), xsArg(2), xsVar(2));
			xsmcGetBufferReadable(xsVar(1), &data, &length);
			r = parse_certificates(&tls->ca, data, length);
			/* x509_crt_parse returns the count of certificates it skipped when some parsed: those are refused too. */
			if (r != 0) fail_construction(the, tls, "ssl_config.ca: mbedTLS cannot parse a certificate", r < 0 ? r : 0);
		}
		mbedtls_ssl_conf_ca_chain(&tls->conf, &tls->ca, NULL);
	}

	void *data;
	xsUnsignedValue length;
	if (buffer_arg(the, 3, &data, &length)) {
		r = parse_certificates(&tls->own, data, length);
		if (r != 0) fail_construction(the, tls, "ssl_config.cert: mbedTLS cannot parse the certificate", r < 0 ? r : 0);
		if (!buffer_arg(the, 4, &data, &length)) fail_construction(the, tls, "ssl_config.cert is set without ssl_config.key", 0);
		r = parse_key(tls, data, length);
		if (r != 0) fail_construction(the, tls, "ssl_config.key: mbedTLS cannot parse the private key", r);
		r = mbedtls_ssl_conf_own_cert(&tls->conf, &tls->own, &tls->key);
		if (r != 0) fail_construction(the, tls, "ssl_config.cert and ssl_config.key cannot be used together", r);
	}

#ifdef MBEDTLS_SSL_ALPN
	if (xsmcTest(xsArg(5))) {
		xsmcGet(xsVar(0), xsArg(5), xsID("length"));
		xsIntegerValue count = xsmcToInteger(xsVar(0));
		if (count > WS_TLS_MAX_ALPN) fail_construction(the, tls, "ssl_config.alpn: at most 8 names on mbedTLS", 0);
		size_t total = 0;
		for (xsIntegerValue i = 0; i < count; i++) {
			xsmcSetInteger(xsVar(2), i);
			xsmcGetAt(xsVar(1), xsArg(5), xsVar(2));
			total += strlen(xsmcToString(xsVar(1))) + 1;
		}
		tls->alpnText = malloc(total > 0 ? total : 1);
		if (tls->alpnText == NULL) fail_construction(the, tls, "TLSEngine: not enough memory", 0);
		char *at = tls->alpnText;
		for (xsIntegerValue i = 0; i < count; i++) {
			xsmcSetInteger(xsVar(2), i);
			xsmcGetAt(xsVar(1), xsArg(5), xsVar(2));
			const char *name = xsmcToString(xsVar(1));
			size_t n = strlen(name);
			if (at + n + 1 > tls->alpnText + total) fail_construction(the, tls, "ssl_config.alpn changed while read", 0);
			memcpy(at, name, n + 1);
			tls->alpn[i] = at;
			at += n + 1;
		}
		tls->alpn[count] = NULL;
		if (count > 0) {
			r = mbedtls_ssl_conf_alpn_protocols(&tls->conf, tls->alpn);
			if (r != 0) fail_construction(the, tls, "ssl_config.alpn: mbedTLS refused the names", r);
		}
	}
#else
	if (xsmcTest(xsArg(5))) fail_construction(the, tls, "ssl_config.alpn: this mbedTLS was built without ALPN", 0);
#endif

	if (buffer_arg(the, 6, &data, &length)) {
		if (length % 32 != 0 || length / 32 > WS_TLS_MAX_PINS) fail_construction(the, tls, "ssl_config.pin_sha256: at most 16 SHA-256 digests", 0);
		memcpy(tls->pins, data, length);
		tls->pinCount = (int)(length / 32);
	}

#ifdef MBEDTLS_SSL_MAX_FRAGMENT_LENGTH
	if (maxFragment != 0) {
		unsigned char code = maxFragment == 512 ? MBEDTLS_SSL_MAX_FRAG_LEN_512 : maxFragment == 1024 ? MBEDTLS_SSL_MAX_FRAG_LEN_1024
			: maxFragment == 2048 ? MBEDTLS_SSL_MAX_FRAG_LEN_2048 : maxFragment == 4096 ? MBEDTLS_SSL_MAX_FRAG_LEN_4096 : MBEDTLS_SSL_MAX_FRAG_LEN_INVALID;
		if (code == MBEDTLS_SSL_MAX_FRAG_LEN_INVALID) fail_construction(the, tls, "maxFragment must be 0, 512, 1024, 2048 or 4096", 0);
		r = mbedtls_ssl_conf_max_frag_len(&tls->conf, code);
		if (r != 0) fail_construction(the, tls, "maxFragment: mbedTLS refused it", r);
	}
#else
	if (maxFragment != 0) fail_construction(the, tls, "maxFragment: this mbedTLS was built without max_fragment_length", 0);
#endif

	r = mbedtls_ssl_setup(&tls->ssl, &tls->conf);
	if (r != 0) fail_construction(the, tls, "TLSEngine: the TLS context could not be set up (memory?)", r);
	const char *serverName = xsmcToString(xsArg(0));
	if (serverName[0] != 0) {
		/* Both SNI (RFC 6066 §3) and the name the certificate must carry. */
		r = mbedtls_ssl_set_hostname(&tls->ssl, serverName);
		if (r != 0) fail_construction(the, tls, "ssl_config.server_name: mbedTLS refused it", r);
	}
	mbedtls_ssl_set_bio(&tls->ssl, tls, bio_send, bio_recv, NULL);
}

/*
 * The byte view of (bytes, offset?, count?): a view into the caller's
 * buffer, no copy, no allocation. Offset and count are read first, so that
 * nothing runs between taking the pointer and using it.
 */
static void view_arg(xsMachine *the, int writable, uint8_t **data, xsUnsignedValue *length)
{
	int argc = xsmcArgc;
	xsIntegerValue offset = argc > 1 ? xsmcToInteger(xsArg(1)) : 0;
	xsIntegerValue count = argc > 2 ? xsmcToInteger(xsArg(2)) : -1;
	void *bytes;
	xsUnsignedValue size;
	if (writable) xsmcGetBufferWritable(xsArg(0), &bytes, &size);
	else xsmcGetBufferReadable(xsArg(0), &bytes, &size);
	if (count < 0 && argc > 2) xsRangeError("TLSEngine: negative count");
	if (offset < 0 || (xsUnsignedValue)offset > size) xsRangeError("TLSEngine: offset outside the buffer");
	if (count < 0) count = (xsIntegerValue)(size - (xsUnsignedValue)offset);
	if ((xsUnsignedValue)count > size - (xsUnsignedValue)offset) xsRangeError("TLSEngine: count past the end of the buffer");
	*data = (uint8_t *)bytes + offset;
	*length = (xsUnsignedValue)count;
}

/* Records a failure: the code, the verify flags, the fatal alert the peer sent. */
static int record_failure(ws_tls *tls, int code)
{
	tls->state = WS_TLS_FAILED;
	tls->error = code;
	tls->flags = mbedtls_ssl_get_verify_result(&tls->ssl);
	if (code == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE) {
		/* mbedTLS keeps the alert it read in in_msg (level, description). */
		const unsigned char *message = tls->ssl.MBEDTLS_PRIVATE(in_msg);
		if (message != NULL) tls->alert = message[1];
	}
#if MBEDTLS_VERSION_MAJOR < 3
	tls->certificateRequested = tls->ssl.client_auth != 0;
#else
	/*
	 * 3.x keeps CertificateRequest in its private handshake state. What it
	 * shows: a TLS 1.2 refusal after the client's last flight (its
	 * certificate, its Finished) is a refusal of that flight, which with a
	 * server that asked for a certificate means of the certificate; so that
	 * counts as "asked". TLS 1.3 servers say certificate_required (116).
	 */
	int state = tls->ssl.MBEDTLS_PRIVATE(state);
	int afterClientFlight = (state >= MBEDTLS_SSL_SERVER_CHANGE_CIPHER_SPEC && state <= MBEDTLS_SSL_HANDSHAKE_WRAPUP) || state == MBEDTLS_SSL_NEW_SESSION_TICKET;
	tls->certificateRequested = afterClientFlight ? 1 : -1;
#endif
	return code;
}

/* handshake(): 0 done, 1 waiting for bytes (or room), < 0 failed (see failure()). */
void xs_websock_tls_handshake(xsMachine *the)
{
	ws_tls *tls = engine_of(the);
	int r = 0;
	if (tls->state == WS_TLS_HANDSHAKING) {
		r = mbedtls_ssl_handshake(&tls->ssl);
		if (r == 0) tls->state = WS_TLS_OPEN;
		else if (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE) r = 1;
		else record_failure(tls, r);
	}
	else if (tls->state == WS_TLS_FAILED) r = tls->error;
	xsmcSetInteger(xsResult, r);
}

/* feed(bytes, offset?, count?): ciphertext read from the network; returns how many bytes the queue took. */
void xs_websock_tls_feed(xsMachine *the)
{
	ws_tls *tls = engine_of(the);
	uint8_t *data;
	xsUnsignedValue length;
	view_arg(the, 0, &data, &length);
	xsmcSetInteger(xsResult, (xsIntegerValue)queue_put(&tls->in, data, length));
}

/* room(): how many more ciphertext bytes feed() takes now. */
void xs_websock_tls_room(xsMachine *the)
{
	ws_tls *tls = engine_of(the);
	xsmcSetInteger(xsResult, (xsIntegerValue)(tls->in.size - tls->in.count));
}

/* end(): the network stream ended (FIN); mbedTLS sees end of file once the queue is read. */
void xs_websock_tls_end(xsMachine *the)
{
	engine_of(the)->inputEnded = 1;
}

/* take(into, offset?, count?): moves ciphertext to write to the network into `into`; returns the count. */
void xs_websock_tls_take(xsMachine *the)
{
	ws_tls *tls = engine_of(the);
	uint8_t *data;
	xsUnsignedValue length;
	view_arg(the, 1, &data, &length);
	xsmcSetInteger(xsResult, (xsIntegerValue)queue_get(&tls->out, data, length));
}

/* pending(): ciphertext bytes waiting to be taken. */
void xs_websock_tls_pending(xsMachine *the)
{
	xsmcSetInteger(xsResult, (xsIntegerValue)engine_of(the)->out.count);
}

/* read(into, offset?, count?): plaintext count (> 0), 0 when none is complete yet, -1 when the peer ended, else mbedTLS's error (< -1). */
void xs_websock_tls_read(xsMachine *the)
{
	ws_tls *tls = engine_of(the);
	uint8_t *data;
	xsUnsignedValue length;
	view_arg(the, 1, &data, &length);
	int r;
	if (tls->state != WS_TLS_OPEN) r = tls->state == WS_TLS_FAILED ? tls->error : 0;
	else if (length == 0) r = 0;
	else {
		for (;;) {
			r = mbedtls_ssl_read(&tls->ssl, data, length);
#ifdef MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET
			/* TLS 1.3: a ticket after the handshake; nothing for the application, read on. */
			if (r == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET) continue;
#endif
			break;
		}
		if (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE) r = 0;
		/* close_notify (RFC 5246 §7.2.1), or a FIN: the stream is over either way. */
		else if (r == 0 || r == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY || r == MBEDTLS_ERR_SSL_CONN_EOF) r = WS_TLS_READ_ENDED;
		else if (r < 0) record_failure(tls, r);
	}
	xsmcSetInteger(xsResult, r);
}

/*
 * write(bytes, offset?, count?): encrypts as much of `bytes` as the out queue has room for as
 * one record, whole: returns the count taken (0 when there is no room), or
 * mbedTLS's error. Never more than fits, so mbedTLS never holds a half-sent
 * record of application data between calls.
 */
void xs_websock_tls_write(xsMachine *the)
{
	ws_tls *tls = engine_of(the);
	uint8_t *data;
	xsUnsignedValue length;
	view_arg(the, 0, &data, &length);
	int r = 0;
	if (tls->state == WS_TLS_FAILED) r = tls->error;
	else if (tls->state == WS_TLS_OPEN && length > 0) {
		int expansion = mbedtls_ssl_get_record_expansion(&tls->ssl);
		size_t room = tls->out.size - tls->out.count;
		int payload = mbedtls_ssl_get_max_out_record_payload(&tls->ssl);
		if (expansion < 0) expansion = 256;
		size_t n = length;
		if (payload > 0 && n > (size_t)payload) n = (size_t)payload;
		if (room <= (size_t)expansion) n = 0;
		else if (n > room - (size_t)expansion) n = room - (size_t)expansion;
		if (n > 0) {
			r = mbedtls_ssl_write(&tls->ssl, data, n);
			if (r == MBEDTLS_ERR_SSL_WANT_WRITE || r == MBEDTLS_ERR_SSL_WANT_READ) {
				/* Cannot happen with the room checked; fail rather than lose bytes. */
				r = record_failure(tls, MBEDTLS_ERR_SSL_INTERNAL_ERROR);
			}
			else if (r < 0) record_failure(tls, r);
		}
	}
	xsmcSetInteger(xsResult, r);
}

/* closeNotify(): queues close_notify (RFC 5246 §7.2.1) when there is room; the stream ends either way. */
void xs_websock_tls_close_notify(xsMachine *the)
{
	ws_tls *tls = engine_of(the);
	int r = 0;
	if (tls->state == WS_TLS_OPEN) {
		r = mbedtls_ssl_close_notify(&tls->ssl);
		if (r == MBEDTLS_ERR_SSL_WANT_WRITE) r = 0;
	}
	xsmcSetInteger(xsResult, r);
}

/* failure(): { code, flags, alert, pin, certificateRequested, message } of the failure recorded. */
void xs_websock_tls_failure(xsMachine *the)
{
	ws_tls *tls = engine_of(the);
	xsmcVars(1);
	xsmcSetNewObject(xsResult);
	xsmcSetInteger(xsVar(0), tls->error);
	xsmcSet(xsResult, xsID("code"), xsVar(0));
	xsmcSetNumber(xsVar(0), (double)tls->flags);
	xsmcSet(xsResult, xsID("flags"), xsVar(0));
	xsmcSetInteger(xsVar(0), tls->alert);
	xsmcSet(xsResult, xsID("alert"), xsVar(0));
	xsmcSetBoolean(xsVar(0), tls->pinFailed);
	xsmcSet(xsResult, xsID("pin"), xsVar(0));
	xsmcSetInteger(xsVar(0), tls->certificateRequested);
	xsmcSet(xsResult, xsID("certificateRequested"), xsVar(0));
	xsmcSetInteger(xsVar(0), tls->ssl.MBEDTLS_PRIVATE(state));
	xsmcSet(xsResult, xsID("state"), xsVar(0));
	char text[128];
	text[0] = 0;
#ifdef MBEDTLS_ERROR_C
	if (tls->error != 0) mbedtls_strerror(tls->error, text, sizeof(text));
#endif
	xsmcSetString(xsVar(0), text);
	xsmcSet(xsResult, xsID("message"), xsVar(0));
}

/* info(): { version, cipher, alpn } once open. */
void xs_websock_tls_info(xsMachine *the)
{
	ws_tls *tls = engine_of(the);
	xsmcVars(1);
	if (tls->state != WS_TLS_OPEN) return;
	xsmcSetNewObject(xsResult);
	xsmcSetString(xsVar(0), (char *)mbedtls_ssl_get_version(&tls->ssl));
	xsmcSet(xsResult, xsID("version"), xsVar(0));
	/* mbedTLS names suites "TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256": the IANA name has underscores. */
	/* And TLS 1.3's "TLS1-3-AES-128-GCM-SHA256" is TLS_AES_128_GCM_SHA256 (RFC 8446 §B.4). */
	char suite[80];
	const char *name = mbedtls_ssl_get_ciphersuite(&tls->ssl);
	size_t i = 0;
	if (name != NULL && strncmp(name, "TLS1-3-", 7) == 0) {
		memcpy(suite, "TLS_", 4);
		i = 4;
		name += 7 - 4;
	}
	for (; name != NULL && name[i] != 0 && i < sizeof(suite) - 1; i++) suite[i] = name[i] == '-' ? '_' : name[i];
	suite[i] = 0;
	xsmcSetString(xsVar(0), suite);
	xsmcSet(xsResult, xsID("cipher"), xsVar(0));
#ifdef MBEDTLS_SSL_ALPN
	const char *alpn = mbedtls_ssl_get_alpn_protocol(&tls->ssl);
#else
	const char *alpn = NULL;
#endif
	xsmcSetString(xsVar(0), (char *)(alpn != NULL ? alpn : ""));
	xsmcSet(xsResult, xsID("alpn"), xsVar(0));
}

/* close(): frees everything now (the destructor would, at the next collection). */
void xs_websock_tls_close(xsMachine *the)
{
	ws_tls *tls = xsmcGetHostData(xsThis);
	xsmcSetHostData(xsThis, NULL);
	tls_release(tls);
}

/* TLSEngine.capabilities(): what the linked mbedTLS can do, for checkSsl. */
void xs_websock_tls_capabilities(xsMachine *the)
{
	xsmcVars(1);
	xsmcSetNewObject(xsResult);
	char version[32];
	mbedtls_version_get_string_full(version);
	xsmcSetString(xsVar(0), version);
	xsmcSet(xsResult, xsID("version"), xsVar(0));
	xsmcSetBoolean(xsVar(0), WS_TLS_HAS_TLS13);
	xsmcSet(xsResult, xsID("tls13"), xsVar(0));
	xsmcSetBoolean(xsVar(0), WS_TLS_HAS_IP_NAMES);
	xsmcSet(xsResult, xsID("ipNames"), xsVar(0));
#ifdef MBEDTLS_SSL_ALPN
	xsmcSetBoolean(xsVar(0), 1);
#else
	xsmcSetBoolean(xsVar(0), 0);
#endif
	xsmcSet(xsResult, xsID("alpn"), xsVar(0));
	xsmcSetInteger(xsVar(0), MBEDTLS_SSL_IN_CONTENT_LEN);
	xsmcSet(xsResult, xsID("inContentLength"), xsVar(0));
	xsmcSetInteger(xsVar(0), MBEDTLS_SSL_OUT_CONTENT_LEN);
	xsmcSet(xsResult, xsID("outContentLength"), xsVar(0));
	/* The engine's own block is this plus its two queues (one calloc). */
	xsmcSetInteger(xsVar(0), (xsIntegerValue)sizeof(ws_tls));
	xsmcSet(xsResult, xsID("engineSize"), xsVar(0));
}
