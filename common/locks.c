#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "locks.h"

/* Returns 0 when held, -1 with e filled otherwise. A read-only descriptor
 * takes an OFD read lock: it still conflicts with the write lock every node
 * takes, both ways. */
static int
hold_one(int fd, int writable, const char *shown, struct err *e)
{
	struct flock fl;

	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK)
			return err_set(e, ERR_NODE_RUNNING, "%s is locked (flock) "
			    "by another process: is the node running?", shown);
		return err_sys(e, ERR_FAILED, "flock %s", shown);
	}
	memset(&fl, 0, sizeof fl);
	fl.l_type = writable ? F_WRLCK : F_RDLCK;
	fl.l_whence = SEEK_SET;
	if (fcntl(fd, F_OFD_SETLK, &fl) < 0) {
		if (errno == EAGAIN || errno == EACCES) {
			struct flock probe;
			memset(&probe, 0, sizeof probe);
			probe.l_type = F_WRLCK;
			probe.l_whence = SEEK_SET;
			if (fcntl(fd, F_OFD_GETLK, &probe) == 0 &&
			    probe.l_type != F_UNLCK && probe.l_pid > 0)
				return err_set(e, ERR_NODE_RUNNING, "%s is locked "
				    "(fcntl) by process %d: is the node running?",
				    shown, (int)probe.l_pid);
			return err_set(e, ERR_NODE_RUNNING, "%s is locked (fcntl) "
			    "by another process: is the node running?", shown);
		}
		return err_sys(e, ERR_FAILED, "fcntl lock %s", shown);
	}
	return 0;
}

/* Open a lock file below dirfd without following a link in its last
 * component or waiting on a FIFO; only a regular file is a lock file.
 * *writable says whether it was opened for writing. -1 with errno ENOENT
 * for a missing file (no error set), else -1 with e. */
static int
open_lock_file(int dirfd, const char *name, const char *shown, int *writable,
    struct err *e)
{
	struct stat st;
	int fd, fl;

	/* Read-write: an OFD write lock needs a writable descriptor;
	 * without write permission, a read lock does the job. */
	*writable = 1;
	fd = openat(dirfd, name, O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY |
	    O_NONBLOCK);
	if (fd < 0 && errno == EACCES) {
		*writable = 0;
		fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW |
		    O_NOCTTY | O_NONBLOCK);
	}
	if (fd < 0 && errno == ENOENT)
		return -1;
	if (fd < 0 && errno == ELOOP)
		return err_set(e, ERR_FAILED, "lock file %s is a symbolic link: "
		    "refused", shown);
	if (fd < 0)
		return err_sys(e, ERR_FAILED, "open lock file %s", shown);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    (fl = fcntl(fd, F_GETFL)) < 0 ||
	    fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
		close(fd);
		return err_set(e, ERR_FAILED, "lock file %s is not a regular "
		    "file: refused", shown);
	}
	return fd;
}

int
lockset_acquireat(struct lockset *ls, int dirfd, const char *dir,
    char *const *names, size_t count, struct err *e)
{
	memset(ls, 0, sizeof *ls);
	ls->fds = calloc(count ? count : 1, sizeof *ls->fds);
	ls->paths = calloc(count ? count : 1, sizeof *ls->paths);
	if (!ls->fds || !ls->paths) {
		lockset_release(ls);
		return err_set(e, ERR_FAILED, "out of memory");
	}
	for (size_t i = 0; i < count; i++) {
		char shown[4096];
		int fd, writable;

		if (fs_join(shown, sizeof shown, dir, names[i]) < 0) {
			lockset_release(ls);
			return err_set(e, ERR_FAILED, "path too long: %s", names[i]);
		}
		errno = 0;
		fd = open_lock_file(dirfd, names[i], shown, &writable, e);
		if (fd < 0 && errno == ENOENT)
			continue;
		if (fd < 0) {
			lockset_release(ls);
			return -1;
		}
		if (hold_one(fd, writable, names[i], e) < 0) {
			close(fd);
			lockset_release(ls);
			return -1;
		}
		ls->fds[ls->n] = fd;
		ls->paths[ls->n] = strdup(names[i]);
		ls->n++;
	}
	return 0;
}

int
lockset_acquire(struct lockset *ls, const char *dir, char *const *names,
    size_t count, struct err *e)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc;

	if (dfd < 0) {
		memset(ls, 0, sizeof *ls);
		return err_sys(e, ERR_FAILED, "open directory %s", dir);
	}
	rc = lockset_acquireat(ls, dfd, dir, names, count, e);
	close(dfd);
	return rc;
}

void
lockset_release(struct lockset *ls)
{
	for (size_t i = 0; i < ls->n; i++) {
		close(ls->fds[i]);   /* drops both the flock and the OFD lock */
		free(ls->paths[i]);
	}
	free(ls->fds);
	free(ls->paths);
	memset(ls, 0, sizeof *ls);
}

int
lock_exclusiveat(int dirfd, const char *name, const char *shown,
    const char *what, struct err *e)
{
	int fd = fs_openat_regular(dirfd, name, shown, O_RDWR | O_CREAT, NULL,
	    e);
	const char *path = shown;

	if (fd < 0) {
		if (e && e->code == ERR_NOT_FOUND)
			e->code = ERR_FAILED;   /* it could not be created */
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int saved = errno;
		close(fd);
		if (saved == EWOULDBLOCK)
			return err_set(e, ERR_BUSY, "%s is in progress (%s is "
			    "locked by another process)", what, path);
		errno = saved;
		return err_sys(e, ERR_FAILED, "flock %s", path);
	}
	return fd;
}

int
lock_exclusive(const char *path, const char *what, struct err *e)
{
	return lock_exclusiveat(AT_FDCWD, path, path, what, e);
}

void
lock_release(int fd)
{
	if (fd >= 0)
		close(fd);
}
