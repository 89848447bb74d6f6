/* The client's public face (client.h): options, targets, run and stop;
 * the work is done by race.c, probe.c and pipe.c. */
#include "common.h"

#include <fcntl.h>
#include <sys/resource.h>

#include "client_int.h"
#include "log.h"

/* --all: sessions (sockets) open at once across all targets; the rest
 * wait their turn, so that a name with hundreds of addresses neither runs
 * out of descriptors nor starves the resolver of them. */
#define ALL_INFLIGHT_MAX 32

/* ---- the client ---- */

/* Two descriptors a session at most leaves room for the resolver's. */
static int
all_inflight_max(void)
{
	struct rlimit rl;
	rlim_t room;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur == RLIM_INFINITY)
		return ALL_INFLIGHT_MAX;
	room = rl.rlim_cur > 32 ? (rl.rlim_cur - 32) / 2 : 1;
	return room < ALL_INFLIGHT_MAX ? (int)(room > 0 ? room : 1) : ALL_INFLIGHT_MAX;
}

int
client_new(struct client **out, struct evloop *loop, const struct client_opts *o,
    const struct client_report *rep, char *err, size_t errlen)
{
	struct client *c = calloc(1, sizeof(*c));
	uint64_t seed = evloop_clock_us() ^ ((uint64_t)getpid() << 32);
	int fd;

	*out = NULL;
	if (c == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	c->loop = loop;
	c->o = *o;
	c->rep = *rep;
	c->inflight_max = all_inflight_max();
	c->tail = &c->targets;
	race_client_init(c);
	fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd != -1) {
		if (read(fd, &c->seed, sizeof(c->seed)) != (ssize_t)sizeof(c->seed))
			c->seed = 0;
		close(fd);
	}
	c->seed ^= seed;
	if (resolver_new(&c->res, loop, &o->resolve, err, errlen) == -1) {
		free(c);
		return -1;
	}
	*out = c;
	return 0;
}

void
client_free(struct client *c)
{
	struct target *t, *next;

	if (c == NULL)
		return;
	for (t = c->targets; t != NULL; t = next) {
		next = t->next;
		race_target_free(t);
		free(t);
	}
	evloop_timer_cancel(c->loop, &c->kick);
	resolver_free(c->res);
	free(c);
}

int
client_add(struct client *c, const char *text, int port, char *err, size_t errlen)
{
	struct target *t = calloc(1, sizeof(*t));

	if (t == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (addr_parse(&t->spec, text, err, errlen) == -1) {
		free(t);
		return -1;
	}
	snprintf(t->text, sizeof(t->text), "%s", text);
	log_oneline(t->text); /* it starts every line printed about the target */
	t->c = c;
	t->port = port >= 0 ? port : c->o.port;
	if (t->spec.port >= 0)
		t->port = t->spec.port;
	race_target_init(t);
	*c->tail = t;
	c->tail = &t->next;
	return 0;
}

int
client_run(struct client *c)
{
	for (struct target *t = c->targets; t != NULL; t = t->next)
		race_target_start(t);
	if (c->active > 0)
		evloop_run(c->loop);
	return 0;
}

void
client_stop(struct client *c)
{
	c->stopping = true;
	for (struct target *t = c->targets; t != NULL; t = t->next) {
		/* Not finished as it stands: its input may not be through. */
		if (c->o.pipe && t->winner != NULL)
			pipe_stop(t->winner);
		race_target_stop(t);
	}
	evloop_stop(c->loop);
}
