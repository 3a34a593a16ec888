/* fsutil: durable file-system steps. libc only.
 *
 * Atomic writes go to "<path>.partial", are fsynced, renamed over <path>,
 * and the directory is fsynced: a reader sees the old file or the whole new
 * one. Store cleanup removes leftover "*.partial" files. */
#ifndef QB_FSUTIL_H
#define QB_FSUTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"

#define FS_PARTIAL_SUFFIX ".partial"

int fs_fsync_dir(const char *dir, struct err *e);
/* fsync the directory that holds path. */
int fs_fsync_parent(const char *path, struct err *e);
int fs_write_atomic(const char *path, const void *buf, size_t len, mode_t mode,
    struct err *e);
/* Read a whole file of at most max bytes; *buf is NUL-terminated, caller
 * frees. ERR_NOT_FOUND when it does not exist. */
int fs_read_file(const char *path, size_t max, char **buf, size_t *len,
    struct err *e);
/* Create path and missing parents; new directories get mode. */
int fs_mkdir_p(const char *path, mode_t mode, struct err *e);
/* Bytes available to an unprivileged writer on the file system of path. */
int fs_free_bytes(const char *path, uint64_t *out, struct err *e);
/* Write all of buf to fd, retrying short writes and EINTR. */
int fs_write_all(int fd, const void *buf, size_t len);
/* Remove path and everything below it (no symlink is followed).
 * Missing path is not an error. */
int fs_remove_tree(const char *path, struct err *e);
/* Join a and b with one '/' into out; -1 when it does not fit. */
int fs_join(char *out, size_t size, const char *a, const char *b);

#endif
