#include "config.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "s3_int.h"

struct s3_xml {
	xmlDocPtr doc;
	xmlNodePtr root;
};

struct s3_xml_item {
	xmlNodePtr node;
};

struct s3_xml *
s3_xml_parse(const char *body, size_t len)
{
	struct s3_xml *x;
	xmlDocPtr doc;

	if (!body || len == 0 || len > (size_t)1 << 30)
		return NULL;
	/* No network, no DTD loading, no entity substitution. */
	doc = xmlReadMemory(body, (int)len, "reply.xml", NULL,
	    XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_NOERROR |
	    XML_PARSE_NOWARNING);
	if (!doc)
		return NULL;
	if (!(x = calloc(1, sizeof *x)) || !(x->root = xmlDocGetRootElement(doc))) {
		free(x);
		xmlFreeDoc(doc);
		return NULL;
	}
	x->doc = doc;
	return x;
}

void
s3_xml_free(struct s3_xml *x)
{
	if (!x)
		return;
	xmlFreeDoc(x->doc);
	free(x);
}

const char *
s3_xml_root(const struct s3_xml *x)
{
	return (const char *)x->root->name;
}

/* The text of node's first child element called name. */
static int
child_text(xmlNodePtr node, const char *name, char *out, size_t size)
{
	out[0] = '\0';
	for (xmlNodePtr c = node->children; c; c = c->next) {
		xmlChar *t;

		if (c->type != XML_ELEMENT_NODE ||
		    strcmp((const char *)c->name, name) != 0)
			continue;
		t = xmlNodeGetContent(c);
		snprintf(out, size, "%s", t ? (const char *)t : "");
		xmlFree(t);
		return 1;
	}
	return 0;
}

int
s3_xml_text(const struct s3_xml *x, const char *name, char *out, size_t size)
{
	return child_text(x->root, name, out, size);
}

int
s3_xml_item_text(const struct s3_xml_item *it, const char *name, char *out,
    size_t size)
{
	return child_text(it->node, name, out, size);
}

int
s3_xml_each(const struct s3_xml *x, const char *name,
    int (*fn)(void *arg, const struct s3_xml_item *it), void *arg)
{
	for (xmlNodePtr c = x->root->children; c; c = c->next) {
		struct s3_xml_item it = { c };

		if (c->type != XML_ELEMENT_NODE ||
		    strcmp((const char *)c->name, name) != 0)
			continue;
		if (fn(arg, &it) < 0)
			return -1;
	}
	return 0;
}

time_t
s3_parse_time(const char *s)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof tm);
	end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!end)
		return (time_t)-1;
	if (*end == '.')
		while (*++end >= '0' && *end <= '9')
			;
	if (*end != 'Z' || end[1] != '\0')
		return (time_t)-1;
	return timegm(&tm);
}
