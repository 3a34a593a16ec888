/* Unit tests of common/: fsutil and locks.
 *
 * Every test works in its own directory, made with mkdtemp below one base
 * directory under ${TMPDIR:-/tmp}; main() removes the base directory at the
 * end whatever happened (a failing test exits its forked process before its
 * teardown runs). */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"
#include "common_fixture.h"
#include "err.h"
#include "fsutil.h"
#include "locks.h"

/* ---- fixtures ------------------------------------------------------- */

static void
write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	ck_assert_msg(f != NULL, "fopen %s: %s", path, strerror(errno));
	ck_assert_int_eq(fputs(text, f) >= 0, 1);
	ck_assert_int_eq(fclose(f), 0);
}

/* ---- fsutil --------------------------------------------------------- */

START_TEST(test_fs_write_atomic)
{
	char p[PATH_MAX], partial[PATH_MAX];
	struct stat st;
	struct err e;
	char *got;
	size_t len;
	static const char data[] = "hello\0world";

	tpath(p, sizeof p, "meta.json");
	tpath(partial, sizeof partial, "meta.json.partial");
	umask(022);
	ck_assert_int_eq(fs_write_atomic(p, data, sizeof data, 0600, &e), 0);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0600);
	ck_assert_int_eq(st.st_size, sizeof data);
	got = slurp(p, &len);
	ck_assert_uint_eq(len, sizeof data);
	ck_assert_mem_eq(got, data, sizeof data);
	free(got);
	ck_assert_int_eq(access(partial, F_OK), -1);
	ck_assert_int_eq(errno, ENOENT);

	/* Replace: new content, and the mode asked for even when umask
	 * would strip it. */
	umask(0277);
	ck_assert_int_eq(fs_write_atomic(p, "new", 3, 0644, &e), 0);
	umask(022);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0644);
	got = slurp(p, &len);
	ck_assert_str_eq(got, "new");
	free(got);
	ck_assert_int_eq(access(partial, F_OK), -1);

	/* A stale .partial from a crash (another mode, longer content) is
	 * overwritten, not reused as it is. */
	write_text(partial, "stale stale stale stale");
	ck_assert_int_eq(chmod(partial, 0604), 0);
	ck_assert_int_eq(fs_write_atomic(p, "newer", 5, 0600, &e), 0);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0600);
	got = slurp(p, &len);
	ck_assert_uint_eq(len, 5);
	ck_assert_str_eq(got, "newer");
	free(got);
	ck_assert_int_eq(access(partial, F_OK), -1);

	/* Empty content. */
	ck_assert_int_eq(fs_write_atomic(p, "", 0, 0600, &e), 0);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_int_eq(st.st_size, 0);
	ck_assert_int_eq(st.st_mode & 07777, 0600);
}
END_TEST

START_TEST(test_fs_write_atomic_fails)
{
	char p[PATH_MAX];
	struct err e;

	tpath(p, sizeof p, "nodir/file");
	err_clear(&e);
	ck_assert_int_eq(fs_write_atomic(p, "x", 1, 0600, &e), -1);
	ck_assert_int_eq(e.code, ERR_FAILED);
	ck_assert_ptr_nonnull(strstr(e.msg, "nodir/file.partial"));
	ck_assert_ptr_nonnull(strstr(e.msg, strerror(ENOENT)));
}
END_TEST

START_TEST(test_fs_read_file)
{
	char p[PATH_MAX], missing[PATH_MAX];
	struct err e;
	char *buf = NULL;
	size_t len = 99;

	tpath(p, sizeof p, "ten");
	write_text(p, "0123456789");
	ck_assert_int_eq(fs_read_file(p, 10, &buf, &len, &e), 0);
	ck_assert_uint_eq(len, 10);
	ck_assert_str_eq(buf, "0123456789");
	free(buf);
	buf = NULL;
	ck_assert_int_eq(fs_read_file(p, 1 << 20, &buf, NULL, &e), 0);
	ck_assert_str_eq(buf, "0123456789");
	free(buf);
	buf = NULL;

	/* Over the limit. */
	err_clear(&e);
	ck_assert_int_eq(fs_read_file(p, 9, &buf, &len, &e), -1);
	ck_assert_int_eq(e.code, ERR_FAILED);
	ck_assert_ptr_null(buf);

	/* Missing. */
	tpath(missing, sizeof missing, "missing");
	ck_assert_int_eq(fs_read_file(missing, 100, &buf, &len, &e), -1);
	ck_assert_int_eq(e.code, ERR_NOT_FOUND);
	ck_assert_ptr_nonnull(strstr(e.msg, missing));
	ck_assert_ptr_null(buf);

	/* A directory is not a regular file. */
	ck_assert_int_eq(fs_read_file(tmp, 1 << 20, &buf, &len, &e), -1);
	ck_assert_int_eq(e.code, ERR_FAILED);
	ck_assert_ptr_nonnull(strstr(e.msg, "is a directory: refused"));
	ck_assert_ptr_null(buf);

	/* A symbolic link is not followed, even to a regular file. */
	{
		char link[PATH_MAX], fifo[PATH_MAX];

		tpath(link, sizeof link, "link");
		ck_assert_int_eq(symlink(p, link), 0);
		ck_assert_int_eq(fs_read_file(link, 100, &buf, &len, &e), -1);
		ck_assert_int_eq(e.code, ERR_FAILED);
		ck_assert_ptr_nonnull(strstr(e.msg, "is a symbolic link: "
		    "refused"));
		ck_assert_ptr_null(buf);
		/* A FIFO with no writer: refused at once, not waited on. */
		tpath(fifo, sizeof fifo, "fifo");
		ck_assert_int_eq(mkfifo(fifo, 0600), 0);
		ck_assert_int_eq(fs_read_file(fifo, 100, &buf, &len, &e), -1);
		ck_assert_ptr_nonnull(strstr(e.msg, "is a FIFO: refused"));
		ck_assert_ptr_null(buf);
		ck_assert_int_lt(fs_open_regular(fifo, O_WRONLY, NULL, &e), 0);
		ck_assert_ptr_nonnull(strstr(e.msg, "is a FIFO: refused"));
	}

	/* Empty file. */
	write_text(p, "");
	ck_assert_int_eq(fs_read_file(p, 0, &buf, &len, &e), 0);
	ck_assert_uint_eq(len, 0);
	ck_assert_str_eq(buf, "");
	free(buf);
}
END_TEST

START_TEST(test_fs_mkdir_p)
{
	char p[PATH_MAX], f[PATH_MAX], q[PATH_MAX];
	struct stat st;
	struct err e;

	umask(022);
	tpath(p, sizeof p, "a/b/c");
	ck_assert_int_eq(fs_mkdir_p(p, 0700, &e), 0);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_int_eq(st.st_mode & 07777, 0700);
	ck_assert_int_eq(stat(tpath(q, sizeof q, "a/b"), &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0700);
	ck_assert_int_eq(stat(tpath(q, sizeof q, "a"), &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0700);

	/* Existing: fine, and a trailing slash too. */
	ck_assert_int_eq(fs_mkdir_p(p, 0700, &e), 0);
	tpath(q, sizeof q, "a/b/c/");
	ck_assert_int_eq(fs_mkdir_p(q, 0700, &e), 0);
	tpath(q, sizeof q, "a/b/c/d/");
	ck_assert_int_eq(fs_mkdir_p(q, 0700, &e), 0);
	ck_assert_int_eq(stat(q, &st), 0);
	ck_assert(S_ISDIR(st.st_mode));

	/* A file in the way. */
	tpath(f, sizeof f, "file");
	write_text(f, "x");
	err_clear(&e);
	ck_assert_int_eq(fs_mkdir_p(f, 0700, &e), -1);
	ck_assert_int_eq(e.code, ERR_FAILED);
	ck_assert_ptr_nonnull(strstr(e.msg, "file"));
	tpath(q, sizeof q, "file/sub/dir");
	err_clear(&e);
	ck_assert_int_eq(fs_mkdir_p(q, 0700, &e), -1);
	ck_assert_int_eq(e.code, ERR_FAILED);
	ck_assert_int_eq(stat(f, &st), 0);
	ck_assert(S_ISREG(st.st_mode));

	ck_assert_int_eq(fs_mkdir_p("", 0700, &e), -1);
}
END_TEST

START_TEST(test_fs_free_bytes)
{
	uint64_t n = 0;
	char p[PATH_MAX];
	struct err e;

	ck_assert_int_eq(fs_free_bytes(tmp, &n, &e), 0);
	ck_assert_uint_gt(n, 0);
	err_clear(&e);
	ck_assert_int_eq(fs_free_bytes(tpath(p, sizeof p, "missing"), &n, &e),
	    -1);
	ck_assert_int_eq(e.code, ERR_FAILED);
	ck_assert_ptr_nonnull(strstr(e.msg, "missing"));
}
END_TEST

START_TEST(test_fs_remove_tree)
{
	char tree[PATH_MAX], out[PATH_MAX], outf[PATH_MAX], p[PATH_MAX];
	struct stat st;
	struct err e;

	/* Outside the tree: a directory with a file, and a file. */
	tpath(out, sizeof out, "outside");
	ck_assert_int_eq(mkdir(out, 0700), 0);
	write_text(tpath(p, sizeof p, "outside/keep.txt"), "keep");
	write_text(tpath(outf, sizeof outf, "outside.txt"), "keep too");

	tpath(tree, sizeof tree, "tree");
	ck_assert_int_eq(mkdir(tree, 0700), 0);
	ck_assert_int_eq(mkdir(tpath(p, sizeof p, "tree/a"), 0700), 0);
	ck_assert_int_eq(mkdir(tpath(p, sizeof p, "tree/a/b"), 0700), 0);
	ck_assert_int_eq(mkdir(tpath(p, sizeof p, "tree/empty"), 0700), 0);
	write_text(tpath(p, sizeof p, "tree/top.txt"), "1");
	write_text(tpath(p, sizeof p, "tree/a/b/deep.txt"), "2");
	write_text(tpath(p, sizeof p, "tree/a/.hidden"), "3");
	ck_assert_int_eq(symlink(out, tpath(p, sizeof p, "tree/a/link_dir")), 0);
	ck_assert_int_eq(symlink("../../outside",
	    tpath(p, sizeof p, "tree/a/rel_link_dir")), 0);
	ck_assert_int_eq(symlink(outf, tpath(p, sizeof p, "tree/link_file")), 0);
	ck_assert_int_eq(symlink("nowhere", tpath(p, sizeof p, "tree/dangling")),
	    0);
	ck_assert_int_eq(mkfifo(tpath(p, sizeof p, "tree/a/fifo"), 0600), 0);

	ck_assert_int_eq(fs_remove_tree(tree, &e), 0);
	ck_assert_int_eq(lstat(tree, &st), -1);
	ck_assert_int_eq(errno, ENOENT);

	/* What the links pointed to survives. */
	ck_assert_int_eq(stat(out, &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_int_eq(stat(tpath(p, sizeof p, "outside/keep.txt"), &st), 0);
	ck_assert_int_eq(st.st_size, 4);
	ck_assert_int_eq(stat(outf, &st), 0);
	ck_assert_int_eq(st.st_size, 8);

	/* Missing: not an error. */
	ck_assert_int_eq(fs_remove_tree(tree, &e), 0);

	/* A symlink given as the path: the link goes, not its target. */
	ck_assert_int_eq(symlink(out, tpath(p, sizeof p, "toplink")), 0);
	ck_assert_int_eq(fs_remove_tree(p, &e), 0);
	ck_assert_int_eq(lstat(p, &st), -1);
	ck_assert_int_eq(stat(tpath(p, sizeof p, "outside/keep.txt"), &st), 0);

	/* A plain file given as the path. */
	ck_assert_int_eq(fs_remove_tree(outf, &e), 0);
	ck_assert_int_eq(lstat(outf, &st), -1);
}
END_TEST

START_TEST(test_fs_join)
{
	char out[64];

	ck_assert_int_eq(fs_join(out, sizeof out, "a", "b"), 0);
	ck_assert_str_eq(out, "a/b");
	ck_assert_int_eq(fs_join(out, sizeof out, "/backups/", "member1"), 0);
	ck_assert_str_eq(out, "/backups/member1");
	ck_assert_int_eq(fs_join(out, sizeof out, "/backups///", "member1"), 0);
	ck_assert_str_eq(out, "/backups/member1");
	ck_assert_int_eq(fs_join(out, sizeof out, "dir", "geth/LOCK"), 0);
	ck_assert_str_eq(out, "dir/geth/LOCK");

	/* Exact fit and one byte short: "abc/de" is 6 bytes + NUL. */
	ck_assert_int_eq(fs_join(out, 7, "abc", "de"), 0);
	ck_assert_str_eq(out, "abc/de");
	ck_assert_int_eq(fs_join(out, 6, "abc", "de"), -1);
}
END_TEST

/* fs_join documents "one '/'"; the root directory gives two. */
START_TEST(test_fs_join_root)
{
	char out[64];

	ck_assert_int_eq(fs_join(out, sizeof out, "/", "member1"), 0);
	ck_assert_str_eq(out, "/member1");
}
END_TEST

/* ---- locks ---------------------------------------------------------- */

enum hold_kind { HOLD_FLOCK, HOLD_POSIX };

struct holder {
	pid_t pid;
	int release_fd;   /* close it to let the child go */
};

/* Fork a child that locks path (flock or classic fcntl write lock), tells
 * us, and holds the lock until release_fd is closed (or we die). */
static struct holder
spawn_holder(const char *path, enum hold_kind kind)
{
	struct holder h;
	int ready[2], release[2];
	char c = 0;
	ssize_t n;

	ck_assert_int_eq(pipe(ready), 0);
	ck_assert_int_eq(pipe(release), 0);
	h.pid = fork();
	ck_assert_int_ge(h.pid, 0);
	if (h.pid == 0) {
		char ok = '1', dummy;
		int fd;
		close(ready[0]);
		close(release[1]);
		fd = open(path, O_RDWR);
		if (fd < 0) {
			ok = 'o';
		} else if (kind == HOLD_FLOCK) {
			if (flock(fd, LOCK_EX | LOCK_NB) < 0)
				ok = 'f';
		} else {
			struct flock fl;
			memset(&fl, 0, sizeof fl);
			fl.l_type = F_WRLCK;
			fl.l_whence = SEEK_SET;
			if (fcntl(fd, F_SETLK, &fl) < 0)
				ok = 'p';
		}
		(void)!write(ready[1], &ok, 1);
		close(ready[1]);
		while (read(release[0], &dummy, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(ready[1]);
	close(release[0]);
	do
		n = read(ready[0], &c, 1);
	while (n < 0 && errno == EINTR);
	close(ready[0]);
	h.release_fd = release[1];
	ck_assert_msg(n == 1 && c == '1', "holder child failed to lock (%c)", c);
	return h;
}

static void
release_holder(struct holder *h)
{
	int st;

	close(h->release_fd);
	ck_assert_int_eq(waitpid(h->pid, &st, 0), h->pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* In a child: 0 when path could be locked, 1 when another holds it,
 * 2 on any other failure. */
static int
child_try(const char *path, enum hold_kind kind)
{
	pid_t pid = fork();
	int st;

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int fd = open(path, O_RDWR);
		if (fd < 0)
			_exit(2);
		if (kind == HOLD_FLOCK) {
			if (flock(fd, LOCK_EX | LOCK_NB) == 0)
				_exit(0);
			_exit(errno == EWOULDBLOCK ? 1 : 2);
		} else {
			struct flock fl;
			memset(&fl, 0, sizeof fl);
			fl.l_type = F_WRLCK;
			fl.l_whence = SEEK_SET;
			if (fcntl(fd, F_SETLK, &fl) == 0)
				_exit(0);
			_exit(errno == EAGAIN || errno == EACCES ? 1 : 2);
		}
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st));
	return WEXITSTATUS(st);
}

START_TEST(test_lockset_flock_held)
{
	char p[PATH_MAX], want[256];
	char *names[] = { "LOCK" };
	struct lockset ls;
	struct holder h;
	struct err e;

	write_text(tpath(p, sizeof p, "LOCK"), "");
	h = spawn_holder(p, HOLD_FLOCK);
	err_clear(&e);
	ck_assert_int_eq(lockset_acquire(&ls, tmp, names, 1, &e), -1);
	ck_assert_int_eq(e.code, ERR_NODE_RUNNING);
	snprintf(want, sizeof want, "LOCK is locked (flock) by another process: "
	    "is the node running?");
	ck_assert_str_eq(e.msg, want);
	ck_assert_uint_eq(ls.n, 0);
	release_holder(&h);

	/* Free now. */
	ck_assert_int_eq(lockset_acquire(&ls, tmp, names, 1, &e), 0);
	ck_assert_uint_eq(ls.n, 1);
	lockset_release(&ls);
}
END_TEST

START_TEST(test_lockset_posix_held)
{
	char p[PATH_MAX], want[256];
	char *names[] = { "db.mv.db" };
	struct lockset ls;
	struct holder h;
	struct err e;

	write_text(tpath(p, sizeof p, "db.mv.db"), "h2");
	h = spawn_holder(p, HOLD_POSIX);
	err_clear(&e);
	ck_assert_int_eq(lockset_acquire(&ls, tmp, names, 1, &e), -1);
	ck_assert_int_eq(e.code, ERR_NODE_RUNNING);
	snprintf(want, sizeof want, "db.mv.db is locked (fcntl) by process %d: "
	    "is the node running?", (int)h.pid);
	ck_assert_str_eq(e.msg, want);
	ck_assert_uint_eq(ls.n, 0);
	/* Our flock, taken before the fcntl lock failed, was dropped. */
	ck_assert_int_eq(child_try(p, HOLD_FLOCK), 0);
	release_holder(&h);

	ck_assert_int_eq(lockset_acquire(&ls, tmp, names, 1, &e), 0);
	ck_assert_uint_eq(ls.n, 1);
	lockset_release(&ls);
}
END_TEST

START_TEST(test_lockset_holds)
{
	char a[PATH_MAX], b[PATH_MAX], d[PATH_MAX];
	char *names[] = { "LOCK", "missing/LOCK", "sub/LOCK", "absent" };
	struct lockset ls;
	struct err e;

	write_text(tpath(a, sizeof a, "LOCK"), "");
	ck_assert_int_eq(mkdir(tpath(d, sizeof d, "sub"), 0700), 0);
	write_text(tpath(b, sizeof b, "sub/LOCK"), "");

	ck_assert_int_eq(lockset_acquire(&ls, tmp, names, 4, &e), 0);
	/* Missing files are skipped. */
	ck_assert_uint_eq(ls.n, 2);
	ck_assert_str_eq(ls.paths[0], "LOCK");
	ck_assert_str_eq(ls.paths[1], "sub/LOCK");
	ck_assert_int_ge(ls.fds[0], 0);
	ck_assert_int_ge(ls.fds[1], 0);

	/* Another process can take neither an flock nor a POSIX lock. */
	ck_assert_int_eq(child_try(a, HOLD_FLOCK), 1);
	ck_assert_int_eq(child_try(a, HOLD_POSIX), 1);
	ck_assert_int_eq(child_try(b, HOLD_FLOCK), 1);
	ck_assert_int_eq(child_try(b, HOLD_POSIX), 1);

	lockset_release(&ls);
	ck_assert_uint_eq(ls.n, 0);
	ck_assert_ptr_null(ls.fds);
	ck_assert_ptr_null(ls.paths);

	/* Released: others can lock. */
	ck_assert_int_eq(child_try(a, HOLD_FLOCK), 0);
	ck_assert_int_eq(child_try(a, HOLD_POSIX), 0);
	ck_assert_int_eq(child_try(b, HOLD_FLOCK), 0);
	ck_assert_int_eq(child_try(b, HOLD_POSIX), 0);
}
END_TEST

START_TEST(test_lockset_nothing_held_on_failure)
{
	char a[PATH_MAX], b[PATH_MAX];
	char *names[] = { "first", "second" };
	struct lockset ls;
	struct holder h;
	struct err e;

	write_text(tpath(a, sizeof a, "first"), "");
	write_text(tpath(b, sizeof b, "second"), "");
	h = spawn_holder(b, HOLD_FLOCK);
	ck_assert_int_eq(lockset_acquire(&ls, tmp, names, 2, &e), -1);
	ck_assert_int_eq(e.code, ERR_NODE_RUNNING);
	ck_assert_ptr_nonnull(strstr(e.msg, "second"));
	/* "first" was taken then let go. */
	ck_assert_int_eq(child_try(a, HOLD_FLOCK), 0);
	ck_assert_int_eq(child_try(a, HOLD_POSIX), 0);
	release_holder(&h);
}
END_TEST

START_TEST(test_lockset_empty)
{
	struct lockset ls;
	struct err e;

	ck_assert_int_eq(lockset_acquire(&ls, tmp, NULL, 0, &e), 0);
	ck_assert_uint_eq(ls.n, 0);
	lockset_release(&ls);
}
END_TEST

START_TEST(test_lock_exclusive)
{
	char p[PATH_MAX];
	struct stat st;
	struct err e;
	pid_t pid;
	int fd, st2, fd2;

	umask(022);
	tpath(p, sizeof p, ".lock");
	fd = lock_exclusive(p, "backup", &e);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(stat(p, &st), 0);   /* created 0600 */
	ck_assert_int_eq(st.st_mode & 07777, 0600);

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct err ce;
		char want[PATH_MAX + 128];
		err_clear(&ce);
		if (lock_exclusive(p, "backup", &ce) != -1)
			_exit(10);
		if (ce.code != ERR_BUSY)
			_exit(11);
		snprintf(want, sizeof want, "backup is in progress (%s is locked "
		    "by another process)", p);
		if (strcmp(ce.msg, want) != 0)
			_exit(12);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &st2, 0), pid);
	ck_assert(WIFEXITED(st2));
	ck_assert_int_eq(WEXITSTATUS(st2), 0);

	lock_release(fd);
	/* Free again: a child gets it. */
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct err ce;
		_exit(lock_exclusive(p, "backup", &ce) >= 0 ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &st2, 0), pid);
	ck_assert(WIFEXITED(st2) && WEXITSTATUS(st2) == 0);

	fd2 = lock_exclusive(p, "backup", &e);
	ck_assert_int_ge(fd2, 0);
	lock_release(fd2);
	lock_release(-1);   /* no-op */

	/* Cannot create: ERR_FAILED. */
	tpath(p, sizeof p, "nodir/.lock");
	ck_assert_int_eq(lock_exclusive(p, "backup", &e), -1);
	ck_assert_int_eq(e.code, ERR_FAILED);
}
END_TEST

/* ---- suite ---------------------------------------------------------- */

static Suite *
common_fs_locks_suite(void)
{
	Suite *s = suite_create("common_fs_locks");
	TCase *tc;

	tc = tcase_create("fsutil");
	tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
	tcase_add_test(tc, test_fs_write_atomic);
	tcase_add_test(tc, test_fs_write_atomic_fails);
	tcase_add_test(tc, test_fs_read_file);
	tcase_add_test(tc, test_fs_mkdir_p);
	tcase_add_test(tc, test_fs_free_bytes);
	tcase_add_test(tc, test_fs_remove_tree);
	tcase_add_test(tc, test_fs_join);
	tcase_add_test(tc, test_fs_join_root);
	suite_add_tcase(s, tc);

	tc = tcase_create("locks");
	tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
	tcase_add_test(tc, test_lockset_flock_held);
	tcase_add_test(tc, test_lockset_posix_held);
	tcase_add_test(tc, test_lockset_holds);
	tcase_add_test(tc, test_lockset_nothing_held_on_failure);
	tcase_add_test(tc, test_lockset_empty);
	tcase_add_test(tc, test_lock_exclusive);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(common_fs_locks_suite(), "common_fs_locks");
}
