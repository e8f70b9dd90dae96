#include "crc32c.h"
#include <pthread.h>
#include <string.h>

#define POLY 0x82F63B78u

#if defined(__x86_64__)
#include <nmmintrin.h>

// The crc32 instruction has a latency of three cycles and a throughput of one per cycle, so
// three independent streams over adjacent blocks run about three times as fast as one; the
// three CRCs are then combined by "appending zeros" to the first two, with operators computed
// once (Mark Adler's construction, as in his crc32c.c, zlib licence).
#define LONG_BLOCK 8192
#define SHORT_BLOCK 256

static uint32_t shift_long[4][256];
static uint32_t shift_short[4][256];
static pthread_once_t shift_once = PTHREAD_ONCE_INIT;

/// `mat` (32 columns over GF(2)) times `vec`.
static uint32_t gf2_matrix_times(const uint32_t *mat, uint32_t vec) {
    uint32_t sum = 0;
    while (vec) {
        if (vec & 1) sum ^= *mat;
        vec >>= 1;
        mat++;
    }
    return sum;
}

static void gf2_matrix_square(uint32_t *square, const uint32_t *mat) {
    for (int n = 0; n < 32; n++) square[n] = gf2_matrix_times(mat, mat[n]);
}

/// The operator that feeds `len` zero bytes (a power of two) through a CRC.
static void zeros_operator(uint32_t *even, size_t len) {
    uint32_t odd[32];
    odd[0] = POLY;  // one zero bit
    uint32_t row = 1;
    for (int n = 1; n < 32; n++) {
        odd[n] = row;
        row <<= 1;
    }
    gf2_matrix_square(even, odd);  // two zero bits
    gf2_matrix_square(odd, even);  // four zero bits
    do {
        gf2_matrix_square(even, odd);  // first pass: one zero byte
        len >>= 1;
        if (len == 0) return;
        gf2_matrix_square(odd, even);
        len >>= 1;
    } while (len);
    for (int n = 0; n < 32; n++) even[n] = odd[n];
}

/// Byte-wise tables of the zeros operator for `len`, so applying it costs four lookups.
static void zeros_tables(uint32_t zeros[][256], size_t len) {
    uint32_t op[32];
    zeros_operator(op, len);
    for (uint32_t n = 0; n < 256; n++) {
        zeros[0][n] = gf2_matrix_times(op, n);
        zeros[1][n] = gf2_matrix_times(op, n << 8);
        zeros[2][n] = gf2_matrix_times(op, n << 16);
        zeros[3][n] = gf2_matrix_times(op, n << 24);
    }
}

static void build_shift_tables(void) {
    zeros_tables(shift_long, LONG_BLOCK);
    zeros_tables(shift_short, SHORT_BLOCK);
}

static inline uint32_t shift(uint32_t zeros[][256], uint32_t crc) {
    return zeros[0][crc & 0xff] ^ zeros[1][(crc >> 8) & 0xff] ^ zeros[2][(crc >> 16) & 0xff] ^ zeros[3][crc >> 24];
}

static inline uint64_t load64(const unsigned char *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static inline void store64(unsigned char *p, uint64_t v) { memcpy(p, &v, 8); }

/// Three crc32 streams over `block`-byte thirds of each 3 × `block` run, combined. With `copy`
/// each word is also stored to `*out` as it is read (one pass for checksum and copy; the
/// function is inlined with `copy` constant, so the plain checksum carries no branch).
__attribute__((target("sse4.2"), always_inline))
static inline uint64_t crc32c_triple(uint64_t crc0, const unsigned char **next, unsigned char **out, const int copy, size_t *len,
                                     size_t block, uint32_t zeros[][256]) {
    const unsigned char *p = *next;
    unsigned char *q = copy ? *out : NULL;
    while (*len >= block * 3) {
        uint64_t crc1 = 0, crc2 = 0;
        const unsigned char *end = p + block;
        do {
            uint64_t a = load64(p), b = load64(p + block), c = load64(p + block * 2);
            crc0 = _mm_crc32_u64(crc0, a);
            crc1 = _mm_crc32_u64(crc1, b);
            crc2 = _mm_crc32_u64(crc2, c);
            if (copy) {
                store64(q, a);
                store64(q + block, b);
                store64(q + block * 2, c);
                q += 8;
            }
            p += 8;
        } while (p < end);
        crc0 = shift(zeros, (uint32_t)crc0) ^ crc1;
        crc0 = shift(zeros, (uint32_t)crc0) ^ crc2;
        p += block * 2;
        if (copy) q += block * 2;
        *len -= block * 3;
    }
    *next = p;
    if (copy) *out = q;
    return crc0;
}

__attribute__((target("sse4.2"), always_inline))
static inline uint32_t crc32c_hw_body(uint32_t crc, const unsigned char *p, unsigned char *q, const int copy, size_t n) {
    pthread_once(&shift_once, build_shift_tables);
    uint64_t c = ~crc & 0xffffffffu;
    while (n && ((uintptr_t)p & 7)) {
        if (copy) *q++ = *p;
        c = _mm_crc32_u8((uint32_t)c, *p++);
        n--;
    }
    c = crc32c_triple(c, &p, &q, copy, &n, LONG_BLOCK, shift_long);
    c = crc32c_triple(c, &p, &q, copy, &n, SHORT_BLOCK, shift_short);
    while (n >= 8) {
        uint64_t w = load64(p);
        if (copy) {
            store64(q, w);
            q += 8;
        }
        c = _mm_crc32_u64(c, w);
        p += 8;
        n -= 8;
    }
    while (n--) {
        if (copy) *q++ = *p;
        c = _mm_crc32_u8((uint32_t)c, *p++);
    }
    return ~(uint32_t)c;
}

__attribute__((target("sse4.2")))
static uint32_t crc32c_hw(uint32_t crc, const unsigned char *p, size_t n) { return crc32c_hw_body(crc, p, NULL, 0, n); }

__attribute__((target("sse4.2")))
static uint32_t crc32c_hw_copy(uint32_t crc, const unsigned char *p, unsigned char *q, size_t n) {
    return crc32c_hw_body(crc, p, q, 1, n);
}
#endif

static uint32_t table[256];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void build_table(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ POLY : c >> 1;
        table[i] = c;
    }
}

static uint32_t crc32c_sw(uint32_t crc, const unsigned char *p, size_t n) {
    pthread_once(&table_once, build_table);
    uint32_t c = ~crc;
    while (n--) c = table[(c ^ *p++) & 0xff] ^ (c >> 8);
    return ~c;
}

int cgranary_crc32c_hardware(void) {
#if defined(__x86_64__)
    return __builtin_cpu_supports("sse4.2");
#else
    return 0;
#endif
}

uint32_t cgranary_crc32c(uint32_t crc, const void *data, size_t length) {
#if defined(__x86_64__)
    if (__builtin_cpu_supports("sse4.2")) return crc32c_hw(crc, (const unsigned char *)data, length);
#endif
    return crc32c_sw(crc, (const unsigned char *)data, length);
}

uint32_t cgranary_crc32c_copy(uint32_t crc, void *destination, const void *source, size_t length) {
#if defined(__x86_64__)
    if (__builtin_cpu_supports("sse4.2")) return crc32c_hw_copy(crc, (const unsigned char *)source, (unsigned char *)destination, length);
#endif
    memcpy(destination, source, length);
    return crc32c_sw(crc, (const unsigned char *)destination, length);
}
