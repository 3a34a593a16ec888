/* clock: the monotonic clock, in seconds or milliseconds, and sleeping.
 * libc only. */
#ifndef QB_CLOCK_H
#define QB_CLOCK_H

/* Seconds on CLOCK_MONOTONIC (for deadlines and durations, never dates). */
double qb_mono_now(void);

/* Whole milliseconds on the same clock (qb_mono_now() truncated to the
 * millisecond): for deadlines and durations kept as integers. */
long long qb_mono_ms(void);

/* Sleep s seconds (nothing for s <= 0), resuming after signals. */
void qb_sleep(double s);

#endif
