#ifndef CGRANARY_CRC32C_H
#define CGRANARY_CRC32C_H
#include <stddef.h>
#include <stdint.h>

/// CRC32C (Castagnoli) of `length` bytes, continuing from `crc` (0 to start).
/// Uses the SSE4.2 `crc32` instruction when the CPU has it, a table otherwise.
uint32_t cgranary_crc32c(uint32_t crc, const void *data, size_t length);

/// 1 when the hardware path is in use.
/// The checksum of `length` bytes at `source`, continuing from `crc`, while copying them to
/// `destination` (which must not overlap `source`): one pass instead of a copy and a checksum.
uint32_t cgranary_crc32c_copy(uint32_t crc, void *destination, const void *source, size_t length);

int cgranary_crc32c_hardware(void);
#endif
