/* Digests: parsing refuses anything that is not sha256:<64 lowercase hex>;
 * hashing matches known vectors; the verifying reader catches wrong
 * digests, short bodies and long bodies without reading past the size. */
#include <errno.h>
#include <string.h>

#include "lib/err.h"
#include "lib/stream.h"
#include "oci/digest.h"
#include "t/tap.h"

#define EMPTY "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define ABC "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

static int drain(struct reader *r, struct err *e, size_t *total)
{
	char b[7];
	ssize_t n;
	*total = 0;
	while ((n = reader_read(r, b, sizeof(b), e)) > 0)
		*total += (size_t)n;
	return (int)n;
}

int main(void)
{
	struct digest d, want;
	struct err e = ERR_INIT;
	struct mem_reader mr;
	struct digest_reader dr;
	size_t total;

	is_int(digest_parse(ABC, &d, &e), 0, "valid digest");
	is_str(digest_hex(&d), ABC + 7, "hex part");
	static const char *const bad[] = {
		"sha256:../../x", "sha256:", "sha512:" "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
		"sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD",
		"sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a",
		"sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad0",
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
		"sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a/",
		"", "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f2001\n5a",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(digest_parse(bad[i], &d, &e) == -EINVAL, "refused: %.40s", bad[i]);
	ok(strstr(e.msg, "invalid digest") && !strchr(e.msg, '\n'), "message is printable: %s", e.msg);

	sha256_digest("", 0, &d);
	is_str(d.s, EMPTY, "sha256 of empty");
	sha256_digest("abc", 3, &d);
	is_str(d.s, ABC, "sha256 of abc");

	digest_parse(ABC, &want, &e);
	mem_reader_init(&mr, "abc", 3);
	digest_reader_init(&dr, &mr.r, 3, &want, "blob");
	ok(drain(&dr.r, &e, &total) == 0 && total == 3, "verifying reader passes a good body");
	digest_reader_result(&dr, &d);
	is_str(d.s, ABC, "result digest");

	mem_reader_init(&mr, "abd", 3);
	digest_reader_init(&dr, &mr.r, 3, &want, "blob");
	is_int(drain(&dr.r, &e, &total), -EBADMSG, "wrong content: digest mismatch");
	ok(strstr(e.msg, "digest mismatch for blob") != NULL, "message: %s", e.msg);

	mem_reader_init(&mr, "ab", 2);
	digest_reader_init(&dr, &mr.r, 3, &want, "blob");
	is_int(drain(&dr.r, &e, &total), -EBADMSG, "short body: size mismatch");

	mem_reader_init(&mr, "abcdefgh", 8);
	digest_reader_init(&dr, &mr.r, 3, &want, "blob");
	is_int(drain(&dr.r, &e, &total), -EFBIG, "long body refused");
	ok(total == 3 && mr.off == 4, "read at most one byte past the declared size (total %zu, consumed %zu)",
	   total, mr.off);

	mem_reader_init(&mr, "abc", 3);
	digest_reader_init(&dr, &mr.r, -1, NULL, "stream");
	ok(drain(&dr.r, &e, &total) == 0 && total == 3, "unchecked mode just hashes");
	digest_reader_result(&dr, &d);
	is_str(d.s, ABC, "hash of unchecked stream");
	return done_testing();
}
