#ifndef GRANARY_FILE_IO_H
#define GRANARY_FILE_IO_H

#include <stdint.h>

/// Starts writeback of the dirty pages of `length` bytes at `offset` without waiting for it
/// (Linux sync_file_range with SYNC_FILE_RANGE_WRITE; hidden behind _GNU_SOURCE in Swift's
/// Glibc module). Not a durability barrier: fdatasync still is. Returns 0, or -1 with errno.
int granary_start_writeback(int fd, int64_t offset, int64_t length);

/// How many bytes of `length` at `offset` are in the page cache (Linux 6.5 cachestat, which
/// neither reads nor maps anything). Returns 0 with the count in `cached`, or -1 with errno
/// (ENOSYS on older kernels).
int granary_cached_bytes(int fd, int64_t offset, int64_t length, int64_t *cached);

#endif
