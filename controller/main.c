/* quorum-backup: the controller. Calls the members' agents in turn to back
 * up or restore them safely (DESIGN section 4). */
#include "config.h"

#include <curl/curl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "json.h"
#include "log.h"

static volatile sig_atomic_t stop_requested;

static void
on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
	/* The second signal, whichever of the two, kills at once
	 * (SA_RESETHAND resets only the one that came). */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
}

static void
usage(FILE *out)
{
	fprintf(out,
"Usage: quorum-backup [OPTIONS] COMMAND [ARGS]\n"
"\n"
"Backs up and restores the members of a Quorum network through their\n"
"quorum-backup-agent sidecars.\n"
"\n"
"Commands:\n"
"  backup (N...|--all)        rolling: one member at a time, each after a\n"
"                             safety check; waits until it is ready again\n"
"      --force                go ahead when the safety check says no\n"
"      --keep-going           after a member fails, go on with the next\n"
"  restore (N...|--all)       the members listed go down together, are\n"
"                             unpacked and resumed\n"
"      --backup ID|latest     which backup (default: latest)\n"
"      --parallel K           unpack on K members at a time (default 1)\n"
"      --force                restore even when the network halts\n"
"  list [N...]                the backups of each member\n"
"  status [N...]              each member: node, height, last backup, hold\n"
"  verify (N...|--all) [--backup ID]   full read of a backup on the agents\n"
"  prune [N...]               apply each member's retention policy now\n"
"\n"
"Options:\n"
"  -c, --config FILE          INI configuration file\n"
"      --members LIST         [controller] members, e.g. 1-4\n"
"      --url-template URL     [controller] url_template ({n}, {namespace})\n"
"      --token-file FILE      [controller] token_file\n"
"      --holder NAME          [controller] holder (lease name)\n"
"      --ready-timeout S      [controller] ready_timeout\n"
"      --job-timeout S        [controller] job_timeout\n"
"      --set SECTION.KEY=VALUE  any configuration key (repeatable)\n"
"      --json                 one JSON document on stdout\n"
"  -v, --verbose              log what the controller does (twice: more)\n"
"      --sample-config        print a configuration file with every key\n"
"  -h, --help                 this text, then every configuration key\n"
"  -V, --version              print the version\n"
"\n"
"Environment: NAMESPACE (default quorum), QUORUM_BACKUP_TOKEN_FILE.\n"
"Precedence: defaults < config file < environment < options.\n"
"Exit codes: 0 all succeeded, 1 some member failed, 2 usage or\n"
"configuration error, 3 refused by the safety check or a lease, 4 backup\n"
"not found.\n"
"\n"
"Configuration keys:\n");
	conf_print_keys(&ctl_conf_table, out);
}

enum { OPT_SET = 256, OPT_JSON, OPT_SAMPLE, OPT_ALL, OPT_FORCE,
	OPT_KEEP_GOING, OPT_BACKUP, OPT_PARALLEL, OPT_MEMBERS, OPT_URL,
	OPT_TOKEN, OPT_HOLDER, OPT_READY, OPT_JOB };

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "set", required_argument, NULL, OPT_SET },
		{ "members", required_argument, NULL, OPT_MEMBERS },
		{ "url-template", required_argument, NULL, OPT_URL },
		{ "token-file", required_argument, NULL, OPT_TOKEN },
		{ "holder", required_argument, NULL, OPT_HOLDER },
		{ "ready-timeout", required_argument, NULL, OPT_READY },
		{ "job-timeout", required_argument, NULL, OPT_JOB },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "verbose", no_argument, NULL, 'v' },
		{ "sample-config", no_argument, NULL, OPT_SAMPLE },
		{ "all", no_argument, NULL, OPT_ALL },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "keep-going", no_argument, NULL, OPT_KEEP_GOING },
		{ "backup", required_argument, NULL, OPT_BACKUP },
		{ "parallel", required_argument, NULL, OPT_PARALLEL },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct { const char *name, *value, *origin; } sets[64];
	size_t nsets = 0;
	const char *config = NULL, *cmd;
	struct ctl c;
	struct cmd_opts o;
	struct err e;
	char holder[160];
	int ch, rc, verbose = 0;
	int (*run)(struct ctl *, const struct cmd_opts *) = NULL;

	log_set_program("quorum-backup");
	memset(&c, 0, sizeof c);
	memset(&o, 0, sizeof o);
	o.parallel = 1;
	err_clear(&e);
	while ((ch = getopt_long(argc, argv, "c:vhV", opts, NULL)) != -1) {
		const char *key = NULL;

		if (nsets == sizeof sets / sizeof sets[0]) {
			fprintf(stderr, "quorum-backup: too many options\n");
			return EXIT_USAGE;
		}
		switch (ch) {
		case 'c': config = optarg; break;
		case 'v': verbose++; break;
		case OPT_JSON: c.json = 1; break;
		case OPT_ALL: o.all = 1; break;
		case OPT_FORCE: o.force = 1; break;
		case OPT_KEEP_GOING: o.keep_going = 1; break;
		case OPT_BACKUP: o.backup = optarg; break;
		case OPT_PARALLEL: {
			char *end;
			o.parallel = strtol(optarg, &end, 10);
			if (end == optarg || *end || o.parallel < 1 ||
			    o.parallel > 1000) {
				fprintf(stderr, "quorum-backup: --parallel: '%s' is not a "
				    "number from 1 to 1000\n", optarg);
				return EXIT_USAGE;
			}
			break;
		}
		case OPT_MEMBERS: key = "controller.members"; break;
		case OPT_URL: key = "controller.url_template"; break;
		case OPT_TOKEN: key = "controller.token_file"; break;
		case OPT_HOLDER: key = "controller.holder"; break;
		case OPT_READY: key = "controller.ready_timeout"; break;
		case OPT_JOB: key = "controller.job_timeout"; break;
		case OPT_SET: {
			char *eq = strchr(optarg, '=');
			if (!eq) {
				fprintf(stderr, "quorum-backup: --set: '%s' is not "
				    "SECTION.KEY=VALUE\n", optarg);
				return EXIT_USAGE;
			}
			*eq = '\0';
			sets[nsets++] = (typeof(sets[0])){ optarg, eq + 1, "--set" };
			break;
		}
		case OPT_SAMPLE:
			conf_print_sample(&ctl_conf_table, stdout);
			return EXIT_OK;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'V':
			printf("quorum-backup %s\n", PACKAGE_VERSION);
			return EXIT_OK;
		default:
			fprintf(stderr, "Try 'quorum-backup --help'.\n");
			return EXIT_USAGE;
		}
		if (key) {
			const struct option *op = opts;
			while (op->name && op->val != ch)
				op++;
			sets[nsets++] = (typeof(sets[0])){ key, optarg, op->name };
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "quorum-backup: no command (backup, restore, list, "
		    "status, verify, prune); see --help\n");
		return EXIT_USAGE;
	}
	cmd = argv[optind++];
	if (strcmp(cmd, "backup") == 0) run = cmd_backup;
	else if (strcmp(cmd, "restore") == 0) run = cmd_restore;
	else if (strcmp(cmd, "list") == 0) run = cmd_list;
	else if (strcmp(cmd, "status") == 0) run = cmd_status;
	else if (strcmp(cmd, "verify") == 0) run = cmd_verify;
	else if (strcmp(cmd, "prune") == 0) run = cmd_prune;
	else {
		fprintf(stderr, "quorum-backup: unknown command '%s'; see --help\n",
		    cmd);
		return EXIT_USAGE;
	}
	/* Options that belong to one command only. */
	if ((o.keep_going && run != cmd_backup) ||
	    (o.parallel != 1 && run != cmd_restore) ||
	    (o.backup && run != cmd_restore && run != cmd_verify) ||
	    (o.force && run != cmd_backup && run != cmd_restore) ||
	    (o.all && run != cmd_backup && run != cmd_restore &&
	    run != cmd_verify)) {
		fprintf(stderr, "quorum-backup: %s does not take that option; see "
		    "--help\n", cmd);
		return EXIT_USAGE;
	}
	if (optind < argc) {
		int *nums;
		size_t n;
		char *spec;
		size_t len = 1;

		for (int i = optind; i < argc; i++)
			len += strlen(argv[i]) + 1;
		if (!(spec = calloc(1, len)))
			return EXIT_FAILED;
		for (int i = optind; i < argc; i++) {
			strcat(spec, argv[i]);
			strcat(spec, " ");
		}
		if (ctl_parse_numbers(spec, &nums, &n, &e) < 0) {
			free(spec);
			fprintf(stderr, "quorum-backup: %s: %s\n", cmd, e.msg);
			return EXIT_USAGE;
		}
		free(spec);
		o.members = nums;
		o.n_members = n;
	}

	if (conf_init(&ctl_conf_table, &c.cf, &e) < 0 ||
	    (config && conf_load_file(&ctl_conf_table, &c.cf, config, &e) < 0) ||
	    conf_apply_env(&ctl_conf_table, &c.cf, &e) < 0)
		goto config_error;
	for (size_t i = 0; i < nsets; i++)
		if (conf_set(&ctl_conf_table, &c.cf, sets[i].name, sets[i].value,
		    sets[i].origin, &e) < 0)
			goto config_error;
	if (ctl_members(&c.cf, &c.members, &c.n_members, &e) < 0)
		goto config_error;
	log_set_level(verbose >= 2 ? LOG_DEBUG : verbose ? LOG_INFO :
	    (enum log_level)log_level_parse(c.cf.log_level));

	if (c.cf.holder && c.cf.holder[0]) {
		size_t len = strlen(c.cf.holder);
		if (len > 128 || strspn(c.cf.holder, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:@") != len) {
			err_set(&e, ERR_CONFIG, "holder: '%s': 1 to 128 of A-Z a-z "
			    "0-9 - _ . : @", c.cf.holder);
			goto config_error;
		}
		snprintf(holder, sizeof holder, "%s", c.cf.holder);
	} else {
		char host[64] = "localhost";
		gethostname(host, sizeof host - 1);
		host[strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTU"
		    "VWXYZ0123456789-.")] = '\0';
		snprintf(holder, sizeof holder, "quorum-backup@%s:%ld", host,
		    (long)getpid());
	}

	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (client_init(&c.cl, c.cf.token_file, holder,
	    (double)c.cf.request_timeout, &e) < 0) {
		curl_global_cleanup();
		goto config_error;
	}
	c.warnings = json_array();
	c.leased = calloc(c.n_members ? c.n_members : 1, 1);
	c.res = calloc(c.n_members ? c.n_members : 1, sizeof *c.res);
	if (!c.warnings || !c.leased || !c.res) {
		fprintf(stderr, "quorum-backup: out of memory\n");
		rc = EXIT_FAILED;
		goto out;
	}
	for (size_t i = 0; i < c.n_members; i++) {
		c.res[i].member = c.members[i].n;
		c.res[i].size = c.res[i].height = c.res[i].height_now = -1;
		c.res[i].duration = c.res[i].downtime = -1;
	}
	{
		const char *term = getenv("TERM");
		c.tty = isatty(STDERR_FILENO) && term && strcmp(term, "dumb") != 0;
	}
	c.stop = &stop_requested;
	{
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = on_signal;
		/* A second signal kills at once: the leases and holds expire by
		 * themselves. */
		sa.sa_flags = SA_RESETHAND;
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		signal(SIGPIPE, SIG_IGN);
	}
	rc = run(&c, &o);
	if (stop_requested) {
		out_flush(&c);
		fprintf(stderr, "quorum-backup: stopped by a signal\n");
		if (rc == EXIT_OK)
			rc = EXIT_FAILED;
	}
out:
	leases_release(&c);
	client_fini(&c.cl);
	curl_global_cleanup();
	json_decref(c.warnings);
	free(c.leased);
	free(c.res);
	free(c.members);
	free(o.members);
	conf_free(&ctl_conf_table, &c.cf);
	return rc;

config_error:
	fprintf(stderr, "quorum-backup: %s\n", e.msg);
	free(c.members);
	free(o.members);
	conf_free(&ctl_conf_table, &c.cf);
	return EXIT_USAGE;
}
