/* The echo client core: resolve each target, connect (Happy Eyeballs,
 * sequential, or every address separately), send verified probes or pipe
 * standard input, and report through callbacks. It never prints. */
#ifndef AE_CLIENT_H
#define AE_CLIENT_H

#include "addr.h"
#include "evloop.h"
#include "resolve.h"
#include "source.h"

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
	bool connect_only;      /* -z: connect, report the handshake, close */
	struct source source;   /* -I: bind before connecting */
	bool pmtu;              /* --pmtu: path MTU search per address (datagram) */
};

/* PROBE_UNRECOGNISED: a datagram that is no reply to any probe sent (seq 0) */
enum probe_status {
	PROBE_OK,
	PROBE_LOST,
	PROBE_MISMATCH,
	PROBE_DUPLICATE,
	PROBE_LATE,
	PROBE_UNRECOGNISED,
	PROBE_ICMP,        /* an ICMP error (or a local send error) ended the probe */
	PROBE_OTHER_SOURCE /* a datagram from an address other than the one probed */
};

/* A PROBE_LATE's error when the echo came within -W, after an ICMP error
 * had ended its probe (else "reply after the timeout"). */
#define PROBE_AFTER_ERROR "reply after its error was reported"

/* The ICMP error a probe met: what it was and who reported it. */
struct probe_icmp {
	int type, code;   /* ICMP or ICMPv6 (family of the address); -1: a local error */
	const char *from; /* the reporting address, or NULL */
	int mtu;          /* announced by Packet Too Big / Fragmentation Needed; 0 */
};

struct probe_result {
	const char *target;
	const struct addr *addr;
	long long seq; /* from 1; 0: no probe (PROBE_UNRECOGNISED) */
	int bytes;
	double rtt_ms;
	enum probe_status status;
	const char *error; /* words for anything but PROBE_OK */
	const struct probe_icmp *icmp; /* PROBE_ICMP, else NULL */
	const struct addr *from;       /* PROBE_OTHER_SOURCE: where it came from, else NULL */
	bool retransmitted; /* TCP: the kernel retransmitted during this probe */
	int timeout_ms;     /* PROBE_LATE: the -W it missed */
};

struct session_summary {
	const char *target;
	const struct addr *addr; /* NULL when no address was reached or known */
	bool connected;
	double connect_ms;
	long long sent, received, mismatched, duplicates, late, unrecognised;
	long long reordered; /* datagram replies after a later probe's reply */
	/* probes sent less than -W before the run was stopped, unanswered:
	 * neither received nor lost (they are in sent) */
	long long in_flight;
	double rtt_min, rtt_avg, rtt_max, rtt_mdev; /* ms; valid when received > 0 */
	const char *error; /* why it failed, or NULL */
	bool resolve_failed;
	bool pipe;                       /* pipe mode: bytes, not probes */
	uint64_t bytes_sent, bytes_received;
	const struct addr *local; /* the session's own address; NULL: unknown */
	bool connect_only;        /* -z: no probes were meant to be sent */
	bool input_ended;                /* pipe mode: all of stdin was sent */
	/* The race (not --all): connect_ms runs from the target's first
	 * attempt; handshake_ms is the winner's own. */
	int attempts;
	double handshake_ms;
	long long syn_sent;         /* TCP: SYNs the handshake took; 0: unknown */
	int preferred_family;       /* IPv6 if the target has an IPv6 address */
	bool fallback;              /* the preferred family failed, another won */
	const char *fallback_error; /* what became of the preferred family */
	long long retransmits;      /* TCP_INFO tcpi_total_retrans during the run; -1: n/a */
	/* TCP: the received probes whose time includes a retransmission, and
	 * the RTTs of the others, the path's own (valid when received exceeds
	 * retransmitted_probes and retransmits >= 0) */
	long long retransmitted_probes;
	double clean_min, clean_avg, clean_max, clean_mdev;
	size_t index;               /* --all: the address's place in the resolver's answer */
	bool local_error;           /* not probed for a cause of this host's (out of descriptors) */
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

/* --pmtu: what the search found for one address. Sizes are IP packets. */
enum pmtu_kind { PMTU_KIND_FULL, PMTU_KIND_ANNOUNCED, PMTU_KIND_FOUND, PMTU_KIND_BLACK_HOLE,
	PMTU_KIND_NOTHING, PMTU_KIND_ERROR, PMTU_KIND_WRONG_ECHO };

struct pmtu_report {
	const char *target;
	const struct addr *addr;
	enum pmtu_kind kind;
	int min, max;             /* searched: the smallest size, the interface MTU */
	int largest;              /* largest size echoed; 0: none */
	int announced;            /* smallest MTU a router announced; 0: none */
	const char *announced_by; /* who announced it, or NULL */
	int vanished;             /* smallest size lost without an error; 0: none */
	int probes;
	const char *verdict;      /* the sentence */
};

/* One connection attempt of a race (default and --sequential mode). */
enum attempt_outcome { ATTEMPT_CONNECTED, ATTEMPT_FAILED, ATTEMPT_CANCELLED };

struct attempt_result {
	const char *target;
	const struct addr *addr;
	int number;      /* from 1, in the order started */
	double start_ms; /* after the target's first attempt */
	double time_ms;  /* from its start to its outcome */
	enum attempt_outcome outcome;
	const char *error; /* the cause; NULL when connected */
	long long syn_sent; /* TCP: SYNs sent (a lost one is sent again); 0: unknown */
	bool pipe;         /* pipe mode: stdout carries the echo */
};

struct client_report {
	void (*probe)(void *arg, const struct probe_result *r);
	void (*summary)(void *arg, const struct session_summary *s);
	/* --all: after every address of a target has its summary */
	void (*target_done)(void *arg, const char *target);
	void *arg;
	/* every name lookup, as it ends (may be NULL) */
	void (*dns)(void *arg, const struct dns_result *d);
	/* --pmtu: once per address, before its summary; may be NULL */
	void (*pmtu)(void *arg, const struct pmtu_report *r);
	/* each connection attempt's outcome (not --all); may be NULL */
	void (*attempt)(void *arg, const struct attempt_result *r);
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
