/* Load for measuring fork auditing: starts and joins threads at a set rate from one
 * process, as Go and Java runtimes do (pthread_create: clone3 with CLONE_THREAD).
 *
 *   thread-storm RATE SECONDS      prints the number of threads started on stdout */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static void *nothing(void *argument) { return argument; }

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: thread-storm RATE SECONDS\n");
        return 2;
    }
    long rate = atol(argv[1]), seconds = atol(argv[2]);
    long total = rate * seconds, made = 0;
    struct timespec start, tick;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (long millisecond = 1; made < total; millisecond++) {
        long due = rate * millisecond / 1000;
        if (due > total) due = total;
        for (; made < due; made++) {
            pthread_t thread;
            if (pthread_create(&thread, NULL, nothing, NULL) != 0) return 1;
            pthread_join(thread, NULL);
        }
        tick.tv_sec = start.tv_sec + millisecond / 1000;
        tick.tv_nsec = start.tv_nsec + (millisecond % 1000) * 1000000L;
        if (tick.tv_nsec >= 1000000000L) { tick.tv_sec++; tick.tv_nsec -= 1000000000L; }
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &tick, NULL);
    }
    printf("%ld\n", made);
    return 0;
}
