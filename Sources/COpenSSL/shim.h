// The system OpenSSL (the library librdkafka verifies brokers with): certificate parsing and the
// host name check of `tls.server_name_override`, and the check of client certificates and keys.
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
