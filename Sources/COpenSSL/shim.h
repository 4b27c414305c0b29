// OpenSSL (Debian's libssl-dev) for nodeaudit's TLS connections to collectors; linked
// statically (Package.swift), so the binary needs no libssl at run time. The inline
// functions wrap what OpenSSL defines as macros, which Swift cannot call.
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

static inline long nodeaudit_ssl_set_server_name(SSL *ssl, const char *name) {
    return SSL_set_tlsext_host_name(ssl, name);
}

static inline long nodeaudit_ssl_ctx_require_tls12(SSL_CTX *context) {
    return SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION);
}

// A server's writes on non-blocking sockets: a write may complete in parts, and be
// retried from a buffer that moved.
static inline long nodeaudit_ssl_ctx_allow_partial_writes(SSL_CTX *context) {
    return SSL_CTX_set_mode(context, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
}
