// The system's OpenSSL 3 (Debian: libssl-dev), as a module the C shim links against.
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
