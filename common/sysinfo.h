/* sysinfo: facts about the process's share of the machine. libc only. */
#ifndef QB_SYSINFO_H
#define QB_SYSINFO_H

/* CPUs this process may use: the affinity mask, capped by the cgroup's CPU
 * quota (v2 cpu.max, or v1 cpu.cfs_quota_us / cpu.cfs_period_us), rounded
 * up. At least 1. */
int sysinfo_usable_cpus(void);

/* The quota part alone, from a cpu.max line ("max 100000" or "150000
 * 100000"): CPUs rounded up, or 0 for no limit or a line that does not
 * parse. Exposed for tests. */
int sysinfo_parse_cpu_max(const char *line);

#endif
