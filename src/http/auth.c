/* Token authentication for the HTTP server (see auth.h): reading, making
 * and checking the token file, the constant-time comparison, the base64
 * decoding that HTTP Basic needs and the cookie the dashboard keeps. */
#include "auth.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/types.h>
#include <unistd.h>

#include "../lib/secret.h"
#include "server.h"

int http_token__read(struct http_token *t, const char *path, char *err)
{
	char buf[HTTP_TOKEN_MAX + 2], why[HTTP_ERR_MAX - 32];
	ssize_t n = secret_file__read(path, buf, sizeof(buf), why, sizeof(why));

	if (n < 0)
		return http_fail(err, n == -ENOENT ? -ENOENT : -EINVAL, "http.token_file: %s", why);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ' || buf[n - 1] == '\t'))
		buf[--n] = '\0';
	if (n > HTTP_TOKEN_MAX)
		return http_fail(err, -EINVAL, "http.token_file: %s holds more than %d bytes; the token is one line",
				 path, HTTP_TOKEN_MAX);
	for (ssize_t i = 0; i < n; i++)
		if ((unsigned char)buf[i] <= ' ' || (unsigned char)buf[i] >= 0x7f)
			return http_fail(err, -EINVAL,
					 "http.token_file: %s must hold one line of printable characters without spaces",
					 path);
	if (n < HTTP_TOKEN_MIN)
		return http_fail(err, -EINVAL,
				 "http.token_file: the token in %s is %s (%zd characters; use %d or more, "
				 "e.g. head -c 32 /dev/urandom | base64 > %s)",
				 path, n ? "too short" : "empty", n, HTTP_TOKEN_MIN, path);
	memcpy(t->text, buf, (size_t)n + 1);
	t->len = (size_t)n;
	return 0;
}

/* Compares in time that depends only on the length of the secret. */
static bool token_equal(const struct http_token *t, const char *given, size_t len)
{
	unsigned char diff = len != t->len;

	for (size_t i = 0; i < t->len; i++)
		diff |= (unsigned char)t->text[i] ^ (unsigned char)(i < len ? given[i] : 0);
	return diff == 0;
}

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z') return c - 'A';
	if (c >= 'a' && c <= 'z') return c - 'a' + 26;
	if (c >= '0' && c <= '9') return c - '0' + 52;
	if (c == '+') return 62;
	if (c == '/') return 63;
	return -1;
}

/* Decodes base64 into out (NUL-terminated); -1 when malformed or too long. */
static ssize_t b64_decode(const char *in, char *out, size_t cap)
{
	size_t n = 0;
	uint32_t acc = 0;
	int bits = 0;

	for (; *in && *in != '='; in++) {
		int v = b64_value(*in);

		if (v < 0)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n + 1 >= cap)
				return -1;
			out[n++] = (char)(acc >> bits & 0xff);
		}
	}
	out[n] = '\0';
	return (ssize_t)n;
}

bool http_token__accepts(const struct http_token *t, const char *h)
{
	char decoded[HTTP_TOKEN_MAX * 2], *colon;
	ssize_t n;

	if (!h)
		return false;
	if (!strncasecmp(h, "Bearer ", 7)) {
		for (h += 7; *h == ' '; h++)
			;
		return token_equal(t, h, strlen(h));
	}
	if (!strncasecmp(h, "Basic ", 6)) {
		for (h += 6; *h == ' '; h++)
			;
		n = b64_decode(h, decoded, sizeof(decoded));
		if (n < 0 || !(colon = memchr(decoded, ':', (size_t)n)))
			return false;
		return token_equal(t, colon + 1, (size_t)(decoded + n - colon - 1));
	}
	return false;
}

int http_token__load_or_create(struct http_token *t, const char *path, char *err)
{
	unsigned char random[HTTP_TOKEN_GENERATED / 2];
	char text[HTTP_TOKEN_GENERATED + 2], why[HTTP_ERR_MAX - 32];
	int rc;

	for (int attempt = 0; attempt < 3; attempt++) {
		rc = http_token__read(t, path, err);
		if (rc != -ENOENT)
			return rc;
		if (getrandom(random, sizeof(random), 0) != (ssize_t)sizeof(random))
			return http_fail(err, -EIO, "cannot make a token: getrandom: %s", strerror(errno));
		for (size_t i = 0; i < sizeof(random); i++)
			snprintf(text + 2 * i, 3, "%02x", random[i]);
		strcat(text, "\n");
		rc = secret_file__create(path, text, why, sizeof(why));
		if (rc && rc != -EEXIST)
			return http_fail(err, rc, "cannot keep the HTTP token: %s (set http.token_file, or give --db "
					 "a directory this user may write)", why);
		/* Created, or another agent made it first: read what is there. */
	}
	return http_fail(err, -EIO, "cannot keep the HTTP token: %s keeps changing", path);
}

bool http_token__cookie_accepts(const struct http_token *t, const char *cookies, const char *name)
{
	size_t nlen = strlen(name);
	bool found = false;

	/* "a=1; ksight_token_7777=TOKEN; b=2" */
	for (const char *c = cookies; c && *c;) {
		const char *end = strchr(c, ';');
		size_t len = end ? (size_t)(end - c) : strlen(c);

		while (len && *c == ' ') {
			c++;
			len--;
		}
		if (len > nlen && !strncmp(c, name, nlen) && c[nlen] == '=')
			found |= token_equal(t, c + nlen + 1, len - nlen - 1);
		c = end ? end + 1 : NULL;
	}
	return found;
}

bool http_token__equals(const struct http_token *t, const char *given)
{
	return given && token_equal(t, given, strlen(given));
}
