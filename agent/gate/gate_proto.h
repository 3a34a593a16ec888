/* gate_proto: the control protocol of quorum-backup-gate, shared by the
 * gate and its clients (the agent's node client, `quorum-backup-gate ctl`
 * and `probe`). Header only (constants and one inline check), libc only.
 *
 * Transport: a Unix stream socket (mode 0660). A client connects, sends ONE
 * request line (at most GATE_REQUEST_MAX bytes before the '\n'), reads ONE
 * JSON reply line, and the gate closes the connection. Every request is
 * idempotent.
 *
 *   stop [timeout=SECONDS] [job=ID] [until=EPOCH_SECONDS] [reason=TEXT]
 *        Write the hold marker (unless a hold is already in place), send
 *        the stop signal ONCE to the node's process group, and answer when
 *        every process of the group has exited ("state":"stopped"). When
 *        the timeout (default GATE_STOP_TIMEOUT_DEFAULT) passes first, the
 *        reply is {"ok":false,"error":...,"state":"stopping",...}: the node
 *        keeps its time to stop, nothing is escalated, and a later stop
 *        waits again without signalling again. Stopped already: answered at
 *        once.
 *   start
 *        Remove the hold marker and run the command again; the reply comes
 *        once exec has succeeded ("state":"running") or failed
 *        ({"ok":false,"error":"start failed: exec ...", ...}). Running
 *        already: answered at once. Refused while stopping.
 *   status
 *        {"ok":true,"state":S,"pid":N|null,"pgid":N|null,"uptime":S|null,
 *         "restarts":N,"last_exit":{"code":N}|{"signal":N}|null,
 *         "hold":{"job":..,"reason":..,"until":..,"since":..}|null,
 *         "start_error":TEXT|null,"command":[..]}
 *        (stop and start answer with the same fields.)
 *   logs [lines=N]
 *        {"ok":true,"lines":[..]}: the node's last output lines (stdout and
 *        stderr, in arrival order), each cut at GATE_LINE_MAX bytes.
 *
 * Bad input: {"ok":false,"error":TEXT} and nothing changes. */
#ifndef QB_GATE_PROTO_H
#define QB_GATE_PROTO_H

#include <stddef.h>

/* Requests. */
#define GATE_REQ_STOP   "stop"
#define GATE_REQ_START  "start"
#define GATE_REQ_STATUS "status"
#define GATE_REQ_LOGS   "logs"

/* Options of stop (key=value, values without spaces) and logs. */
#define GATE_OPT_TIMEOUT "timeout"
#define GATE_OPT_JOB     "job"
#define GATE_OPT_UNTIL   "until"
#define GATE_OPT_REASON  "reason"
#define GATE_OPT_LINES   "lines"

/* States. */
#define GATE_STATE_RUNNING  "running"   /* the command runs */
#define GATE_STATE_STOPPING "stopping"  /* stop signal sent, group not gone */
#define GATE_STATE_STOPPED  "stopped"   /* no process; held, or a start failed */
#define GATE_STATE_STARTING "starting"  /* forked, exec not yet confirmed */

/* Reply keys. */
#define GATE_KEY_OK          "ok"
#define GATE_KEY_ERROR       "error"
#define GATE_KEY_STATE       "state"
#define GATE_KEY_PID         "pid"
#define GATE_KEY_PGID        "pgid"
#define GATE_KEY_UPTIME      "uptime"
#define GATE_KEY_RESTARTS    "restarts"
#define GATE_KEY_LAST_EXIT   "last_exit"   /* {"code":N} or {"signal":N} */
#define GATE_KEY_HOLD        "hold"        /* job, reason, until, since */
#define GATE_KEY_START_ERROR "start_error"
#define GATE_KEY_COMMAND     "command"
#define GATE_KEY_LINES       "lines"

/* The hold marker, in the gate's --state-dir (one state dir per gate).
 * Lines of key=value (job, reason, until, since; until 0 = none), written
 * atomically (fsync, rename, fsync dir), mode 0600. Present: the node stays
 * stopped, across gate restarts, until `start`. */
#define GATE_HOLD_FILE "gate-hold"
/* flock held by the running gate: one gate per state dir. */
#define GATE_LOCK_FILE "gate.lock"

/* Limits. */
#define GATE_REQUEST_MAX 1024           /* request line, without '\n' */
#define GATE_JOB_MAX 128                /* job=: A-Z a-z 0-9 - . _ : @ / + */
#define GATE_REASON_MAX 256             /* reason=: UTF-8, no control chars */
#define GATE_STOP_TIMEOUT_DEFAULT 60    /* seconds */
#define GATE_STOP_TIMEOUT_MAX 86400
#define GATE_LINE_MAX 4096              /* one stored output line */
#define GATE_LOG_LINES_DEFAULT 50
#define GATE_LOG_LINES_MAX 10000
#define GATE_REPLY_MAX (8u << 20)       /* a client may refuse longer replies */

/* 1 when s is a valid job id (job= of stop, job in the hold marker): 1 to
 * GATE_JOB_MAX characters of A-Z a-z 0-9 - . _ : @ / +; else 0. The one
 * rule, for the gate and its clients alike. */
static inline int
gate_job_valid(const char *s)
{
	size_t n;

	for (n = 0; s[n]; n++) {
		char c = s[n];

		if (n == GATE_JOB_MAX)
			return 0;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == ':' || c == '@' || c == '/' || c == '+'))
			return 0;
	}
	return n > 0;
}

#endif
