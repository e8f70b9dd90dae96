#ifndef CGRANARY_ZSTD_SHIM_H
#define CGRANARY_ZSTD_SHIM_H
#include <zstd.h>
#include <zstd_errors.h>

/// ZSTD_isError is a function but its result is `unsigned`; this keeps the call sites boolean.
static inline int cgranary_zstd_is_error(size_t code) { return ZSTD_isError(code) != 0; }
#endif
