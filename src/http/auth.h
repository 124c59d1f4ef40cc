/* The HTTP server's bearer token: read from http.token_file, checked on
 * every request.
 *
 * A client proves it has the token with "Authorization: Bearer TOKEN", or
 * with HTTP Basic and TOKEN as the password (any user name), so that a
 * browser can open the dashboard.  The comparison takes time that depends
 * only on the token's length, never on how much of a guess was right.
 */
#ifndef KS_HTTP_AUTH_H
#define KS_HTTP_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#define HTTP_TOKEN_MIN 16
#define HTTP_TOKEN_MAX 512

struct http_token {
	char text[HTTP_TOKEN_MAX + 1];
	size_t len;                        /* 0: no token */
};

/* Reads the token from path into *t: one line of HTTP_TOKEN_MIN to
 * HTTP_TOKEN_MAX printable characters without spaces (a trailing newline
 * is fine).  Returns 0, or -EINVAL with err (HTTP_ERR_MAX bytes) saying
 * what is wrong with the file and how to make a good one; *t is then
 * unchanged. */
int http_token__read(struct http_token *t, const char *path, char *err);

/* True when authorization (the request's Authorization header, NULL when
 * absent) carries t's token as Bearer or as the Basic password. */
bool http_token__accepts(const struct http_token *t, const char *authorization);

#endif
