/* list: the backups of this member, newest first; read-only. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cmd_table.h"
#include "human.h"
#include "json.h"

/* One backup's line of the table. */
static void
print_backup(const json_t *b)
{
	char size[32], bytes[32], files[32], height[32];
	long long h = json_get_u(json_object_get(b, "node"), "block_number");

	human_bytes(json_get_u(b, "size"), size, sizeof size);
	if (json_get_u(b, "bytes") >= 0)
		human_bytes(json_get_u(b, "bytes"), bytes, sizeof bytes);
	else
		strcpy(bytes, "-");
	if (json_get_u(b, "files") >= 0)
		snprintf(files, sizeof files, "%lld", json_get_u(b, "files"));
	else
		strcpy(files, "-");
	if (h >= 0)
		snprintf(height, sizeof height, "%lld", h);
	else
		strcpy(height, "-");
	printf("%-24s %-20s %10s %8s %10s %8s%s\n", json_get_str(b, "id"),
	    json_get_str(b, "created"), size, files, bytes, height,
	    json_is_true(json_object_get(b, "legacy")) ? "  legacy" :
	    json_is_true(json_object_get(b, "encrypted")) ? "  encrypted" : "");
}

static int
cmd_list_exec(const struct cmd_args *a)
{
	struct err e;
	json_t *list;
	size_t i;
	json_t *b;

	err_clear(&e);
	if (!(list = op_list(a->cf, &e)))
		return cmd_fail("list", &e);
	if (a->json) {
		json_print(list);
		json_decref(list);
		return 0;
	}
	printf("%-24s %-20s %10s %8s %10s %8s\n", "ID", "CREATED", "SIZE",
	    "FILES", "BYTES", "HEIGHT");
	json_array_foreach(list, i, b)
		print_backup(b);
	if (json_array_size(list) == 0)
		printf("(no backups of member %lld in %s)\n", a->cf->member,
		    a->cf->backup_dir);
	json_decref(list);
	return 0;
}

const struct cmd_entry cmd_list_entry = {
	.name = "list",
	.usage = "list",
	.help = "backups of this member, newest first",
	.exec = cmd_list_exec,
};
