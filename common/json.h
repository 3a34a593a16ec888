/* json: small helpers on jansson for files and typed field access. */
#ifndef QB_JSON_H
#define QB_JSON_H

#include <jansson.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"

/* Dump j (indented, keys in insertion order) and write it atomically. */
int json_write_file(const char *path, const json_t *j, mode_t mode,
    struct err *e);
/* The same for name relative to dirfd (fs_write_atomicat). */
int json_write_fileat(int dirfd, const char *name, const char *shown,
    const json_t *j, mode_t mode, struct err *e);
/* Load a JSON object from a regular file of at most max bytes (no link
 * followed, no FIFO waited on: fs_read_file). */
json_t *json_load_path(const char *path, size_t max, struct err *e);
/* The same relative to dirfd; shown names it in messages. */
json_t *json_load_at(int dirfd, const char *name, const char *shown,
    size_t max, struct err *e);

/* Field access that tolerates a missing or mistyped field. */
const char *json_get_str(const json_t *obj, const char *key);
/* -1 when missing, negative or not an integer. */
long long json_get_u(const json_t *obj, const char *key);

/* Print j on stdout (indented) followed by a newline. */
void json_print(const json_t *j);

#endif
