/* Unit tests of agent/engine/swap: opening a data directory and its
 * .quorum-backup (links and files in its place refused); the staged swap
 * (the live tree goes to previous/, staging/ goes live) and the rollback
 * (previous/ goes live, the unpacked tree is discarded), each leaving
 * exactly the directories swap.h describes; refusals that change nothing
 * (nothing to swap in, an aside directory already there); recovery: leftovers
 * without a journal (staging/ and discard/ go, previous/ stays), a swap
 * killed at each of its crash points and completed, an in-place restore
 * reported, a damaged journal or a name in the way refused; deleting the
 * live tree; names that are not UTF-8 kept through a swap and back. The
 * swaps killed at their crash points run in a process of their own. */
#include "config.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"
#include "err.h"
#include "log.h"
#include "swap.h"

#define BACKUP "20250101T000000Z"

/* ---- fixtures ------------------------------------------------------- */

static char data_dir[4096];
static struct datadir dd;

/* The live tree: a ("old a"), dir/f ("old f"), link -> a. */
static const char old_tree[] = "a=old a|dir/|dir/f=old f|link>a|";
/* The staged tree: a ("new a"), newdir/g ("new g"). */
static const char new_tree[] = "a=new a|newdir/|newdir/g=new g|";

static void
mkdir_ok(const char *path)
{
	ck_assert_msg(mkdir(path, 0700) == 0, "mkdir %s: %s", path,
	    strerror(errno));
}

/* tmp/data with the live tree, opened into dd, .quorum-backup made (it
 * holds a file of its own, which no swap may move), and staging/ holding
 * the new tree. */
static void
setup(void)
{
	struct err e;

	tmp_setup();
	snprintf(data_dir, sizeof data_dir, "%s", tmp_path("data"));
	mkdir_ok(data_dir);
	put_file(tmp_path("data/a"), "old a", 5, 0600);
	mkdir_ok(tmp_path("data/dir"));
	put_file(tmp_path("data/dir/f"), "old f", 5, 0600);
	ck_assert_int_eq(symlink("a", tmp_path("data/link")), 0);
	ck_assert_msg(datadir_open(&dd, data_dir, 1, &e) == 0, "%s", e.msg);
	put_file(tmp_path("data/.quorum-backup/lock"), "", 0, 0600);
	mkdir_ok(tmp_path("data/.quorum-backup/staging"));
	put_file(tmp_path("data/.quorum-backup/staging/a"), "new a", 5, 0600);
	mkdir_ok(tmp_path("data/.quorum-backup/staging/newdir"));
	put_file(tmp_path("data/.quorum-backup/staging/newdir/g"), "new g", 5,
	    0600);
}

static void
teardown(void)
{
	datadir_close(&dd);
	tmp_teardown();
}

static void
list_into(const char *root, const char *rel, int top, char *out,
    size_t size)
{
	char dir[4096];
	struct dirent **de;
	int n;

	snprintf(dir, sizeof dir, "%s%s%s", root, rel[0] ? "/" : "", rel);
	n = scandir(dir, &de, NULL, alphasort);
	ck_assert_msg(n >= 0, "scandir %s: %s", dir, strerror(errno));
	for (int i = 0; i < n; i++) {
		char sub[2048], path[4096], buf[256];
		const char *name = de[i]->d_name;
		struct stat st;

		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
		    (top && strcmp(name, ".quorum-backup") == 0)) {
			free(de[i]);
			continue;
		}
		snprintf(sub, sizeof sub, "%s%s%s", rel, rel[0] ? "/" : "", name);
		free(de[i]);
		snprintf(path, sizeof path, "%s/%s", root, sub);
		ck_assert_int_eq(lstat(path, &st), 0);
		if (S_ISDIR(st.st_mode)) {
			snprintf(out + strlen(out), size - strlen(out), "%s/|", sub);
			list_into(root, sub, 0, out, size);
		} else if (S_ISLNK(st.st_mode)) {
			ssize_t k = readlink(path, buf, sizeof buf - 1);
			ck_assert_int_ge(k, 0);
			buf[k] = '\0';
			snprintf(out + strlen(out), size - strlen(out), "%s>%s|", sub,
			    buf);
		} else {
			char *c = slurp(path, NULL);
			snprintf(out + strlen(out), size - strlen(out), "%s=%s|", sub,
			    c);
			free(c);
		}
	}
	free(de);
}

/* The tree below data/name ("" the live tree, without .quorum-backup) as
 * "path=content|", "dir/|", "link>target|"; "-" when it does not exist. */
static const char *
tree(const char *name)
{
	static char out[2][8192];
	static int next;
	char *b = out[next++ % 2];
	struct stat st;
	const char *root = name[0] ? tmp_path("data/.quorum-backup/%s", name) :
	    data_dir;

	b[0] = '\0';
	if (lstat(root, &st) < 0)
		return "-";
	list_into(root, "", !name[0], b, sizeof out[0]);
	return b;
}

/* The names in .quorum-backup/, sorted, joined by ' '. */
static const char *
agent_names(void)
{
	static char out[1024];
	struct dirent **de;
	int n = scandir(tmp_path("data/.quorum-backup"), &de, NULL, alphasort);

	ck_assert_int_ge(n, 0);
	out[0] = '\0';
	for (int i = 0; i < n; i++) {
		if (de[i]->d_name[0] != '.')
			snprintf(out + strlen(out), sizeof out - strlen(out), "%s%s",
			    out[0] ? " " : "", de[i]->d_name);
		free(de[i]);
	}
	free(de);
	return out;
}

static void
swap_ok(const char *kind)
{
	struct err e;

	ck_assert_msg(swap_run(&dd, kind, BACKUP, &e) == 0, "%s: %s", kind,
	    e.msg);
}

/* ---- the data directory --------------------------------------------- */

START_TEST(test_datadir_open)
{
	struct datadir d;
	struct stat st;
	struct err e;

	ck_assert_int_ge(dd.data, 0);
	ck_assert_int_ge(dd.agent, 0);
	ck_assert_str_eq(dd.path, data_dir);
	ck_assert_int_eq(stat(tmp_path("data/.quorum-backup"), &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0700);
	/* without create, a missing .quorum-backup is no error */
	mkdir_ok(tmp_path("fresh"));
	ck_assert_int_eq(datadir_open(&d, tmp_path("fresh"), 0, &e), 0);
	ck_assert_int_ge(d.data, 0);
	ck_assert_int_eq(d.agent, -1);
	ck_assert_int_eq(access(tmp_path("fresh/.quorum-backup"), F_OK), -1);
	ck_assert_int_eq(swap_pending(&d), 0);
	ck_assert_int_eq(datadir_sub(&d, SWAP_STAGING, 1, &e), -1);
	ck_assert_int_eq(e.code, ERR_NOT_FOUND);
	datadir_close(&d);
	datadir_close(&d);   /* twice is harmless */
	ck_assert_int_eq(datadir_open(&d, tmp_path("missing"), 1, &e), -1);
	ck_assert_int_eq(e.code, ERR_NOT_FOUND);
	datadir_close(&d);
	ck_assert_int_eq(datadir_open(&d, tmp_path("data/a"), 1, &e), -1);
	ck_assert_msg(strstr(e.msg, "is not a directory") != NULL, "%s", e.msg);
	datadir_close(&d);
}
END_TEST

/* A .quorum-backup that is a link (to a directory elsewhere) or a file. */
START_TEST(test_datadir_agent_refused)
{
	struct datadir d;
	struct err e;

	mkdir_ok(tmp_path("elsewhere"));
	mkdir_ok(tmp_path("l"));
	ck_assert_int_eq(symlink(tmp_path("elsewhere"),
	    tmp_path("l/.quorum-backup")), 0);
	ck_assert_int_eq(datadir_open(&d, tmp_path("l"), 1, &e), -1);
	ck_assert_msg(strstr(e.msg, "is a symbolic link: refused") != NULL, "%s",
	    e.msg);
	ck_assert_int_eq(d.data, -1);
	ck_assert_int_eq(d.agent, -1);
	ck_assert_int_eq(datadir_open(&d, tmp_path("l"), 0, &e), -1);
	mkdir_ok(tmp_path("f"));
	put_file(tmp_path("f/.quorum-backup"), "", 0, 0600);
	ck_assert_int_eq(datadir_open(&d, tmp_path("f"), 1, &e), -1);
	ck_assert_msg(strstr(e.msg, "is not a directory: refused") != NULL, "%s",
	    e.msg);
	datadir_close(&d);
}
END_TEST

START_TEST(test_datadir_sub)
{
	struct err e;
	int fd;

	ck_assert_int_eq(datadir_sub(&dd, SWAP_PREVIOUS, 0, &e), -1);
	ck_assert_int_eq(e.code, ERR_NOT_FOUND);
	fd = datadir_sub(&dd, SWAP_PREVIOUS, 1, &e);
	ck_assert_msg(fd >= 0, "%s", e.msg);
	close(fd);
	ck_assert_str_eq(tree(SWAP_PREVIOUS), "");
	ck_assert_int_eq(symlink(tmp_path("data/dir"),
	    tmp_path("data/.quorum-backup/" SWAP_DISCARD)), 0);
	ck_assert_int_eq(datadir_sub(&dd, SWAP_DISCARD, 1, &e), -1);
	ck_assert_msg(strstr(e.msg, "is a symbolic link: refused") != NULL, "%s",
	    e.msg);
}
END_TEST

/* ---- swaps ---------------------------------------------------------- */

START_TEST(test_unpack)
{
	swap_ok("unpack");
	ck_assert_str_eq(tree(""), new_tree);
	ck_assert_str_eq(tree(SWAP_PREVIOUS), old_tree);
	ck_assert_str_eq(agent_names(), "lock previous");
	ck_assert_int_eq(swap_pending(&dd), 0);
}
END_TEST

/* Rollback puts previous/ back; the unpacked tree is thrown away. */
START_TEST(test_rollback)
{
	swap_ok("unpack");
	swap_ok("rollback");
	ck_assert_str_eq(tree(""), old_tree);
	ck_assert_str_eq(agent_names(), "lock");
	ck_assert_int_eq(swap_pending(&dd), 0);
}
END_TEST

/* An empty staged tree, onto an empty data directory. */
START_TEST(test_unpack_empty)
{
	struct err e;

	ck_assert_int_eq(swap_delete_live(&dd, &e), 0);
	rm_rf(tmp_path("data/.quorum-backup/staging/newdir"));
	ck_assert_int_eq(unlink(tmp_path("data/.quorum-backup/staging/a")), 0);
	swap_ok("unpack");
	ck_assert_str_eq(tree(""), "");
	ck_assert_str_eq(tree(SWAP_PREVIOUS), "");
	ck_assert_str_eq(agent_names(), "lock previous");
}
END_TEST

/* Refusals before the journal: nothing moves. */
START_TEST(test_refusals)
{
	struct err e;

	/* no previous tree to roll back to */
	ck_assert_int_eq(swap_run(&dd, "rollback", BACKUP, &e), -1);
	ck_assert_int_eq(e.code, ERR_NOT_FOUND);
	ck_assert_str_eq(tree(""), old_tree);
	ck_assert_str_eq(agent_names(), "lock staging");
	/* an older previous tree in the way */
	mkdir_ok(tmp_path("data/.quorum-backup/previous"));
	ck_assert_int_eq(swap_run(&dd, "unpack", BACKUP, &e), -1);
	ck_assert_msg(strstr(e.msg, "previous: File exists") != NULL, "%s",
	    e.msg);
	ck_assert_str_eq(tree(""), old_tree);
	ck_assert_str_eq(tree(SWAP_STAGING), new_tree);
	ck_assert_str_eq(tree(SWAP_PREVIOUS), "");
	ck_assert_int_eq(swap_pending(&dd), 0);
}
END_TEST

/* Names that are not UTF-8, and one that reads as the journal's "hex:"
 * encoding, go through a swap and back unchanged. */
START_TEST(test_odd_names)
{
	static const char *odd[] = { "\xff\xfe", "hex:41", "caf\xc3\xa9" };
	struct stat st;

	for (size_t i = 0; i < 3; i++)
		put_file(tmp_path("data/%s", odd[i]), odd[i], strlen(odd[i]),
		    0600);
	swap_ok("unpack");
	for (size_t i = 0; i < 3; i++) {
		ck_assert_int_eq(lstat(tmp_path("data/%s", odd[i]), &st), -1);
		ck_assert_int_eq(lstat(tmp_path("data/.quorum-backup/previous/%s",
		    odd[i]), &st), 0);
	}
	swap_ok("rollback");
	for (size_t i = 0; i < 3; i++) {
		char *c = slurp(tmp_path("data/%s", odd[i]), NULL);
		ck_assert_str_eq(c, odd[i]);
		free(c);
	}
	ck_assert_int_eq(lstat(tmp_path("data/A"), &st), -1);
}
END_TEST

/* Everything live goes, links not followed; .quorum-backup stays. */
START_TEST(test_delete_live)
{
	struct err e;
	char *c;

	mkdir_ok(tmp_path("outside"));
	put_file(tmp_path("outside/keep"), "kept", 4, 0600);
	ck_assert_int_eq(symlink(tmp_path("outside"), tmp_path("data/out")), 0);
	ck_assert_msg(swap_delete_live(&dd, &e) == 0, "%s", e.msg);
	ck_assert_str_eq(tree(""), "");
	ck_assert_str_eq(agent_names(), "lock staging");
	c = slurp(tmp_path("outside/keep"), NULL);
	ck_assert_str_eq(c, "kept");
	free(c);
}
END_TEST

/* ---- recovery ------------------------------------------------------- */

/* Without a journal, staging/ and discard/ are debris; previous/ is the
 * operator's until discarded. */
START_TEST(test_recover_clean)
{
	enum swap_state st;
	char backup[64] = "x";
	struct err e;

	mkdir_ok(tmp_path("data/.quorum-backup/previous"));
	mkdir_ok(tmp_path("data/.quorum-backup/discard"));
	put_file(tmp_path("data/.quorum-backup/discard/old"), "", 0, 0600);
	ck_assert_msg(swap_recover(&dd, &st, backup, sizeof backup, &e) == 0,
	    "%s", e.msg);
	ck_assert_int_eq(st, SWAP_CLEAN);
	ck_assert_str_eq(backup, "");
	ck_assert_str_eq(agent_names(), "lock previous");
	ck_assert_str_eq(tree(""), old_tree);
}
END_TEST

/* This program, to run a swap in a process of its own (main, --crash). */
static char self[4096];

/* swap_run of kind on data_dir in a new process, killed at the crash
 * point: 1 when it was. (A new program, not a fork: a process that dies
 * at a crash point is one the leak checkers need not follow.) */
static int
killed_at(const char *kind, const char *point)
{
	int status;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		execl(self, self, "--crash", kind, point, data_dir, (char *)NULL);
		_exit(127);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

/* The process killed_at starts: 0 when the crash point was not reached. */
static int
crash_main(const char *kind, const char *point, const char *dir)
{
	struct datadir d;
	struct err e;

	if (datadir_open(&d, dir, 0, &e) < 0) {
		fprintf(stderr, "%s\n", e.msg);
		return 2;
	}
	setenv("QUORUM_BACKUP_CRASH_AT", point, 1);
	if (swap_run(&d, kind, BACKUP, &e) < 0)
		fprintf(stderr, "%s\n", e.msg);
	datadir_close(&d);
	return 0;
}

static const char *const crash_points[] = { "swap-journal",
	"swap-old-first", "swap-old-done", "swap-new-first", "swap-new-done",
	"swap-cleanup" };

/* Killed anywhere after its journal, an unpack is completed by recovery:
 * the whole new tree live, the whole old one in previous/. */
START_TEST(test_recover_unpack)
{
	const char *point = crash_points[_i];
	enum swap_state st;
	char backup[64];
	struct err e;

	ck_assert_msg(killed_at("unpack", point), "not killed at %s", point);
	ck_assert_int_eq(swap_pending(&dd), 1);
	ck_assert_msg(swap_recover(&dd, &st, backup, sizeof backup, &e) == 0,
	    "%s: %s", point, e.msg);
	ck_assert_int_eq(st, SWAP_RECOVERED);
	ck_assert_str_eq(backup, BACKUP);
	ck_assert_str_eq(tree(""), new_tree);
	ck_assert_str_eq(tree(SWAP_PREVIOUS), old_tree);
	ck_assert_str_eq(agent_names(), "lock previous");
	ck_assert_int_eq(swap_pending(&dd), 0);
}
END_TEST

/* The same for a rollback: the old tree live, nothing left aside. */
START_TEST(test_recover_rollback)
{
	const char *point = crash_points[_i];
	enum swap_state st;
	struct err e;

	swap_ok("unpack");
	ck_assert_msg(killed_at("rollback", point), "not killed at %s", point);
	ck_assert_msg(swap_recover(&dd, &st, NULL, 0, &e) == 0, "%s: %s", point,
	    e.msg);
	ck_assert_int_eq(st, SWAP_RECOVERED);
	ck_assert_str_eq(tree(""), old_tree);
	ck_assert_str_eq(agent_names(), "lock");
}
END_TEST

/* An in-place restore cannot be finished here: reported, kept. */
START_TEST(test_recover_in_place)
{
	enum swap_state st;
	char backup[64];
	struct err e;

	ck_assert_int_eq(swap_journal_in_place(&dd, BACKUP, "deleting", &e), 0);
	ck_assert_int_eq(swap_pending(&dd), 1);
	ck_assert_msg(swap_recover(&dd, &st, backup, sizeof backup, &e) == 0,
	    "%s", e.msg);
	ck_assert_int_eq(st, SWAP_IN_PLACE_INCOMPLETE);
	ck_assert_str_eq(backup, BACKUP);
	ck_assert_int_eq(swap_pending(&dd), 1);
	ck_assert_str_eq(tree(""), old_tree);
	ck_assert_str_eq(tree(SWAP_STAGING), new_tree);
	ck_assert_int_eq(swap_journal_clear(&dd, &e), 0);
	ck_assert_int_eq(swap_pending(&dd), 0);
	ck_assert_int_eq(swap_journal_clear(&dd, &e), 0);   /* none: fine */
}
END_TEST

/* A journal that names directories of its own, or is not JSON: refused,
 * nothing moved. */
START_TEST(test_recover_damaged)
{
	static const char bad_from[] = "{\"kind\":\"unpack\",\"phase\":"
	    "\"moving_old\",\"from\":\"../../outside\",\"aside\":\"previous\","
	    "\"old\":[\"a\"],\"new\":[\"x\"]}";
	static const char bad_phase[] = "{\"kind\":\"unpack\",\"phase\":"
	    "\"sideways\",\"from\":\"staging\",\"aside\":\"previous\","
	    "\"old\":[],\"new\":[]}";
	const char *journal = tmp_path("data/.quorum-backup/journal");
	enum swap_state st;
	struct err e;

	put_file(journal, bad_from, sizeof bad_from - 1, 0600);
	ck_assert_int_eq(swap_recover(&dd, &st, NULL, 0, &e), -1);
	ck_assert_int_eq(e.code, ERR_FAILED);
	ck_assert_msg(strstr(e.msg, "journal") && strstr(e.msg, "is damaged"),
	    "%s", e.msg);
	put_file(journal, bad_phase, sizeof bad_phase - 1, 0600);
	ck_assert_int_eq(swap_recover(&dd, &st, NULL, 0, &e), -1);
	ck_assert_msg(strstr(e.msg, "unknown phase 'sideways'") != NULL, "%s",
	    e.msg);
	put_file(journal, "{not json", 9, 0600);
	ck_assert_int_eq(swap_recover(&dd, &st, NULL, 0, &e), -1);
	ck_assert_int_eq(e.code, ERR_FAILED);
	ck_assert_msg(strstr(e.msg, "unreadable") != NULL, "%s", e.msg);
	ck_assert_str_eq(tree(""), old_tree);
	ck_assert_str_eq(tree(SWAP_STAGING), new_tree);
	ck_assert_int_eq(swap_pending(&dd), 1);
}
END_TEST

/* A name already live where the new tree's would go (someone wrote into
 * the data directory between the two moves): refused, not replaced. */
START_TEST(test_recover_conflict)
{
	static const char j[] = "{\"kind\":\"unpack\",\"backup\":\"" BACKUP
	    "\",\"phase\":\"moving_new\",\"from\":\"staging\",\"aside\":"
	    "\"previous\",\"old\":[],\"new\":[\"a\",\"newdir\"]}";
	enum swap_state st;
	struct err e;

	mkdir_ok(tmp_path("data/.quorum-backup/previous"));
	put_file(tmp_path("data/.quorum-backup/journal"), j, sizeof j - 1, 0600);
	ck_assert_int_eq(swap_recover(&dd, &st, NULL, 0, &e), -1);
	ck_assert_msg(strstr(e.msg, "cannot move a: ") &&
	    strstr(e.msg, "/data/a exists"), "%s", e.msg);
	ck_assert_str_eq(tree(""), old_tree);
	ck_assert_str_eq(tree(SWAP_STAGING), new_tree);
	ck_assert_int_eq(swap_pending(&dd), 1);
}
END_TEST

static Suite *
swap_suite(void)
{
	Suite *s = suite_create("swap");
	TCase *tc;

	tc = tcase_create("datadir");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_datadir_open);
	tcase_add_test(tc, test_datadir_agent_refused);
	tcase_add_test(tc, test_datadir_sub);
	suite_add_tcase(s, tc);

	tc = tcase_create("swap");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_unpack);
	tcase_add_test(tc, test_rollback);
	tcase_add_test(tc, test_unpack_empty);
	tcase_add_test(tc, test_refusals);
	tcase_add_test(tc, test_odd_names);
	tcase_add_test(tc, test_delete_live);
	suite_add_tcase(s, tc);

	tc = tcase_create("recovery");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_recover_clean);
	tcase_add_loop_test(tc, test_recover_unpack, 0,
	    sizeof crash_points / sizeof crash_points[0]);
	tcase_add_loop_test(tc, test_recover_rollback, 0,
	    sizeof crash_points / sizeof crash_points[0]);
	tcase_add_test(tc, test_recover_in_place);
	tcase_add_test(tc, test_recover_damaged);
	tcase_add_test(tc, test_recover_conflict);
	suite_add_tcase(s, tc);
	return s;
}

int
main(int argc, char **argv)
{
	log_set_level(LOG_ERROR);
	if (argc == 5 && strcmp(argv[1], "--crash") == 0)
		return crash_main(argv[2], argv[3], argv[4]);
	if (!realpath(argv[0], self)) {
		perror(argv[0]);
		return EXIT_FAILURE;
	}
	return run_suite(swap_suite(), "swap");
}
