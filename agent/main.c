/* quorum-backup-agent: command line. The options, the configuration, the
 * signals; the command is looked up in the table (cmd_table.c) and called. */
#include "config.h"

#include <getopt.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_conf.h"
#include "clock.h"
#include "cmd_table.h"
#include "log.h"

static volatile sig_atomic_t cancel_requested;

static void
on_signal(int sig)
{
	(void)sig;
	cancel_requested = 1;
}

static void
usage(FILE *out)
{
	fprintf(out,
"Usage: quorum-backup-agent [OPTIONS] [COMMAND [ARGS]]\n"
"\n"
"Backs up and restores the data volume of one Quorum member.\n"
"\n"
"Commands:\n");
	cmd_print_help(out);
	fprintf(out,
"\n"
"Options:\n"
"  -c, --config FILE        INI configuration file\n"
"      --data-dir DIR       [agent] data_dir\n"
"      --backup-dir DIR     [agent] backup_dir (environment: BACKUP_DIR)\n"
"      --member N           [agent] member\n"
"      --set SECTION.KEY=VALUE  any configuration key (repeatable)\n"
"      --json               machine-readable output on stdout\n"
"      --log-level LEVEL    debug, info, warn or error\n"
"      --sample-config      print a configuration file with every key\n"
"  -h, --help               this text, then every configuration key\n"
"  -V, --version            print the version\n"
"\n"
"Precedence: defaults < config file < environment < options.\n"
"Exit codes: 0 success, 1 operation failed, 2 usage or configuration error,\n"
"3 refused because the node is running, 4 not found, 5 verification failed,\n"
"6 insufficient space.\n"
"\n"
"Configuration keys:\n");
	conf_print_keys(&agent_conf_table, out);
}

struct progress_state {
	const char *op;
	double start, last;          /* qb_mono_now() */
};

/* A progress line in the log at most every 5 seconds, and at the end. */
static void
on_progress(const struct progress *p, void *arg)
{
	struct progress_state *ps = arg;
	double now = qb_mono_now(), elapsed = now - ps->start;

	if (now - ps->last < 5.0 && p->bytes_done < p->bytes_total)
		return;
	ps->last = now;
	log_info("progress", "op=%s bytes_done=%llu bytes_total=%llu "
	    "files_done=%llu files_total=%llu percent=%.1f rate_mib_s=%.1f "
	    "elapsed=%.1f", ps->op, (unsigned long long)p->bytes_done,
	    (unsigned long long)p->bytes_total,
	    (unsigned long long)p->files_done,
	    (unsigned long long)p->files_total,
	    p->bytes_total ? 100.0 * (double)p->bytes_done /
	    (double)p->bytes_total : 100.0,
	    elapsed > 0 ? (double)p->bytes_done / elapsed / 1048576.0 : 0.0,
	    elapsed);
}

enum { OPT_DATA_DIR = 256, OPT_BACKUP_DIR, OPT_MEMBER, OPT_SET, OPT_JSON,
	OPT_LOG_LEVEL, OPT_SAMPLE, OPT_DRY_RUN, OPT_FORCE, OPT_IN_PLACE,
	OPT_DISCARD, OPT_STORED, OPT_FROM };

static const struct option long_options[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "data-dir", required_argument, NULL, OPT_DATA_DIR },
	{ "backup-dir", required_argument, NULL, OPT_BACKUP_DIR },
	{ "member", required_argument, NULL, OPT_MEMBER },
	{ "set", required_argument, NULL, OPT_SET },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{ "sample-config", no_argument, NULL, OPT_SAMPLE },
	{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
	{ "force", no_argument, NULL, OPT_FORCE },
	{ "in-place", no_argument, NULL, OPT_IN_PLACE },
	{ "discard-previous", no_argument, NULL, OPT_DISCARD },
	{ "stored", no_argument, NULL, OPT_STORED },
	{ "from", required_argument, NULL, OPT_FROM },
	{ "output", required_argument, NULL, 'o' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

/* The command line, as parsed. */
struct cmdline {
	const char *config;
	/* Flags are applied after the file and the environment. */
	struct { const char *name, *value, *origin; } sets[64];
	size_t nsets;
	const char *cmd, *arg, *arg2;
	const char *output;          /* -o */
	const char *from;            /* --from */
	int json;
	unsigned opts;               /* CMDOPT_* */
};

/* Parse the options (GNU getopt permutes: they may come before or after
 * the command), the command and its argument into cl. -1 to go on, or the
 * exit code: --help, --version and --sample-config are done here. */
static int
parse_cmdline(int argc, char **argv, struct cmdline *cl)
{
	int c;

	while ((c = getopt_long(argc, argv, "c:o:hV", long_options, NULL)) != -1) {
		const char *key = NULL, *origin = NULL;

		if (cl->nsets == sizeof cl->sets / sizeof cl->sets[0]) {
			fprintf(stderr, "quorum-backup-agent: too many options\n");
			return 2;
		}
		switch (c) {
		case 'c': cl->config = optarg; break;
		case 'o':
			cl->output = optarg;
			cl->opts |= CMDOPT_OUTPUT;
			break;
		case OPT_DATA_DIR:
			key = "agent.data_dir", origin = "--data-dir";
			break;
		case OPT_BACKUP_DIR:
			key = "agent.backup_dir", origin = "--backup-dir";
			break;
		case OPT_MEMBER:
			key = "agent.member", origin = "--member";
			break;
		case OPT_LOG_LEVEL:
			key = "agent.log_level", origin = "--log-level";
			break;
		case OPT_SET: {
			char *eq = strchr(optarg, '=');
			if (!eq) {
				fprintf(stderr, "quorum-backup-agent: --set: '%s' is "
				    "not SECTION.KEY=VALUE\n", optarg);
				return 2;
			}
			*eq = '\0';
			cl->sets[cl->nsets++] = (typeof(cl->sets[0])){ optarg, eq + 1,
			    "--set" };
			break;
		}
		case OPT_JSON: cl->json = 1; break;
		case OPT_DRY_RUN: cl->opts |= CMDOPT_DRY_RUN; break;
		case OPT_FORCE: cl->opts |= CMDOPT_FORCE; break;
		case OPT_IN_PLACE: cl->opts |= CMDOPT_IN_PLACE; break;
		case OPT_DISCARD: cl->opts |= CMDOPT_DISCARD; break;
		case OPT_STORED: cl->opts |= CMDOPT_STORED; break;
		case OPT_FROM:
			if (strcmp(optarg, "offsite") != 0 &&
			    strcmp(optarg, "local") != 0) {
				fprintf(stderr, "quorum-backup-agent: --from: '%s' is "
				    "not local or offsite\n", optarg);
				return 2;
			}
			cl->from = optarg;
			cl->opts |= CMDOPT_FROM;
			break;
		case OPT_SAMPLE:
			conf_print_sample(&agent_conf_table, stdout);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("quorum-backup-agent %s\n", PACKAGE_VERSION);
			return 0;
		default:
			fprintf(stderr, "Try 'quorum-backup-agent --help'.\n");
			return 2;
		}
		if (key)
			cl->sets[cl->nsets++] = (typeof(cl->sets[0])){ key, optarg,
			    origin };
	}

	if (optind < argc)
		cl->cmd = argv[optind++];
	if (optind < argc)
		cl->arg = argv[optind++];
	if (optind < argc && cmd_find(cl->cmd) && cmd_find(cl->cmd)->takes_arg2)
		cl->arg2 = argv[optind++];
	if (optind < argc) {
		fprintf(stderr, "quorum-backup-agent: unexpected argument '%s' "
		    "(see --help)\n", argv[optind]);
		return 2;
	}
	return -1;
}

/* Defaults < config file < environment < options. 0, or -1 with e. */
static int
load_config(const struct cmdline *cl, struct agent_conf *cf, struct err *e)
{
	if (conf_init(&agent_conf_table, cf, e) < 0 ||
	    (cl->config && conf_load_file(&agent_conf_table, cf, cl->config,
	    e) < 0) ||
	    conf_apply_env(&agent_conf_table, cf, e) < 0)
		return -1;
	for (size_t i = 0; i < cl->nsets; i++)
		if (conf_set(&agent_conf_table, cf, cl->sets[i].name,
		    cl->sets[i].value, cl->sets[i].origin, e) < 0)
			return -1;
	return 0;
}

static void
catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;   /* no SA_RESTART: reads stop promptly */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGXFSZ, SIG_IGN);    /* a file size limit is an error, not death */
	signal(SIGPIPE, SIG_IGN);
}

/* Look the command up, check what it was given, call it: its exit code. */
static int
run_command(const struct cmdline *cl, const struct agent_conf *cf)
{
	const struct cmd_entry *ce = cmd_find(cl->cmd);
	struct progress_state ps;
	struct op_hooks hooks;
	struct cmd_args a;

	if (cmd_check_options(ce, cl->opts) < 0)
		return 2;
	if (!ce && !cl->arg) {
		fprintf(stderr, "quorum-backup-agent: unknown command '%s' (see "
		    "--help)\n", cl->cmd);
		return 2;
	}
	if (cl->arg && (!ce || !ce->arg_default)) {
		fprintf(stderr, "quorum-backup-agent: %s takes no argument '%s' "
		    "(see --help)\n", cl->cmd, cl->arg);
		return 2;
	}

	memset(&ps, 0, sizeof ps);
	ps.start = qb_mono_now();
	ps.last = ps.start;
	ps.op = cl->cmd;
	memset(&hooks, 0, sizeof hooks);
	hooks.progress = on_progress;
	hooks.progress_arg = &ps;
	hooks.cancel = &cancel_requested;
	memset(&a, 0, sizeof a);
	a.cf = cf;
	a.arg = cl->arg ? cl->arg : ce->arg_default;
	a.arg2 = cl->arg2;
	a.json = cl->json;
	a.output = cl->output;
	a.from = cl->from;
	a.opts = cl->opts;
	a.hooks = &hooks;
	return ce->exec(&a);
}

int
main(int argc, char **argv)
{
	struct cmdline cl;
	struct agent_conf cf;
	struct err e;
	int rc;

	log_set_program("quorum-backup-agent");
	/* libarchive stores names as UTF-8 in pax headers: convert from UTF-8,
	 * whatever the environment says (names that are not UTF-8 are kept as
	 * raw bytes with a warning). */
	if (!setlocale(LC_CTYPE, "C.UTF-8"))
		setlocale(LC_CTYPE, "");
	memset(&cl, 0, sizeof cl);
	memset(&cf, 0, sizeof cf);
	err_clear(&e);
	cl.cmd = "serve";
	if ((rc = parse_cmdline(argc, argv, &cl)) >= 0)
		return rc;
	if (load_config(&cl, &cf, &e) < 0) {
		fprintf(stderr, "quorum-backup-agent: %s\n", e.msg);
		conf_free(&agent_conf_table, &cf);
		return 2;
	}
	log_set_level((enum log_level)log_level_parse(cf.log_level));
	catch_signals();
	rc = run_command(&cl, &cf);
	conf_free(&agent_conf_table, &cf);
	return rc;
}
