/* The client's insides, shared by its modules (race.c, probe.c, pipe.c,
 * client.c) and by nothing else: anyecho.c sees only client.h. */
#ifndef AE_CLIENT_INT_H
#define AE_CLIENT_INT_H

#include "addriter.h"
#include "client.h"

#define ERRLEN      512
struct target;

struct session {
	struct session *next;
	struct target *t;
	struct addr addr;
	int fd;
	bool connected, done;
	uint64_t t0_us;
	double connect_ms;
	struct evtimer ctimer; /* connect timeout */
	struct evtimer ptimer; /* next probe */
	struct evtimer rtimer; /* reply timeout (stream, pipe) or loss sweep (dgram) */
	/* probes */
	long long nsent, received, mismatched, dups, late, unrecognised, reordered, sweep;
	long long maxseq; /* highest sequence number answered (reordering) */
	bool blocked;     /* a probe waits for room in the ring */
	uint64_t *sent_at; /* rings of cap entries, seq & (cap - 1) */
	uint8_t *got;      /* enum probe_slot_state, in probe.c */
	uint32_t *rtt_us;  /* datagram: an intact reply's RTT, in probe.c */
	long long cap;
	double rmin, rmax, rsum, rsq;
	unsigned char *tx, *rx;
	size_t txoff, rxlen;
	bool awaiting;
	bool last_ok;     /* the last stream reply was counted intact */
	double last_rtt;
	bool draining;    /* stream: after the last reply, awaiting the close */
	int rd_end;       /* stream read side ended between probes: -1 EOF, or errno */
	bool rec_marked;  /* seqpacket: SO_PASSCRED on, an empty record is no end */
	/* pipe */
	unsigned char *unacked;
	size_t unacked_len, txlen;
	uint64_t bytes_sent, bytes_received;
	bool stdin_eof;
	bool closing;     /* input ended and sent: the -W deadline runs */
	char err[ERRLEN];
	struct addr local; /* our end, once connect() has chosen it */
	bool has_local;
	bool source_failed; /* -I could not be applied to this socket */
	bool local_fail;    /* no socket here (out of descriptors): no fault of the address */
	bool unconnected; /* datagram: sendto() the address, replies from anywhere */
	bool errq;        /* datagram: the error queue is on (IP_RECVERR) and read */
	/* unix datagram: the server's name as the kernel gives it (getpeername()
	 * at connect time): a reply counts only from there (probe.c) */
	struct sockaddr_storage peer;
	socklen_t peer_len;
	struct pmtu_run *pmtu; /* --pmtu: the search (probe_pmtu.c); free() frees it */
	/* attempts (race.c) */
	int number;          /* the attempt's place in its target's race */
	bool reported;       /* its attempt record went out */
	bool probing;        /* datagram: probes run before the first reply */
	bool unanswered;     /* ... and ended with none: summarised, not reached */
	double handshake_ms; /* its own connect time */
	long long syn_sent;  /* TCP: SYNs its handshake took (TCP_INFO); 0 unknown */
	size_t index;        /* --all: place in the resolver's answer */
	/* honest numbers (probe.c) */
	long long lost_open;     /* datagram probes reported lost and not yet late */
	uint64_t linger_until;   /* datagram: after the last, wait -W for late replies */
	long long retrans0;      /* TCP: tcpi_total_retrans when probing began; -1 n/a */
	long long retrans_probe; /* ... when the probe in flight was sent */
	long long retransmits;   /* ... during the run */
	long long rtx_probes;    /* TCP: intact echoes whose time includes one */
	double cmin, cmax, csum, csq; /* RTTs of the other intact echoes */
	/* RTT statistics cover intact echoes only; an echo found wrong later
	 * leaves min and max as well as the average (probe.c). */
	double pmin, pmax, pcmin, pcmax; /* stream: before the last echo counted */
	double fmin, fmax;       /* datagram: of intact echoes out of the ring */
	long long nfolded;       /* ... how many */
	bool rtt_revoked;        /* datagram: min/max to be worked out again */
	bool last_retx;          /* the last echo counted is one of rtx_probes */
	bool overdue;            /* stream: the echo missed -W; one more -W, then lost */
	bool last_late;          /* stream: the last echo was late (not received) */
	long long in_flight;     /* SIGINT came before these probes' -W ran out */
};

struct target {
	struct target *next;
	struct client *c;
	char text[ADDR_STRLEN + ADDR_HOSTMAX];
	struct addr_spec spec;
	int port;
	struct resolve_query *q[2];
	struct addriter it;
	struct evtimer pace;
	struct evtimer deadline;  /* race: the whole race within the connect timeout */
	bool raced;               /* the deadline was armed: once, at the first attempt */
	bool expired;
	struct addr_list queued;  /* --all: addresses waiting for a free slot */
	size_t nqueued_started;
	struct session *sessions;
	struct session *winner;
	bool done;
	char err[ERRLEN];  /* every failed connection attempt */
	char rerr[ERRLEN]; /* every failed lookup */
	int qfamily[2];    /* what q[0], q[1] ask for, for their dns records */
	uint64_t dns_t0_us; /* when they started */
	uint64_t first_us; /* the first attempt's start */
	int nattempts;
	int pref_family;   /* the first attempt's family (see target_pref_family) */
	char ferr[ERRLEN]; /* what became of the IPv6 attempts (fallback words) */
};

struct client {
	struct evloop *loop;
	struct resolver *res;
	struct client_opts o;
	struct client_report rep;
	struct target *targets, **tail;
	int active;
	int inflight, inflight_max; /* --all sessions open, and the bound */
	struct evtimer kick;        /* --all: the deferred all_pump() */
	bool stopping;
	uint64_t seed;
	unsigned char rxbuf[65536];
};

/* race.c: targets, their sessions (one per connection attempt), the race */
void session_arm_at_us(struct client *c, struct evtimer *t, uint64_t due);
const char *session_where(const struct addr *a, char *buf, size_t len);
void session_connect_error(struct session *s, int e);
void session_close(struct session *s);
void session_free(struct session *s);
/* The session is over: its summary goes out, its target may end. */
void session_finish(struct session *s);
void race_client_init(struct client *c);
void race_target_init(struct target *t);
/* Resolve and race; the target ends through its summary if all fails. */
void race_target_start(struct target *t);
/* Free what the target holds (the struct itself stays). */
void race_target_free(struct target *t);
/* SIGINT: finish what is connected, abandon the rest. */
void race_target_stop(struct target *t);

/* A reply to a datagram session's probe came: the first connects it (and
 * may win; in --all it gives the connect time). */
void session_answered(struct session *s);
/* A datagram attempt not yet answered got an ICMP error (errno e; 0: the
 * cause is in s->err). Ends it and returns true, or false when it is the
 * target's last hope: then the caller reports the error as a probe's. */
bool session_attempt_failed(struct session *s, int e);

/* probe.c: verified probes over a connected session */
void probe_start(struct session *s);
/* The run is being stopped (SIGINT), before the session's summary:
 * probes past -W are reported lost, the others counted in flight. May
 * finish the session. */
void probe_interrupted(struct session *s);
/* Before the summary: RTT min and max over the intact echoes alone, once
 * a datagram echo counted received was taken back (a wrong duplicate). */
void probe_rtt_settle(struct session *s);
/* TCP_INFO's count of retransmitted segments (SYNs too), -1 where none */
long long probe_tcp_retrans(const struct session *s);

/* probe_pmtu.c: --pmtu, the path MTU search over a connected datagram
 * session; returns false when the session is not one it can search. */
bool probe_pmtu_start(struct session *s);

/* pipe.c: standard input through a connected stream session */
void pipe_start(struct session *s);
/* SIGINT: end the session, a failure unless all input went through. */
void pipe_stop(struct session *s);

#endif
