// The one-shot SHA-256 of the BoringSSL that swift-crypto (pinned in Package.swift) builds into
// the binary under its symbol prefix. Crypto's SHA256 allocates a digest context for each hash
// and another to finalize it; the attributes processor hashes a value per item, and this call
// hashes on the stack. A swift-crypto release that renamed the symbol fails the link, loudly.
#include <stddef.h>
#include <stdint.h>

uint8_t *CCryptoBoringSSL_SHA256(const uint8_t *data, size_t len, uint8_t out[32]);
