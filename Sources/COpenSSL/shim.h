// The system OpenSSL's certificate parsing and host name check: the library librdkafka verifies
// brokers with, used for the name check of `tls.server_name_override`.
#include <openssl/x509.h>
#include <openssl/x509v3.h>
