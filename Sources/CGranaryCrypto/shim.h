#ifndef CGRANARY_CRYPTO_SHIM_H
#define CGRANARY_CRYPTO_SHIM_H
#include <openssl/evp.h>

/// EVP_DigestFinal_ex takes `unsigned char *`; Swift raw pointers cannot be passed without rebinding,
/// so this adapter takes `void *` (the swift-crypto shim pattern).
static inline int cgranary_digest_final(EVP_MD_CTX *ctx, void *out, unsigned int *len) {
    return EVP_DigestFinal_ex(ctx, (unsigned char *)out, len);
}
#endif
