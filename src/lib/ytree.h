/* A YAML document as a small tree with line numbers (libyaml underneath),
 * for readers that validate keys themselves and report "file:line: ...".
 * Aliases and anchors are refused; one document per file.  Every mapping
 * key is a scalar, and no key appears twice in one mapping: the parser
 * refuses anything else, so readers may strcmp keys and take each once. */
#ifndef KS_YTREE_H
#define KS_YTREE_H

#include <stddef.h>
#include <stdio.h>

enum ynode_kind { Y_SCALAR, Y_MAP, Y_SEQ };

/* Mappings and lists nest at most this deep (the tree is built
 * recursively). */
#define YTREE_DEPTH_MAX 32

struct ynode {
	enum ynode_kind kind;
	int line;
	char *value;                /* scalar text */
	struct ynode **items;       /* map: key, value, key, value ...; seq: items */
	size_t n;
};

/* Parses f.  *ret is NULL for an empty document.  On error (malformed YAML,
 * an alias, a key that is not a scalar or is repeated, nesting deeper than
 * YTREE_DEPTH_MAX) returns -EINVAL and writes "LINE: what" into err. */
int ytree_parse(FILE *f, struct ynode **ret, char *err, size_t errlen);

/* True for an empty or null scalar ("", "~", "null"). */
int ytree_is_null(const struct ynode *n);

/* The value of key in map n, or NULL. */
const struct ynode *ytree_get(const struct ynode *n, const char *key);

void ytree_free(struct ynode *n);

#endif
