#include "config.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sysinfo.h"

int
sysinfo_parse_cpu_max(const char *line)
{
	long long quota, period;

	if (strncmp(line, "max", 3) == 0)
		return 0;
	if (sscanf(line, "%lld %lld", &quota, &period) != 2 || quota <= 0 ||
	    period <= 0)
		return 0;
	return (int)((quota + period - 1) / period);
}

static int
read_line(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "re");
	int ok;

	if (!f)
		return -1;
	ok = fgets(buf, (int)size, f) != NULL;
	fclose(f);
	return ok ? 0 : -1;
}

/* The tightest cpu.max from our cgroup (v2) up to the root. */
static int
cgroup_v2_cpus(void)
{
	char line[4096], path[4200], rel[4096];
	int best = 0;

	if (read_line("/proc/self/cgroup", line, sizeof line) < 0 ||
	    strncmp(line, "0::", 3) != 0)
		return 0;
	snprintf(rel, sizeof rel, "%s", line + 3);
	rel[strcspn(rel, "\n")] = '\0';
	for (;;) {
		char val[128];
		snprintf(path, sizeof path, "/sys/fs/cgroup%s/cpu.max",
		    strcmp(rel, "/") == 0 ? "" : rel);
		if (read_line(path, val, sizeof val) == 0) {
			int n = sysinfo_parse_cpu_max(val);
			if (n > 0 && (best == 0 || n < best))
				best = n;
		}
		char *slash = strrchr(rel, '/');
		if (!slash || slash == rel)
			break;
		*slash = '\0';
	}
	return best;
}

static int
cgroup_v1_cpus(void)
{
	char q[64], p[64];
	long long quota, period;

	if (read_line("/sys/fs/cgroup/cpu/cpu.cfs_quota_us", q, sizeof q) < 0 ||
	    read_line("/sys/fs/cgroup/cpu/cpu.cfs_period_us", p, sizeof p) < 0)
		return 0;
	quota = atoll(q);
	period = atoll(p);
	if (quota <= 0 || period <= 0)
		return 0;
	return (int)((quota + period - 1) / period);
}

int
sysinfo_usable_cpus(void)
{
	cpu_set_t set;
	int n = 0, quota;

	if (sched_getaffinity(0, sizeof set, &set) == 0)
		n = CPU_COUNT(&set);
	if (n <= 0)
		n = 1;
	quota = cgroup_v2_cpus();
	if (quota == 0)
		quota = cgroup_v1_cpus();
	if (quota > 0 && quota < n)
		n = quota;
	return n;
}
