#ifndef NODEAUDIT_CLINUX_SHIM_H
#define NODEAUDIT_CLINUX_SHIM_H
// Linux system calls that Swift's Glibc module does not bring in: epoll, and accept4 and
// unshare (which glibc declares only under _GNU_SOURCE, which a module header cannot set).
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static inline int nodeaudit_accept_nonblocking(int fd) {
    return (int)syscall(SYS_accept4, fd, (void *)0, (void *)0, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

/// A thread's own root and working directory, no longer shared with the process.
static inline int nodeaudit_unshare_filesystem(void) {
    return (int)syscall(SYS_unshare, 0x00000200 /* CLONE_FS */);
}
#endif
