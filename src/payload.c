#include "common.h"

#include <limits.h>

#include "payload.h"

static const unsigned char dgram_magic[4] = { 'A', 'E', 'c', '1' };

/* splitmix64: 8 bytes at a time from a counter started at (seed, seq). */
static uint64_t
next(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t
start(uint64_t seed, int seq)
{
	return seed ^ ((uint64_t)seq * 0x9e3779b97f4a7c15ull);
}

void
payload_fill(uint64_t seed, int seq, unsigned char *p, size_t n)
{
	uint64_t x = start(seed, seq);

	for (size_t i = 0; i < n; i += 8) {
		uint64_t z = next(&x);
		memcpy(p + i, &z, n - i < 8 ? n - i : 8);
	}
}

/* The header is exactly the payload's first 8-byte block. */
static void
header(int seq, unsigned char h[PAYLOAD_DGRAM_HEADER])
{
	uint32_t be = htonl((uint32_t)seq);

	memcpy(h, dgram_magic, 4);
	memcpy(h + 4, &be, 4);
}

void
payload_dgram_build(uint64_t seed, int seq, unsigned char *p, size_t n)
{
	unsigned char h[PAYLOAD_DGRAM_HEADER];

	payload_fill(seed, seq, p, n);
	header(seq, h);
	memcpy(p, h, n < sizeof(h) ? n : sizeof(h));
}

int
payload_dgram_seq(const unsigned char *p, size_t n)
{
	uint32_t be;

	if (n < PAYLOAD_DGRAM_HEADER || memcmp(p, dgram_magic, 4) != 0)
		return -1;
	memcpy(&be, p + 4, 4);
	be = ntohl(be);
	return be > INT_MAX ? -1 : (int)be;
}

/* Regenerates the probe block by block as it compares: no copy of it. */
size_t
payload_dgram_diff(uint64_t seed, int seq, const unsigned char *p, size_t n, size_t size)
{
	size_t len = n < size ? n : size;
	uint64_t x = start(seed, seq);
	unsigned char want[8];

	for (size_t i = 0; i < len; i += 8) {
		size_t k = len - i < 8 ? len - i : 8, d;
		uint64_t z = next(&x);
		if (i == 0)
			header(seq, want);
		else
			memcpy(want, &z, 8);
		d = payload_first_diff(want, p + i, k);
		if (d < k)
			return i + d;
	}
	return len;
}

size_t
payload_first_diff(const unsigned char *a, const unsigned char *b, size_t n)
{
	size_t i = 0;

	while (i < n && a[i] == b[i])
		i++;
	return i;
}
