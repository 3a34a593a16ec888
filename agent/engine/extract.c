#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "extract.h"
#include "fsutil.h"
#include "log.h"
#include "swap.h"

int
extract_clean_path(const char *in, char *out, size_t size, struct err *e)
{
	size_t o = 0;
	const char *p = in;

	if (in[0] == '/')
		return err_set(e, ERR_VERIFY, "hostile archive: absolute path "
		    "'%s'", in);
	while (*p) {
		size_t n = strcspn(p, "/");
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return err_set(e, ERR_VERIFY, "hostile archive: '..' in "
			    "path '%s'", in);
		if (n > 0 && !(n == 1 && p[0] == '.')) {
			if (o + n + 2 > size)
				return err_set(e, ERR_VERIFY, "path too long: '%.64s"
				    "...'", in);
			if (o > 0)
				out[o++] = '/';
			memcpy(out + o, p, n);
			o += n;
		}
		p += n;
		while (*p == '/')
			p++;
	}
	out[o] = '\0';
	return 0;
}

/* Open the directory that holds rel's last component, below root, never
 * following a symlink; missing directories are created 0700 (an archive
 * may list a file before its directory). *leaf points into rel. */
static int
open_parent(int root, const char *rel, const char **leaf, struct err *e)
{
	char comp[4096];
	const char *p = rel, *slash;
	int cur = dup(root);

	if (cur < 0)
		return err_sys(e, ERR_FAILED, "dup");
	while ((slash = strchr(p, '/')) != NULL) {
		size_t n = (size_t)(slash - p);
		int next;

		memcpy(comp, p, n);
		comp[n] = '\0';
		next = openat(cur, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		if (next < 0 && errno == ENOENT) {
			if (mkdirat(cur, comp, 0700) < 0 && errno != EEXIST) {
				err_sys(e, ERR_FAILED, "mkdir %.*s", (int)(slash - rel),
				    rel);
				close(cur);
				return -1;
			}
			next = openat(cur, comp, O_RDONLY | O_DIRECTORY |
			    O_NOFOLLOW | O_CLOEXEC);
		}
		if (next < 0) {
			if (errno == ELOOP || errno == ENOTDIR)
				err_set(e, ERR_VERIFY, "hostile archive: '%s' goes "
				    "through a symlink or a file (%.*s)", rel,
				    (int)(slash - rel), rel);
			else
				err_sys(e, ERR_FAILED, "open %.*s", (int)(slash - rel),
				    rel);
			close(cur);
			return -1;
		}
		close(cur);
		cur = next;
		p = slash + 1;
	}
	*leaf = p;
	return cur;
}

struct dir_attr {
	char *rel;
	mode_t mode;
	uid_t uid;
	gid_t gid;
	struct timespec mtime;
};

struct ex {
	int root;
	const struct extract_opts *o;
	int as_root;
	uint64_t written;
	/* current entry */
	char rel[4096];
	int skip;                /* the archive's root entry */
	int fd;                  /* regular file being written */
	int64_t size;
	/* regular files extracted: hard-link targets */
	char **files;
	size_t nfiles, capfiles;
	struct dir_attr *dirs;
	size_t ndirs, capdirs;
};

static int
remember_file(struct ex *x)
{
	if (x->nfiles == x->capfiles) {
		size_t cap = x->capfiles ? x->capfiles * 2 : 256;
		char **nf = realloc(x->files, cap * sizeof *nf);
		if (!nf)
			return -1;
		x->files = nf;
		x->capfiles = cap;
	}
	if (!(x->files[x->nfiles] = strdup(x->rel)))
		return -1;
	x->nfiles++;
	return 0;
}

static int
is_extracted_file(const struct ex *x, const char *rel)
{
	/* From the end: hard links mostly point at recent files. */
	for (size_t i = x->nfiles; i > 0; i--)
		if (strcmp(x->files[i - 1], rel) == 0)
			return 1;
	return 0;
}

static void
set_times(struct timespec ts[2], struct archive_entry *ae)
{
	ts[0].tv_sec = ts[1].tv_sec = archive_entry_mtime(ae);
	ts[0].tv_nsec = ts[1].tv_nsec = archive_entry_mtime_nsec(ae);
}

/* A hard link to hl, a file extracted before it. */
static int
ex_hardlink(struct ex *x, const char *hl, int parent, const char *leaf,
    struct err *e)
{
	char target[4096];
	const char *tleaf;
	int tparent, rc = 0;

	if (extract_clean_path(hl, target, sizeof target, e) < 0)
		return -1;
	if (!is_extracted_file(x, target))
		return err_set(e, ERR_VERIFY, "hostile archive: hard link '%s' "
		    "points at '%s', not a file extracted before it", x->rel, hl);
	if ((tparent = open_parent(x->root, target, &tleaf, e)) < 0)
		return -1;
	if (linkat(tparent, tleaf, parent, leaf, 0) < 0)
		rc = err_sys(e, errno == EEXIST ? ERR_VERIFY : ERR_FAILED,
		    "link %s", x->rel);
	close(tparent);
	return rc;
}

/* A directory (0700 until the end, when its own attributes are set). */
static int
ex_dir(struct ex *x, struct archive_entry *ae, int parent, const char *leaf,
    struct err *e)
{
	struct dir_attr *d;
	struct stat st;

	if (mkdirat(parent, leaf, 0700) < 0 && (errno != EEXIST ||
	    fstatat(parent, leaf, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !S_ISDIR(st.st_mode)))
		return err_sys(e, errno == EEXIST ? ERR_VERIFY : ERR_FAILED,
		    "mkdir %s", x->rel);
	if (x->ndirs == x->capdirs) {
		size_t cap = x->capdirs ? x->capdirs * 2 : 64;
		struct dir_attr *nd = realloc(x->dirs, cap * sizeof *nd);
		if (!nd)
			return err_set(e, ERR_FAILED, "out of memory");
		x->dirs = nd;
		x->capdirs = cap;
	}
	d = &x->dirs[x->ndirs];
	if (!(d->rel = strdup(x->rel)))
		return err_set(e, ERR_FAILED, "out of memory");
	d->mode = archive_entry_perm(ae) & 0777;
	d->uid = (uid_t)archive_entry_uid(ae);
	d->gid = (gid_t)archive_entry_gid(ae);
	d->mtime.tv_sec = archive_entry_mtime(ae);
	d->mtime.tv_nsec = archive_entry_mtime_nsec(ae);
	x->ndirs++;
	return 0;
}

/* A symbolic link, written as it is (nothing is ever written through
 * one: every path is opened below the target without following links). */
static int
ex_symlink(struct ex *x, struct archive_entry *ae, int parent,
    const char *leaf, struct err *e)
{
	struct timespec ts[2];
	const char *target = archive_entry_symlink(ae);

	if (!target || symlinkat(target, parent, leaf) < 0)
		return err_sys(e, errno == EEXIST ? ERR_VERIFY : ERR_FAILED,
		    "symlink %s", x->rel);
	if (x->as_root && fchownat(parent, leaf, (uid_t)archive_entry_uid(ae),
	    (gid_t)archive_entry_gid(ae), AT_SYMLINK_NOFOLLOW) < 0)
		return err_sys(e, ERR_FAILED, "chown %s", x->rel);
	set_times(ts, ae);
	utimensat(parent, leaf, ts, AT_SYMLINK_NOFOLLOW);
	return 0;
}

/* A regular file, created (never an existing one) and left open in x->fd
 * for its data; within the size cap. */
static int
ex_file(struct ex *x, struct archive_entry *ae, int parent, const char *leaf,
    struct err *e)
{
	int64_t size = archive_entry_size(ae);

	if (size < 0 || (uint64_t)size > x->o->cap_bytes - x->written)
		return err_set(e, x->o->cap_code, "'%s' (%lld bytes) would take "
		    "the content past %llu bytes%s", x->rel, (long long)size,
		    (unsigned long long)x->o->cap_bytes,
		    x->o->cap_code == ERR_NO_SPACE ? ", the space free on the "
		    "data volume" : ", the size the metadata records");
	x->size = size;
	x->fd = openat(parent, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (x->fd < 0)
		return err_sys(e, errno == EEXIST ? ERR_VERIFY : ERR_FAILED,
		    "create %s", x->rel);
	if (remember_file(x) < 0)
		return err_set(e, ERR_FAILED, "out of memory");
	return 0;
}

static int
ex_begin(void *ctx, struct archive_entry *ae, struct err *e)
{
	struct ex *x = ctx;
	const char *leaf, *hl = archive_entry_hardlink(ae);
	mode_t type = archive_entry_filetype(ae);
	int parent, rc;

	x->fd = -1;
	x->skip = 0;
	if (extract_clean_path(archive_entry_pathname(ae), x->rel, sizeof x->rel,
	    e) < 0)
		return -1;
	if (x->rel[0] == '\0') {
		x->skip = 1;   /* "." : the target itself */
		return 0;
	}
	if (strcmp(x->rel, DATADIR_AGENT) == 0 ||
	    strncmp(x->rel, DATADIR_AGENT "/", sizeof DATADIR_AGENT) == 0) {
		/* Never ours to write: the journal, locks and trees live there. */
		log_warn("unpack_skip", "path=%s reason=%s", logq(x->rel),
		    logq("the agent's own directory is never restored"));
		x->skip = 1;
		return 0;
	}
	if (!hl && type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK)
		return err_set(e, ERR_VERIFY, "hostile archive: '%s' is a %s; "
		    "device nodes, FIFOs and sockets are refused", x->rel,
		    type == AE_IFCHR ? "character device" :
		    type == AE_IFBLK ? "block device" :
		    type == AE_IFIFO ? "FIFO" :
		    type == AE_IFSOCK ? "socket" : "special file");
	if ((parent = open_parent(x->root, x->rel, &leaf, e)) < 0)
		return -1;
	if (hl)
		rc = ex_hardlink(x, hl, parent, leaf, e);
	else if (type == AE_IFDIR)
		rc = ex_dir(x, ae, parent, leaf, e);
	else if (type == AE_IFLNK)
		rc = ex_symlink(x, ae, parent, leaf, e);
	else
		rc = ex_file(x, ae, parent, leaf, e);
	close(parent);
	return rc;
}

static int
ex_data(void *ctx, const void *buf, size_t len, int64_t offset, struct err *e)
{
	struct ex *x = ctx;
	const char *p = buf;

	if (x->skip)
		return 0;
	if (x->fd < 0)
		return len ? err_set(e, ERR_VERIFY, "'%s': data for an entry "
		    "that has none", x->rel) : 0;
	if (offset < 0 || (uint64_t)offset + len > (uint64_t)x->size)
		return err_set(e, ERR_VERIFY, "'%s': data beyond its size",
		    x->rel);
	while (len > 0) {
		ssize_t n = pwrite(x->fd, p, len, (off_t)offset);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return err_sys(e, ERR_FAILED, "write %s", x->rel);
		}
		p += n;
		len -= (size_t)n;
		offset += n;
		x->written += (uint64_t)n;
	}
	return 0;
}

static int
ex_end(void *ctx, struct archive_entry *ae, struct err *e)
{
	struct ex *x = ctx;
	struct timespec ts[2];
	int rc = 0;

	if (x->fd < 0)
		return 0;
	/* Sparse entries leave holes: the file still gets its full size. */
	if (ftruncate(x->fd, (off_t)x->size) < 0)
		rc = err_sys(e, ERR_FAILED, "truncate %s", x->rel);
	else if (x->as_root && fchown(x->fd, (uid_t)archive_entry_uid(ae),
	    (gid_t)archive_entry_gid(ae)) < 0)
		rc = err_sys(e, ERR_FAILED, "chown %s", x->rel);
	else if (fchmod(x->fd, archive_entry_perm(ae) & 0777) < 0)
		rc = err_sys(e, ERR_FAILED, "chmod %s", x->rel);
	if (rc == 0) {
		set_times(ts, ae);
		if (futimens(x->fd, ts) < 0)
			rc = err_sys(e, ERR_FAILED, "set times of %s", x->rel);
	}
	/* Start writing it back now: the closing syncfs then finds little
	 * left, and the disk works while the next files are extracted. */
	if (rc == 0)
		sync_file_range(x->fd, 0, 0, SYNC_FILE_RANGE_WRITE);
	if (close(x->fd) < 0 && rc == 0)
		rc = err_sys(e, ERR_FAILED, "close %s", x->rel);
	x->fd = -1;
	return rc;
}

/* Directory attributes last, deepest first, so that a read-only directory
 * does not stop its children from being written and their creation does
 * not move its mtime. */
static int
finish_dirs(struct ex *x, struct err *e)
{
	for (size_t i = x->ndirs; i > 0; i--) {
		struct dir_attr *d = &x->dirs[i - 1];
		struct timespec ts[2] = { d->mtime, d->mtime };
		const char *leaf;
		int parent = open_parent(x->root, d->rel, &leaf, e);

		if (parent < 0)
			return -1;
		if ((x->as_root && fchownat(parent, leaf, d->uid, d->gid,
		    AT_SYMLINK_NOFOLLOW) < 0) ||
		    fchmodat(parent, leaf, d->mode, 0) < 0 ||
		    utimensat(parent, leaf, ts, AT_SYMLINK_NOFOLLOW) < 0) {
			err_sys(e, ERR_FAILED, "set attributes of %s", d->rel);
			close(parent);
			return -1;
		}
		close(parent);
	}
	return 0;
}

int
extract_backup(const struct backup_info *b, const struct extract_opts *o,
    struct verify_result *res, struct err *e)
{
	struct entry_visitor v;
	struct ex x;
	int rc;

	memset(&x, 0, sizeof x);
	x.fd = -1;
	x.o = o;
	x.as_root = geteuid() == 0;
	x.root = o->target_fd > 0 ? fcntl(o->target_fd, F_DUPFD_CLOEXEC, 0) :
	    open(o->target, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (x.root < 0)
		return err_sys(e, ERR_FAILED, "open %s", o->target);
	v.begin = ex_begin;
	v.data = ex_data;
	v.end = ex_end;
	v.ctx = &x;
	rc = backup_walk(b, &v, o->progress, o->progress_arg, o->cancel, res, e);
	if (x.fd >= 0)
		close(x.fd);
	if (rc == 0)
		rc = finish_dirs(&x, e);
	for (size_t i = 0; i < x.nfiles; i++)
		free(x.files[i]);
	free(x.files);
	for (size_t i = 0; i < x.ndirs; i++)
		free(x.dirs[i].rel);
	free(x.dirs);
	close(x.root);
	return rc;
}

static int
fsync_below(int dirfd, int files_too, const char *shown, struct err *e)
{
	DIR *d;
	struct dirent *de;
	int rc = 0;

	if (fsync(dirfd) < 0) {
		close(dirfd);
		return err_sys(e, ERR_FAILED, "fsync %s", shown);
	}
	if (!(d = fdopendir(dirfd))) {
		close(dirfd);
		return err_sys(e, ERR_FAILED, "open %s", shown);
	}
	rewinddir(d);   /* a duplicated descriptor shares its offset */
	while ((de = readdir(d)) != NULL && rc == 0) {
		struct stat st;
		int fd;
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			fd = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY |
			    O_NOFOLLOW | O_CLOEXEC);
			if (fd < 0)
				rc = err_sys(e, ERR_FAILED, "open %s/%s", shown,
				    de->d_name);
			else
				rc = fsync_below(fd, files_too, de->d_name, e);
		} else if (files_too && S_ISREG(st.st_mode)) {
			fd = openat(dirfd, de->d_name, O_RDONLY | O_NOFOLLOW |
			    O_CLOEXEC);
			if (fd < 0 || fsync(fd) < 0)
				rc = err_sys(e, ERR_FAILED, "fsync %s/%s", shown,
				    de->d_name);
			if (fd >= 0)
				close(fd);
		}
	}
	closedir(d);
	return rc;
}

/* fsync_below takes fd over. */
static int
sync_tree(int fd, const char *shown, struct err *e)
{
	int files_too = 1;

#ifdef HAVE_SYNCFS
	if (syncfs(fd) == 0)
		files_too = 0;
#endif
	return fsync_below(fd, files_too, shown, e);
}

int
extract_sync_tree(const char *dir, struct err *e)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return err_sys(e, ERR_FAILED, "open %s", dir);
	return sync_tree(fd, dir, e);
}

int
extract_sync_treeat(int dirfd, const char *shown, struct err *e)
{
	int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);

	if (fd < 0)
		return err_sys(e, ERR_FAILED, "open %s", shown);
	return sync_tree(fd, shown, e);
}
