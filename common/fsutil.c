#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "fsutil.h"

int
fs_join(char *out, size_t size, const char *a, const char *b)
{
	size_t la = strlen(a);
	int n;

	while (la > 1 && a[la - 1] == '/')
		la--;
	if (la == 1 && a[0] == '/')
		la = 0;   /* "/" + "x" is "/x" */
	n = snprintf(out, size, "%.*s/%s", (int)la, a, b);
	return (n < 0 || (size_t)n >= size) ? -1 : 0;
}

int
fs_fsync_dir(const char *dir, struct err *e)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return err_sys(e, ERR_FAILED, "open directory %s", dir);
	if (fsync(fd) < 0) {
		err_sys(e, ERR_FAILED, "fsync directory %s", dir);
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

int
fs_fsync_parent(const char *path, struct err *e)
{
	char dir[4096];
	char *slash;

	if (snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir)
		return err_set(e, ERR_FAILED, "path too long: %s", path);
	slash = strrchr(dir, '/');
	if (!slash)
		return fs_fsync_dir(".", e);
	if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	return fs_fsync_dir(dir, e);
}

int
fs_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
fs_write_atomicat(int dirfd, const char *name, const char *shown,
    const void *buf, size_t len, mode_t mode, struct err *e)
{
	char tmp[4096];
	int fd;

	if (snprintf(tmp, sizeof tmp, "%s%s", name, FS_PARTIAL_SUFFIX) >=
	    (int)sizeof tmp)
		return err_set(e, ERR_FAILED, "path too long: %s", shown);
	/* A leftover .partial (or one an attacker put there, a link or a
	 * FIFO) is removed first: the file is made new, with O_EXCL. */
	if (unlinkat(dirfd, tmp, 0) < 0 && errno != ENOENT)
		return err_sys(e, ERR_FAILED, "remove %s%s", shown,
		    FS_PARTIAL_SUFFIX);
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
	    O_NOFOLLOW, mode);
	if (fd < 0)
		return err_sys(e, ERR_FAILED, "create %s%s", shown,
		    FS_PARTIAL_SUFFIX);
	if (fchmod(fd, mode) < 0 || fs_write_all(fd, buf, len) < 0 ||
	    fsync(fd) < 0) {
		err_sys(e, ERR_FAILED, "write %s%s", shown, FS_PARTIAL_SUFFIX);
		close(fd);
		unlinkat(dirfd, tmp, 0);
		return -1;
	}
	if (close(fd) < 0) {
		err_sys(e, ERR_FAILED, "close %s%s", shown, FS_PARTIAL_SUFFIX);
		unlinkat(dirfd, tmp, 0);
		return -1;
	}
	/* rename replaces a link at name, never writes through it. */
	if (renameat(dirfd, tmp, dirfd, name) < 0) {
		err_sys(e, ERR_FAILED, "rename %s%s", shown, FS_PARTIAL_SUFFIX);
		unlinkat(dirfd, tmp, 0);
		return -1;
	}
	if (dirfd == AT_FDCWD)
		return fs_fsync_parent(name, e);
	if (fsync(dirfd) < 0)
		return err_sys(e, ERR_FAILED, "fsync the directory of %s", shown);
	return 0;
}

int
fs_write_atomic(const char *path, const void *buf, size_t len, mode_t mode,
    struct err *e)
{
	return fs_write_atomicat(AT_FDCWD, path, path, buf, len, mode, e);
}

int
fs_opendirat(int dirfd, const char *name, const char *shown, int create,
    struct err *e)
{
	int fd;

	if (create && mkdirat(dirfd, name, 0700) < 0 && errno != EEXIST)
		return err_sys(e, ERR_FAILED, "create directory %s", shown);
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd >= 0)
		return fd;
	if (errno == ELOOP || errno == ENOTDIR) {
		struct stat st;
		/* With O_DIRECTORY a link gives ENOTDIR: say which it is. */
		int link = errno == ELOOP || (fstatat(dirfd, name, &st,
		    AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode));

		if (link)
			return err_set(e, ERR_FAILED, "%s is a symbolic link: "
			    "refused (the agent follows no link on a volume)",
			    shown);
		return err_set(e, ERR_FAILED, "%s is not a directory: refused",
		    shown);
	}
	return err_sys(e, errno == ENOENT ? ERR_NOT_FOUND : ERR_FAILED,
	    "open directory %s", shown);
}

/* The kind of file st describes, for messages. */
static const char *
file_kind(const struct stat *st)
{
	if (S_ISDIR(st->st_mode))
		return "a directory";
	if (S_ISFIFO(st->st_mode))
		return "a FIFO";
	if (S_ISSOCK(st->st_mode))
		return "a socket";
	if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode))
		return "a device";
	if (S_ISLNK(st->st_mode))
		return "a symbolic link";
	return "not a regular file";
}

/* fs_openat_regular; follow: a link in the last component is followed
 * (fs_read_config_file). */
static int
open_regular(int dirfd, const char *name, const char *shown, int flags,
    int follow, struct stat *st, struct err *e)
{
	struct stat sb;
	int fd, fl;

	if (!st)
		st = &sb;
	/* O_NONBLOCK: opening a FIFO must not wait for a writer; the type
	 * is known only once it is open. */
	fd = openat(dirfd, name, flags | (follow ? 0 : O_NOFOLLOW) |
	    O_NONBLOCK | O_CLOEXEC, 0600);
	if (fd < 0) {
		int saved = errno;

		if (saved == ELOOP)
			return err_set(e, ERR_FAILED, "%s is a symbolic link: "
			    "refused (the agent follows no link on a volume)",
			    shown);
		/* ENXIO: a FIFO with no reader, opened for writing. */
		if (fstatat(dirfd, name, &sb, follow ? 0 :
		    AT_SYMLINK_NOFOLLOW) == 0 &&
		    !S_ISREG(sb.st_mode) && !S_ISDIR(sb.st_mode))
			return err_set(e, ERR_FAILED, "%s is %s: refused (only "
			    "regular files are read or written)", shown,
			    file_kind(&sb));
		errno = saved;
		return err_sys(e, errno == ENOENT ? ERR_NOT_FOUND : ERR_FAILED,
		    "open %s", shown);
	}
	if (fstat(fd, st) < 0) {
		err_sys(e, ERR_FAILED, "stat %s", shown);
		close(fd);
		return -1;
	}
	if (!S_ISREG(st->st_mode)) {
		err_set(e, ERR_FAILED, "%s is %s: refused (only regular files "
		    "are read or written)", shown, file_kind(st));
		close(fd);
		return -1;
	}
	if ((fl = fcntl(fd, F_GETFL)) < 0 ||
	    fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
		err_sys(e, ERR_FAILED, "fcntl %s", shown);
		close(fd);
		return -1;
	}
	return fd;
}

int
fs_openat_regular(int dirfd, const char *name, const char *shown, int flags,
    struct stat *st, struct err *e)
{
	return open_regular(dirfd, name, shown, flags, 0, st, e);
}

int
fs_open_regular(const char *path, int flags, struct stat *st, struct err *e)
{
	return open_regular(AT_FDCWD, path, path, flags, 0, st, e);
}

/* Read all of fd (st_size bytes) into a new NUL-terminated buffer. */
static int
read_whole(int fd, const struct stat *st, size_t max, const char *shown,
    char **buf, size_t *len, struct err *e)
{
	char *data;
	size_t got = 0;

	if ((uint64_t)st->st_size > max)
		return err_set(e, ERR_FAILED, "%s: larger than %zu bytes",
		    shown, max);
	data = malloc((size_t)st->st_size + 1);
	if (!data)
		return err_set(e, ERR_FAILED, "out of memory");
	while (got < (size_t)st->st_size) {
		ssize_t n = read(fd, data + got, (size_t)st->st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err_sys(e, ERR_FAILED, "read %s", shown);
			free(data);
			return -1;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	data[got] = '\0';
	*buf = data;
	if (len)
		*len = got;
	return 0;
}

int
fs_read_fileat(int dirfd, const char *name, const char *shown, size_t max,
    char **buf, size_t *len, struct err *e)
{
	struct stat st;
	int fd = fs_openat_regular(dirfd, name, shown, O_RDONLY, &st, e);
	int rc;

	if (fd < 0)
		return -1;
	rc = read_whole(fd, &st, max, shown, buf, len, e);
	close(fd);
	return rc;
}

int
fs_read_file(const char *path, size_t max, char **buf, size_t *len,
    struct err *e)
{
	return fs_read_fileat(AT_FDCWD, path, path, max, buf, len, e);
}

int
fs_read_config_file(const char *path, size_t max, char **buf, size_t *len,
    struct stat *st, struct err *e)
{
	struct stat sb;
	int fd, rc;

	if (!st)
		st = &sb;
	if ((fd = open_regular(AT_FDCWD, path, path, O_RDONLY, 1, st, e)) < 0)
		return -1;
	rc = read_whole(fd, st, max, path, buf, len, e);
	close(fd);
	return rc;
}

int
fs_mkdir_p(const char *path, mode_t mode, struct err *e)
{
	char buf[4096];
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof buf)
		return err_set(e, ERR_FAILED, "bad directory path '%s'", path);
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			char saved = *p;
			*p = '\0';
			if (mkdir(buf, mode) < 0 && errno != EEXIST)
				return err_sys(e, ERR_FAILED, "mkdir %s", buf);
			*p = saved;
			if (saved == '\0')
				break;
		}
	}
	struct stat st;
	if (stat(path, &st) < 0)
		return err_sys(e, ERR_FAILED, "stat %s", path);
	if (!S_ISDIR(st.st_mode))
		return err_set(e, ERR_FAILED, "%s is not a directory", path);
	return 0;
}

int
fs_free_bytes(const char *path, uint64_t *out, struct err *e)
{
	struct statvfs sv;

	if (statvfs(path, &sv) < 0)
		return err_sys(e, ERR_FAILED, "statvfs %s", path);
	*out = (uint64_t)sv.f_bavail * (uint64_t)sv.f_frsize;
	return 0;
}

static int
remove_below(int dirfd, const char *shown, struct err *e)
{
	DIR *d = fdopendir(dirfd);
	struct dirent *de;
	int rc = 0;

	if (!d) {
		close(dirfd);
		return err_sys(e, ERR_FAILED, "open directory %s", shown);
	}
	while ((de = readdir(d)) != NULL) {
		struct stat st;
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT)
				continue;
			rc = err_sys(e, ERR_FAILED, "stat %s/%s", shown, de->d_name);
			break;
		}
		if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd, de->d_name,
			    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0) {
				rc = err_sys(e, ERR_FAILED, "open %s/%s", shown,
				    de->d_name);
				break;
			}
			if (remove_below(sub, de->d_name, e) < 0) {
				rc = -1;
				break;
			}
			if (unlinkat(dirfd, de->d_name, AT_REMOVEDIR) < 0) {
				rc = err_sys(e, ERR_FAILED, "rmdir %s/%s", shown,
				    de->d_name);
				break;
			}
		} else if (unlinkat(dirfd, de->d_name, 0) < 0 && errno != ENOENT) {
			rc = err_sys(e, ERR_FAILED, "unlink %s/%s", shown,
			    de->d_name);
			break;
		}
	}
	closedir(d);
	return rc;
}

int
fs_remove_treeat(int dirfd, const char *name, const char *shown,
    struct err *e)
{
	struct stat st;
	int fd;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : err_sys(e, ERR_FAILED, "stat %s",
		    shown);
	if (!S_ISDIR(st.st_mode)) {
		if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
			return err_sys(e, ERR_FAILED, "unlink %s", shown);
		return 0;
	}
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd < 0)
		return err_sys(e, ERR_FAILED, "open %s", shown);
	if (remove_below(fd, shown, e) < 0)
		return -1;
	if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return err_sys(e, ERR_FAILED, "rmdir %s", shown);
	return 0;
}

int
fs_remove_tree(const char *path, struct err *e)
{
	struct stat st;
	int fd;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : err_sys(e, ERR_FAILED, "stat %s", path);
	if (!S_ISDIR(st.st_mode)) {
		if (unlink(path) < 0 && errno != ENOENT)
			return err_sys(e, ERR_FAILED, "unlink %s", path);
		return 0;
	}
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return err_sys(e, ERR_FAILED, "open %s", path);
	if (remove_below(fd, path, e) < 0)
		return -1;
	if (rmdir(path) < 0 && errno != ENOENT)
		return err_sys(e, ERR_FAILED, "rmdir %s", path);
	return 0;
}
