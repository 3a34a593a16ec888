/* fsutil: durable file-system steps. libc only.
 *
 * Atomic writes go to "<path>.partial", are fsynced, renamed over <path>,
 * and the directory is fsynced: a reader sees the old file or the whole new
 * one. Store cleanup removes leftover "*.partial" files. */
#ifndef QB_FSUTIL_H
#define QB_FSUTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "err.h"

#define FS_PARTIAL_SUFFIX ".partial"

int fs_fsync_dir(const char *dir, struct err *e);
/* fsync the directory that holds path. */
int fs_fsync_parent(const char *path, struct err *e);
int fs_write_atomic(const char *path, const void *buf, size_t len, mode_t mode,
    struct err *e);
/* The same for name relative to dirfd (AT_FDCWD: the working directory),
 * fsyncing dirfd; shown names the file in messages. Neither the temporary
 * file nor the target is ever written through a link. */
int fs_write_atomicat(int dirfd, const char *name, const char *shown,
    const void *buf, size_t len, mode_t mode, struct err *e);
/* Open the directory name below dirfd (one component, or a relative path
 * whose last component must not be a link) without following a link:
 * O_DIRECTORY | O_NOFOLLOW. With create, make it first (0700) if it is
 * missing. Returns the fd; -1 with "... is a symbolic link: refused",
 * "... is not a directory: refused", or ERR_NOT_FOUND. */
int fs_opendirat(int dirfd, const char *name, const char *shown, int create,
    struct err *e);
/* Open a regular file on a volume that others may write: never through a
 * symbolic link in its last component (O_NOFOLLOW), never waiting on a
 * FIFO (opened O_NONBLOCK, the flag cleared once fstat says it is a
 * regular file). flags: O_RDONLY, O_WRONLY or O_RDWR, with O_CREAT,
 * O_EXCL, O_APPEND or O_TRUNC as wanted (new files get 0600). *st (if
 * not NULL) gets its fstat. Returns the fd; -1 with a message naming the
 * file ("... is a symbolic link: refused", "... is a FIFO: refused"),
 * ERR_NOT_FOUND when it does not exist. */
int fs_open_regular(const char *path, int flags, struct stat *st,
    struct err *e);
/* The same relative to dirfd (AT_FDCWD: the working directory); shown is
 * the name for messages. */
int fs_openat_regular(int dirfd, const char *name, const char *shown,
    int flags, struct stat *st, struct err *e);
/* Read a whole regular file (fs_open_regular) of at most max bytes; *buf
 * is NUL-terminated, caller frees. ERR_NOT_FOUND when it does not
 * exist. */
int fs_read_file(const char *path, size_t max, char **buf, size_t *len,
    struct err *e);
/* The same relative to dirfd; shown names it in messages. */
int fs_read_fileat(int dirfd, const char *name, const char *shown,
    size_t max, char **buf, size_t *len, struct err *e);
/* A file the operator's configuration names on a volume only the
 * orchestrator writes (the token, keys, credentials: Kubernetes mounts a
 * Secret's keys as links into its ..data directory): links are followed,
 * but it must be a regular file, opened without waiting on a FIFO, of at
 * most max bytes. *st (if not NULL) gets the fstat of what was read. */
int fs_read_config_file(const char *path, size_t max, char **buf,
    size_t *len, struct stat *st, struct err *e);
/* Create path and missing parents; new directories get mode. */
int fs_mkdir_p(const char *path, mode_t mode, struct err *e);
/* Bytes available to an unprivileged writer on the file system of path. */
int fs_free_bytes(const char *path, uint64_t *out, struct err *e);
/* Write all of buf to fd, retrying short writes and EINTR. */
int fs_write_all(int fd, const void *buf, size_t len);
/* Remove path and everything below it (no symlink is followed).
 * Missing path is not an error. */
int fs_remove_tree(const char *path, struct err *e);
/* The same for name below dirfd; shown names it in messages. */
int fs_remove_treeat(int dirfd, const char *name, const char *shown,
    struct err *e);
/* Join a and b with one '/' into out; -1 when it does not fit. */
int fs_join(char *out, size_t size, const char *a, const char *b);

#endif
