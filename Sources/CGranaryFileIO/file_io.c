#define _GNU_SOURCE
#include <fcntl.h>
#include <errno.h>
#include <unistd.h>
#include <sys/syscall.h>

#include "granary_file_io.h"

int granary_start_writeback(int fd, int64_t offset, int64_t length) {
#ifdef __linux__
    return sync_file_range(fd, offset, length, SYNC_FILE_RANGE_WRITE);
#else
    (void)fd; (void)offset; (void)length;
    return 0;
#endif
}

#ifndef SYS_cachestat
#define SYS_cachestat 451
#endif

struct granary_cachestat_range { uint64_t off; uint64_t len; };
struct granary_cachestat { uint64_t nr_cache, nr_dirty, nr_writeback, nr_evicted, nr_recently_evicted; };

int granary_cached_bytes(int fd, int64_t offset, int64_t length, int64_t *cached) {
#ifdef __linux__
    int64_t page = sysconf(_SC_PAGESIZE);
    int64_t start = offset / page * page;
    struct granary_cachestat_range range = { (uint64_t)start, (uint64_t)(offset + length - start) };
    struct granary_cachestat stat;
    if (syscall(SYS_cachestat, fd, &range, &stat, 0) != 0) return -1;
    *cached = (int64_t)stat.nr_cache * page;
    return 0;
#else
    (void)fd; (void)offset; (void)length; (void)cached;
    errno = ENOSYS;
    return -1;
#endif
}
