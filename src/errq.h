/* The kernel's socket error queue (IP_RECVERR, IPV6_RECVERR): ICMP errors
 * and local send errors for datagrams, each with the type and code, the
 * address that reported it, an MTU where there is one, and the start of
 * the datagram it is about. Sockets only, no policy: callers decide what
 * an error ends. */
#ifndef AE_ERRQ_H
#define AE_ERRQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

enum errq_origin { ERRQ_LOCAL, ERRQ_ICMP, ERRQ_ICMP6, ERRQ_OTHER };

struct errq_msg {
	int errnum;               /* the errno it stands for (EMSGSIZE, ECONNREFUSED...) */
	enum errq_origin origin;
	int type, code;           /* ICMP or ICMPv6; -1 for a local error */
	uint32_t info;            /* the MTU for Packet Too Big / Fragmentation Needed */
	struct sockaddr_storage from; /* who reported it; family AF_UNSPEC: nobody */
	size_t len;               /* bytes of the offending datagram copied to buf */
};

/* Ask for the error queue on a datagram socket of this family. */
int errq_enable(int fd, int family);
/* One message from the queue: 1, or 0 when empty, or -1 (errno). */
int errq_read(int fd, struct errq_msg *m, unsigned char *buf, size_t cap);
/* Is it Packet Too Big / Fragmentation Needed / a local "too long"? */
bool errq_too_big(const struct errq_msg *m);
/* Words for it: "port unreachable (ICMP type 3 code 3) from 192.0.2.2". */
const char *errq_describe(const struct errq_msg *m, char *buf, size_t len);

#endif
