/* Minimal streaming JSON writer into a struct buf.
 *
 * The writer tracks nesting so callers never emit commas by hand:
 *   json_obj_begin(j); json_key(j, "pid"); json_int(j, 42); json_obj_end(j);
 * Strings are escaped per RFC 8259; invalid UTF-8 bytes are replaced by
 * U+FFFD so output is always valid JSON.
 */
#ifndef KS_JSON_H
#define KS_JSON_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"

#define JSON_MAX_DEPTH 32

struct json {
	struct buf *out;
	int depth;
	bool need_comma[JSON_MAX_DEPTH];
	bool after_key;
};

void json_init(struct json *j, struct buf *out);
void json_obj_begin(struct json *j);
void json_obj_end(struct json *j);
void json_arr_begin(struct json *j);
void json_arr_end(struct json *j);
void json_key(struct json *j, const char *key);
void json_str(struct json *j, const char *s);
void json_strn(struct json *j, const char *s, size_t len);
void json_int(struct json *j, int64_t v);
void json_uint(struct json *j, uint64_t v);
void json_double(struct json *j, double v);   /* NaN/Inf become null */
/* The text json_double() writes for v, NUL-terminated in out; returns its
 * length.  For callers that keep the text to write again (json_raw). */
#define JSON_DOUBLE_MAX 32
size_t json_double_text(double v, char out[JSON_DOUBLE_MAX]);
void json_bool(struct json *j, bool v);
void json_null(struct json *j);
/* Appends text that is already a serialized JSON value. */
void json_raw(struct json *j, const char *text, size_t len);

/* Appends s to out as a quoted, escaped JSON string. */
void json_escape(struct buf *out, const char *s, size_t len);

#endif
