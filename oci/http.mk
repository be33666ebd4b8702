# oci/: the HTTP(S) client on mbedTLS, registry auth and the distribution
# protocol (issue #3, part 2).  The integration tests need the apt packages
# docker-registry, apache2-utils (htpasswd), openssl, skopeo, umoci, nodejs;
# they skip, saying which, when one is missing.
SRCS += oci/http_parse.c oci/http_url.c oci/http.c oci/tls.c oci/auth.c oci/registry.c
UNIT_TESTS += t/unit/oci_http_parse.c t/unit/oci_http.c t/unit/oci_auth.c t/unit/oci_registry.c
FUZZ_TARGETS += t/fuzz/http_response.c
TEST_TOOLS += t/tools/regcli.c
SHELL_TESTS += t/integ/registry_basic.sh t/integ/registry_token.sh
