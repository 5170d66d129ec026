#!/bin/sh
# Measurement only: copies Debian's static mbedTLS libraries (libmbedtls-dev)
# into DIR with their calloc and free renamed to ws_heap_calloc and
# ws_heap_free (tools/moddable-tls-app/memory_probe.c counts them), and prints
# the WEBSOCK_MBEDTLS_LIBS value that links the copies instead of the shared
# libraries:
#
#   WEBSOCK_MBEDTLS_LIBS=$(sh tools/moddable-tls/heap-libs.sh /tmp/websock-heap-libs) \
#     WEBSOCK_TLS_LIN=$PWD/hosts/moddable/mbedtls/manifest.json mcconfig ...
#
# One token, commas for spaces: mcconfig escapes the spaces of a "build" value.
set -eu
DIR=${1:?usage: heap-libs.sh DIR}
LIBS=${MBEDTLS_LIBDIR:-/usr/lib/x86_64-linux-gnu}
mkdir -p "$DIR"
VALUE="-Wl"
for l in libmbedtls.a libmbedx509.a libmbedcrypto.a; do
	objcopy --redefine-sym calloc=ws_heap_calloc --redefine-sym free=ws_heap_free "$LIBS/$l" "$DIR/$l"
	VALUE="$VALUE,$DIR/$l"
done
echo "$VALUE"
