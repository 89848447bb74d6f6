/* Datagram replies from the network: payload_dgram_seq and _diff take
 * any bytes. The input is a seed (8 bytes), a probe size (2), then the
 * reply. Invariants: the reply is judged without reading past it, a
 * claimed sequence number is in range, and the probe built from the same
 * (seed, seq, size) is recognised and judged intact. */
#include "common.h"

#include "fuzz.h"
#include "payload.h"

static unsigned char probe[65536];

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t seed;
	size_t psize, n, d;
	uint16_t s16;
	int seq;

	if (size < 10)
		return 0;
	memcpy(&seed, data, 8);
	memcpy(&s16, data + 8, 2);
	psize = s16 < PAYLOAD_DGRAM_HEADER ? PAYLOAD_DGRAM_HEADER : s16;
	data += 10;
	n = size - 10;

	seq = payload_dgram_seq(data, n);
	if (seq < -1)
		abort();
	d = payload_dgram_diff(seed, seq < 0 ? 0 : seq, data, n, psize);
	if (d > (n < psize ? n : psize))
		abort();

	seq = seq < 0 ? 0 : seq;
	payload_dgram_build(seed, seq, probe, psize);
	if (payload_dgram_seq(probe, psize) != seq ||
	    payload_dgram_diff(seed, seq, probe, psize, psize) != psize)
		abort();
	return 0;
}
