/* Growable byte buffer, in the spirit of git's strbuf.
 *
 * A struct buf owns data; data is always NUL-terminated when non-NULL so it
 * can be used as a C string.  buf_detach() hands the allocation to the caller
 * and leaves the buffer empty.  Allocation failure aborts: the agent cannot
 * do anything useful without memory and every caller would do the same.
 */
#ifndef KS_BUF_H
#define KS_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

struct buf {
	char *data;
	size_t len;
	size_t cap;
};

#define BUF_INIT { NULL, 0, 0 }

void buf_grow(struct buf *b, size_t extra);
void buf_add(struct buf *b, const void *data, size_t len);
void buf_adds(struct buf *b, const char *s);
void buf_addc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap);
void buf_reset(struct buf *b);           /* len = 0, keeps the allocation */
char *buf_detach(struct buf *b);         /* caller frees; never NULL */
void buf_free(struct buf *b);            /* releases data; b is reusable */

static inline void buf_add_u64(struct buf *b, uint64_t v) { buf_add(b, &v, sizeof(v)); }

#endif
