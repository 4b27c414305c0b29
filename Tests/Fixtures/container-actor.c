/*
 * What nodeaudit's attribution tests need a hostile process to do, as one static
 * program (a busybox container has no compiler, no libaudit and no python):
 *
 *   container-actor send-user-message TYPE TEXT
 *       sends one user-space audit message (netlink, NETLINK_AUDIT) of record type TYPE,
 *       as PAM and sshd do; any root process with CAP_AUDIT_WRITE may, in a container too.
 *   runc ... (the program copied or linked under the name `runc`)
 *       a fake runtime: whatever its argv says, it starts $ACTOR_CHILD with the argument
 *       $ACTOR_MARKER twice, once at once and once when it has itself exited (the second
 *       child waits until it is adopted), writes the first child's pid to $ACTOR_PID_FILE
 *       if set, and exits.
 *
 * Built by the tests with `cc -static`; nothing here runs outside them.
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/netlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* libaudit's bound on a user message (libaudit.h), which the kernel also keeps. */
#define MAX_AUDIT_MESSAGE_LENGTH 8970

static int send_user_message(int type, const char *text) {
    int fd = socket(AF_NETLINK, SOCK_RAW, NETLINK_AUDIT);
    if (fd < 0) { perror("socket"); return 1; }
    size_t length = strlen(text) + 1;
    char buffer[NLMSG_SPACE(MAX_AUDIT_MESSAGE_LENGTH)];
    if (NLMSG_SPACE(length) > sizeof buffer) { fprintf(stderr, "message too long\n"); return 1; }
    memset(buffer, 0, sizeof buffer);
    struct nlmsghdr *header = (struct nlmsghdr *)buffer;
    header->nlmsg_len = NLMSG_LENGTH(length);
    header->nlmsg_type = (unsigned short)type;
    header->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
    header->nlmsg_seq = 1;
    memcpy(NLMSG_DATA(header), text, length);
    struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
    if (sendto(fd, buffer, header->nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0) {
        perror("sendto");
        return 1;
    }
    char reply[NLMSG_SPACE(1024)];
    ssize_t got = recv(fd, reply, sizeof reply, 0);
    if (got >= (ssize_t)NLMSG_LENGTH(sizeof(struct nlmsgerr))) {
        struct nlmsghdr *answer = (struct nlmsghdr *)reply;
        if (answer->nlmsg_type == NLMSG_ERROR) {
            int error = ((struct nlmsgerr *)NLMSG_DATA(answer))->error;
            if (error != 0) { fprintf(stderr, "audit: %s\n", strerror(-error)); return 1; }
        }
    }
    return 0;
}

/* Starts `child marker`; with `orphaned`, the child first waits (up to 30 s) until its
 * parent has exited and another process adopted it, as a runtime's process is. */
static pid_t start_child(const char *child, const char *marker, int orphaned) {
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        struct timespec pause = { .tv_sec = 0, .tv_nsec = 1000000L };
        for (int waited = 0; orphaned && getppid() == parent && waited < 30000; waited++) nanosleep(&pause, NULL);
        execl(child, child, marker, (char *)NULL);
        _exit(127);
    }
    return pid;
}

static int fake_runtime(void) {
    const char *child = getenv("ACTOR_CHILD");
    const char *marker = getenv("ACTOR_MARKER");
    if (!child || !marker) { fprintf(stderr, "ACTOR_CHILD and ACTOR_MARKER are needed\n"); return 2; }
    pid_t first = start_child(child, marker, 0);
    start_child(child, marker, 1);
    const char *pid_file = getenv("ACTOR_PID_FILE");
    if (pid_file) {
        FILE *file = fopen(pid_file, "w");
        if (file) { fprintf(file, "%d", (int)first); fclose(file); }
    }
    waitpid(first, NULL, 0);
    return 0;
}

int main(int argc, char **argv) {
    const char *name = strrchr(argv[0], '/');
    name = name ? name + 1 : argv[0];
    if (strcmp(name, "runc") == 0) return fake_runtime();
    if (argc == 4 && strcmp(argv[1], "send-user-message") == 0) return send_user_message(atoi(argv[2]), argv[3]);
    fprintf(stderr, "usage: %s send-user-message TYPE TEXT\n", argv[0]);
    return 2;
}
