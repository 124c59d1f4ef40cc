/* The HTTP server's token: read from http.token_file, or made by the
 * agent itself (a random one kept in a 0600 file, see server.h for where
 * and what it guards).
 *
 * A client proves it has the token with "Authorization: Bearer TOKEN",
 * with HTTP Basic and TOKEN as the password (any user name), or with the
 * cookie the dashboard receives for /?token=TOKEN.  The comparison takes
 * time that depends only on the token's length, never on how much of a
 * guess was right.  Token files others may read are refused (lib/secret.h).
 */
#ifndef KS_HTTP_AUTH_H
#define KS_HTTP_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#define HTTP_TOKEN_MIN 16
#define HTTP_TOKEN_MAX 512
#define HTTP_TOKEN_GENERATED 48            /* hex digits of a token the agent makes (192 bits) */

struct http_token {
	char text[HTTP_TOKEN_MAX + 1];
	size_t len;                        /* 0: no token */
};

/* Reads the token from path into *t: one line of HTTP_TOKEN_MIN to
 * HTTP_TOKEN_MAX printable characters without spaces (a trailing newline
 * is fine), in a regular file only its owner may use.  Returns 0, -ENOENT
 * when there is no such file, or -EINVAL with err (HTTP_ERR_MAX bytes)
 * saying what is wrong with the file and how to make a good one; *t is
 * then unchanged. */
int http_token__read(struct http_token *t, const char *path, char *err);

/* Reads the token at path as http_token__read() does, or, when there is no
 * file, makes a random one (HTTP_TOKEN_GENERATED hex digits) and creates
 * path with it, 0600.  Two agents racing for one path end with the same
 * token.  Returns 0, or a negative errno with err. */
int http_token__load_or_create(struct http_token *t, const char *path, char *err);

/* True when the Cookie header cookies (NULL when absent) has a cookie
 * called name whose value is t's token. */
bool http_token__cookie_accepts(const struct http_token *t, const char *cookies, const char *name);

/* True when given (NULL is fine) is t's token. */
bool http_token__equals(const struct http_token *t, const char *given);

/* True when authorization (the request's Authorization header, NULL when
 * absent) carries t's token as Bearer or as the Basic password. */
bool http_token__accepts(const struct http_token *t, const char *authorization);

#endif
