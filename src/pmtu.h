/* The path MTU search of --pmtu as a pure state machine: which packet size
 * to send next, and what the answers mean. No sockets, no clock: the
 * caller sends the size pmtu_next() names and reports what became of it.
 * Sizes are whole IP packets (what an MTU measures). */
#ifndef AE_PMTU_H
#define AE_PMTU_H

#include <stdbool.h>

enum pmtu_outcome {
	PMTU_ECHOED,   /* the echo came back intact */
	PMTU_TOO_BIG,  /* Packet Too Big / Fragmentation Needed (with an MTU, or 0) */
	PMTU_VANISHED  /* neither echo nor error within the timeout */
};

enum pmtu_verdict {
	PMTU_RUNNING,
	PMTU_FULL,        /* the largest size (the interface MTU) comes back */
	PMTU_ANNOUNCED,   /* a router announced the MTU and that size comes back */
	PMTU_FOUND,       /* too-big errors without an MTU; largest size that passed */
	PMTU_BLACK_HOLE,  /* larger sizes vanish without Packet Too Big */
	PMTU_NOTHING      /* not even the smallest size comes back */
};

struct pmtu {
	int min, max;     /* the range searched */
	int retries;      /* a vanished size is sent this often more before it counts */
	int lo;           /* largest size echoed; 0: none yet */
	int hi;           /* smallest size known not to pass; max + 1 while none */
	int announced;    /* smallest MTU announced, 0: none */
	int vanished;     /* smallest size that vanished (after its retries); 0: none */
	int size, tries;  /* the size in flight, and how often it was sent */
	bool done;
};

void pmtu_init(struct pmtu *p, int min, int max, int retries);
/* The size to send next; 0 when the search is over. */
int pmtu_next(struct pmtu *p);
/* What became of the size sent last (mtu: announced, for PMTU_TOO_BIG). */
void pmtu_result(struct pmtu *p, enum pmtu_outcome o, int mtu);
enum pmtu_verdict pmtu_verdict(const struct pmtu *p);

#endif
