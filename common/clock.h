/* clock: monotonic seconds and sleeping. libc only. */
#ifndef QB_CLOCK_H
#define QB_CLOCK_H

/* Seconds on CLOCK_MONOTONIC (for deadlines and durations, never dates). */
double qb_mono_now(void);

/* Sleep s seconds (nothing for s <= 0), resuming after signals. */
void qb_sleep(double s);

#endif
