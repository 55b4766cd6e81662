#ifndef EDGETOP_CZLIB_SHIM_H
#define EDGETOP_CZLIB_SHIM_H
#include <zlib.h>

// inflateInit2 is a macro; wrap it. windowBits 15 + 32 accepts gzip and zlib headers.
static inline int c_inflate_init_auto(z_stream *s) { return inflateInit2(s, 15 + 32); }
#endif
