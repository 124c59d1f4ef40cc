/* YAML -> tree with line numbers (see ytree.h). */
#include "ytree.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

void ytree_free(struct ynode *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->n; i++)
		ytree_free(n->items[i]);
	free(n->items);
	free(n->value);
	free(n);
}

static void ynode_add(struct ynode *parent, struct ynode *child)
{
	parent->items = realloc(parent->items, (parent->n + 1) * sizeof(*parent->items));
	if (!parent->items)
		abort();
	parent->items[parent->n++] = child;
}

/* Refuses what no reader of ours can mean: a key that is not a plain
 * name ({[a]: 1}), and a key given twice in one mapping (which one would
 * win is a guess, and readers that append per key would take both). */
static int check_key(const struct ynode *map, const struct ynode *key, char *err, size_t errlen)
{
	if (key->kind != Y_SCALAR) {
		snprintf(err, errlen, "%d: a key must be a plain name, not a %s", key->line,
			 key->kind == Y_MAP ? "mapping" : "list");
		return -EINVAL;
	}
	for (size_t i = 0; i < map->n; i += 2)
		if (!strcmp(map->items[i]->value, key->value)) {
			snprintf(err, errlen, "%d: '%.100s' is given twice (first on line %d)", key->line, key->value,
				 map->items[i]->line);
			return -EINVAL;
		}
	return 0;
}

/* Builds the node that starts with event ev (already parsed), depth
 * levels below the top. */
static int build(yaml_parser_t *p, yaml_event_t *ev, int depth, struct ynode **ret, char *err, size_t errlen)
{
	struct ynode *n = calloc(1, sizeof(*n));
	yaml_event_type_t end;

	if (!n)
		return -ENOMEM;
	n->line = (int)ev->start_mark.line + 1;
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		n->kind = Y_SCALAR;
		n->value = strndup((const char *)ev->data.scalar.value, ev->data.scalar.length);
		*ret = n;
		return 0;
	case YAML_MAPPING_START_EVENT: n->kind = Y_MAP; end = YAML_MAPPING_END_EVENT; break;
	case YAML_SEQUENCE_START_EVENT: n->kind = Y_SEQ; end = YAML_SEQUENCE_END_EVENT; break;
	default:
		snprintf(err, errlen, "%d: aliases and anchors are not supported", n->line);
		free(n);
		return -EINVAL;
	}
	if (depth >= YTREE_DEPTH_MAX) {
		snprintf(err, errlen, "%d: nested more than %d levels deep", n->line, YTREE_DEPTH_MAX);
		free(n);
		return -EINVAL;
	}
	for (;;) {
		yaml_event_t child_ev;
		struct ynode *child;
		int rc;

		if (!yaml_parser_parse(p, &child_ev)) {
			snprintf(err, errlen, "%zu: %s", p->problem_mark.line + 1,
				 p->problem ? p->problem : "malformed YAML");
			ytree_free(n);
			return -EINVAL;
		}
		if (child_ev.type == end) {
			yaml_event_delete(&child_ev);
			break;
		}
		rc = build(p, &child_ev, depth + 1, &child, err, errlen);
		yaml_event_delete(&child_ev);
		if (!rc && n->kind == Y_MAP && n->n % 2 == 0 && (rc = check_key(n, child, err, errlen)))
			ytree_free(child);
		if (rc) {
			ytree_free(n);
			return rc;
		}
		ynode_add(n, child);
	}
	*ret = n;
	return 0;
}

int ytree_parse(FILE *f, struct ynode **ret, char *err, size_t errlen)
{
	yaml_parser_t p;
	yaml_event_t ev;
	struct ynode *root = NULL;
	int rc = 0;

	yaml_parser_initialize(&p);
	yaml_parser_set_input_file(&p, f);
	for (;;) {
		if (!yaml_parser_parse(&p, &ev)) {
			snprintf(err, errlen, "%zu: %s", p.problem_mark.line + 1,
				 p.problem ? p.problem : "malformed YAML");
			rc = -EINVAL;
			break;
		}
		if (ev.type == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		if (ev.type == YAML_MAPPING_START_EVENT || ev.type == YAML_SEQUENCE_START_EVENT ||
		    ev.type == YAML_SCALAR_EVENT) {
			if (root) {
				snprintf(err, errlen, "%zu: only one YAML document is allowed",
					 ev.start_mark.line + 1);
				yaml_event_delete(&ev);
				rc = -EINVAL;
				break;
			}
			rc = build(&p, &ev, 0, &root, err, errlen);
		}
		yaml_event_delete(&ev);
		if (rc)
			break;
	}
	yaml_parser_delete(&p);
	if (rc) {
		ytree_free(root);
		return rc;
	}
	*ret = root;
	return 0;
}

int ytree_is_null(const struct ynode *n)
{
	return n->kind == Y_SCALAR && (!n->value[0] || !strcmp(n->value, "~") || !strcmp(n->value, "null"));
}

const struct ynode *ytree_get(const struct ynode *n, const char *key)
{
	if (!n || n->kind != Y_MAP)
		return NULL;
	for (size_t i = 0; i + 1 < n->n; i += 2)
		if (n->items[i]->kind == Y_SCALAR && !strcmp(n->items[i]->value, key))
			return n->items[i + 1];
	return NULL;
}
