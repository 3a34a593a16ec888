/* s3_int: what s3.c and s3_xml.c share: the XML replies, parsed with
 * libxml2 (no network, no entity substitution: a reply is data). */
#ifndef QB_S3_INT_H
#define QB_S3_INT_H

#include <stddef.h>

#include "s3.h"

/* A parsed reply; NULL when body is not XML. */
struct s3_xml;
struct s3_xml *s3_xml_parse(const char *body, size_t len);
void s3_xml_free(struct s3_xml *x);
/* The local name of the root element ("Error", "ListBucketResult"...). */
const char *s3_xml_root(const struct s3_xml *x);
/* The text of the root's child element name into out ("" when there is
 * none); 1 when it was there. */
int s3_xml_text(const struct s3_xml *x, const char *name, char *out,
    size_t size);

/* Each child element of the root called name, one call of fn with a
 * getter of its children's texts; fn returns 0 to go on, -1 to stop
 * (then this returns -1). */
struct s3_xml_item;
int s3_xml_item_text(const struct s3_xml_item *it, const char *name,
    char *out, size_t size);
int s3_xml_each(const struct s3_xml *x, const char *name,
    int (*fn)(void *arg, const struct s3_xml_item *it), void *arg);

/* "2026-12-03T11:52:08.000Z" as a time; -1 when it is not that. */
time_t s3_parse_time(const char *s);

#endif
