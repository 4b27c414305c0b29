/* Load for Scripts/bench-live --flood: audited getpgid(2) calls from one thread at a set
 * rate, each one SYSCALL (+PROCTITLE) event under a `-S getpgid -k flood` rule.
 *
 *   getpgid-flood RATE SECONDS     prints the number of calls made on stdout
 *
 * The calls are spread over 1 ms ticks on an absolute schedule, so a slow tick is made
 * up by the next ones and the total is RATE * SECONDS. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: getpgid-flood RATE SECONDS\n");
        return 2;
    }
    long rate = atol(argv[1]), seconds = atol(argv[2]);
    long total = rate * seconds, made = 0;
    struct timespec start, tick;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (long millisecond = 1; made < total; millisecond++) {
        long due = rate * millisecond / 1000;
        if (due > total) due = total;
        for (; made < due; made++) syscall(SYS_getpgid, 0);
        tick.tv_sec = start.tv_sec + millisecond / 1000;
        tick.tv_nsec = start.tv_nsec + (millisecond % 1000) * 1000000L;
        if (tick.tv_nsec >= 1000000000L) { tick.tv_sec++; tick.tv_nsec -= 1000000000L; }
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &tick, NULL);
    }
    printf("%ld\n", made);
    return 0;
}
