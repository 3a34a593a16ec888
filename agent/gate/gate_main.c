/* gate_main: the command line of quorum-backup-gate.
 *
 *   quorum-backup-gate --socket PATH --state-dir DIR [...] -- COMMAND [ARG...]
 *   quorum-backup-gate probe --socket PATH [--http URL] [--timeout S]
 *   quorum-backup-gate ctl --socket PATH [--timeout S] REQUEST...
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "gate.h"
#include "log.h"
#include "unixline.h"

#define PROG "quorum-backup-gate"

static const char usage_text[] =
"Usage:\n"
"  " PROG " --socket PATH --state-dir DIR [--stop-signal SIG]\n"
"                     [--log-lines N] -- COMMAND [ARG...]\n"
"  " PROG " probe --socket PATH [--http URL] [--timeout S]\n"
"  " PROG " ctl --socket PATH [--timeout S] REQUEST...\n"
"  " PROG " --help | --version\n"
"\n"
"A small supervisor, PID 1 of a node's container (GoQuorum, Tessera), that\n"
"lets quorum-backup-agent stop and start the node while the pod stays up.\n"
"\n"
"Supervising (the first form):\n"
"  Runs COMMAND (PATH lookup) as its child in a process group of its own,\n"
"  and runs the whole command again on every start. Forwards SIGTERM,\n"
"  SIGINT, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 to that group; reaps every\n"
"  zombie, orphans included (it is a child subreaper). When the node exits\n"
"  on its own, the gate exits with the same status (128+N for signal N),\n"
"  once the rest of its group is gone too (one SIGTERM, at most 60 s).\n"
"  SIGTERM or SIGINT while the node is stopped: exit 0 at once; while a\n"
"  stop is in progress: exit 0 once the node has stopped.\n"
"  The node's stdout and stderr pass through unchanged; the last lines are\n"
"  kept for the logs request. Logs: one key=value line per event on stderr.\n"
"\n"
"  --socket PATH      control socket (Unix stream, mode 0660). A stale socket\n"
"                     file is removed; if another gate answers, exit 1.\n"
"  --state-dir DIR    where the hold marker lives (created 0700 if missing;\n"
"                     one state dir per gate, on the data volume)\n"
"  --stop-signal SIG  sent once on stop (default TERM); a name (TERM, INT,\n"
"                     SIGQUIT...) or a number; KILL and STOP are refused\n"
"  --log-lines N      output lines kept for logs (default 50, at most 10000)\n"
"\n"
"Requests on the socket (one line; one JSON line back; all idempotent):\n"
"  stop [timeout=SECONDS] [job=ID] [until=EPOCH_SECONDS] [reason=TEXT]\n"
"      Write the hold marker (DIR/" GATE_HOLD_FILE ", fsynced, mode 0600),\n"
"      send the stop signal ONCE to the node's process group and answer when\n"
"      every process of the group has exited: \"state\":\"stopped\". After\n"
"      timeout (default 60 s) the answer is \"ok\":false, \"state\":\"stopping\";\n"
"      the node keeps its time to stop. Never SIGKILL, never a second signal:\n"
"      a later stop just waits again. Stopped already: answered at once.\n"
"      job: A-Z a-z 0-9 - . _ : @ / + (at most 128); reason: UTF-8 text\n"
"      without spaces (at most 256 bytes); until: a future epoch time.\n"
"  start\n"
"      Remove the hold marker and run COMMAND again (restarts + 1); answer\n"
"      once exec succeeded, or say why it failed (start_error in status).\n"
"      Running already: answered at once. Refused while stopping.\n"
"  status\n"
"      {\"ok\":true,\"state\":\"running|stopping|stopped|starting\",\"pid\":N,\n"
"       \"pgid\":N,\"uptime\":S,\"restarts\":N,\"last_exit\":{\"code\":N}|\n"
"       {\"signal\":N}|null,\"hold\":{\"job\":..,\"reason\":..,\"until\":..,\n"
"       \"since\":..}|null,\"start_error\":..|null,\"command\":[..]}\n"
"  logs [lines=N]\n"
"      {\"ok\":true,\"lines\":[..]}: the node's last output lines.\n"
"  Bad input: {\"ok\":false,\"error\":\"...\"} and nothing changes.\n"
"\n"
"  While the hold marker exists the node stays stopped, also across\n"
"  restarts of the gate (a gate starting with a marker waits for start).\n"
"\n"
"probe: the container's liveness probe. Exit 0 when the gate answers and\n"
"  the node is held (stopped or stopping on request), or it runs and (with\n"
"  --http) URL answers HTTP 200 within the timeout (default 2 s). Exit 1\n"
"  otherwise, with one line saying why (gate not answering, node not held\n"
"  and not running after a failed start, URL not answering or not 200).\n"
"  URL: http://HOST[:PORT][/PATH], HOST a numeric IPv4 address, [IPv6] or\n"
"  localhost (no DNS).\n"
"\n"
"ctl: send REQUEST (the words joined by spaces), print the JSON reply;\n"
"  exit 0 when \"ok\" is true, 1 otherwise. --timeout S bounds the wait\n"
"  (default 10 s plus the request's stop timeout).\n"
"\n"
"Exit status of the supervisor: the node's, when it exits on its own (127\n"
"or 126 when COMMAND cannot be executed at start); 0 after SIGTERM while\n"
"held; 1 when the gate cannot set itself up; 2 on bad usage.\n";

static int
usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '" PROG " --help'.\n");
	return 2;
}

/* Seconds, possibly fractional, in (0, 3600]; -1 when bad. */
static long long
parse_timeout_ms(const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v > 0) || v > 3600)
		return -1;
	return (long long)(v * 1000 + 0.5);
}

enum { OPT_SOCKET = 256, OPT_STATE_DIR, OPT_STOP_SIGNAL, OPT_LOG_LINES,
	OPT_HTTP, OPT_TIMEOUT };

static int
cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, OPT_SOCKET },
		{ "state-dir", required_argument, NULL, OPT_STATE_DIR },
		{ "stop-signal", required_argument, NULL, OPT_STOP_SIGNAL },
		{ "log-lines", required_argument, NULL, OPT_LOG_LINES },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct gate_opts o = {
		.stop_signal = 15,
		.log_lines = GATE_LOG_LINES_DEFAULT,
	};
	int c;

	while ((c = getopt_long(argc, argv, "+hV", opts, NULL)) != -1) {
		char *end;
		unsigned long n;

		switch (c) {
		case OPT_SOCKET:
			o.socket_path = optarg;
			break;
		case OPT_STATE_DIR:
			o.state_dir = optarg;
			break;
		case OPT_STOP_SIGNAL:
			o.stop_signal = gate_signal_parse(optarg);
			if (o.stop_signal < 0)
				return usage_error("--stop-signal %s: unknown "
				    "signal", optarg);
			if (o.stop_signal == 9 || o.stop_signal == 19)
				return usage_error("--stop-signal %s: refused: "
				    "the gate stops nodes gracefully (never "
				    "KILL or STOP)", optarg);
			break;
		case OPT_LOG_LINES:
			errno = 0;
			n = strtoul(optarg, &end, 10);
			if (errno || *end || optarg[0] < '0' ||
			    optarg[0] > '9' || n < 1 || n > GATE_LOG_LINES_MAX)
				return usage_error("--log-lines %s: expected 1 "
				    "to 10000", optarg);
			o.log_lines = (unsigned)n;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		case 'V':
			printf(PROG " %s\n", PACKAGE_VERSION);
			return 0;
		default:
			fprintf(stderr, "Try '" PROG " --help'.\n");
			return 2;
		}
	}
	if (!o.socket_path)
		return usage_error("%s", "--socket PATH is required");
	if (!o.state_dir)
		return usage_error("%s", "--state-dir DIR is required");
	if (optind >= argc)
		return usage_error("%s", "no command: give it after --");
	if (argv[optind][0] == '\0')
		return usage_error("%s", "the command is empty");
	o.argv = argv + optind;
	return gate_run(&o);
}

/* probe and ctl share --socket and --timeout. */
struct client_opts {
	const char *socket_path;
	const char *http;
	long long timeout_ms;   /* 0: not given */
	int first;              /* index of the first operand */
};

static int
client_opts_parse(int argc, char **argv, int with_http, struct client_opts *co)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, OPT_SOCKET },
		{ "http", required_argument, NULL, OPT_HTTP },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	memset(co, 0, sizeof *co);
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_SOCKET:
			co->socket_path = optarg;
			break;
		case OPT_HTTP:
			if (!with_http)
				return usage_error("%s", "--http is for probe");
			co->http = optarg;
			break;
		case OPT_TIMEOUT:
			co->timeout_ms = parse_timeout_ms(optarg);
			if (co->timeout_ms < 0)
				return usage_error("--timeout %s: expected "
				    "seconds, more than 0 and at most 3600",
				    optarg);
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			fprintf(stderr, "Try '" PROG " --help'.\n");
			return 2;
		}
	}
	if (!co->socket_path)
		return usage_error("%s", "--socket PATH is required");
	{
		struct sockaddr_un sa;
		struct err e;
		if (unixline_addr(co->socket_path, &sa, &e) < 0)
			return usage_error("--socket: %s", e.msg);
	}
	co->first = optind;
	return -1;   /* go on */
}

static int
cmd_probe(int argc, char **argv)
{
	struct client_opts co;
	char state[32], hold_job[GATE_JOB_MAX + 1], why[600];
	const char *v;
	size_t vlen;
	char *reply = NULL;
	long long deadline;
	struct err e;
	int rc = 1, held, status;

	if ((rc = client_opts_parse(argc, argv, 1, &co)) >= 0)
		return rc;
	rc = 1;
	if (co.first < argc)
		return usage_error("probe: unexpected argument %s",
		    argv[co.first]);
	if (co.http && http_url_check(co.http, &e) < 0)
		return usage_error("probe: --http %s", e.msg);
	if (co.timeout_ms == 0)
		co.timeout_ms = 2000;
	deadline = qb_mono_ms() + co.timeout_ms;
	if (gate_request(co.socket_path, GATE_REQ_STATUS, co.timeout_ms,
	    &reply, &e) < 0) {
		fprintf(stderr, "probe: the gate does not answer: %s\n", e.msg);
		return 1;
	}
	if (json_get(reply, GATE_KEY_OK, &v, &vlen) < 0 ||
	    !json_is(v, vlen, "true") ||
	    json_get(reply, GATE_KEY_STATE, &v, &vlen) < 0 ||
	    json_str(v, vlen, state, sizeof state) < 0 ||
	    json_get(reply, GATE_KEY_HOLD, &v, &vlen) < 0) {
		fprintf(stderr, "probe: unexpected reply from the gate: %.200s\n",
		    reply);
		goto out;
	}
	held = !json_is(v, vlen, "null");
	hold_job[0] = '\0';
	if (held && json_get(v, GATE_OPT_JOB, &v, &vlen) == 0)
		json_str(v, vlen, hold_job, sizeof hold_job);
	if (held && (strcmp(state, GATE_STATE_STOPPED) == 0 ||
	    strcmp(state, GATE_STATE_STOPPING) == 0)) {
		printf("probe: ok: the node is held (%s, job %s)\n", state,
		    hold_job[0] ? hold_job : "-");
		rc = 0;
		goto out;
	}
	if (strcmp(state, GATE_STATE_RUNNING) != 0 &&
	    strcmp(state, GATE_STATE_STARTING) != 0) {
		why[0] = '\0';
		if (json_get(reply, GATE_KEY_START_ERROR, &v, &vlen) == 0)
			json_str(v, vlen, why, sizeof why);
		fprintf(stderr, "probe: the node is %s and not held%s%s\n",
		    state, why[0] ? ": start failed: " : "", why);
		goto out;
	}
	if (!co.http || strcmp(state, GATE_STATE_STARTING) == 0) {
		printf("probe: ok: the node is %s\n", state);
		rc = 0;
		goto out;
	}
	if (deadline - qb_mono_ms() < 1 ||
	    http_get_status(co.http, deadline - qb_mono_ms(), &status,
	    &e) < 0) {
		fprintf(stderr, "probe: the node runs but does not answer: %s\n",
		    deadline - qb_mono_ms() < 1 ? "no time left" : e.msg);
		goto out;
	}
	if (status != 200) {
		fprintf(stderr, "probe: the node runs but %s answered HTTP %d\n",
		    co.http, status);
		goto out;
	}
	printf("probe: ok: the node is running and %s answered 200\n",
	    co.http);
	rc = 0;
out:
	free(reply);
	return rc;
}

static int
cmd_ctl(int argc, char **argv)
{
	struct client_opts co;
	char line[GATE_REQUEST_MAX * 4];
	size_t n = 0;
	char *reply = NULL;
	const char *v;
	size_t vlen;
	struct err e;
	int rc;

	if ((rc = client_opts_parse(argc, argv, 0, &co)) >= 0)
		return rc;
	if (co.first >= argc)
		return usage_error("%s", "ctl: no request (stop, start, status "
		    "or logs)");
	for (int i = co.first; i < argc; i++) {
		size_t l = strlen(argv[i]);
		if (n + l + 2 > sizeof line)
			return usage_error("%s", "ctl: request too long");
		if (n)
			line[n++] = ' ';
		memcpy(line + n, argv[i], l);
		n += l;
	}
	line[n] = '\0';
	if (co.timeout_ms == 0) {
		/* 10 s, plus the stop timeout the gate may wait */
		long long t = 10000;
		if (strcmp(argv[co.first], GATE_REQ_STOP) == 0) {
			long long st = GATE_STOP_TIMEOUT_DEFAULT;
			for (int i = co.first + 1; i < argc; i++)
				if (strncmp(argv[i], "timeout=", 8) == 0)
					st = atoll(argv[i] + 8);
			if (st > 0 && st <= GATE_STOP_TIMEOUT_MAX)
				t += st * 1000;
		}
		co.timeout_ms = t;
	}
	if (gate_request(co.socket_path, line, co.timeout_ms, &reply, &e) < 0) {
		fprintf(stderr, PROG " ctl: %s\n", e.msg);
		return 1;
	}
	printf("%s\n", reply);
	rc = json_get(reply, GATE_KEY_OK, &v, &vlen) == 0 &&
	    json_is(v, vlen, "true") ? 0 : 1;
	free(reply);
	return rc;
}

int
main(int argc, char **argv)
{
	log_set_program(PROG);
	if (argc >= 2 && strcmp(argv[1], "probe") == 0)
		return cmd_probe(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "ctl") == 0)
		return cmd_ctl(argc - 1, argv + 1);
	return cmd_run(argc, argv);
}
