#ifndef EDGETOP_CZLIB_SHIM_H
#define EDGETOP_CZLIB_SHIM_H
#include <zlib.h>

// inflateInit2 is a macro; wrap it. windowBits 15 + 32 accepts gzip and zlib headers.
static inline int c_inflate_init_auto(z_stream *s) { return inflateInit2(s, 15 + 32); }
// deflateInit2 likewise; windowBits 15 + 16 writes a gzip header.
static inline int c_deflate_init_gzip(z_stream *s, int level) {
    return deflateInit2(s, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
}
#endif
