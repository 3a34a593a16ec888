#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsutil.h"
#include "json.h"

int
json_write_fileat(int dirfd, const char *name, const char *shown,
    const json_t *j, mode_t mode, struct err *e)
{
	char *text = json_dumps(j, JSON_INDENT(2) | JSON_REAL_PRECISION(9));
	int rc;

	if (!text)
		return err_set(e, ERR_FAILED, "cannot encode JSON for %s", shown);
	/* A trailing newline keeps the file friendly to cat and diff. */
	size_t len = strlen(text);
	char *withnl = realloc(text, len + 2);
	if (!withnl) {
		free(text);
		return err_set(e, ERR_FAILED, "out of memory");
	}
	withnl[len] = '\n';
	withnl[len + 1] = '\0';
	rc = fs_write_atomicat(dirfd, name, shown, withnl, len + 1, mode, e);
	free(withnl);
	return rc;
}

int
json_write_file(const char *path, const json_t *j, mode_t mode, struct err *e)
{
	return json_write_fileat(AT_FDCWD, path, path, j, mode, e);
}

json_t *
json_load_at(int dirfd, const char *name, const char *shown, size_t max,
    struct err *e)
{
	json_error_t je;
	json_t *j;
	char *buf;
	size_t len;

	if (fs_read_fileat(dirfd, name, shown, max, &buf, &len, e) < 0)
		return NULL;
	j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	free(buf);
	if (!j) {
		err_set(e, ERR_VERIFY, "%s:%d: invalid JSON: %s", shown, je.line,
		    je.text);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		err_set(e, ERR_VERIFY, "%s: not a JSON object", shown);
		return NULL;
	}
	return j;
}

json_t *
json_load_path(const char *path, size_t max, struct err *e)
{
	return json_load_at(AT_FDCWD, path, path, max, e);
}

const char *
json_get_str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

long long
json_get_u(const json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return -1;
	return json_integer_value(v);
}

void
json_print(const json_t *j)
{
	char *text = json_dumps(j, JSON_INDENT(2) | JSON_REAL_PRECISION(10));

	if (text) {
		fputs(text, stdout);
		fputc('\n', stdout);
		free(text);
	}
}
