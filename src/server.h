/* The echo server core: listeners and connections on one event loop per
 * worker thread, limits, idle timeouts and graceful shutdown. It consumes
 * resolved endpoint lists (or inherited sockets) and never prints: what
 * happens is reported through callbacks and counters. */
#ifndef AE_SERVER_H
#define AE_SERVER_H

#include "echo.h"
#include "evloop.h"
#include "sock.h"

struct server_opts {
	uint32_t bufsize;  /* per-connection buffer cap */
	int max_conns;     /* over it, new connections are closed at once */
	int idle_ms;       /* close connections idle this long; 0: never */
	int grace_ms;      /* after shutdown, time for connections to finish */
	int threads;       /* event loops; all of them watch every socket */
	bool guard_off;    /* answer datagrams from any source (dangerous) */
	uint32_t rate_limit; /* datagram replies a second to one source; 0: no limit */
	bool exit_when_idle; /* inetd: stop when the last connection ends, or
	                      * after idle_ms without datagrams */
	uint64_t max_owed;    /* bytes owed to peers, all connections; 0: no limit */
	int stall_ms;         /* once it is spent, close connections stalled this long */
	uint32_t max_per_source; /* connections from one source; 0: no limit */
	struct sock_opts sock;
};

#define SERVER_BUFSIZE  65536
#define SERVER_BUFSIZE_MIN 512
#define SERVER_BUFSIZE_MAX (64L << 20)
#define SERVER_IDLE_MS  300000
#define SERVER_GRACE_MS 5000
/* 64 MiB: a thousand 64 KiB buffers, more than loopback or a LAN ever needs
 * at once (the kernel's socket buffers absorb the ordinary slow reader),
 * little enough for a small VM; a fixed figure, not a share of RAM, so the
 * bound is the same wherever the daemon runs. */
#define SERVER_MAX_OWED (64u << 20)
/* Longer than a healthy peer's closed window lasts (a GC pause, a few
 * retransmission timeouts), short enough that holding the budget needs a
 * steady stream of new connections. */
#define SERVER_STALL_MS 10000
/* Plenty for a NAT or a load generator, a small share of --max-conns. */
#define SERVER_PER_SOURCE 256

struct server;

/* Called for each endpoint tried: a = the bound address (port filled in)
 * or the one that failed, err = NULL on success. */
typedef void server_report_cb(void *arg, const struct addr *a, const char *err);

int server_new(struct server **out, const struct server_opts *o);
void server_free(struct server *s);

/* The protocol-independent loop: try every entry, report each, keep what
 * binds. Returns how many were bound, or -1 with errno EADDRINUSE as soon
 * as an address is in use (another server has it; its report said so):
 * the caller should give up (or -1 with ENOMEM, also reported). Before
 * server_run(): a unix path's mode is set through the process umask, and
 * the guard's own ports are read by the workers unlocked. */
int server_bind(struct server *s, const struct addr_list *list, server_report_cb *report,
    void *arg);
/* Adopt an inherited socket (socket activation, inetd): a listener or a
 * datagram socket, shared by all workers, or one connected stream, served
 * by the first. Returns 0 or -1 with errno. */
int server_adopt(struct server *s, int fd, const struct addr *a, bool connected);

/* The loop that runs in the calling thread: register signals on it. */
struct evloop *server_loop(struct server *s);
/* Start the other workers and run the first here until stopped. */
int server_run(struct server *s);
/* Stop accepting; let connections finish within the grace period. From a
 * callback on server_loop(). */
void server_shutdown(struct server *s);
void server_stats(const struct server *s, struct echo_stats *sum, int *open_conns);
/* Connections holding a block of their own (bytes owed, a pause for the
 * budget, seqpacket records): an idle stream connection holds none. */
int server_conn_blocks(const struct server *s);
/* Re-read what the server takes from the system (the interfaces'
 * broadcast addresses, which the reflection guard refuses): on SIGHUP,
 * and every minute on its own. From a callback on server_loop(). -1
 * (said in a warning): the addresses known before are kept. */
int server_reload(struct server *s);
/* Bytes owed to peers now, and the budget (0: none). */
void server_owed(const struct server *s, uint64_t *owed, uint64_t *max);

#endif
