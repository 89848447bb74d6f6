/* What the kernel's sock_diag (NETLINK_SOCK_DIAG) tells about a socket
 * that no call on the socket itself does. Linux only; elsewhere every
 * question answers -1 with ENOSYS. */
#ifndef AE_SOCKDIAG_H
#define AE_SOCKDIAG_H

/* The bytes the peer of the connected unix stream socket fd has yet to
 * read, to the byte, or -1 with errno (ENOENT: no such peer in our network
 * namespace, or no unix_diag in the kernel). Our own SIOCOUTQ cannot say:
 * it counts whole buffers (up to 64 KiB each), freed only once the peer has
 * read all of one. A few syscalls: for rare looks, not the echo path. */
long long sockdiag_unix_unread(int fd);

#endif
