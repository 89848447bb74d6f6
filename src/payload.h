/* What a client probe carries, and how its echo is checked. Payloads look
 * random but are regenerated from (seed, seq), so nothing sent needs to be
 * kept to check what comes back. A datagram starts with a header (magic,
 * sequence number) so that late, duplicated and foreign replies are told
 * apart. Pure: no sockets, no clock; the parsers take any bytes at all. */
#ifndef AE_PAYLOAD_H
#define AE_PAYLOAD_H

#include <stddef.h>
#include <stdint.h>

#define PAYLOAD_DGRAM_HEADER 8 /* magic, then the sequence number (big endian) */

void payload_fill(uint64_t seed, int seq, unsigned char *p, size_t n);
void payload_dgram_build(uint64_t seed, int seq, unsigned char *p, size_t n);

/* The sequence number a datagram claims, or -1 when it is not one of ours
 * (shorter than the header, wrong magic, negative). */
int payload_dgram_seq(const unsigned char *p, size_t n);

/* The first byte at which a reply of n bytes differs from the datagram
 * probe (seed, seq) of size bytes, looking at the bytes both have; the
 * shorter length when none differs. The caller judges the lengths. */
size_t payload_dgram_diff(uint64_t seed, int seq, const unsigned char *p, size_t n,
    size_t size);

/* The first byte where b differs from a, within n bytes; n when equal. */
size_t payload_first_diff(const unsigned char *a, const unsigned char *b, size_t n);

#endif
