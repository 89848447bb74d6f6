/* Asynchronous name resolution with c-ares, driven by an evloop. Turns an
 * endpoint spec into an addr_list: literals, wildcards, localhost and unix
 * paths are answered without the network (addr_local), names are asked of
 * DNS and the hosts file through ares_getaddrinfo. */
#ifndef AE_RESOLVE_H
#define AE_RESOLVE_H

#include "addr.h"
#include "evloop.h"

enum resolve_status {
	RESOLVE_OK,
	RESOLVE_ENOTFOUND,  /* no such name */
	RESOLVE_ENODATA,    /* the name exists, but has no address of the family asked */
	RESOLVE_ETIMEOUT,   /* DNS did not answer in time */
	RESOLVE_ESERVFAIL,  /* the server said it failed */
	RESOLVE_EREFUSED,   /* the server refused */
	RESOLVE_ECONN,      /* no DNS server could be reached */
	RESOLVE_EBADRESP,   /* malformed or unsupported answer */
	RESOLVE_EBADNAME,
	RESOLVE_ENOMEM,
	RESOLVE_ECANCELLED,
	RESOLVE_EOTHER,
};

#define RESOLVE_SERVERS_MAX 1024 /* a --dns-server list, as c-ares reads it */

struct resolve_opts {
	int timeout_ms;      /* whole lookup, all tries; 0: RESOLVE_TIMEOUT_MS */
	int tries;           /* 0: RESOLVE_TRIES */
	const char *servers; /* "ip[:port],...", NULL: the system's */
	/* cli_resolve_option() writes the list here, rewritten for c-ares
	 * (servers then points here): it lives as long as the options. */
	char servers_buf[RESOLVE_SERVERS_MAX];
};

/* The c-ares this program runs with, which need not be the one it was
 * built with (distributions ship 1.18 to 1.34). */
struct resolve_cares {
	int version;      /* ares_version()'s number: 0x011201 for 1.18.1 */
	const char *text; /* "1.18.1" */
	bool iface;       /* takes a link-local DNS server with its interface */
};
void resolve_cares(struct resolve_cares *out);
/* c-ares takes a DNS server's interface ("[fe80::1]:53%eth0") from 1.24.0
 * (c-ares PR #646); older ones cannot reach a link-local server at all.
 * 1.34.0 to 1.34.5 drop every such server (iface false): PR #997, in
 * 1.34.6, fixed it. */
#define RESOLVE_IFACE_VERSION 0x011800

#define RESOLVE_TIMEOUT_MS 5000
#define RESOLVE_TRIES      3
#define RESOLVE_ERRLEN     640 /* fits a name, the server list and the words */

struct resolver;
struct resolve_query;

/* What a lookup found out besides its addresses, for reports. */
struct resolve_info {
	int family;         /* asked for: AF_INET6 (AAAA), AF_INET (A), AF_UNSPEC (both) */
	double ms;          /* from the start of the lookup to its answer */
	const char *server; /* "ip:port" of the server that answered, "hosts file",
	                     * "local" (literals, localhost), or when none answered
	                     * (timeout, unreachable) the servers that were asked */
	bool answered;      /* server names the one that answered */
};

/* list is the caller's to keep or free; on failure it is empty and errmsg
 * says what went wrong in words a person understands. info and the query
 * are gone once the callback returns. Never called from inside
 * resolve_start(). */
typedef void resolve_cb(void *arg, enum resolve_status status, struct addr_list *list,
    const char *errmsg, const struct resolve_info *info);

int resolver_new(struct resolver **out, struct evloop *loop, const struct resolve_opts *opts,
    char *err, size_t errlen);
/* Drops pending queries without calling their callbacks. Not from inside one. */
void resolver_free(struct resolver *r);

struct resolve_query *resolve_start(struct resolver *r, const struct addr_spec *spec,
    const struct addr_hints *hints, resolve_cb *cb, void *arg);
/* The callback will not be called. */
void resolve_cancel(struct resolve_query *q);

/* Many endpoints at once, answered in the order given: parse and resolve
 * every item concurrently on r, running r's loop until all have answered.
 * Each item ends with its list, or with err set. Returns how many failed. */
struct resolve_item {
	const char *text;
	struct addr_list list;
	enum resolve_status status; /* RESOLVE_EBADNAME when text does not parse */
	char err[RESOLVE_ERRLEN];
};
int resolve_items(struct resolver *r, struct resolve_item *items, size_t n,
    const struct addr_hints *hints);

/* The one place c-ares' statuses become ours and ours become words. */
enum resolve_status resolve_status_from_ares(int ares_status);
/* The same, told what the server's answer said when c-ares would not:
 * rcode is the DNS RCODE of an answer to the same question (-1: none
 * came). c-ares 1.18 reports ARES_ECONNREFUSED when every server answered
 * SERVFAIL or REFUSED, just as when none could be reached. */
enum resolve_status resolve_status_classify(int ares_status, int rcode);
/* Short names: "nxdomain", "servfail", ... for JSON; "NXDOMAIN",
 * "SERVFAIL", "timeout", ... for text (upper: a DNS RCODE or NODATA). */
const char *resolve_status_name(enum resolve_status st);
const char *resolve_status_word(enum resolve_status st);
void resolve_describe(char *buf, size_t len, enum resolve_status st, int ares_status,
    const char *name, int family, const char *servers, int timeout_ms);

#endif
