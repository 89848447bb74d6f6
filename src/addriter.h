/* Which address to try next, and when: RFC 8305 (Happy Eyeballs v2)
 * ordering and pacing as a pure state machine. No sockets, no clock: the
 * caller reports answers and failures and passes "now" in milliseconds. */
#ifndef AE_ADDRITER_H
#define AE_ADDRITER_H

#include <stdint.h>

#include "addr.h"

#define ADDRITER_RESOLUTION_DELAY_MS 50   /* wait this long for AAAA after A */
#define ADDRITER_ATTEMPT_DELAY_MS    250  /* between connection attempts */
#define ADDRITER_MIN_DELAY_MS        10
#define ADDRITER_MAX_DELAY_MS        2000

enum addriter_step {
	ADDRITER_START, /* start an attempt at *a now */
	ADDRITER_WAIT,  /* call again after *wait_ms, or on an event */
	ADDRITER_IDLE,  /* nothing to do until an answer or a failure */
	ADDRITER_DONE,  /* every address was tried and every answer is in */
};

/* Families are kept in two queues: IPv6, and the rest (IPv4, unix). */
struct addriter {
	struct addr_list q[2];
	size_t taken[2];
	bool pending[2]; /* a lookup for that queue has not answered yet */
	bool any_answer;
	uint64_t answer_at; /* when the first answer came: resolution delay */
	uint64_t next_at;   /* earliest start of the next attempt */
	int last;           /* queue of the last attempt, -1 before the first */
	int inflight;
	int delay_ms;
	bool sequential;    /* the classic loop: next only when the last failed */
};

int addriter_clamp_delay(int ms);
void addriter_init(struct addriter *it, bool want6, bool want4, int delay_ms, bool sequential);
void addriter_free(struct addriter *it);
/* A lookup answered: list holds its addresses (empty when it failed), of
 * any family. is6: the AAAA lookup. With one lookup only (literals, unix
 * paths, -4), init with want6 false and answer with is6 false. */
int addriter_answer(struct addriter *it, bool is6, const struct addr_list *list, uint64_t now);
/* An attempt failed: the next one may start at once. */
void addriter_failed(struct addriter *it, uint64_t now);
enum addriter_step addriter_next(struct addriter *it, uint64_t now, const struct addr **a,
    uint64_t *wait_ms);
/* No address left, no lookup pending, no attempt in flight. */
bool addriter_exhausted(const struct addriter *it);
/* Addresses known so far, in both queues. */
size_t addriter_count(const struct addriter *it);

#endif
