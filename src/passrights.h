/* Linux 6.16's SO_PASSRIGHTS, where the C library's headers predate it:
 * only for architectures whose value was checked against the kernel's
 * uapi headers (asm-generic, which x86 takes as is, and the four with a
 * socket.h of their own). Elsewhere the option is not tried. One copy for
 * sock.c and the tests' shim, which must agree. After <sys/socket.h>. */
#ifndef AE_PASSRIGHTS_H
#define AE_PASSRIGHTS_H

#if !defined(SO_PASSRIGHTS) && defined(__linux__)
#if defined(__x86_64__) || defined(__i386__) || defined(__alpha__) || defined(__mips__)
#define SO_PASSRIGHTS 83
#elif defined(__hppa__)
#define SO_PASSRIGHTS 0x4051
#elif defined(__sparc__)
#define SO_PASSRIGHTS 0x005c
#endif
#endif

#endif
