#ifndef NODEAUDIT_CLINUX_SHIM_H
#define NODEAUDIT_CLINUX_SHIM_H
// Linux system calls that Swift's Glibc module does not bring in: epoll, and accept4 and
// unshare (which glibc declares only under _GNU_SOURCE, which a module header cannot set).
#include <malloc.h>
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
/// Blocks of 1 MiB and more come from mmap and go back to the system when freed. glibc's
/// own threshold moves up to the largest block freed, after which the storage a table
/// outgrew stays in the heap: in a node agent's long run, tens of MB that nothing uses.
static inline void nodeaudit_fix_mmap_threshold(void) {
    mallopt(M_MMAP_THRESHOLD, 1 << 20);
}
#endif
