/* libcurl loaded once, for every user in the process (see curl.h). */
#include "curl.h"

#include <pthread.h>
#include <stdio.h>

#include "dynload.h"

struct curl_api curl_api;
static char why[256];
static int load_rc;

static void load_once(void)
{
	CURLcode (*global_init)(long flags) = NULL;
	const struct dynsym syms[] = {
		{ "curl_global_init", (void **)&global_init },
		{ "curl_easy_init", (void **)&curl_api.easy_init },
		{ "curl_easy_setopt", (void **)&curl_api.easy_setopt },
		{ "curl_easy_perform", (void **)&curl_api.easy_perform },
		{ "curl_easy_getinfo", (void **)&curl_api.easy_getinfo },
		{ "curl_easy_strerror", (void **)&curl_api.easy_strerror },
		{ "curl_easy_cleanup", (void **)&curl_api.easy_cleanup },
		{ "curl_slist_append", (void **)&curl_api.slist_append },
		{ "curl_slist_free_all", (void **)&curl_api.slist_free_all },
	};

	load_rc = dynload("libcurl.so.4", "libcurl4", syms, sizeof(syms) / sizeof(syms[0]), why, sizeof(why));
	if (!load_rc)
		global_init(CURL_GLOBAL_DEFAULT);
}

int curl_api__load(char *err, size_t errlen)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, load_once);
	if (load_rc)
		snprintf(err, errlen, "%s", why);
	return load_rc;
}
