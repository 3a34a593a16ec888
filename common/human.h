/* human: numbers and text as people read them, for the programs' own
 * output (the agent's offline commands, the controller's progress and
 * summaries, --help). libc only. */
#ifndef QB_HUMAN_H
#define QB_HUMAN_H

#include <stddef.h>
#include <stdio.h>

/* n bytes in binary units, one decimal from KiB up: "512 B", "9.5 KiB",
 * "2.9 MiB", up to TiB. A negative n (a size that is not known) is "-".
 * The text is cut to fit size, always NUL-terminated (size > 0). */
void human_bytes(long long n, char *buf, size_t size);

/* text after what is already on the line, ending with a newline; its
 * further lines ('\n'-separated) indented by column spaces. */
void human_indented(FILE *out, const char *text, int column);

#endif
