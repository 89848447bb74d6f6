/* Socket helpers: every socket non-blocking and close-on-exec; listeners
 * with explicit IPV6_V6ONLY, SO_REUSEADDR for TCP only, unix path
 * preparation, modes set as the path is made, removal of our own path
 * only, and packet info;
 * connects that start and finish on the loop. Errors: -1 and errno, plus a
 * sentence in err where the caller will want to show one. */
#ifndef AE_SOCK_H
#define AE_SOCK_H

#include "addr.h"

struct sock_opts {
	bool dualstack;    /* AF_INET6 accepts IPv4 too (IPV6_V6ONLY=0) */
	int backlog;
	int unix_mode;     /* chmod for unix paths; -1 leaves the umask's */
};

int sock_open(int family, int socktype, int protocol);
int sock_nonblock(int fd);
/* Which file a bound unix socket path is (zero: none of ours, or not a
 * path): what sock_unlink() checks before it removes anything. */
struct sock_path_id {
	dev_t dev;
	ino_t ino;
};

/* Bind (and listen, for connection types). On failure -1, errno kept, and
 * err says what failed and how to fix it. A unix path's file is recorded in
 * *id (may be NULL). Sets the process umask for an instant around a unix
 * path's bind: call it before other threads create files. */
int sock_listen(const struct addr *a, const struct sock_opts *o, struct sock_path_id *id,
    char *err, size_t errlen);
/* The address a socket is bound to, with a's type and protocol. */
int sock_local(int fd, const struct addr *like, struct addr *out);
/* Does the socket carry connections (stream, seqpacket) or datagrams? */
bool sock_is_connection_type(int socktype);
/* Keep urgent data in the stream (SO_OOBINLINE): TCP, unix streams. */
int sock_urgent_inline(int fd);
/* Refuse descriptors passed to a unix socket (SO_PASSRIGHTS off): -1 with
 * ENOPROTOOPT before Linux 6.16 or where the option is unknown,
 * EOPNOTSUPP on a socket of another family. */
int sock_refuse_rights(int fd);
/* May descriptors already wait in this accepted unix stream's queue
 * (its SO_PASSRIGHTS on, or not known)? */
bool sock_rights_may_wait(int fd);
/* Start a non-blocking connect: the fd, connected or in progress (errno
 * EINPROGRESS), or -1. Unix datagram sockets get an address of their own
 * first, so that the peer can answer. */
int sock_connect(const struct addr *a, int *in_progress);
/* The same, with prep(fd, a, arg) between open and connect (a bind to a
 * source address, say); its failure is the connect's, errno kept. */
typedef int sock_prep_fn(int fd, const struct addr *a, void *arg);
int sock_connect_prep(const struct addr *a, sock_prep_fn *prep, void *arg,
    int *in_progress);
/* After writability: 0, or -1 with errno from SO_ERROR. */
int sock_connect_result(int fd);
/* Remove a unix socket path if it is still the file id recorded: never
 * one that another server has bound there since. Abstract names, other
 * families, an id with nothing recorded: nothing. Call it before closing
 * the socket, so that no other server can take the path meanwhile. */
void sock_unlink(const struct addr *a, const struct sock_path_id *id);

#endif
