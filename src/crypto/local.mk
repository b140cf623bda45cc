# What Graph asks of our keys: rich notifications, validation tokens and
# the client assertion (OpenSSL libcrypto).
libpresgw_a_SOURCES += src/crypto/crypto.h src/crypto/crypto_int.h \
	src/crypto/crypto_b64.c src/crypto/crypto_err.c \
	src/crypto/crypto_key.c src/crypto/crypto_rich.c \
	src/crypto/crypto_jwks.c src/crypto/crypto_jwt.c \
	src/crypto/crypto_client.c
