/* ctl: what the controller's subcommands share: the configuration, the
 * members, the agent client, the output, the leases and the member
 * results that make the summary. */
#ifndef QB_CTL_H
#define QB_CTL_H

#include <jansson.h>
#include <signal.h>
#include <stdint.h>
#include <time.h>

#include "client.h"
#include "ctl_conf.h"
#include "err.h"

/* Exit codes (DESIGN section 4). */
enum {
	EXIT_OK = 0,
	EXIT_FAILED = 1,     /* some member failed */
	EXIT_USAGE = 2,      /* usage or configuration */
	EXIT_REFUSED = 3,    /* the safety check or a lease refused */
	EXIT_NOT_FOUND = 4,  /* a backup was not found */
};

/* One member's line in the summary. */
struct result {
	int member;
	char state[16];      /* succeeded, failed, refused, skipped, pending */
	char backup[64];     /* backup id */
	long long size;      /* archive bytes, -1 unknown */
	long long height;    /* block height recorded in the backup, -1 unknown */
	long long height_now;/* height seen once ready again, -1 unknown */
	double duration;     /* seconds of the member's job(s) */
	double downtime;     /* seconds the member's node was not serving */
	char code[64];       /* error code when failed */
	char msg[1600];
	/* backup: its off-site copy, "" when the command has none to tell:
	 * uploaded, failed, uploading (queued or running when the summary was
	 * made), manual (upload = manual); "" too with no [offsite] url. */
	char offsite[16];
};

/* The live status of one member, read from its agent's /v1/status. */
struct mstat {
	int reachable;
	char code[64], msg[1024];      /* why not reachable */
	/* Down, as the agent defines it (a node not running and ready, a
	 * hold, or a job that stops, unpacks or starts the nodes), with the
	 * agent's reasons; an agent that does not say counts as down. */
	int down;
	char down_why[1200];
	int syncing;                   /* any node syncing */
	long long height;              /* highest node height, -1 unknown */
	char address[64];              /* the node's signer address, "" unknown */
	int is_validator;              /* 1, 0, -1 unknown (from the node) */
	json_t *validators;            /* the set the node reports, or NULL */
	int held;                      /* some node is held stopped */
	char version[32];              /* agent version */
	json_t *status;                /* the whole /v1/status reply */
};

struct ctl {
	struct ctl_conf cf;
	struct member *members;        /* every member of the network */
	size_t n_members;
	struct client cl;
	int json, tty;
	volatile sig_atomic_t *stop;   /* SIGINT/SIGTERM seen */
	/* leases held, per member index; renewed while we work */
	unsigned char *leased;
	double lease_renewed;          /* qb_mono_now() */
	json_t *warnings;              /* strings, for the summary */
	struct result *res;            /* per member index */
	/* progress line state */
	double last_line;
	int live;                      /* a live line is on the terminal */
};

/* ---- progress and summary (progress.c) ---------------------------- */

/* A message for the operator (stderr); warnings also go to the summary. */
void out_info(struct ctl *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void out_warn(struct ctl *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A job's progress for member m's step: a live line on a terminal,
 * otherwise a line every progress_interval seconds (force: now). */
void out_progress(struct ctl *c, int m, const char *step, const json_t *job,
    int force);
/* End the live line, if any. */
void out_flush(struct ctl *c);
/* The summary: a table on stdout, or with --json one JSON document. */
void out_summary(struct ctl *c, const char *command, int exit_code);
/* Seconds as "9.5s", "3m05s", "2h10m", "3d04h"; negative: "-". (Bytes:
 * human_bytes, common/human.h.) */
void human_age(double seconds, char *buf, size_t size);

/* ---- agents, jobs and leases (run.c) ------------------------------ */

int member_index(const struct ctl *c, int n);
/* GET /v1/status of member index i into *s (freed by mstat_free). */
void member_status(struct ctl *c, size_t i, struct mstat *s);
/* The same; fresh: everything read now by the agent (?fresh=1): what the
 * safety check decides from. */
void member_status_ex(struct ctl *c, size_t i, struct mstat *s, int fresh);
void mstat_free(struct mstat *s);
/* Start a job (POST path) on member index i and follow it until it ends,
 * showing progress as `step`. 0 when it succeeded (*job holds it); -1 with
 * code and msg otherwise (*job holds it if there was one). */
int run_job(struct ctl *c, size_t i, const char *path, const char *step,
    json_t **job, char *code, size_t code_size, char *msg, size_t msg_size);
/* Start a job without following it: its id in id. */
int start_job(struct ctl *c, size_t i, const char *path, char *id,
    size_t id_size, char *code, size_t code_size, char *msg,
    size_t msg_size);
/* The same, but while the agent answers 409 busy (a job of ours that we
 * stopped following still runs there: a quiesce cut short by a signal, an
 * unpack past job_timeout) try again every second until deadline
 * (qb_mono_now() seconds), even after a stop signal: for the resume, which
 * must not be lost to that job. */
int start_job_when_free(struct ctl *c, size_t i, const char *path,
    double deadline, char *id, size_t id_size, char *code, size_t code_size,
    char *msg, size_t msg_size);
/* One look at a job (waiting up to wait_s for it to end). 1 when it ended,
 * 0 while it runs, -1 when the agent cannot be asked. */
int poll_job(struct ctl *c, size_t i, const char *id, double wait_s,
    json_t **job, char *code, size_t code_size, char *msg, size_t msg_size);
/* Wait until member index i is ready and (min_height >= 0) its head is
 * above min_height, within ready_timeout. 0 ready, -1 with why. */
int wait_ready(struct ctl *c, size_t i, long long min_height,
    long long *height, char *why, size_t why_size);
/* Sleep in small steps, renewing leases; 1 when a stop signal came. */
int ctl_sleep(struct ctl *c, double seconds);
int ctl_stopping(const struct ctl *c);

/* Leases on the member indexes given (in member order): all or none. -1
 * when another holder has one (msg says who), -2 when an agent could not
 * be asked. */
int leases_take(struct ctl *c, const size_t *idx, size_t n, char *msg,
    size_t size);
/* leases_take, and when it fails: say so, mark every member's result
 * (refused or failed) and return the exit code; EXIT_OK when taken. */
int leases_take_all(struct ctl *c, const size_t *idx, size_t n);
void leases_renew(struct ctl *c, int force);
void leases_release(struct ctl *c);

/* ---- safety (safety.c) -------------------------------------------- */

struct network {
	struct mstat *st;      /* per member index */
	size_t n;
	long long highest;     /* highest head among ready members, -1 none */
	int vset_known;        /* some node gave its validator set */
	size_t vset_n;         /* n of the QBFT/IBFT quorum */
	size_t unknown_validators;  /* set members no configured member is */
};

/* Read every member's status. */
void network_read(struct ctl *c, struct network *net);
void network_free(struct network *net);
/* Whether taking down the members in `down` (indexes) keeps the quorum
 * and every other member ready. 0 safe; -1 with the reasons in why. */
int safety_check(struct ctl *c, const struct network *net,
    const size_t *down, size_t n_down, int check_others, char *why,
    size_t why_size);
/* The backup check with retries: heads seen by the agents' probes may be
 * a probe apart, so a lagging head is looked at again before it refuses. */
int safety_backup(struct ctl *c, size_t target, char *why, size_t why_size);
size_t quorum_of(size_t n);

/* ---- subcommands --------------------------------------------------- */

struct cmd_opts {
	int all, force, keep_going, stored, offsite;
	int from_offsite;      /* --from offsite */
	int from_given;        /* --from */
	long parallel;
	const char *backup;
	int *members;          /* member numbers given */
	size_t n_members;
};

/* The options that belong to some commands only. */
enum {
	CMDOPT_ALL = 1 << 0,         /* --all */
	CMDOPT_FORCE = 1 << 1,       /* --force */
	CMDOPT_KEEP_GOING = 1 << 2,  /* --keep-going */
	CMDOPT_BACKUP = 1 << 3,      /* --backup */
	CMDOPT_PARALLEL = 1 << 4,    /* --parallel other than 1 */
	CMDOPT_STORED = 1 << 5,      /* --stored */
	CMDOPT_OFFSITE = 1 << 6,     /* --offsite */
	CMDOPT_FROM = 1 << 7,        /* --from */
};

/* One of a command's own options, as --help shows it. */
struct cmd_option {
	const char *name;            /* "--parallel K" */
	const char *help;            /* lines separated by '\n' */
};

/* A row of the command table (main.c); each cmd_*.c defines its own. */
struct cmd_entry {
	const char *name;
	const char *usage;           /* "restore (N...|--all)" */
	const char *help;            /* beside the usage; lines separated by '\n' */
	struct cmd_option options[4];/* the lines of its own options, in order */
	unsigned opts;               /* the CMDOPT_* it takes */
	/* The exit code; the summary, if any, is printed. */
	int (*exec)(struct ctl *c, const struct cmd_opts *o);
};

extern const struct cmd_entry cmd_backup_entry;
extern const struct cmd_entry cmd_restore_entry;
extern const struct cmd_entry cmd_list_entry;
extern const struct cmd_entry cmd_status_entry;
extern const struct cmd_entry cmd_verify_entry;
extern const struct cmd_entry cmd_prune_entry;

/* The member indexes a command works on, in member order: those given, or
 * all (--all or, when all_default, none given). -1 with a message when a
 * number is not a member of the configuration. */
int select_members(struct ctl *c, const struct cmd_opts *o, int all_default,
    size_t **idx, size_t *n);

#endif
