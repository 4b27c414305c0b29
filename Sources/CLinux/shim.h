#ifndef NODEAUDIT_CLINUX_SHIM_H
#define NODEAUDIT_CLINUX_SHIM_H
// Linux system calls that Swift's Glibc module does not bring in: epoll, and accept4
// (which glibc declares only under _GNU_SOURCE, which a module header cannot set).
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static inline int nodeaudit_accept_nonblocking(int fd) {
    return (int)syscall(SYS_accept4, fd, (void *)0, (void *)0, SOCK_NONBLOCK | SOCK_CLOEXEC);
}
#endif
