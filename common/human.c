#include "config.h"

#include <stdio.h>
#include <string.h>

#include "human.h"

void
human_bytes(long long n, char *buf, size_t size)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)n;
	int u = 0;

	if (n < 0) {
		snprintf(buf, size, "-");
		return;
	}
	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, size, "%lld B", n);
	else
		snprintf(buf, size, "%.1f %s", v, units[u]);
}

void
human_indented(FILE *out, const char *text, int column)
{
	for (;;) {
		size_t len = strcspn(text, "\n");

		fprintf(out, "%.*s\n", (int)len, text);
		if (!text[len])
			return;
		text += len + 1;
		fprintf(out, "%*s", column, "");
	}
}
