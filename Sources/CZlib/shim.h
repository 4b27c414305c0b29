#ifndef NODEAUDIT_CZLIB_SHIM_H
#define NODEAUDIT_CZLIB_SHIM_H
// zlib (Debian zlib1g-dev), for reading rotated, gzip-compressed audit logs.
#include <zlib.h>

// inflateInit2 is a macro; Swift sees only functions.
static inline int nodeaudit_inflate_init(z_stream *stream) {
    // 15 + 32: a window of 32 KiB, and a gzip or zlib header detected.
    return inflateInit2(stream, 15 + 32);
}
#endif
