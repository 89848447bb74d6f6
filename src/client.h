/* The echo client core: resolve each target, connect (Happy Eyeballs,
 * sequential, or every address separately), send verified probes or pipe
 * standard input, and report through callbacks. It never prints. */
#ifndef AE_CLIENT_H
#define AE_CLIENT_H

#include "addr.h"
#include "evloop.h"
#include "resolve.h"

enum client_mode { CLIENT_RACE, CLIENT_SEQUENTIAL, CLIENT_ALL };

struct client_opts {
	enum client_mode mode;
	int family;     /* AF_UNSPEC, AF_INET, AF_INET6 */
	int socktype;   /* SOCK_STREAM or SOCK_DGRAM */
	int port;
	int count;      /* probes per address; 0: until stopped */
	int size;       /* bytes per probe */
	int interval_ms;
	int timeout_ms;         /* per probe reply */
	int connect_timeout_ms; /* per connection attempt */
	int attempt_delay_ms;   /* Happy Eyeballs */
	bool pipe;              /* stdin to the server, the echo to stdout */
	struct resolve_opts resolve;
};

/* PROBE_UNRECOGNISED: a datagram that is no reply to any probe sent (seq 0) */
enum probe_status {
	PROBE_OK,
	PROBE_LOST,
	PROBE_MISMATCH,
	PROBE_DUPLICATE,
	PROBE_LATE,
	PROBE_UNRECOGNISED
};

struct probe_result {
	const char *target;
	const struct addr *addr;
	long long seq; /* from 1; 0: no probe (PROBE_UNRECOGNISED) */
	int bytes;
	double rtt_ms;
	enum probe_status status;
	const char *error; /* words for anything but PROBE_OK */
};

struct session_summary {
	const char *target;
	const struct addr *addr; /* NULL when no address was reached or known */
	bool connected;
	double connect_ms;
	long long sent, received, mismatched, duplicates, late, unrecognised;
	long long reordered; /* datagram replies after a later probe's reply */
	double rtt_min, rtt_avg, rtt_max, rtt_mdev; /* ms; valid when received > 0 */
	const char *error; /* why it failed, or NULL */
	bool resolve_failed;
	bool pipe;                       /* pipe mode: bytes, not probes */
	uint64_t bytes_sent, bytes_received;
	bool input_ended;                /* pipe mode: all of stdin was sent */
};

/* One name lookup: each family's (AAAA, A) when the client asks both, or
 * the only one (-4, -6). Not for literals, unix paths: no name. */
struct dns_result {
	const char *target;
	const char *name;
	int family;                   /* AF_INET6 (AAAA), AF_INET (A), AF_UNSPEC (both) */
	enum resolve_status status;   /* RESOLVE_ECANCELLED: answered elsewhere first */
	const struct addr_list *list; /* what it found (RESOLVE_OK) */
	double ms;                    /* until the answer, or until cancelled */
	const char *server;           /* as struct resolve_info; NULL when cancelled */
	bool answered;
	const char *error;            /* words for anything but RESOLVE_OK */
};

struct client_report {
	void (*probe)(void *arg, const struct probe_result *r);
	void (*summary)(void *arg, const struct session_summary *s);
	/* --all: after every address of a target has its summary */
	void (*target_done)(void *arg, const char *target);
	void *arg;
	/* every name lookup, as it ends (may be NULL) */
	void (*dns)(void *arg, const struct dns_result *d);
};

struct client;

int client_new(struct client **out, struct evloop *loop, const struct client_opts *o,
    const struct client_report *rep, char *err, size_t errlen);
void client_free(struct client *c);
/* Queue a target; parse errors come back in err. */
int client_add(struct client *c, const char *target, int port, char *err, size_t errlen);
/* Run until every target is done (or client_stop). */
int client_run(struct client *c);
/* Stop sending probes; finish with the summaries (SIGINT). */
void client_stop(struct client *c);

#endif
