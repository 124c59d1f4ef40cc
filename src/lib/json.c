/* Streaming JSON writer (see json.h). */
#include "json.h"

#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void json_init(struct json *j, struct buf *out)
{
	memset(j, 0, sizeof(*j));
	j->out = out;
}

static void before_value(struct json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (j->need_comma[j->depth])
		buf_addc(j->out, ',');
	j->need_comma[j->depth] = true;
}

static void open(struct json *j, char c)
{
	before_value(j);
	buf_addc(j->out, c);
	assert(j->depth + 1 < JSON_MAX_DEPTH);
	j->need_comma[++j->depth] = false;
}

static void close(struct json *j, char c)
{
	assert(j->depth > 0);
	j->depth--;
	buf_addc(j->out, c);
}

void json_obj_begin(struct json *j) { open(j, '{'); }
void json_obj_end(struct json *j) { close(j, '}'); }
void json_arr_begin(struct json *j) { open(j, '['); }
void json_arr_end(struct json *j) { close(j, ']'); }

void json_key(struct json *j, const char *key)
{
	before_value(j);
	json_escape(j->out, key, strlen(key));
	buf_addc(j->out, ':');
	j->after_key = true;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len, i;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) { len = 2; cp = s[0] & 0x1f; }
	else if ((s[0] & 0xf0) == 0xe0) { len = 3; cp = s[0] & 0x0f; }
	else if ((s[0] & 0xf8) == 0xf0) { len = 4; cp = s[0] & 0x07; }
	else return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

void json_escape(struct buf *out, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	buf_grow(out, len + 2);
	buf_addc(out, '"');
	while (i < len) {
		unsigned char c = p[i];
		size_t n;

		/* Most text is printable ASCII: copy such runs at once. */
		for (n = i; n < len && p[n] >= 0x20 && p[n] < 0x7f && p[n] != '"' && p[n] != '\\'; n++)
			;
		if (n > i) {
			buf_add(out, p + i, n - i);
			i = n;
			continue;
		}

		switch (c) {
		case '"': buf_add(out, "\\\"", 2); i++; continue;
		case '\\': buf_add(out, "\\\\", 2); i++; continue;
		case '\n': buf_add(out, "\\n", 2); i++; continue;
		case '\r': buf_add(out, "\\r", 2); i++; continue;
		case '\t': buf_add(out, "\\t", 2); i++; continue;
		default: break;
		}
		if (c < 0x20) {
			buf_printf(out, "\\u%04x", c);
			i++;
			continue;
		}
		n = utf8_len(p + i, len - i);
		if (n == 0) {
			buf_add(out, "\xef\xbf\xbd", 3);
			i++;
			continue;
		}
		buf_add(out, p + i, n);
		i += n;
	}
	buf_addc(out, '"');
}

void json_str(struct json *j, const char *s)
{
	if (!s) {
		json_null(j);
		return;
	}
	json_strn(j, s, strlen(s));
}

void json_strn(struct json *j, const char *s, size_t len)
{
	before_value(j);
	json_escape(j->out, s, len);
}

/* Decimal digits of v, without printf (the API writes many integers). */
static void add_u64(struct buf *out, uint64_t v, bool negative)
{
	char tmp[24], *p = tmp + sizeof(tmp);

	do
		*--p = (char)('0' + v % 10);
	while (v /= 10);
	if (negative)
		*--p = '-';
	buf_add(out, p, (size_t)(tmp + sizeof(tmp) - p));
}

void json_int(struct json *j, int64_t v)
{
	before_value(j);
	add_u64(j->out, v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v, v < 0);
}

void json_uint(struct json *j, uint64_t v)
{
	before_value(j);
	add_u64(j->out, v, false);
}

size_t json_double_text(double v, char out[JSON_DOUBLE_MAX])
{
	if (!isfinite(v))
		return (size_t)snprintf(out, JSON_DOUBLE_MAX, "null");
	/* Shortest of %.15g / %.17g that reads back as the same double. */
	snprintf(out, JSON_DOUBLE_MAX, "%.15g", v);
	if (strtod(out, NULL) != v)
		snprintf(out, JSON_DOUBLE_MAX, "%.17g", v);
	return strlen(out);
}

void json_double(struct json *j, double v)
{
	char tmp[JSON_DOUBLE_MAX];
	size_t len = json_double_text(v, tmp);

	before_value(j);
	buf_add(j->out, tmp, len);
}

void json_bool(struct json *j, bool v)
{
	before_value(j);
	buf_adds(j->out, v ? "true" : "false");
}

void json_raw(struct json *j, const char *text, size_t len)
{
	before_value(j);
	buf_add(j->out, text, len);
}

void json_null(struct json *j)
{
	before_value(j);
	buf_adds(j->out, "null");
}
