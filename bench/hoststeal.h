/* hoststeal.h -- how much CPU time the hypervisor gave to other guests
 * while a benchmark ran ("steal" in Linux's /proc/stat).  On a shared
 * virtual machine a wall-clock figure means little without it: the same
 * run takes 3 s or 4 s depending on the neighbours. */
#ifndef KV_BENCH_HOSTSTEAL_H
#define KV_BENCH_HOSTSTEAL_H

#include <stdio.h>
#include <unistd.h>

/* Steal time of all CPUs so far, in seconds; -1 where the kernel does not
 * report it. */
static double host_steal_seconds(void)
{
	FILE *f = fopen("/proc/stat", "r");
	unsigned long long t[8];
	int n = f ? fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &t[0], &t[1], &t[2], &t[3], &t[4],
			   &t[5], &t[6], &t[7]) : 0;
	if (f)
		fclose(f);
	long hz = sysconf(_SC_CLK_TCK);
	return n == 8 && hz > 0 ? (double)t[7] / (double)hz : -1;
}

/* "steal 12% of the CPUs" for a run of `wall` seconds that began at
 * steal `before`; nothing where steal is not reported. */
static void print_host_steal(double before, double wall)
{
	double after = host_steal_seconds();
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	if (before >= 0 && after >= 0 && wall > 0 && cpus > 0)
		printf("  host steal %.0f%% of the %ld CPUs (time other guests took)\n",
		       100.0 * (after - before) / (wall * (double)cpus), cpus);
}

#endif
