/* AES-GCM (see oci/gcm.h): the message framing of SP 800-38D (J0, the
 * counter, AAD and length blocks, partial blocks, the tag) and the
 * portable block functions; the bulk goes to oci/gcm_x86.c when the CPU
 * has AES-NI and PCLMULQDQ.  Written from FIPS-197 (AES) and SP 800-38D
 * (GCM, GHASH); the tests hold it to the NIST vectors and to mbedTLS's
 * own GCM. */
#include <errno.h>
#include <string.h>

#include "oci/gcm.h"

/* FIPS-197 5.1.1: multiplicative inverse in GF(2^8), then the affine map. */
static const uint8_t sbox[256] = {
	0x63, 0x7c, 0x77, 0x7b, 0xf2, 0x6b, 0x6f, 0xc5, 0x30, 0x01, 0x67, 0x2b, 0xfe, 0xd7, 0xab, 0x76,
	0xca, 0x82, 0xc9, 0x7d, 0xfa, 0x59, 0x47, 0xf0, 0xad, 0xd4, 0xa2, 0xaf, 0x9c, 0xa4, 0x72, 0xc0,
	0xb7, 0xfd, 0x93, 0x26, 0x36, 0x3f, 0xf7, 0xcc, 0x34, 0xa5, 0xe5, 0xf1, 0x71, 0xd8, 0x31, 0x15,
	0x04, 0xc7, 0x23, 0xc3, 0x18, 0x96, 0x05, 0x9a, 0x07, 0x12, 0x80, 0xe2, 0xeb, 0x27, 0xb2, 0x75,
	0x09, 0x83, 0x2c, 0x1a, 0x1b, 0x6e, 0x5a, 0xa0, 0x52, 0x3b, 0xd6, 0xb3, 0x29, 0xe3, 0x2f, 0x84,
	0x53, 0xd1, 0x00, 0xed, 0x20, 0xfc, 0xb1, 0x5b, 0x6a, 0xcb, 0xbe, 0x39, 0x4a, 0x4c, 0x58, 0xcf,
	0xd0, 0xef, 0xaa, 0xfb, 0x43, 0x4d, 0x33, 0x85, 0x45, 0xf9, 0x02, 0x7f, 0x50, 0x3c, 0x9f, 0xa8,
	0x51, 0xa3, 0x40, 0x8f, 0x92, 0x9d, 0x38, 0xf5, 0xbc, 0xb6, 0xda, 0x21, 0x10, 0xff, 0xf3, 0xd2,
	0xcd, 0x0c, 0x13, 0xec, 0x5f, 0x97, 0x44, 0x17, 0xc4, 0xa7, 0x7e, 0x3d, 0x64, 0x5d, 0x19, 0x73,
	0x60, 0x81, 0x4f, 0xdc, 0x22, 0x2a, 0x90, 0x88, 0x46, 0xee, 0xb8, 0x14, 0xde, 0x5e, 0x0b, 0xdb,
	0xe0, 0x32, 0x3a, 0x0a, 0x49, 0x06, 0x24, 0x5c, 0xc2, 0xd3, 0xac, 0x62, 0x91, 0x95, 0xe4, 0x79,
	0xe7, 0xc8, 0x37, 0x6d, 0x8d, 0xd5, 0x4e, 0xa9, 0x6c, 0x56, 0xf4, 0xea, 0x65, 0x7a, 0xae, 0x08,
	0xba, 0x78, 0x25, 0x2e, 0x1c, 0xa6, 0xb4, 0xc6, 0xe8, 0xdd, 0x74, 0x1f, 0x4b, 0xbd, 0x8b, 0x8a,
	0x70, 0x3e, 0xb5, 0x66, 0x48, 0x03, 0xf6, 0x0e, 0x61, 0x35, 0x57, 0xb9, 0x86, 0xc1, 0x1d, 0x9e,
	0xe1, 0xf8, 0x98, 0x11, 0x69, 0xd9, 0x8e, 0x94, 0x9b, 0x1e, 0x87, 0xe9, 0xce, 0x55, 0x28, 0xdf,
	0x8c, 0xa1, 0x89, 0x0d, 0xbf, 0xe6, 0x42, 0x68, 0x41, 0x99, 0x2d, 0x0f, 0xb0, 0x54, 0xbb, 0x16,
};

/* GHASH's field, elements as two big-endian words: the top bit of hi is
 * the coefficient of x^0, the low bit of lo that of x^127.  Multiplying
 * by x^4 shifts 4 coefficients out past x^127; x^128 = 1 + x + x^2 + x^7
 * folds them back into the top 16 bits: this is that fold, per nibble. */
static const uint16_t fold4[16] = {
	0x0000, 0x1c20, 0x3840, 0x2460, 0x7080, 0x6ca0, 0x48c0, 0x54e0,
	0xe100, 0xfd20, 0xd940, 0xc560, 0x9180, 0x8da0, 0xa9c0, 0xb5e0,
};

/* A bound on the blocks handled per pass, so the second pass over a
 * chunk (GHASH after CTR, or CTR after GHASH) finds it in L1. */
#define CHUNK_BLOCKS 256

void gcm_wipe(void *p, size_t n)
{
	volatile uint8_t *v = p;

	while (n--)
		*v++ = 0;
}

static uint64_t get_be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint8_t xtime(uint8_t a)
{
	return (uint8_t)((a << 1) ^ ((a >> 7) * 0x1b));
}

/* FIPS-197 5.2, into rk as bytes (word i at byte 4i). */
static void aes_expand(struct gcm_key *k, const uint8_t *key, size_t nk)
{
	uint8_t *w = &k->rk[0][0], t[4], t0, rcon = 1;
	size_t i, j;

	memcpy(w, key, 4 * nk);
	for (i = nk; i < 4 * (size_t)(k->rounds + 1); i++) {
		memcpy(t, w + 4 * (i - 1), 4);
		if (i % nk == 0) {
			t0 = t[0];
			t[0] = sbox[t[1]] ^ rcon;
			t[1] = sbox[t[2]];
			t[2] = sbox[t[3]];
			t[3] = sbox[t0];
			rcon = xtime(rcon);
		} else if (nk > 6 && i % nk == 4) {
			for (j = 0; j < 4; j++)
				t[j] = sbox[t[j]];
		}
		for (j = 0; j < 4; j++)
			w[4 * i + j] = w[4 * (i - nk) + j] ^ t[j];
	}
}

/* One full round for one column, as a table: te0[x] is the column
 * (2s, s, s, 3s) for s = S(x), row 0 in the low byte; the other rows'
 * tables are its byte rotations.  (MixColumns times SubBytes, FIPS-197
 * 5.1.1-5.1.3, precomputed; checked by the tests' vectors.) */
static const uint32_t te0[256] = {
	0xa56363c6, 0x847c7cf8, 0x997777ee, 0x8d7b7bf6, 0x0df2f2ff, 0xbd6b6bd6, 0xb16f6fde, 0x54c5c591,
	0x50303060, 0x03010102, 0xa96767ce, 0x7d2b2b56, 0x19fefee7, 0x62d7d7b5, 0xe6abab4d, 0x9a7676ec,
	0x45caca8f, 0x9d82821f, 0x40c9c989, 0x877d7dfa, 0x15fafaef, 0xeb5959b2, 0xc947478e, 0x0bf0f0fb,
	0xecadad41, 0x67d4d4b3, 0xfda2a25f, 0xeaafaf45, 0xbf9c9c23, 0xf7a4a453, 0x967272e4, 0x5bc0c09b,
	0xc2b7b775, 0x1cfdfde1, 0xae93933d, 0x6a26264c, 0x5a36366c, 0x413f3f7e, 0x02f7f7f5, 0x4fcccc83,
	0x5c343468, 0xf4a5a551, 0x34e5e5d1, 0x08f1f1f9, 0x937171e2, 0x73d8d8ab, 0x53313162, 0x3f15152a,
	0x0c040408, 0x52c7c795, 0x65232346, 0x5ec3c39d, 0x28181830, 0xa1969637, 0x0f05050a, 0xb59a9a2f,
	0x0907070e, 0x36121224, 0x9b80801b, 0x3de2e2df, 0x26ebebcd, 0x6927274e, 0xcdb2b27f, 0x9f7575ea,
	0x1b090912, 0x9e83831d, 0x742c2c58, 0x2e1a1a34, 0x2d1b1b36, 0xb26e6edc, 0xee5a5ab4, 0xfba0a05b,
	0xf65252a4, 0x4d3b3b76, 0x61d6d6b7, 0xceb3b37d, 0x7b292952, 0x3ee3e3dd, 0x712f2f5e, 0x97848413,
	0xf55353a6, 0x68d1d1b9, 0x00000000, 0x2cededc1, 0x60202040, 0x1ffcfce3, 0xc8b1b179, 0xed5b5bb6,
	0xbe6a6ad4, 0x46cbcb8d, 0xd9bebe67, 0x4b393972, 0xde4a4a94, 0xd44c4c98, 0xe85858b0, 0x4acfcf85,
	0x6bd0d0bb, 0x2aefefc5, 0xe5aaaa4f, 0x16fbfbed, 0xc5434386, 0xd74d4d9a, 0x55333366, 0x94858511,
	0xcf45458a, 0x10f9f9e9, 0x06020204, 0x817f7ffe, 0xf05050a0, 0x443c3c78, 0xba9f9f25, 0xe3a8a84b,
	0xf35151a2, 0xfea3a35d, 0xc0404080, 0x8a8f8f05, 0xad92923f, 0xbc9d9d21, 0x48383870, 0x04f5f5f1,
	0xdfbcbc63, 0xc1b6b677, 0x75dadaaf, 0x63212142, 0x30101020, 0x1affffe5, 0x0ef3f3fd, 0x6dd2d2bf,
	0x4ccdcd81, 0x140c0c18, 0x35131326, 0x2fececc3, 0xe15f5fbe, 0xa2979735, 0xcc444488, 0x3917172e,
	0x57c4c493, 0xf2a7a755, 0x827e7efc, 0x473d3d7a, 0xac6464c8, 0xe75d5dba, 0x2b191932, 0x957373e6,
	0xa06060c0, 0x98818119, 0xd14f4f9e, 0x7fdcdca3, 0x66222244, 0x7e2a2a54, 0xab90903b, 0x8388880b,
	0xca46468c, 0x29eeeec7, 0xd3b8b86b, 0x3c141428, 0x79dedea7, 0xe25e5ebc, 0x1d0b0b16, 0x76dbdbad,
	0x3be0e0db, 0x56323264, 0x4e3a3a74, 0x1e0a0a14, 0xdb494992, 0x0a06060c, 0x6c242448, 0xe45c5cb8,
	0x5dc2c29f, 0x6ed3d3bd, 0xefacac43, 0xa66262c4, 0xa8919139, 0xa4959531, 0x37e4e4d3, 0x8b7979f2,
	0x32e7e7d5, 0x43c8c88b, 0x5937376e, 0xb76d6dda, 0x8c8d8d01, 0x64d5d5b1, 0xd24e4e9c, 0xe0a9a949,
	0xb46c6cd8, 0xfa5656ac, 0x07f4f4f3, 0x25eaeacf, 0xaf6565ca, 0x8e7a7af4, 0xe9aeae47, 0x18080810,
	0xd5baba6f, 0x887878f0, 0x6f25254a, 0x722e2e5c, 0x241c1c38, 0xf1a6a657, 0xc7b4b473, 0x51c6c697,
	0x23e8e8cb, 0x7cdddda1, 0x9c7474e8, 0x211f1f3e, 0xdd4b4b96, 0xdcbdbd61, 0x868b8b0d, 0x858a8a0f,
	0x907070e0, 0x423e3e7c, 0xc4b5b571, 0xaa6666cc, 0xd8484890, 0x05030306, 0x01f6f6f7, 0x120e0e1c,
	0xa36161c2, 0x5f35356a, 0xf95757ae, 0xd0b9b969, 0x91868617, 0x58c1c199, 0x271d1d3a, 0xb99e9e27,
	0x38e1e1d9, 0x13f8f8eb, 0xb398982b, 0x33111122, 0xbb6969d2, 0x70d9d9a9, 0x898e8e07, 0xa7949433,
	0xb69b9b2d, 0x221e1e3c, 0x92878715, 0x20e9e9c9, 0x49cece87, 0xff5555aa, 0x78282850, 0x7adfdfa5,
	0x8f8c8c03, 0xf8a1a159, 0x80898909, 0x170d0d1a, 0xdabfbf65, 0x31e6e6d7, 0xc6424284, 0xb86868d0,
	0xc3414182, 0xb0999929, 0x772d2d5a, 0x110f0f1e, 0xcbb0b07b, 0xfc5454a8, 0xd6bbbb6d, 0x3a16162c,
};

static uint32_t rotl32(uint32_t v, int n)
{
	return v << n | v >> (32 - n);
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}

/* FIPS-197 5.1 with 32-bit columns (row r in bits 8r): ShiftRows takes
 * row r from column c + r.  rkw is rk as little-endian words.  Table
 * lookups by secret bytes: the fallback for CPUs without AES-NI, as
 * mbedTLS's own software AES is.  The round state left on the stack is
 * not wiped per block (it costs a third of the time); ctr_portable wipes
 * its keystream and round keys. */
static void aes_portable(const uint32_t *rkw, int rounds, const uint8_t in[16], uint8_t out[16])
{
	uint32_t w[4], t[4];
	int r, c;

	for (c = 0; c < 4; c++)
		w[c] = get_le32(in + 4 * c) ^ rkw[c];
	for (r = 1; r < rounds; r++) {
		for (c = 0; c < 4; c++)
			t[c] = te0[w[c] & 0xff] ^ rotl32(te0[w[(c + 1) & 3] >> 8 & 0xff], 8) ^
			       rotl32(te0[w[(c + 2) & 3] >> 16 & 0xff], 16) ^
			       rotl32(te0[w[(c + 3) & 3] >> 24], 24) ^ rkw[4 * r + c];
		memcpy(w, t, sizeof(w));
	}
	for (c = 0; c < 4; c++)
		t[c] = ((uint32_t)sbox[w[c] & 0xff] | (uint32_t)sbox[w[(c + 1) & 3] >> 8 & 0xff] << 8 |
			(uint32_t)sbox[w[(c + 2) & 3] >> 16 & 0xff] << 16 |
			(uint32_t)sbox[w[(c + 3) & 3] >> 24] << 24) ^ rkw[4 * rounds + c];
	for (c = 0; c < 4; c++)
		put_le32(out + 4 * c, t[c]);
}

/* inc32 of SP 800-38D: the last 4 bytes are a big-endian counter. */
static void inc32(uint8_t cb[16])
{
	for (int i = 15; i >= 12; i--)
		if (++cb[i] != 0)
			break;
}

static void ctr_portable(const struct gcm_key *k, uint8_t cb[16], const uint8_t *in,
			 uint8_t *out, size_t nblocks)
{
	uint32_t rkw[60];
	uint8_t ks[16];
	int i;

	for (i = 0; i < 4 * (k->rounds + 1); i++)
		rkw[i] = get_le32(&k->rk[0][0] + 4 * i);
	for (; nblocks; nblocks--, in += 16, out += 16) {
		aes_portable(rkw, k->rounds, cb, ks);
		inc32(cb);
		for (i = 0; i < 16; i++)
			out[i] = in[i] ^ ks[i];
	}
	gcm_wipe(ks, sizeof(ks));
	gcm_wipe(rkw, sizeof(rkw));
}

/* Shoup's 4-bit method: X times H by Horner's rule over the 32 nibbles
 * of X, highest powers of x first (mlo/mhi hold nibble times H). */
static void ghash_portable(const struct gcm_key *k, uint8_t x[16], const uint8_t *in,
			   size_t nblocks)
{
	uint8_t v[16];
	uint64_t hi, lo;
	unsigned nib, rem;
	int i, j;

	for (; nblocks; nblocks--, in += 16) {
		for (j = 0; j < 16; j++)
			v[j] = x[j] ^ in[j];
		hi = lo = 0;
		for (i = 31; i >= 0; i--) {
			nib = i & 1 ? v[i / 2] & 0xf : v[i / 2] >> 4;
			rem = lo & 0xf;
			lo = lo >> 4 | hi << 60;
			hi = hi >> 4 ^ (uint64_t)fold4[rem] << 48;
			hi ^= k->mhi[nib];
			lo ^= k->mlo[nib];
		}
		put_be64(x, hi);
		put_be64(x + 8, lo);
	}
}

static void ghash_table(struct gcm_key *k)
{
	uint64_t hi = get_be64(k->h), lo = get_be64(k->h + 8), c;
	int i, j;

	/* Nibble bit 8 is x^0, 4 is x^1, 2 is x^2, 1 is x^3. */
	k->mhi[0] = k->mlo[0] = 0;
	for (i = 8; i >= 1; i >>= 1) {
		k->mhi[i] = hi, k->mlo[i] = lo;
		c = lo & 1;
		lo = lo >> 1 | hi << 63;
		hi = hi >> 1 ^ (c ? (uint64_t)0xe1 << 56 : 0);
	}
	for (i = 2; i <= 8; i <<= 1)
		for (j = 1; j < i; j++) {
			k->mhi[i + j] = k->mhi[i] ^ k->mhi[j];
			k->mlo[i + j] = k->mlo[i] ^ k->mlo[j];
		}
}

static void ctr_blocks(const struct gcm_key *k, uint8_t cb[16], const uint8_t *in,
		       uint8_t *out, size_t nblocks)
{
	if (k->accel)
		gcm__x86_ctr(k, cb, in, out, nblocks);
	else
		ctr_portable(k, cb, in, out, nblocks);
}

static void ghash_blocks(const struct gcm_key *k, uint8_t x[16], const uint8_t *in,
			 size_t nblocks)
{
	if (k->accel)
		gcm__x86_ghash(k, x, in, nblocks);
	else
		ghash_portable(k, x, in, nblocks);
}

/* GHASH of data zero-padded to whole blocks. */
static void ghash_padded(const struct gcm_key *k, uint8_t x[16], const uint8_t *p, size_t n)
{
	uint8_t last[16] = { 0 };

	ghash_blocks(k, x, p, n / 16);
	if (n % 16) {
		memcpy(last, p + n / 16 * 16, n % 16);
		ghash_blocks(k, x, last, 1);
	}
}

int gcm_accelerated(void)
{
	return gcm__x86_probe();
}

int gcm_key_init(struct gcm_key *k, const uint8_t *key, size_t key_len)
{
	static const uint8_t zero[16];
	uint8_t cb[16] = { 0 };

	if (key_len != 16 && key_len != 24 && key_len != 32)
		return -EINVAL;
	memset(k, 0, sizeof(*k));
	k->rounds = (int)key_len / 4 + 6;
	aes_expand(k, key, key_len / 4);
	ctr_portable(k, cb, zero, k->h, 1);
	ghash_table(k);
	if (gcm__x86_probe()) {
		gcm__x86_init(k);
		k->accel = 1;
	}
	return 0;
}

int gcm_start(struct gcm *g, const struct gcm_key *k, int decrypt,
	      const uint8_t *iv, size_t iv_len, const uint8_t *aad, size_t aad_len)
{
	static const uint8_t zero[16];
	uint8_t j0[16] = { 0 }, lens[16] = { 0 }, cb[16];

	/* Lengths in bits must fit 64 bits. */
	if (iv_len == 0 || (uint64_t)iv_len >> 61 || (uint64_t)aad_len >> 61)
		return -EINVAL;
	memset(g, 0, sizeof(*g));
	g->decrypt = decrypt;
	if (iv_len == 12) {
		memcpy(j0, iv, 12);
		j0[15] = 1;
	} else {
		ghash_padded(k, j0, iv, iv_len);
		put_be64(lens + 8, (uint64_t)iv_len * 8);
		ghash_blocks(k, j0, lens, 1);
	}
	memcpy(cb, j0, 16);
	ctr_blocks(k, cb, zero, g->ek0, 1);
	memcpy(g->cb, j0, 16);
	inc32(g->cb);
	ghash_padded(k, g->x, aad, aad_len);
	g->aad_len = aad_len;
	return 0;
}

/* n bytes (at most what is left of the current block's keystream). */
static void take_bytes(struct gcm *g, const struct gcm_key *k, const uint8_t *in,
		       uint8_t *out, size_t n)
{
	uint8_t a, c;

	for (size_t i = 0; i < n; i++) {
		a = in[i];
		c = a ^ g->ks[g->npart];
		g->part[g->npart++] = g->decrypt ? a : c;
		out[i] = c;
	}
	if (g->npart == 16) {
		ghash_blocks(k, g->x, g->part, 1);
		g->npart = 0;
	}
}

int gcm_update(struct gcm *g, const struct gcm_key *k, const uint8_t *in,
	       uint8_t *out, size_t len)
{
	static const uint8_t zero[16];
	size_t n;

	if (len > GCM_MAX_LEN - g->len)
		return -EMSGSIZE;
	g->len += len;
	if (g->npart) {
		n = 16 - g->npart < len ? 16 - g->npart : len;
		take_bytes(g, k, in, out, n);
		in += n, out += n, len -= n;
	}
	while (len >= 16) {
		n = len / 16 < CHUNK_BLOCKS ? len / 16 : CHUNK_BLOCKS;
		/* GHASH reads the ciphertext: before CTR overwrites it in
		 * place when opening, after CTR made it when sealing. */
		if (g->decrypt && k->accel) {
			gcm__x86_open(k, g->cb, g->x, in, out, n);
		} else if (g->decrypt) {
			ghash_blocks(k, g->x, in, n);
			ctr_blocks(k, g->cb, in, out, n);
		} else {
			ctr_blocks(k, g->cb, in, out, n);
			ghash_blocks(k, g->x, out, n);
		}
		in += 16 * n, out += 16 * n, len -= 16 * n;
	}
	if (len) {
		ctr_blocks(k, g->cb, zero, g->ks, 1);
		take_bytes(g, k, in, out, len);
	}
	return 0;
}

void gcm_finish(struct gcm *g, const struct gcm_key *k, uint8_t tag[16])
{
	uint8_t lens[16];

	if (g->npart) {
		memset(g->part + g->npart, 0, 16 - g->npart);
		ghash_blocks(k, g->x, g->part, 1);
		g->npart = 0;
	}
	put_be64(lens, g->aad_len * 8);
	put_be64(lens + 8, g->len * 8);
	ghash_blocks(k, g->x, lens, 1);
	for (int i = 0; i < 16; i++)
		tag[i] = g->x[i] ^ g->ek0[i];
}

int gcm_seal(const struct gcm_key *k, const uint8_t *iv, size_t iv_len,
	     const uint8_t *aad, size_t aad_len, const uint8_t *in, uint8_t *out,
	     size_t len, uint8_t *tag, size_t tag_len)
{
	struct gcm g;
	uint8_t full[16];
	int rc;

	if (tag_len < 4 || tag_len > 16)
		return -EINVAL;
	if ((rc = gcm_start(&g, k, 0, iv, iv_len, aad, aad_len)) != 0 ||
	    (rc = gcm_update(&g, k, in, out, len)) != 0)
		goto out;
	gcm_finish(&g, k, full);
	memcpy(tag, full, tag_len);
out:
	gcm_wipe(&g, sizeof(g));
	gcm_wipe(full, sizeof(full));
	return rc;
}

int gcm_open(const struct gcm_key *k, const uint8_t *iv, size_t iv_len,
	     const uint8_t *aad, size_t aad_len, const uint8_t *in, uint8_t *out,
	     size_t len, const uint8_t *tag, size_t tag_len)
{
	struct gcm g;
	uint8_t full[16], diff = 0;
	int rc;

	if (tag_len < 4 || tag_len > 16)
		return -EINVAL;
	if ((rc = gcm_start(&g, k, 1, iv, iv_len, aad, aad_len)) != 0 ||
	    (rc = gcm_update(&g, k, in, out, len)) != 0)
		goto out;
	gcm_finish(&g, k, full);
	for (size_t i = 0; i < tag_len; i++)
		diff |= full[i] ^ tag[i];
	if (diff) {
		gcm_wipe(out, len);
		rc = -EBADMSG;
	}
out:
	gcm_wipe(&g, sizeof(g));
	gcm_wipe(full, sizeof(full));
	return rc;
}
