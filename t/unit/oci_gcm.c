/* oci/gcm.c and oci/gcm_x86.c: the GCM spec's test cases (AES-128, -192,
 * -256; 96-bit, 64-bit and 480-bit IVs; with and without AAD; checked
 * against OpenSSL when written), then random messages against mbedTLS's
 * own GCM (Debian's library in this build) for every length that has an
 * edge (0, 1, 15, 16, 17, 127..129, 4095, a TLS record and more),
 * unaligned and in place, whole and in random pieces; tag mismatches and
 * bad arguments.  Each case runs on the accelerated path (when this CPU
 * has it) and on the portable one. */
#include <errno.h>
#include <mbedtls/gcm.h>
#include <stdlib.h>

#include "oci/gcm.h"
#include "t/tap.h"

struct vec {
	const char *name, *key, *iv, *aad, *pt, *ct, *tag;
};

#define K1 "feffe9928665731c6d6a8f9467308308"
#define P60 "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72" \
	"1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39"
#define P64 P60 "1aafd255"
#define A20 "feedfacedeadbeeffeedfacedeadbeefabaddad2"
#define IV8 "cafebabefacedbad"
#define IV12 "cafebabefacedbaddecaf888"
#define IV60 "9313225df88406e555909c5aff5269aa6a7a9538534f7da1e4c303d2a318a728" \
	"c3c0c95156809539fcf0e2429a6b525416aedbf5a0de6a57a637b39b"
#define Z12 "000000000000000000000000"
#define Z16 "00000000000000000000000000000000"

static const struct vec vecs[] = {
	{ "1: AES-128, empty", Z16, Z12, "", "", "", "58e2fccefa7e3061367f1d57a4e7455a" },
	{ "2: AES-128, one block", Z16, Z12, "", Z16, "0388dace60b6a392f328c2b971b2fe78",
	  "ab6e47d42cec13bdf53a67b21257bddf" },
	{ "3: AES-128, 64 bytes", K1, IV12, "", P64,
	  "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
	  "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985",
	  "4d5c2af327cd64a62cf35abd2ba6fab4" },
	{ "4: AES-128, 60 bytes, AAD", K1, IV12, A20, P60,
	  "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
	  "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
	  "5bc94fbc3221a5db94fae95ae7121a47" },
	{ "5: AES-128, 64-bit IV", K1, IV8, A20, P60,
	  "61353b4c2806934a777ff51fa22a4755699b2a714fcdc6f83766e5f97b6c7423"
	  "73806900e49f24b22b097544d4896b424989b5e1ebac0f07c23f4598",
	  "3612d2e79e3b0785561be14aaca2fccb" },
	{ "6: AES-128, 480-bit IV", K1, IV60, A20, P60,
	  "8ce24998625615b603a033aca13fb894be9112a5c3a211a8ba262a3cca7e2ca7"
	  "01e4a9a4fba43c90ccdcb281d48c7c6fd62875d2aca417034c34aee5",
	  "619cc5aefffe0bfa462af43c1699d050" },
	{ "7: AES-192, empty", Z16 "0000000000000000", Z12, "", "", "",
	  "cd33b28ac773f74ba00ed1f312572435" },
	{ "8: AES-192, one block", Z16 "0000000000000000", Z12, "", Z16,
	  "98e7247c07f0fe411c267e4384b0f600", "2ff58d80033927ab8ef4d4587514f0fb" },
	{ "13: AES-256, empty", Z16 Z16, Z12, "", "", "", "530f8afbc74536b9a963b4f1c4cb738b" },
	{ "14: AES-256, one block", Z16 Z16, Z12, "", Z16, "cea7403d4d606b6e074ec5d3baf39d18",
	  "d0d1c8a799996bf0265b98b5d48ab919" },
	{ "15: AES-256, 64 bytes", K1 K1, IV12, "", P64,
	  "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
	  "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
	  "b094dac5d93471bdec1a502270e3cc6c" },
	{ "16: AES-256, 60 bytes, AAD", K1 K1, IV12, A20, P60,
	  "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
	  "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
	  "76fc6ece0f4e1768cddf8853bb2d551b" },
	{ "17: AES-256, 64-bit IV", K1 K1, IV8, A20, P60,
	  "c3762df1ca787d32ae47c13bf19844cbaf1ae14d0b976afac52ff7d79bba9de0"
	  "feb582d33934a4f0954cc2363bc73f7862ac430e64abe499f47c9b1f",
	  "3a337dbf46a792c45e454913fe2ea8f2" },
	{ "18: AES-256, 480-bit IV", K1 K1, IV60, A20, P60,
	  "5a8def2f0c9e53f1f75d7853659e2a20eeb2b22aafde6419a058ab4f6f746bf4"
	  "0fc0c3b780f244452da3ebf1c5d82cdea2418997200ef82e44ae7e3f",
	  "a44a8266ee1c8eb0c8b5d4cf5ae9f19a" },
};

static size_t unhex(const char *s, uint8_t *out)
{
	size_t n = strlen(s) / 2;

	for (size_t i = 0; i < n; i++) {
		unsigned v;
		sscanf(s + 2 * i, "%2x", &v);
		out[i] = (uint8_t)v;
	}
	return n;
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static void fill(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rnd();
}

static const char *impl_name(int accel)
{
	return accel ? "accelerated" : "portable";
}

static void test_vectors(int accel)
{
	uint8_t key[32], iv[64], aad[32], pt[64], ct[64], tag[16], out[64], got[16];
	struct gcm_key k;

	for (size_t i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
		const struct vec *v = &vecs[i];
		size_t kl = unhex(v->key, key), il = unhex(v->iv, iv), al = unhex(v->aad, aad);
		size_t pl = unhex(v->pt, pt);

		unhex(v->ct, ct);
		unhex(v->tag, tag);
		gcm_key_init(&k, key, kl);
		k.accel = accel;
		ok(gcm_seal(&k, iv, il, aad, al, pt, out, pl, got, 16) == 0 &&
		   memcmp(out, ct, pl) == 0 && memcmp(got, tag, 16) == 0,
		   "%s: test case %s seals", impl_name(accel), v->name);
		ok(gcm_open(&k, iv, il, aad, al, ct, out, pl, tag, 16) == 0 &&
		   memcmp(out, pt, pl) == 0, "%s: test case %s opens", impl_name(accel), v->name);
		ok(gcm_open(&k, iv, il, aad, al, ct, out, pl, tag, 12) == 0,
		   "%s: test case %s opens with a 12-byte tag", impl_name(accel), v->name);
		tag[15] ^= 0x80;
		memset(out, 0xaa, sizeof(out));
		is_int(gcm_open(&k, iv, il, aad, al, ct, out, pl, tag, 16), -EBADMSG,
		       "%s: test case %s: a flipped tag bit is refused", impl_name(accel), v->name);
		ok(pl == 0 || (out[0] == 0 && memcmp(out, out + 1, pl - 1) == 0),
		   "%s: test case %s: and the output is zeroed", impl_name(accel), v->name);
	}
}

/* Our seal and open against mbedTLS's: one random message. */
static int one_diff(int accel, size_t kl, size_t il, size_t al, size_t len, size_t off,
		    int in_place, int pieces)
{
	uint8_t key[32], iv[64], aad[128], tag_ref[16], tag[16];
	uint8_t *pt = malloc(len + 1), *ref = malloc(len + 1), *buf = malloc(len + 32);
	uint8_t *io = buf + off;
	mbedtls_gcm_context m;
	struct gcm_key k;
	struct gcm g;
	int good = 1;

	fill(key, kl), fill(iv, il), fill(aad, al), fill(pt, len);
	mbedtls_gcm_init(&m);
	if (mbedtls_gcm_setkey(&m, MBEDTLS_CIPHER_ID_AES, key, (unsigned)kl * 8) != 0 ||
	    mbedtls_gcm_crypt_and_tag(&m, MBEDTLS_GCM_ENCRYPT, len, iv, il, aad, al, pt, ref, 16,
				      tag_ref) != 0)
		good = 0;
	mbedtls_gcm_free(&m);
	gcm_key_init(&k, key, kl);
	k.accel = accel;

	/* Seal: whole (to an unaligned copy, or in place), or through the
	 * stream API in random pieces, in place. */
	if (!pieces && !in_place) {
		good &= gcm_seal(&k, iv, il, aad, al, pt, io, len, tag, 16) == 0;
	} else if (!pieces) {
		memcpy(io, pt, len);
		good &= gcm_seal(&k, iv, il, aad, al, io, io, len, tag, 16) == 0;
	} else {
		size_t done = 0, n;
		memcpy(io, pt, len);
		good &= gcm_start(&g, &k, 0, iv, il, aad, al) == 0;
		while (done < len) {
			n = 1 + rnd() % (len - done < 40 ? len - done : 40);
			if (rnd() % 4 == 0)
				n = len - done < 1000 ? len - done : 1 + rnd() % 1000;
			good &= gcm_update(&g, &k, io + done, io + done, n) == 0;
			done += n;
		}
		gcm_finish(&g, &k, tag);
	}
	good &= memcmp(io, ref, len) == 0 && memcmp(tag, tag_ref, 16) == 0;

	/* Open: in place, or from an aligned copy into the odd offset. */
	if (in_place) {
		good &= gcm_open(&k, iv, il, aad, al, io, io, len, tag, 16) == 0;
	} else {
		memcpy(ref, io, len);
		good &= gcm_open(&k, iv, il, aad, al, ref, io, len, tag, 16) == 0;
	}
	good &= memcmp(io, pt, len) == 0;
	/* One flipped bit of the ciphertext (or of the AAD) must fail. */
	if (len) {
		good &= gcm_seal(&k, iv, il, aad, al, pt, io, len, tag, 16) == 0;
		io[rnd() % len] ^= (uint8_t)(1 << rnd() % 8);
		good &= gcm_open(&k, iv, il, aad, al, io, io, len, tag, 16) == -EBADMSG;
	} else if (al) {
		aad[rnd() % al] ^= 1;
		good &= gcm_open(&k, iv, il, aad, al, io, io, 0, tag, 16) == -EBADMSG;
	}
	free(pt), free(ref), free(buf);
	return good;
}

static void test_differential(int accel)
{
	static const size_t lens[] = { 0, 1, 2, 15, 16, 17, 31, 32, 33, 112, 127, 128, 129,
				       143, 144, 255, 256, 257, 4095, 4096, 4097, 16384, 16400 };
	static const size_t ivs[] = { 12, 1, 8, 13, 16, 60 };
	static const size_t aads[] = { 0, 1, 13, 16, 17, 100 };
	static const size_t keys[] = { 16, 24, 32 };
	int bad = 0, n = 0;

	for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++)
		for (size_t kk = 0; kk < 3; kk++)
			for (int mode = 0; mode < 4; mode++) {
				size_t il = ivs[rnd() % 6], al = aads[rnd() % 6];
				n++;
				if (!one_diff(accel, keys[kk], il, al, lens[l], rnd() % 16,
					      mode & 1, mode >> 1)) {
					bad++;
					diag("mismatch: key %zu iv %zu aad %zu len %zu mode %d",
					     keys[kk], il, al, lens[l], mode);
				}
			}
	for (int i = 0; i < 200; i++, n++) {
		size_t len = rnd() % 20000, il = 1 + rnd() % 64, al = rnd() % 128;
		int mode = rnd() % 4;
		if (!one_diff(accel, keys[rnd() % 3], il, al, len, rnd() % 16, mode & 1, mode >> 1)) {
			bad++;
			diag("mismatch: iv %zu aad %zu len %zu mode %d", il, al, len, mode);
		}
	}
	ok(bad == 0, "%s: %d random messages agree with mbedTLS's GCM (%d differ)",
	   impl_name(accel), n, bad);
}

/* The counter is 32 bits and wraps without carrying into the IV part
 * (inc32): force it near the wrap, seal and open on both paths. */
static void wrap_run(const struct gcm_key *k, int decrypt, const uint8_t *iv, const uint8_t *in,
		     uint8_t *out, size_t len, uint8_t tag[16])
{
	struct gcm g;

	gcm_start(&g, k, decrypt, iv, 12, NULL, 0);
	memset(g.cb + 12, 0xff, 4);
	g.cb[15] = 0xf9;
	gcm_update(&g, k, in, out, len);
	gcm_finish(&g, k, tag);
}

static void test_counter_wrap(void)
{
	uint8_t key[16], iv[12], in[40 * 16], a[40 * 16], b[40 * 16], ta[16], tb[16];
	uint8_t oa[40 * 16], ob[40 * 16], toa[16], tob[16];
	struct gcm_key k;

	if (!gcm_accelerated()) {
		skip(2, "no AES-NI/PCLMULQDQ on this CPU: one implementation only");
		return;
	}
	fill(key, 16), fill(iv, 12), fill(in, sizeof(in));
	gcm_key_init(&k, key, 16);
	k.accel = 1;
	wrap_run(&k, 0, iv, in, a, sizeof(in), ta);
	wrap_run(&k, 1, iv, a, oa, sizeof(in), toa);
	k.accel = 0;
	wrap_run(&k, 0, iv, in, b, sizeof(in), tb);
	wrap_run(&k, 1, iv, b, ob, sizeof(in), tob);
	ok(memcmp(a, b, sizeof(a)) == 0 && memcmp(ta, tb, 16) == 0,
	   "sealing: the 32-bit counter wraps the same way on both paths");
	ok(memcmp(oa, in, sizeof(in)) == 0 && memcmp(ob, in, sizeof(in)) == 0 &&
	   memcmp(toa, ta, 16) == 0 && memcmp(tob, ta, 16) == 0,
	   "opening: the same, back to the plaintext and tag");
}

static void test_errors(void)
{
	uint8_t key[32] = { 0 }, iv[12] = { 0 }, buf[32] = { 0 }, tag[16];
	struct gcm_key k;
	struct gcm g;

	is_int(gcm_key_init(&k, key, 20), -EINVAL, "a 160-bit key is refused");
	is_int(gcm_key_init(&k, key, 0), -EINVAL, "an empty key is refused");
	gcm_key_init(&k, key, 16);
	is_int(gcm_start(&g, &k, 0, iv, 0, NULL, 0), -EINVAL, "an empty IV is refused");
	is_int(gcm_seal(&k, iv, 12, NULL, 0, buf, buf, 16, tag, 3), -EINVAL,
	       "a 3-byte tag is refused");
	is_int(gcm_seal(&k, iv, 12, NULL, 0, buf, buf, 16, tag, 17), -EINVAL,
	       "a 17-byte tag is refused");
	gcm_start(&g, &k, 0, iv, 12, NULL, 0);
	g.len = GCM_MAX_LEN - 16;
	is_int(gcm_update(&g, &k, buf, buf, 16), 0, "a message may reach 2^36 - 32 bytes");
	is_int(gcm_update(&g, &k, buf, buf, 1), -EMSGSIZE, "but not one byte more");
}

int main(void)
{
	diag("this CPU: %s", gcm_accelerated() ? "AES-NI + PCLMULQDQ" : "portable only");
	for (int accel = 0; accel <= 1; accel++) {
		if (accel && !gcm_accelerated()) {
			skip(2, "no AES-NI/PCLMULQDQ on this CPU");
			continue;
		}
		test_vectors(accel);
		test_differential(accel);
	}
	test_counter_wrap();
	test_errors();
	return done_testing();
}
