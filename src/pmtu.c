/* The path MTU search: see pmtu.h. The smallest size goes first (if it
 * does not come back, nothing larger will tell anything), then the
 * largest (most paths carry it), then an announced MTU, then bisection
 * between the largest size echoed and the smallest that did not pass. */
#include "common.h"

#include "pmtu.h"

void
pmtu_init(struct pmtu *p, int min, int max, int retries)
{
	memset(p, 0, sizeof(*p));
	p->min = min;
	p->max = max > min ? max : min;
	p->retries = retries > 0 ? retries : 0;
	p->hi = p->max + 1;
}

/* The next size to learn from, given what is known; 0: nothing left. */
static int
pmtu_choose(const struct pmtu *p)
{
	if (p->lo == 0)
		return p->hi > p->min ? p->min : 0;
	if (p->hi == p->max + 1 && p->lo < p->max)
		return p->max;
	/* Believe a router's announcement, once it is checked by an echo. */
	if (p->announced > p->lo && p->announced < p->hi)
		return p->announced;
	if (p->announced > 0 && p->lo >= p->announced)
		return 0;
	return p->hi - p->lo > 1 ? p->lo + (p->hi - p->lo) / 2 : 0;
}

int
pmtu_next(struct pmtu *p)
{
	int size;

	if (p->done)
		return 0;
	if (p->size != 0) /* the last one vanished and is tried again */
		return p->size;
	size = pmtu_choose(p);
	if (size == 0) {
		p->done = true;
		return 0;
	}
	p->size = size;
	p->tries = 0;
	return size;
}

void
pmtu_result(struct pmtu *p, enum pmtu_outcome o, int mtu)
{
	int size = p->size;

	if (size == 0)
		return;
	p->tries++;
	switch (o) {
	case PMTU_ECHOED:
		if (size > p->lo)
			p->lo = size;
		break;
	case PMTU_TOO_BIG:
		if (size < p->hi)
			p->hi = size;
		/* An MTU at or above the size it refused says nothing. */
		if (mtu > 0 && mtu < size && (p->announced == 0 || mtu < p->announced))
			p->announced = mtu;
		break;
	case PMTU_VANISHED:
		if (p->tries <= p->retries)
			return; /* the same size again: one loss is not a verdict */
		if (size < p->hi)
			p->hi = size;
		if (p->vanished == 0 || size < p->vanished)
			p->vanished = size;
		/* The smallest size lost: the path is down, not narrow. */
		if (size == p->min && p->lo == 0)
			p->done = true;
		break;
	}
	if (p->lo >= p->hi) /* an echo of a size "known" not to pass: trust the echo */
		p->hi = p->lo + 1;
	p->size = 0;
}

enum pmtu_verdict
pmtu_verdict(const struct pmtu *p)
{
	if (!p->done)
		return PMTU_RUNNING;
	if (p->lo == 0)
		return PMTU_NOTHING;
	if (p->lo >= p->max)
		return PMTU_FULL;
	if (p->vanished > p->lo && (p->announced == 0 || p->vanished <= p->announced))
		return PMTU_BLACK_HOLE;
	if (p->announced > 0 && p->lo >= p->announced)
		return PMTU_ANNOUNCED;
	return PMTU_FOUND;
}
