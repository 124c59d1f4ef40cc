/* Prometheus text exposition writer (see prom.h). */
#include "prom.h"

#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void prom_init(struct prom *p, struct buf *out)
{
	memset(p, 0, sizeof(*p));
	p->out = out;
}

static const char *type_name(enum prom_type t)
{
	switch (t) {
	case PROM_COUNTER: return "counter";
	case PROM_GAUGE: return "gauge";
	case PROM_HISTOGRAM: return "histogram";
	default: return "summary";
	}
}

void prom_family(struct prom *p, const char *name, enum prom_type type, const char *help)
{
	assert(strlen(name) < sizeof(p->family));
	if (!strcmp(p->family, name))
		return;
	snprintf(p->family, sizeof(p->family), "%s", name);
	buf_printf(p->out, "# HELP %s ", name);
	/* HELP text escapes only backslash and newline. */
	for (const char *c = help; *c; c++) {
		if (*c == '\\')
			buf_adds(p->out, "\\\\");
		else if (*c == '\n')
			buf_adds(p->out, "\\n");
		else
			buf_addc(p->out, *c);
	}
	buf_printf(p->out, "\n# TYPE %s %s\n", name, type_name(type));
	p->families++;
}

void prom_labels_init(struct prom_labels *l)
{
	l->len = 0;
	l->text[0] = '\0';
}

static void labels_add(struct prom_labels *l, const char *s, size_t n)
{
	assert(l->len + n < sizeof(l->text));
	memcpy(l->text + l->len, s, n);
	l->len += n;
	l->text[l->len] = '\0';
}

void prom_label(struct prom_labels *l, const char *name, const char *value)
{
	if (l->len)
		labels_add(l, ",", 1);
	labels_add(l, name, strlen(name));
	labels_add(l, "=\"", 2);
	for (const char *c = value ? value : ""; *c; c++) {
		if (*c == '\\')
			labels_add(l, "\\\\", 2);
		else if (*c == '"')
			labels_add(l, "\\\"", 2);
		else if (*c == '\n')
			labels_add(l, "\\n", 2);
		else
			labels_add(l, c, 1);
	}
	labels_add(l, "\"", 1);
}

void prom_format_double(struct buf *out, double v)
{
	char tmp[32];

	if (isnan(v)) {
		buf_adds(out, "NaN");
		return;
	}
	if (isinf(v)) {
		buf_adds(out, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	snprintf(tmp, sizeof(tmp), "%.15g", v);
	if (strtod(tmp, NULL) != v)
		snprintf(tmp, sizeof(tmp), "%.17g", v);
	buf_adds(out, tmp);
}

/* name + suffix + {labels[,extra]} + ' ' */
static void sample_head(struct prom *p, const char *suffix, const struct prom_labels *l, const char *extra)
{
	bool any = (l && l->len) || extra;

	assert(p->family[0]);
	buf_adds(p->out, p->family);
	buf_adds(p->out, suffix);
	if (any) {
		buf_addc(p->out, '{');
		if (l && l->len)
			buf_add(p->out, l->text, l->len);
		if (extra) {
			if (l && l->len)
				buf_addc(p->out, ',');
			buf_adds(p->out, extra);
		}
		buf_addc(p->out, '}');
	}
	buf_addc(p->out, ' ');
	p->samples++;
}

void prom_sample(struct prom *p, const char *suffix, const struct prom_labels *l, double value)
{
	sample_head(p, suffix, l, NULL);
	prom_format_double(p->out, value);
	buf_addc(p->out, '\n');
}

void prom_sample_u64(struct prom *p, const char *suffix, const struct prom_labels *l, uint64_t value)
{
	sample_head(p, suffix, l, NULL);
	buf_printf(p->out, "%" PRIu64 "\n", value);
}

void prom_histogram(struct prom *p, const struct prom_labels *l, size_t n, const double *le,
		    const uint64_t *cum, uint64_t count, double sum)
{
	struct buf le_label = BUF_INIT;

	for (size_t i = 0; i < n; i++) {
		assert(i == 0 || (le[i] > le[i - 1] && cum[i] >= cum[i - 1]));
		assert(cum[i] <= count);
		buf_reset(&le_label);
		buf_adds(&le_label, "le=\"");
		prom_format_double(&le_label, le[i]);
		buf_addc(&le_label, '"');
		sample_head(p, "_bucket", l, le_label.data);
		buf_printf(p->out, "%" PRIu64 "\n", cum[i]);
	}
	sample_head(p, "_bucket", l, "le=\"+Inf\"");
	buf_printf(p->out, "%" PRIu64 "\n", count);
	prom_sample(p, "_sum", l, sum);
	prom_sample_u64(p, "_count", l, count);
	buf_free(&le_label);
}
