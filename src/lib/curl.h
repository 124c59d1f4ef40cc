/* libcurl, loaded at run time (see dynload.h): the webhook and LLM
 * explainer (remediate/outbound.c) and `ksight top` share one table of its
 * functions, filled once, with curl_global_init() already called. */
#ifndef KS_LIB_CURL_H
#define KS_LIB_CURL_H

#include <curl/curl.h>
#include <stddef.h>

struct curl_api {
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *curl, CURLoption option, ...);
	CURLcode (*easy_perform)(CURL *curl);
	CURLcode (*easy_getinfo)(CURL *curl, CURLINFO info, ...);
	const char *(*easy_strerror)(CURLcode code);
	void (*easy_cleanup)(CURL *curl);
	struct curl_slist *(*slist_append)(struct curl_slist *list, const char *s);
	void (*slist_free_all)(struct curl_slist *list);
};

/* The functions, once curl_api__load() has returned 0. */
extern struct curl_api curl_api;

/* Loads libcurl once (thread-safe).  0, or -ENOENT with err saying which
 * library and Debian package are missing. */
int curl_api__load(char *err, size_t errlen);

#endif
