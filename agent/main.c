/* quorum-backup-agent: command line. */
#include "config.h"

#include <curl/curl.h>
#include <getopt.h>
#include <pthread.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent_conf.h"
#include "http.h"
#include "jobs.h"
#include "json.h"
#include "log.h"
#include "member.h"
#include "ops.h"

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
"Commands:\n"
"  serve                    run the HTTP sidecar (default)\n"
"  archive                  archive the data dir (the node must be stopped)\n"
"  unpack [ID|latest]       restore a backup onto the data dir (the node must\n"
"                           be stopped; default: latest)\n"
"      --force              even when the backup's node key is not this node's\n"
"      --in-place           no second tree: verify, delete, extract (for volumes\n"
"                           too small for two trees)\n"
"      --discard-previous   remove the old tree once the new one is live\n"
"  rollback                 put back the tree an unpack moved aside\n"
"  discard-previous         remove the tree an unpack moved aside\n"
"  verify [ID|latest|PATH]  full read: zstd checksums, tar walk, per-file and\n"
"                           archive hashes (default: latest)\n"
"  list                     backups of this member, newest first\n"
"  prune [--dry-run]        apply the retention policy\n"
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

static void
human_bytes(uint64_t n, char *buf, size_t size)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)n;
	int u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, size, "%llu B", (unsigned long long)n);
	else
		snprintf(buf, size, "%.1f %s", v, units[u]);
}

struct progress_state {
	const char *op;
	struct timespec start, last;
};

static void
on_progress(const struct progress *p, void *arg)
{
	struct progress_state *ps = arg;
	struct timespec now;
	double since_last, elapsed;

	clock_gettime(CLOCK_MONOTONIC, &now);
	since_last = (double)(now.tv_sec - ps->last.tv_sec) +
	    (double)(now.tv_nsec - ps->last.tv_nsec) / 1e9;
	if (since_last < 5.0 && p->bytes_done < p->bytes_total)
		return;
	ps->last = now;
	elapsed = (double)(now.tv_sec - ps->start.tv_sec) +
	    (double)(now.tv_nsec - ps->start.tv_nsec) / 1e9;
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

static int
fail(const char *what, const struct err *e)
{
	fprintf(stderr, "quorum-backup-agent: %s: %s\n", what, e->msg);
	log_error("failed", "op=%s code=%s error=%s", what, err_name(e->code),
	    logq(e->msg));
	return err_exit_code(e->code);
}

static int
cmd_archive(const struct agent_conf *cf, int json, struct op_hooks *h)
{
	struct archive_result r;
	struct err e;
	json_t *pruned = NULL;
	char in[32], out[32];

	err_clear(&e);
	if (op_archive(cf, h, &r, &pruned, &e) < 0)
		return fail("archive", &e);
	if (json) {
		json_t *j = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:f, s:s, "
		    "s:o, s:O}", "id", r.id, "archive", r.archive_path,
		    "size", (json_int_t)r.size, "bytes", (json_int_t)r.bytes,
		    "files", (json_int_t)r.files, "skipped", (json_int_t)r.skipped,
		    "seconds", r.seconds, "sha256", r.sha256,
		    "pruned", pruned ? json_incref(pruned) : json_array(),
		    "warnings", r.warnings);   /* O: the reference stays ours */
		json_print(j);
		json_decref(j);
	} else {
		human_bytes(r.bytes, in, sizeof in);
		human_bytes(r.size, out, sizeof out);
		printf("backup %s: %llu entries, %s -> %s in %.1f s\n", r.id,
		    (unsigned long long)r.files, in, out, r.seconds);
		printf("archive %s\nsha256 %s\n", r.archive_path, r.sha256);
		if (r.skipped)
			printf("skipped %llu sockets, FIFOs or devices\n",
			    (unsigned long long)r.skipped);
		for (size_t i = 0; pruned && i < json_array_size(pruned); i++)
			printf("pruned %s\n",
			    json_string_value(json_array_get(pruned, i)));
		for (size_t i = 0; i < json_array_size(r.warnings); i++)
			fprintf(stderr, "warning: %s\n",
			    json_string_value(json_array_get(r.warnings, i)));
	}
	json_decref(pruned);
	json_decref(r.warnings);
	return 0;
}

static int
cmd_verify(const struct agent_conf *cf, const char *what, int json,
    struct op_hooks *h)
{
	struct backup_info b;
	struct verify_result r;
	struct err e;
	char bytes[32];

	err_clear(&e);
	if (op_verify(cf, what, h, &b, &r, &e) < 0) {
		if (json) {
			json_t *j = json_pack("{s:s, s:b, s:{s:s, s:s}}", "id",
			    what, "ok", 0, "error", "code", err_name(e.code),
			    "message", e.msg);
			json_print(j);
			json_decref(j);
		}
		return fail("verify", &e);
	}
	if (json) {
		json_t *j = json_pack("{s:s, s:b, s:b, s:I, s:I, s:I, s:s, s:f}",
		    "id", b.id, "ok", 1, "legacy", b.legacy,
		    "files", (json_int_t)r.files, "bytes", (json_int_t)r.bytes,
		    "size", (json_int_t)r.size, "sha256", r.sha256,
		    "seconds", r.seconds);
		json_print(j);
		json_decref(j);
	} else {
		human_bytes(r.bytes, bytes, sizeof bytes);
		printf("ok %s: %llu entries, %s, %s in %.1f s\n", b.id,
		    (unsigned long long)r.files, bytes,
		    b.legacy ? "legacy gzip (CRC and tar structure checked)" :
		    "every file hash and the archive SHA-256 match", r.seconds);
	}
	return 0;
}

static int
cmd_list(const struct agent_conf *cf, int json)
{
	struct err e;
	json_t *list;
	size_t i;
	json_t *b;

	err_clear(&e);
	if (!(list = op_list(cf, &e)))
		return fail("list", &e);
	if (json) {
		json_print(list);
		json_decref(list);
		return 0;
	}
	printf("%-24s %-20s %10s %8s %10s %8s\n", "ID", "CREATED", "SIZE",
	    "FILES", "BYTES", "HEIGHT");
	json_array_foreach(list, i, b) {
		char size[32], bytes[32], files[32], height[32];
		long long h = json_get_u(json_object_get(b, "node"),
		    "block_number");
		human_bytes((uint64_t)json_get_u(b, "size"), size, sizeof size);
		if (json_get_u(b, "bytes") >= 0)
			human_bytes((uint64_t)json_get_u(b, "bytes"), bytes,
			    sizeof bytes);
		else
			strcpy(bytes, "-");
		if (json_get_u(b, "files") >= 0)
			snprintf(files, sizeof files, "%lld",
			    json_get_u(b, "files"));
		else
			strcpy(files, "-");
		if (h >= 0)
			snprintf(height, sizeof height, "%lld", h);
		else
			strcpy(height, "-");
		printf("%-24s %-20s %10s %8s %10s %8s%s\n",
		    json_get_str(b, "id"), json_get_str(b, "created"), size, files,
		    bytes, height, json_is_true(json_object_get(b, "legacy")) ?
		    "  legacy" : "");
	}
	if (json_array_size(list) == 0)
		printf("(no backups of member %lld in %s)\n", cf->member,
		    cf->backup_dir);
	json_decref(list);
	return 0;
}

static int
cmd_prune(const struct agent_conf *cf, int dry_run, int json)
{
	struct err e;
	json_t *ids = NULL;
	size_t kept = 0, i;
	json_t *id;

	err_clear(&e);
	if (op_prune(cf, dry_run, &ids, &kept, &e) < 0) {
		json_decref(ids);
		return fail("prune", &e);
	}
	if (json) {
		json_t *j = json_pack("{s:b, s:O, s:I}", "dry_run", dry_run,
		    dry_run ? "would_delete" : "deleted", ids,
		    "kept", (json_int_t)kept);
		json_print(j);
		json_decref(j);
	} else {
		json_array_foreach(ids, i, id)
			printf("%s %s\n", dry_run ? "would delete" : "deleted",
			    json_string_value(id));
		printf("%zu backup%s kept\n", kept, kept == 1 ? "" : "s");
	}
	json_decref(ids);
	return 0;
}

static int
cmd_unpack(const struct agent_conf *cf, const struct unpack_opts *u, int json,
    struct op_hooks *h)
{
	struct unpack_result r;
	struct err e;
	char bytes[32];

	err_clear(&e);
	if (op_unpack(cf, u, h, &r, &e) < 0)
		return fail("unpack", &e);
	if (json) {
		json_t *j = json_pack("{s:s, s:b, s:I, s:I, s:s, s:b, s:b, s:b, "
		    "s:f}", "id", r.backup.id, "legacy", r.backup.legacy,
		    "files", (json_int_t)r.v.files, "bytes", (json_int_t)r.v.bytes,
		    "sha256", r.v.sha256, "in_place", u->in_place,
		    "previous_kept", r.previous_kept, "recovered", r.recovered,
		    "seconds", r.seconds);
		json_print(j);
		json_decref(j);
	} else {
		human_bytes(r.v.bytes, bytes, sizeof bytes);
		if (r.recovered)
			printf("completed an interrupted restore first\n");
		printf("restored %s onto %s: %llu entries, %s, verified, in %.2f "
		    "s\n", r.backup.id, cf->data_dir,
		    (unsigned long long)r.v.files, bytes, r.seconds);
		if (r.previous_kept)
			printf("the old tree is in %s/.quorum-backup/previous: "
			    "'rollback' puts it back, 'discard-previous' removes "
			    "it\n", cf->data_dir);
	}
	return 0;
}

static int
cmd_rollback(const struct agent_conf *cf, int json)
{
	struct err e;

	err_clear(&e);
	if (op_rollback(cf, &e) < 0)
		return fail("rollback", &e);
	if (json)
		printf("{\"rolled_back\": true}\n");
	else
		printf("rolled back: %s holds the tree from before the last "
		    "unpack\n", cf->data_dir);
	return 0;
}

static int
cmd_discard(const struct agent_conf *cf, int json)
{
	struct err e;
	int removed;

	err_clear(&e);
	if (op_discard_previous(cf, &removed, &e) < 0)
		return fail("discard-previous", &e);
	if (json)
		printf("{\"removed\": %s}\n", removed ? "true" : "false");
	else
		printf("%s\n", removed ? "previous tree removed" :
		    "there was no previous tree");
	return 0;
}

/* The sidecar: the HTTP API on its threads, jobs on theirs; this thread
 * waits for SIGTERM/SIGINT and then stops both, cancelling a running job
 * (which removes what it left half-done). */
static int
cmd_serve(const struct agent_conf *cf)
{
	struct member member;
	struct http_server *srv;
	struct store s;
	struct err e;
	sigset_t set;
	int sig = 0;

	err_clear(&e);
	/* Only this thread takes the stop signals. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (store_open(&s, cf->backup_dir, cf->member, 1, &e) < 0)
		return fail("serve", &e);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (member_init(&member, cf, &e) < 0) {
		member_fini(&member);
		curl_global_cleanup();
		return fail("serve", &e);
	}
	if (!(srv = http_start(cf, &member, &e))) {
		member_fini(&member);
		curl_global_cleanup();
		return fail("serve", &e);
	}
	sigwait(&set, &sig);
	log_info("stopping", "signal=%d", sig);
	/* The job first: it cleans up (and resumes what it stopped), and the
	 * requests waiting for it get their answer; then the server. */
	jobs_stop(member.jobs);
	http_stop(srv);
	member_fini(&member);
	curl_global_cleanup();
	log_info("stopped", "signal=%d", sig);
	return 0;
}

enum { OPT_DATA_DIR = 256, OPT_BACKUP_DIR, OPT_MEMBER, OPT_SET, OPT_JSON,
	OPT_LOG_LEVEL, OPT_SAMPLE, OPT_DRY_RUN, OPT_FORCE, OPT_IN_PLACE,
	OPT_DISCARD };

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
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
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	/* Flags are applied after the file and the environment. */
	struct { const char *name, *value, *origin; } sets[64];
	size_t nsets = 0;
	const char *config = NULL, *cmd = "serve", *arg = NULL;
	struct agent_conf cf;
	struct err e;
	struct progress_state ps;
	struct op_hooks hooks;
	struct unpack_opts uo;
	int json = 0, dry_run = 0, c, rc;

	log_set_program("quorum-backup-agent");
	/* libarchive stores names as UTF-8 in pax headers: convert from UTF-8,
	 * whatever the environment says (names that are not UTF-8 are kept as
	 * raw bytes with a warning). */
	if (!setlocale(LC_CTYPE, "C.UTF-8"))
		setlocale(LC_CTYPE, "");
	memset(&cf, 0, sizeof cf);
	memset(&uo, 0, sizeof uo);
	err_clear(&e);
	/* GNU getopt permutes: options may come before or after the command. */
	while ((c = getopt_long(argc, argv, "c:hV", opts, NULL)) != -1) {
		if (nsets == sizeof sets / sizeof sets[0]) {
			fprintf(stderr, "quorum-backup-agent: too many options\n");
			return 2;
		}
		switch (c) {
		case 'c': config = optarg; break;
		case OPT_DATA_DIR:
			sets[nsets++] = (typeof(sets[0])){ "agent.data_dir", optarg,
			    "--data-dir" };
			break;
		case OPT_BACKUP_DIR:
			sets[nsets++] = (typeof(sets[0])){ "agent.backup_dir",
			    optarg, "--backup-dir" };
			break;
		case OPT_MEMBER:
			sets[nsets++] = (typeof(sets[0])){ "agent.member", optarg,
			    "--member" };
			break;
		case OPT_LOG_LEVEL:
			sets[nsets++] = (typeof(sets[0])){ "agent.log_level",
			    optarg, "--log-level" };
			break;
		case OPT_SET: {
			char *eq = strchr(optarg, '=');
			if (!eq) {
				fprintf(stderr, "quorum-backup-agent: --set: '%s' is "
				    "not SECTION.KEY=VALUE\n", optarg);
				return 2;
			}
			*eq = '\0';
			sets[nsets++] = (typeof(sets[0])){ optarg, eq + 1, "--set" };
			break;
		}
		case OPT_JSON: json = 1; break;
		case OPT_DRY_RUN: dry_run = 1; break;
		case OPT_FORCE: uo.force = 1; break;
		case OPT_IN_PLACE: uo.in_place = 1; break;
		case OPT_DISCARD: uo.discard_previous = 1; break;
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
	}

	if (optind < argc)
		cmd = argv[optind++];
	if (optind < argc)
		arg = argv[optind++];
	if (optind < argc) {
		fprintf(stderr, "quorum-backup-agent: unexpected argument '%s' "
		    "(see --help)\n", argv[optind]);
		return 2;
	}

	if (conf_init(&agent_conf_table, &cf, &e) < 0 ||
	    (config && conf_load_file(&agent_conf_table, &cf, config, &e) < 0) ||
	    conf_apply_env(&agent_conf_table, &cf, &e) < 0)
		goto config_error;
	for (size_t i = 0; i < nsets; i++)
		if (conf_set(&agent_conf_table, &cf, sets[i].name, sets[i].value,
		    sets[i].origin, &e) < 0)
			goto config_error;
	log_set_level((enum log_level)log_level_parse(cf.log_level));

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;   /* no SA_RESTART: reads stop promptly */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGXFSZ, SIG_IGN);    /* a file size limit is an error, not death */
	signal(SIGPIPE, SIG_IGN);

	memset(&ps, 0, sizeof ps);
	clock_gettime(CLOCK_MONOTONIC, &ps.start);
	ps.last = ps.start;
	ps.op = cmd;
	memset(&hooks, 0, sizeof hooks);
	hooks.progress = on_progress;
	hooks.progress_arg = &ps;
	hooks.cancel = &cancel_requested;

	if (dry_run && strcmp(cmd, "prune") != 0) {
		fprintf(stderr, "quorum-backup-agent: --dry-run goes with prune\n");
		rc = 2;
	} else if ((uo.force || uo.in_place || uo.discard_previous) &&
	    strcmp(cmd, "unpack") != 0) {
		fprintf(stderr, "quorum-backup-agent: --force, --in-place and "
		    "--discard-previous go with unpack\n");
		rc = 2;
	} else if (strcmp(cmd, "unpack") == 0) {
		uo.id = arg ? arg : "latest";
		rc = cmd_unpack(&cf, &uo, json, &hooks);
	} else if (strcmp(cmd, "rollback") == 0 && !arg) {
		rc = cmd_rollback(&cf, json);
	} else if (strcmp(cmd, "discard-previous") == 0 && !arg) {
		rc = cmd_discard(&cf, json);
	} else if (strcmp(cmd, "archive") == 0 && !arg) {
		rc = cmd_archive(&cf, json, &hooks);
	} else if (strcmp(cmd, "verify") == 0) {
		rc = cmd_verify(&cf, arg ? arg : "latest", json, &hooks);
	} else if (strcmp(cmd, "list") == 0 && !arg) {
		rc = cmd_list(&cf, json);
	} else if (strcmp(cmd, "prune") == 0 && !arg) {
		rc = cmd_prune(&cf, dry_run, json);
	} else if (strcmp(cmd, "serve") == 0 && !arg) {
		rc = cmd_serve(&cf);
	} else if (arg) {
		fprintf(stderr, "quorum-backup-agent: %s takes no argument '%s' "
		    "(see --help)\n", cmd, arg);
		rc = 2;
	} else {
		fprintf(stderr, "quorum-backup-agent: unknown command '%s' (see "
		    "--help)\n", cmd);
		rc = 2;
	}
	conf_free(&agent_conf_table, &cf);
	return rc;

config_error:
	fprintf(stderr, "quorum-backup-agent: %s\n", e.msg);
	conf_free(&agent_conf_table, &cf);
	return 2;
}
