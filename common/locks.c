#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
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

int
lockset_acquire(struct lockset *ls, const char *dir, char *const *names,
    size_t count, struct err *e)
{
	memset(ls, 0, sizeof *ls);
	ls->fds = calloc(count ? count : 1, sizeof *ls->fds);
	ls->paths = calloc(count ? count : 1, sizeof *ls->paths);
	if (!ls->fds || !ls->paths) {
		lockset_release(ls);
		return err_set(e, ERR_FAILED, "out of memory");
	}
	for (size_t i = 0; i < count; i++) {
		char path[4096];
		int fd;

		if (fs_join(path, sizeof path, dir, names[i]) < 0) {
			lockset_release(ls);
			return err_set(e, ERR_FAILED, "path too long: %s", names[i]);
		}
		/* Read-write: an OFD write lock needs a writable descriptor;
		 * without write permission, a read lock does the job. */
		int writable = 1;
		fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
		if (fd < 0 && errno == EACCES) {
			writable = 0;
			fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
		}
		if (fd < 0 && errno == ENOENT)
			continue;
		if (fd < 0) {
			err_sys(e, ERR_FAILED, "open lock file %s", path);
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
lock_exclusive(const char *path, const char *what, struct err *e)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd < 0)
		return err_sys(e, ERR_FAILED, "open %s", path);
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

void
lock_release(int fd)
{
	if (fd >= 0)
		close(fd);
}
