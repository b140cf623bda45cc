# Unit tests of the crypto module (src/crypto), with keys made at test
# time, and the interop check against Python's cryptography package.
check_PROGRAMS += tests/unit/test_crypto tests/unit/test_crypto_jwt
TESTS += tests/unit/test_crypto tests/unit/test_crypto_jwt
tests_unit_test_crypto_SOURCES = tests/unit/test_crypto.c \
	tests/unit/testlib.h tests/unit/testkeys.h
tests_unit_test_crypto_jwt_SOURCES = tests/unit/test_crypto_jwt.c \
	tests/unit/testlib.h tests/unit/testkeys.h
check_PROGRAMS += tests/tools/cryptotool
tests_tools_cryptotool_SOURCES = tests/tools/cryptotool.c
TESTS += tests/unit/crypto_interop.sh
EXTRA_DIST += tests/unit/crypto_interop.sh tests/unit/crypto_interop.py
