#ifndef EDGETOP_COPENSSL_SHIM_H
#define EDGETOP_COPENSSL_SHIM_H
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

// Macros Swift cannot call, as functions.
static inline long edgetop_ssl_set_sni(SSL *ssl, const char *host) {
    return SSL_set_tlsext_host_name(ssl, host);
}
static inline void edgetop_ssl_set_verify_peer(SSL *ssl) {
    SSL_set_verify(ssl, SSL_VERIFY_PEER, NULL);
}
#endif
