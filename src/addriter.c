#include "common.h"

#include "addriter.h"

int
addriter_clamp_delay(int ms)
{
	return ms < ADDRITER_MIN_DELAY_MS ? ADDRITER_MIN_DELAY_MS :
	    ms > ADDRITER_MAX_DELAY_MS ? ADDRITER_MAX_DELAY_MS : ms;
}

void
addriter_init(struct addriter *it, bool want6, bool want4, int delay_ms, bool sequential)
{
	memset(it, 0, sizeof(*it));
	it->pending[0] = want6;
	it->pending[1] = want4;
	it->last = -1;
	it->delay_ms = addriter_clamp_delay(delay_ms);
	it->sequential = sequential;
}

void
addriter_free(struct addriter *it)
{
	addr_list_free(&it->q[0]);
	addr_list_free(&it->q[1]);
}

static int
queue_of(const struct addr *a)
{
	return a->family == AF_INET6 ? 0 : 1;
}

static int
add_all(struct addriter *it, const struct addr_list *list)
{
	for (size_t i = 0; list != NULL && i < list->n; i++)
		if (addr_list_add(&it->q[queue_of(&list->v[i])], &list->v[i]) == -1)
			return -1;
	return 0;
}

int
addriter_answer(struct addriter *it, bool is6, const struct addr_list *list, uint64_t now)
{
	it->pending[is6 ? 0 : 1] = false;
	if (!it->any_answer) {
		it->any_answer = true;
		it->answer_at = now;
	}
	return add_all(it, list);
}

void
addriter_failed(struct addriter *it, uint64_t now)
{
	if (it->inflight > 0)
		it->inflight--;
	it->next_at = now; /* RFC 8305 5: a failure starts the next at once */
}

size_t
addriter_count(const struct addriter *it)
{
	return it->q[0].n + it->q[1].n;
}

static size_t
left(const struct addriter *it, int q)
{
	return it->q[q].n - it->taken[q];
}

bool
addriter_exhausted(const struct addriter *it)
{
	return left(it, 0) + left(it, 1) == 0 && !it->pending[0] && !it->pending[1] &&
	    it->inflight == 0;
}

enum addriter_step
addriter_next(struct addriter *it, uint64_t now, const struct addr **a, uint64_t *wait_ms)
{
	int q;

	if (left(it, 0) + left(it, 1) == 0)
		return addriter_exhausted(it) ? ADDRITER_DONE : ADDRITER_IDLE;
	/* RFC 8305 3: with only A in hand, give AAAA 50 ms more. */
	if (it->last == -1 && it->pending[0] && left(it, 0) == 0 &&
	    now < it->answer_at + ADDRITER_RESOLUTION_DELAY_MS) {
		*wait_ms = it->answer_at + ADDRITER_RESOLUTION_DELAY_MS - now;
		return ADDRITER_WAIT;
	}
	if (it->inflight > 0) {
		if (it->sequential)
			return ADDRITER_IDLE;
		if (now < it->next_at) {
			*wait_ms = it->next_at - now;
			return ADDRITER_WAIT;
		}
	}
	/* RFC 8305 4: interleave families, IPv6 first, First Address Family
	 * Count 1: alternate, and when one family runs dry take the other. */
	q = it->last == -1 ? 0 : 1 - it->last;
	if (left(it, q) == 0)
		q = 1 - q;
	*a = &it->q[q].v[it->taken[q]++];
	it->last = q;
	it->inflight++;
	it->next_at = now + (uint64_t)it->delay_ms;
	return ADDRITER_START;
}
