/* Files built into the binary: the dashboard (web/), and the chart library
 * installed from npm (uPlot), so the dashboard and reports work offline.
 * The Makefile generates the table with tools/embed.c. */
#ifndef KS_ASSETS_H
#define KS_ASSETS_H

#include <stddef.h>
#include <string.h>

struct asset {
	const char *path;          /* URL path, e.g. "/index.html", "/vendor/uPlot.iife.min.js" */
	const char *type;          /* Content-Type */
	const unsigned char *data; /* NUL-terminated for convenience */
	size_t len;
};

extern const struct asset assets[];
extern const size_t nassets;

/* The asset at URL path, or NULL. */
static inline const struct asset *asset_find(const char *path)
{
	for (size_t i = 0; i < nassets; i++)
		if (!strcmp(assets[i].path, path))
			return &assets[i];
	return NULL;
}

#endif
