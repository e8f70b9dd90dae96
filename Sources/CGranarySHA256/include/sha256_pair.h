#ifndef CGRANARY_SHA256_PAIR_H
#define CGRANARY_SHA256_PAIR_H
#include <stddef.h>
#include <stdint.h>

/// A streaming SHA-256 whose blocks can be compressed two messages at a time.
typedef struct {
    uint32_t state[8];
    uint64_t length;
    uint8_t buffer[64];
    uint32_t buffered;
} cgranary_sha256;

/// Whether this CPU has the SHA extensions the functions below need (they must not be called
/// otherwise).
int cgranary_sha256_pair_available(void);

void cgranary_sha256_init(cgranary_sha256 *ctx);
void cgranary_sha256_update(cgranary_sha256 *ctx, const void *data, size_t length);
/// Adds `length` bytes to each of two messages, compressing their blocks side by side.
void cgranary_sha256_update2(cgranary_sha256 *a, const void *data_a, cgranary_sha256 *b, const void *data_b, size_t length);
/// Writes the 32-byte digest.
void cgranary_sha256_final(cgranary_sha256 *ctx, void *digest);
#endif
