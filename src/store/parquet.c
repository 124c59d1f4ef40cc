/* Streaming Parquet writer (see parquet.h).
 *
 * File layout, from the format specification:
 *
 *   "PAR1" | row group 0: column chunk 0 .. n-1 | row group 1 ... |
 *   FileMetaData (Thrift compact protocol) | footer length (u32 LE) | "PAR1"
 *
 * A column chunk is an optional dictionary page followed by data pages, each
 * a PageHeader (Thrift compact) and the zstd-compressed page.  A version-1
 * data page holds, before compression, the definition levels of an optional
 * column (u32 LE byte length + RLE/bit-packed hybrid at bit width 1), then
 * the values: PLAIN, or for a dictionary-encoded page one byte of bit width
 * and the dictionary indices in the same hybrid encoding.  The schema is
 * flat, so there are no repetition levels and every value starts a row.
 *
 * While a row group fills, each column encodes into its current page; a full
 * page is compressed at once into the column's chunk buffer, so a row group
 * is held compressed.  Flushing the group writes every chunk in column order
 * and appends the group's RowGroup metadata, already Thrift-encoded, to the
 * bytes the footer will list.
 */
#include "parquet.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "../lib/buf.h"

#define DEFAULT_ROW_GROUP_ROWS  131072
#define DEFAULT_ROW_GROUP_BYTES (128u << 20)
#define DEFAULT_PAGE_BYTES      (1u << 20)
#define DEFAULT_DICT_BYTES      (1u << 20)
#define DEFAULT_STATS_BYTES     256
#define DEFAULT_ZSTD_LEVEL      3
#define DEFAULT_CREATED_BY      "ksight"

/* parquet.thrift enums */
enum { T_BOOLEAN, T_INT32, T_INT64, T_INT96, T_FLOAT, T_DOUBLE, T_BYTE_ARRAY };
enum { REP_REQUIRED, REP_OPTIONAL };
enum { CONVERTED_UTF8 = 0 };
enum { ENC_PLAIN = 0, ENC_RLE = 3, ENC_RLE_DICTIONARY = 8 };
enum { CODEC_ZSTD = 6 };
enum { PAGE_DATA = 0, PAGE_DICTIONARY = 2 };

/* Thrift compact protocol type ids */
enum {
	TC_STOP = 0, TC_TRUE = 1, TC_FALSE = 2, TC_BYTE = 3, TC_I16 = 4, TC_I32 = 5,
	TC_I64 = 6, TC_DOUBLE = 7, TC_BINARY = 8, TC_LIST = 9, TC_STRUCT = 12,
};

/* ---- Thrift compact protocol encoder ------------------------------------ */

#define TC_MAX_DEPTH 8

struct tc {
	struct buf *out;
	int16_t last[TC_MAX_DEPTH];   /* previous field id, per nesting level */
	int depth;
};

static void tc_init(struct tc *t, struct buf *out)
{
	t->out = out;
	t->depth = 0;
	t->last[0] = 0;
}

static void varint(struct buf *b, uint64_t v)
{
	uint8_t tmp[10];
	size_t n = 0;

	while (v >= 0x80) {
		tmp[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	tmp[n++] = (uint8_t)v;
	buf_add(b, tmp, n);
}

static uint64_t zigzag(int64_t v)
{
	return ((uint64_t)v << 1) ^ (v < 0 ? ~0ull : 0);
}

static void tc_field(struct tc *t, int16_t id, uint8_t type)
{
	int delta = id - t->last[t->depth];

	if (delta > 0 && delta <= 15) {
		buf_addc(t->out, (char)(delta << 4 | type));
	} else {
		buf_addc(t->out, (char)type);
		varint(t->out, zigzag(id));
	}
	t->last[t->depth] = id;
}

static void tc_i32(struct tc *t, int16_t id, int32_t v)
{
	tc_field(t, id, TC_I32);
	varint(t->out, zigzag(v));
}

static void tc_i64(struct tc *t, int16_t id, int64_t v)
{
	tc_field(t, id, TC_I64);
	varint(t->out, zigzag(v));
}

static void tc_i16(struct tc *t, int16_t id, int16_t v)
{
	tc_field(t, id, TC_I16);
	varint(t->out, zigzag(v));
}

static void tc_bool(struct tc *t, int16_t id, bool v)
{
	tc_field(t, id, v ? TC_TRUE : TC_FALSE);
}

static void tc_binary(struct tc *t, int16_t id, const void *p, size_t n)
{
	tc_field(t, id, TC_BINARY);
	varint(t->out, n);
	buf_add(t->out, p, n);
}

static void tc_string(struct tc *t, int16_t id, const char *s)
{
	tc_binary(t, id, s, strlen(s));
}

static void tc_list(struct tc *t, int16_t id, uint8_t elem_type, size_t n)
{
	tc_field(t, id, TC_LIST);
	if (n < 15) {
		buf_addc(t->out, (char)(n << 4 | elem_type));
	} else {
		buf_addc(t->out, (char)(0xf0 | elem_type));
		varint(t->out, n);
	}
}

/* A struct that is a field (id > 0) or a list element (id == 0). */
static void tc_struct_begin(struct tc *t, int16_t id)
{
	if (id)
		tc_field(t, id, TC_STRUCT);
	assert(t->depth + 1 < TC_MAX_DEPTH);
	t->last[++t->depth] = 0;
}

static void tc_struct_end(struct tc *t)
{
	assert(t->depth > 0);
	buf_addc(t->out, TC_STOP);
	t->depth--;
}

/* An empty struct as a field: how the spec spells union members such as
 * LogicalType.STRING or TimeUnit.NANOS. */
static void tc_empty_struct(struct tc *t, int16_t id)
{
	tc_struct_begin(t, id);
	tc_struct_end(t);
}

/* ---- RLE / bit-packed hybrid (Encodings.md) ----------------------------- */

static void rle_run(struct buf *b, uint32_t value, size_t count, int width)
{
	varint(b, (uint64_t)count << 1);
	for (int i = 0; i < (width + 7) / 8; i++)
		buf_addc(b, (char)(value >> (8 * i)));
}

/* Values packed 8 at a time, LSB first; the last group is padded with
 * zeros (readers know the value count).  At most 63 groups per header, as
 * parquet-mr writes them. */
static void rle_bitpacked(struct buf *b, const uint32_t *v, size_t n, int width)
{
	while (n) {
		size_t groups = (n + 7) / 8;
		size_t take;

		if (groups > 63)
			groups = 63;
		take = groups * 8 < n ? groups * 8 : n;
		varint(b, (uint64_t)groups << 1 | 1);
		buf_grow(b, groups * width);
		for (size_t g = 0; g < groups; g++) {
			uint64_t acc = 0;
			int bits = 0;

			for (size_t k = 0; k < 8; k++) {
				size_t i = g * 8 + k;
				uint64_t x = i < take ? v[i] : 0;

				acc |= x << bits;
				bits += width;
				while (bits >= 8) {
					b->data[b->len++] = (char)acc;
					acc >>= 8;
					bits -= 8;
				}
			}
			assert(bits == 0);
		}
		b->data[b->len] = '\0';
		v += take;
		n -= take;
	}
}

/* Runs of 8 or more equal values become RLE runs; the rest is bit-packed,
 * borrowing the first values of a run to complete the pending group of 8. */
static void rle_encode(struct buf *b, const uint32_t *v, size_t n, int width)
{
	size_t i = 0, lit = 0;   /* literals are v[lit, i) */

	while (i < n) {
		size_t run = 1, pending, pad;

		while (i + run < n && v[i + run] == v[i])
			run++;
		pending = i - lit;
		pad = (8 - pending % 8) % 8;
		if (run >= pad + 8) {
			if (pending + pad)
				rle_bitpacked(b, v + lit, pending + pad, width);
			rle_run(b, v[i], run - pad, width);
			lit = i + run;
		}
		i += run;
	}
	if (i > lit)
		rle_bitpacked(b, v + lit, i - lit, width);
}

static int bit_width(uint32_t max)
{
	int w = 1;

	while (w < 32 && (max >> w))
		w++;
	return w;
}

/* ---- the writer ---------------------------------------------------------- */

struct dict_entry {
	uint32_t off;        /* of the value's bytes in dict (after its length) */
	uint32_t len;
	uint64_t hash;
};

struct column {
	char *name;
	enum parquet_type type;
	enum parquet_logical logical;
	bool optional;
	int64_t filled_row;          /* the row whose value is set, or -1 */

	/* current page */
	struct buf values;           /* PLAIN values (non-dictionary pages) */
	uint32_t *levels;            /* definition levels (optional columns) */
	uint32_t *indices;           /* dictionary indices */
	size_t nlevels, nindices, levels_cap, indices_cap;
	size_t page_values;          /* values in the page, NULLs included */
	size_t page_nulls;

	/* dictionary of the current chunk (strings only) */
	bool use_dict;               /* still dictionary encoding this chunk */
	bool dict_pages;             /* some page of this chunk used it */
	struct buf dict;             /* PLAIN entries: the dictionary page */
	struct dict_entry *entries;
	size_t nentries, entries_cap;
	uint32_t *slots;             /* entry index + 1; 0 = empty */
	size_t nslots;

	/* current chunk */
	struct buf pages;            /* data pages, headers included, compressed */
	int64_t chunk_values;
	int64_t chunk_uncompressed;  /* headers + uncompressed page bytes */
	bool plain_pages;

	/* statistics of the current chunk */
	int64_t nulls, nans;
	bool has_minmax;
	int64_t min_i, max_i;
	double min_d, max_d;
	struct buf min_s, max_s;
};

struct parquet_writer {
	char *path, *tmp_path;
	int fd;
	int err;                     /* sticky negative errno */
	int64_t offset;              /* bytes written */
	struct parquet_opts opts;
	char *created_by;
	struct parquet_kv *kv;
	size_t nkv;

	struct column *cols;
	size_t ncols;
	int64_t rows;                /* rows ended */
	int64_t group_rows;
	size_t group_bytes;          /* compressed pages + dictionaries buffered */
	bool row_started;

	struct buf row_groups;       /* Thrift RowGroup structs, back to back */
	size_t nrow_groups;

	ZSTD_CCtx *zstd;
	struct buf page;             /* uncompressed page being assembled */
	struct buf zbuf;             /* compressed page */
	struct buf scratch;
};

static int set_error(struct parquet_writer *w, int err)
{
	assert(err < 0);
	if (!w->err)
		w->err = err;
	return w->err;
}

static int write_all(struct parquet_writer *w, const void *data, size_t len)
{
	const char *p = data;

	if (w->err)
		return w->err;
	while (len) {
		ssize_t n = write(w->fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return set_error(w, -errno);
		}
		p += n;
		len -= (size_t)n;
		w->offset += n;
	}
	return 0;
}

static void grow_u32(uint32_t **a, size_t *cap, size_t need)
{
	if (need <= *cap)
		return;
	*cap = *cap ? *cap * 2 : 1024;
	if (*cap < need)
		*cap = need;
	*a = realloc(*a, *cap * sizeof(**a));
	if (!*a) {
		fputs("ksight: out of memory\n", stderr);
		abort();
	}
}

static inline void push_u32(uint32_t **a, size_t *n, size_t *cap, uint32_t v)
{
	if (*n == *cap)
		grow_u32(a, cap, *n + 1);
	(*a)[(*n)++] = v;
}

static inline void add_raw(struct buf *b, const void *p, size_t n)
{
	if (b->len + n + 1 > b->cap)
		buf_grow(b, n);
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

/* Compresses the len bytes at src into a data page of c's chunk, header
 * first.  ndict >= 0 makes it the dictionary page (of ndict entries)
 * instead, written to w->scratch because it must precede the data pages. */
static int emit_page(struct parquet_writer *w, struct column *c, const void *src, size_t len,
		     int encoding, int64_t ndict)
{
	struct buf *out = ndict >= 0 ? &w->scratch : &c->pages;
	size_t bound = ZSTD_compressBound(len);
	size_t header_start = out->len;
	size_t zlen;
	struct tc t;

	if (len > INT32_MAX)
		return set_error(w, -EFBIG);
	buf_reset(&w->zbuf);
	buf_grow(&w->zbuf, bound);
	zlen = ZSTD_compressCCtx(w->zstd, w->zbuf.data, bound, src, len, w->opts.zstd_level);
	if (ZSTD_isError(zlen))
		return set_error(w, -EIO);

	tc_init(&t, out);
	tc_i32(&t, 1, ndict >= 0 ? PAGE_DICTIONARY : PAGE_DATA);
	tc_i32(&t, 2, (int32_t)len);
	tc_i32(&t, 3, (int32_t)zlen);
	if (ndict >= 0) {
		tc_struct_begin(&t, 7);
		tc_i32(&t, 1, (int32_t)ndict);
		tc_i32(&t, 2, ENC_PLAIN);
		tc_struct_end(&t);
	} else {
		tc_struct_begin(&t, 5);
		tc_i32(&t, 1, (int32_t)c->page_values);
		tc_i32(&t, 2, encoding);
		tc_i32(&t, 3, ENC_RLE);
		tc_i32(&t, 4, ENC_RLE);
		tc_struct_end(&t);
	}
	buf_addc(out, TC_STOP);
	c->chunk_uncompressed += (int64_t)(out->len - header_start + len);
	add_raw(out, w->zbuf.data, zlen);
	w->group_bytes += out->len - header_start;
	return 0;
}

/* Encodes and compresses c's current page into its chunk. */
static int page_flush(struct parquet_writer *w, struct column *c)
{
	bool dict = c->nindices > 0;
	const void *src;
	size_t len;
	int r;

	if (!c->page_values)
		return 0;
	assert(!dict || c->values.len == 0);
	assert(!c->optional || c->nlevels == c->page_values);
	buf_reset(&w->page);
	if (c->optional) {
		uint32_t n = 0;

		buf_add(&w->page, &n, sizeof(n));
		if (!c->page_nulls)
			rle_run(&w->page, 1, c->nlevels, 1);
		else
			rle_encode(&w->page, c->levels, c->nlevels, 1);
		n = (uint32_t)(w->page.len - sizeof(n));
		memcpy(w->page.data, &n, sizeof(n));
	}
	if (dict) {
		int width = bit_width((uint32_t)c->nentries - 1);

		buf_addc(&w->page, (char)width);
		rle_encode(&w->page, c->indices, c->nindices, width);
	}
	if (w->page.len) {
		if (c->values.len)
			add_raw(&w->page, c->values.data, c->values.len);
		src = w->page.data;
		len = w->page.len;
	} else {
		src = c->values.data;
		len = c->values.len;
	}
	r = emit_page(w, c, src ? src : "", len, dict ? ENC_RLE_DICTIONARY : ENC_PLAIN, -1);
	if (r)
		return r;
	if (dict)
		c->dict_pages = true;
	else
		c->plain_pages = true;
	c->chunk_values += (int64_t)c->page_values;
	buf_reset(&c->values);
	c->nlevels = c->nindices = c->page_values = c->page_nulls = 0;
	return 0;
}

static inline int page_check(struct parquet_writer *w, struct column *c)
{
	if (c->values.len + 4 * c->nindices + 4 * c->nlevels >= w->opts.page_bytes)
		return page_flush(w, c);
	return 0;
}

static inline void begin_value(struct parquet_writer *w, struct column *c, bool null)
{
	assert(c->filled_row != w->rows);   /* one value per column per row */
	c->filled_row = w->rows;
	w->row_started = true;
	c->page_values++;
	if (c->optional)
		push_u32(&c->levels, &c->nlevels, &c->levels_cap, !null);
}

/* Byte-wise unsigned order, a prefix before its extensions. */
static int bytes_cmp(const void *a, size_t alen, const void *b, size_t blen)
{
	int r = memcmp(a, b, alen < blen ? alen : blen);

	return r ? r : (alen > blen) - (alen < blen);
}

static void string_stats(struct column *c, const char *s, size_t len)
{
	if (!c->has_minmax) {
		buf_reset(&c->min_s);
		buf_reset(&c->max_s);
		buf_add(&c->min_s, s, len);
		buf_add(&c->max_s, s, len);
		c->has_minmax = true;
		return;
	}
	if (bytes_cmp(s, len, c->min_s.data, c->min_s.len) < 0) {
		buf_reset(&c->min_s);
		buf_add(&c->min_s, s, len);
	} else if (bytes_cmp(s, len, c->max_s.data, c->max_s.len) > 0) {
		buf_reset(&c->max_s);
		buf_add(&c->max_s, s, len);
	}
}

/* One INT32 or INT64 value (v fits the column's type), min/max kept. */
static int add_int(struct parquet_writer *w, size_t col, enum parquet_type type, int64_t v)
{
	struct column *c = &w->cols[col];
	int32_t v32 = (int32_t)v;

	assert(col < w->ncols && c->type == type);
	if (w->err)
		return w->err;
	begin_value(w, c, false);
	if (type == PARQUET_INT32)
		add_raw(&c->values, &v32, sizeof(v32));
	else
		add_raw(&c->values, &v, sizeof(v));
	if (!c->has_minmax) {
		c->min_i = c->max_i = v;
		c->has_minmax = true;
	} else if (v < c->min_i) {
		c->min_i = v;
	} else if (v > c->max_i) {
		c->max_i = v;
	}
	return page_check(w, c);
}

int parquet_writer__add_int32(struct parquet_writer *w, size_t col, int32_t v)
{
	return add_int(w, col, PARQUET_INT32, v);
}

int parquet_writer__add_int64(struct parquet_writer *w, size_t col, int64_t v)
{
	return add_int(w, col, PARQUET_INT64, v);
}

int parquet_writer__add_double(struct parquet_writer *w, size_t col, double v)
{
	struct column *c = &w->cols[col];

	assert(col < w->ncols && c->type == PARQUET_DOUBLE);
	if (w->err)
		return w->err;
	begin_value(w, c, false);
	add_raw(&c->values, &v, sizeof(v));
	if (isnan(v)) {
		c->nans++;
	} else if (!c->has_minmax) {
		c->min_d = c->max_d = v;
		c->has_minmax = true;
	} else if (v < c->min_d) {
		c->min_d = v;
	} else if (v > c->max_d) {
		c->max_d = v;
	}
	return page_check(w, c);
}

static uint64_t hash_bytes(const char *s, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ n, k;

	while (n >= 8) {
		memcpy(&k, s, 8);
		h = (h ^ k) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
		s += 8;
		n -= 8;
	}
	k = 0;
	memcpy(&k, s, n);
	h = (h ^ k) * 0xc4ceb9fe1a85ec53ull;
	return h ^ (h >> 29);
}

static void dict_rehash(struct column *c)
{
	size_t n = c->nslots ? c->nslots * 2 : 1024;

	free(c->slots);
	c->slots = calloc(n, sizeof(*c->slots));
	if (!c->slots) {
		fputs("ksight: out of memory\n", stderr);
		abort();
	}
	c->nslots = n;
	for (size_t i = 0; i < c->nentries; i++) {
		size_t s = c->entries[i].hash & (n - 1);

		while (c->slots[s])
			s = (s + 1) & (n - 1);
		c->slots[s] = (uint32_t)i + 1;
	}
}

static void dict_reset(struct column *c)
{
	c->use_dict = c->type == PARQUET_BYTE_ARRAY;
	c->dict_pages = false;
	buf_reset(&c->dict);
	c->nentries = 0;
	if (c->slots)
		memset(c->slots, 0, c->nslots * sizeof(*c->slots));
}

/* The dictionary index of s, adding it; -1 when the dictionary is full. */
static int64_t dict_index(struct parquet_writer *w, struct column *c, const char *s, size_t len)
{
	uint64_t h = hash_bytes(s, len);
	size_t slot;
	struct dict_entry *e;
	uint32_t n32 = (uint32_t)len;

	if (2 * (c->nentries + 1) > c->nslots)
		dict_rehash(c);
	for (slot = h & (c->nslots - 1); c->slots[slot]; slot = (slot + 1) & (c->nslots - 1)) {
		e = &c->entries[c->slots[slot] - 1];
		if (e->hash == h && e->len == len && !memcmp(c->dict.data + e->off, s, len))
			return c->slots[slot] - 1;
	}
	if (c->dict.len + 4 + len > w->opts.dictionary_bytes || c->nentries >= UINT32_MAX - 1)
		return -1;
	if (c->nentries == c->entries_cap) {
		c->entries_cap = c->entries_cap ? 2 * c->entries_cap : 256;
		c->entries = realloc(c->entries, c->entries_cap * sizeof(*c->entries));
		if (!c->entries) {
			fputs("ksight: out of memory\n", stderr);
			abort();
		}
	}
	add_raw(&c->dict, &n32, sizeof(n32));
	e = &c->entries[c->nentries];
	e->off = (uint32_t)c->dict.len;
	e->len = n32;
	e->hash = h;
	add_raw(&c->dict, s, len);
	c->slots[slot] = (uint32_t)++c->nentries;
	w->group_bytes += 4 + len;
	string_stats(c, s, len);
	return (int64_t)c->nentries - 1;
}

int parquet_writer__add_string(struct parquet_writer *w, size_t col, const char *s, size_t len)
{
	struct column *c = &w->cols[col];
	uint32_t n32 = (uint32_t)len;

	assert(col < w->ncols && c->type == PARQUET_BYTE_ARRAY);
	if (!s)
		return parquet_writer__add_null(w, col);
	if (w->err)
		return w->err;
	if (len > INT32_MAX)
		return -EINVAL;
	if (c->use_dict) {
		int64_t i = dict_index(w, c, s, len);

		if (i >= 0) {
			begin_value(w, c, false);
			push_u32(&c->indices, &c->nindices, &c->indices_cap, (uint32_t)i);
			return page_check(w, c);
		}
		/* Dictionary full: the rest of the chunk is PLAIN. */
		int r = page_flush(w, c);

		if (r)
			return r;
		c->use_dict = false;
	}
	begin_value(w, c, false);
	add_raw(&c->values, &n32, sizeof(n32));
	add_raw(&c->values, s, len);
	string_stats(c, s, len);
	return page_check(w, c);
}

int parquet_writer__add_null(struct parquet_writer *w, size_t col)
{
	struct column *c = &w->cols[col];

	assert(col < w->ncols);
	if (w->err)
		return w->err;
	if (!c->optional)
		return -EINVAL;
	begin_value(w, c, true);
	c->page_nulls++;
	c->nulls++;
	return page_check(w, c);
}

int64_t parquet_writer__rows(const struct parquet_writer *w)
{
	return w->rows;
}

/* ---- row groups ---------------------------------------------------------- */

static void put_le32(struct buf *b, int32_t v) { buf_add(b, &v, sizeof(v)); }
static void put_le64(struct buf *b, int64_t v) { buf_add(b, &v, sizeof(v)); }

/* Longest prefix of s of at most max bytes that does not split a UTF-8
 * sequence (bytes that are not UTF-8 are cut anywhere). */
static size_t utf8_prefix(const char *s, size_t len, size_t max)
{
	size_t n = len < max ? len : max;

	if (n < len)
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	return n;
}

/* Statistics of c's chunk (Statistics struct, field 12 of ColumnMetaData). */
static void write_stats(struct parquet_writer *w, struct tc *t, struct column *c)
{
	struct buf min = BUF_INIT, max = BUF_INIT;
	bool min_exact = true, max_exact = true, has_max = c->has_minmax;

	if (c->has_minmax) {
		switch (c->type) {
		case PARQUET_INT32:
			put_le32(&min, (int32_t)c->min_i);
			put_le32(&max, (int32_t)c->max_i);
			break;
		case PARQUET_INT64:
			put_le64(&min, c->min_i);
			put_le64(&max, c->max_i);
			break;
		case PARQUET_DOUBLE: {
			/* The spec's rule for TYPE_ORDER: a zero min is -0.0 and a zero
			 * max +0.0, so both zeros stay inside the bounds. */
			double lo = c->min_d == 0 ? -0.0 : c->min_d;
			double hi = c->max_d == 0 ? +0.0 : c->max_d;

			buf_add(&min, &lo, sizeof(lo));
			buf_add(&max, &hi, sizeof(hi));
			break;
		}
		case PARQUET_BYTE_ARRAY: {
			size_t limit = w->opts.stats_max_bytes;
			size_t n;

			/* A prefix is still a lower bound. */
			n = utf8_prefix(c->min_s.data, c->min_s.len, limit);
			min_exact = n == c->min_s.len;
			buf_add(&min, c->min_s.data, n);
			/* An upper bound from a prefix: increment its last ASCII byte
			 * below 0x7f and cut after it, which keeps it valid UTF-8; with
			 * no such byte there is no short bound, so no max. */
			if (c->max_s.len <= limit) {
				buf_add(&max, c->max_s.data, c->max_s.len);
			} else {
				n = utf8_prefix(c->max_s.data, c->max_s.len, limit);
				while (n > 0 && (unsigned char)c->max_s.data[n - 1] >= 0x7f)
					n--;
				if (n > 0) {
					buf_add(&max, c->max_s.data, n);
					max.data[n - 1]++;
				} else {
					has_max = false;
				}
				max_exact = false;
			}
			break;
		}
		}
	}
	tc_struct_begin(t, 12);
	tc_i64(t, 3, c->nulls);
	if (has_max)
		tc_binary(t, 5, max.data ? max.data : "", max.len);
	if (c->has_minmax)
		tc_binary(t, 6, min.data ? min.data : "", min.len);
	if (has_max)
		tc_bool(t, 7, max_exact);
	if (c->has_minmax)
		tc_bool(t, 8, min_exact);
	if (c->type == PARQUET_DOUBLE)
		tc_i64(t, 9, c->nans);
	tc_struct_end(t);
	buf_free(&min);
	buf_free(&max);
}

static int physical_type(enum parquet_type type)
{
	switch (type) {
	case PARQUET_INT32: return T_INT32;
	case PARQUET_INT64: return T_INT64;
	case PARQUET_DOUBLE: return T_DOUBLE;
	case PARQUET_BYTE_ARRAY: return T_BYTE_ARRAY;
	}
	assert(0);
	return -1;
}

/* Writes c's chunk at the current offset and its ColumnChunk to t. */
static int chunk_write(struct parquet_writer *w, struct column *c, struct tc *t, int64_t *ret_compressed,
		       int64_t *ret_uncompressed)
{
	int64_t start = w->offset, data_offset = w->offset;
	int nenc = 0, enc[3];
	int r;

	r = page_flush(w, c);
	if (r)
		return r;
	if (c->dict_pages) {
		buf_reset(&w->scratch);
		r = emit_page(w, c, c->dict.data ? c->dict.data : "", c->dict.len, ENC_PLAIN, (int64_t)c->nentries);
		if (r)
			return r;
		r = write_all(w, w->scratch.data, w->scratch.len);
		if (r)
			return r;
		data_offset = w->offset;
	}
	r = write_all(w, c->pages.data, c->pages.len);
	if (r)
		return r;

	if (c->dict_pages || c->plain_pages)
		enc[nenc++] = ENC_PLAIN;     /* the dictionary page is PLAIN too */
	enc[nenc++] = ENC_RLE;               /* levels */
	if (c->dict_pages)
		enc[nenc++] = ENC_RLE_DICTIONARY;

	tc_struct_begin(t, 0);                       /* ColumnChunk */
	tc_i64(t, 2, 0);                             /* file_offset: deprecated, 0 */
	tc_struct_begin(t, 3);                       /* ColumnMetaData */
	tc_i32(t, 1, physical_type(c->type));
	tc_list(t, 2, TC_I32, (size_t)nenc);
	for (int i = 0; i < nenc; i++)
		varint(t->out, zigzag(enc[i]));
	tc_list(t, 3, TC_BINARY, 1);
	varint(t->out, strlen(c->name));
	buf_adds(t->out, c->name);
	tc_i32(t, 4, CODEC_ZSTD);
	tc_i64(t, 5, c->chunk_values);
	tc_i64(t, 6, c->chunk_uncompressed);
	tc_i64(t, 7, w->offset - start);
	tc_i64(t, 9, data_offset);
	if (c->dict_pages)
		tc_i64(t, 11, start);
	write_stats(w, t, c);
	tc_struct_end(t);
	tc_struct_end(t);

	*ret_compressed += w->offset - start;
	*ret_uncompressed += c->chunk_uncompressed;

	/* The next chunk starts afresh. */
	buf_reset(&c->pages);
	c->chunk_values = c->chunk_uncompressed = 0;
	c->plain_pages = false;
	c->nulls = c->nans = 0;
	c->has_minmax = false;
	dict_reset(c);
	return 0;
}

static int group_flush(struct parquet_writer *w)
{
	int64_t start = w->offset, compressed = 0, uncompressed = 0;
	struct buf chunks = BUF_INIT;    /* the RowGroup's ColumnChunk list */
	struct tc t;
	int r;

	if (!w->group_rows)
		return 0;
	if (w->nrow_groups >= INT16_MAX)
		return set_error(w, -EFBIG);
	tc_init(&t, &chunks);
	for (size_t i = 0; i < w->ncols; i++) {
		r = chunk_write(w, &w->cols[i], &t, &compressed, &uncompressed);
		if (r) {
			buf_free(&chunks);
			return r;
		}
	}

	tc_init(&t, &w->row_groups);
	tc_struct_begin(&t, 0);                      /* RowGroup */
	tc_list(&t, 1, TC_STRUCT, w->ncols);
	buf_add(&w->row_groups, chunks.data, chunks.len);
	tc_i64(&t, 2, uncompressed);
	tc_i64(&t, 3, w->group_rows);
	tc_i64(&t, 5, start);
	tc_i64(&t, 6, compressed);
	tc_i16(&t, 7, (int16_t)w->nrow_groups);
	tc_struct_end(&t);
	buf_free(&chunks);

	w->nrow_groups++;
	w->group_rows = 0;
	w->group_bytes = 0;
	return 0;
}

int parquet_writer__end_row(struct parquet_writer *w)
{
	if (w->err)
		return w->err;
	for (size_t i = 0; i < w->ncols; i++) {
		struct column *c = &w->cols[i];
		int r;

		if (c->filled_row == w->rows)
			continue;
		if (!c->optional)
			return set_error(w, -EINVAL);
		r = parquet_writer__add_null(w, i);
		if (r)
			return r;
	}
	w->rows++;
	w->group_rows++;
	w->row_started = false;
	if ((size_t)w->group_rows >= w->opts.row_group_rows || w->group_bytes >= w->opts.row_group_bytes)
		return group_flush(w);
	return 0;
}

/* ---- metadata, open and close -------------------------------------------- */

static char *xstrdup(const char *s)
{
	char *d = strdup(s);

	if (!d) {
		fputs("ksight: out of memory\n", stderr);
		abort();
	}
	return d;
}

int parquet_writer__set_metadata(struct parquet_writer *w, const char *key, const char *value)
{
	size_t i;

	if (!key)
		return -EINVAL;
	for (i = 0; i < w->nkv; i++)
		if (!strcmp(w->kv[i].key, key))
			break;
	if (i == w->nkv) {
		w->kv = realloc(w->kv, (w->nkv + 1) * sizeof(*w->kv));
		if (!w->kv) {
			fputs("ksight: out of memory\n", stderr);
			abort();
		}
		w->kv[w->nkv++].key = xstrdup(key);
	} else {
		free((char *)w->kv[i].value);
	}
	w->kv[i].value = value ? xstrdup(value) : NULL;
	return 0;
}

static void write_schema_element(struct tc *t, const struct column *c)
{
	tc_struct_begin(t, 0);
	tc_i32(t, 1, physical_type(c->type));
	tc_i32(t, 3, c->optional ? REP_OPTIONAL : REP_REQUIRED);
	tc_string(t, 4, c->name);
	if (c->logical == PARQUET_LOGICAL_STRING)
		tc_i32(t, 6, CONVERTED_UTF8);    /* for readers older than LogicalType */
	if (c->logical != PARQUET_LOGICAL_NONE) {
		tc_struct_begin(t, 10);          /* LogicalType */
		if (c->logical == PARQUET_LOGICAL_STRING) {
			tc_empty_struct(t, 1);   /* STRING */
		} else {
			tc_struct_begin(t, 8);   /* TIMESTAMP */
			tc_bool(t, 1, c->logical == PARQUET_LOGICAL_TIMESTAMP_NS);  /* isAdjustedToUTC */
			tc_struct_begin(t, 2);   /* unit */
			tc_empty_struct(t, 3);   /* NANOS */
			tc_struct_end(t);
			tc_struct_end(t);
		}
		tc_struct_end(t);
	}
	tc_struct_end(t);
}

static int write_footer(struct parquet_writer *w)
{
	struct buf out = BUF_INIT;
	struct tc t;
	uint32_t len;
	int r;

	tc_init(&t, &out);
	tc_i32(&t, 1, 1);                            /* version */
	tc_list(&t, 2, TC_STRUCT, w->ncols + 1);     /* schema */
	tc_struct_begin(&t, 0);
	tc_string(&t, 4, "schema");
	tc_i32(&t, 5, (int32_t)w->ncols);
	tc_struct_end(&t);
	for (size_t i = 0; i < w->ncols; i++)
		write_schema_element(&t, &w->cols[i]);
	tc_i64(&t, 3, w->rows);
	tc_list(&t, 4, TC_STRUCT, w->nrow_groups);
	buf_add(&out, w->row_groups.data, w->row_groups.len);
	if (w->nkv) {
		tc_list(&t, 5, TC_STRUCT, w->nkv);
		for (size_t i = 0; i < w->nkv; i++) {
			tc_struct_begin(&t, 0);
			tc_string(&t, 1, w->kv[i].key);
			if (w->kv[i].value)
				tc_string(&t, 2, w->kv[i].value);
			tc_struct_end(&t);
		}
	}
	tc_string(&t, 6, w->created_by);
	tc_list(&t, 7, TC_STRUCT, w->ncols);         /* column_orders */
	for (size_t i = 0; i < w->ncols; i++) {
		tc_struct_begin(&t, 0);
		tc_empty_struct(&t, 1);              /* TYPE_ORDER */
		tc_struct_end(&t);
	}
	buf_addc(&out, TC_STOP);

	len = (uint32_t)out.len;
	buf_add(&out, &len, sizeof(len));
	buf_add(&out, "PAR1", 4);
	r = write_all(w, out.data, out.len);
	buf_free(&out);
	return r;
}

static void writer_free(struct parquet_writer *w)
{
	for (size_t i = 0; i < w->ncols; i++) {
		struct column *c = &w->cols[i];

		free(c->name);
		buf_free(&c->values);
		free(c->levels);
		free(c->indices);
		buf_free(&c->dict);
		free(c->entries);
		free(c->slots);
		buf_free(&c->pages);
		buf_free(&c->min_s);
		buf_free(&c->max_s);
	}
	free(w->cols);
	for (size_t i = 0; i < w->nkv; i++) {
		free((char *)w->kv[i].key);
		free((char *)w->kv[i].value);
	}
	free(w->kv);
	buf_free(&w->row_groups);
	buf_free(&w->page);
	buf_free(&w->zbuf);
	buf_free(&w->scratch);
	ZSTD_freeCCtx(w->zstd);
	free(w->created_by);
	free(w->path);
	free(w->tmp_path);
	free(w);
}

struct parquet_writer *parquet_writer__abort(struct parquet_writer *w)
{
	if (!w)
		return NULL;
	if (w->fd >= 0)
		close(w->fd);
	unlink(w->tmp_path);
	writer_free(w);
	return NULL;
}

static bool logical_fits(enum parquet_type type, enum parquet_logical logical)
{
	switch (logical) {
	case PARQUET_LOGICAL_NONE: return true;
	case PARQUET_LOGICAL_STRING: return type == PARQUET_BYTE_ARRAY;
	case PARQUET_LOGICAL_TIMESTAMP_NS:
	case PARQUET_LOGICAL_TIMESTAMP_NS_LOCAL: return type == PARQUET_INT64;
	}
	return false;
}

/* Creates "<dir>/.<name>.<random>.tmp" exclusively, mode 0666 less umask. */
static int create_tmp(struct parquet_writer *w)
{
	const char *slash = strrchr(w->path, '/');
	int dirlen = slash ? (int)(slash - w->path) + 1 : 0;
	const char *base = slash ? slash + 1 : w->path;
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	for (unsigned attempt = 0; attempt < 100; attempt++) {
		uint64_t x = (uint64_t)ts.tv_nsec ^ (uint64_t)getpid() << 32 ^ attempt * 0x9e3779b97f4a7c15ull;

		free(w->tmp_path);
		if (asprintf(&w->tmp_path, "%.*s.%s.%06x.tmp", dirlen, w->path, base,
			     (unsigned)((x ^ x >> 29) & 0xffffff)) < 0) {
			w->tmp_path = NULL;
			return -ENOMEM;
		}
		w->fd = open(w->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
		if (w->fd >= 0)
			return 0;
		if (errno != EEXIST)
			return -errno;
	}
	return -EEXIST;
}

int parquet_writer__open(const char *path, const struct parquet_column *columns, size_t ncolumns,
			 const struct parquet_opts *opts, struct parquet_writer **ret)
{
	struct parquet_writer *w;
	int r;

	if (!path || !*path || !columns || !ncolumns || ncolumns > INT32_MAX - 1)
		return -EINVAL;
	for (size_t i = 0; i < ncolumns; i++) {
		if (!columns[i].name || !*columns[i].name ||
		    !logical_fits(columns[i].type, columns[i].logical))
			return -EINVAL;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(columns[i].name, columns[j].name))
				return -EINVAL;
	}

	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->fd = -1;
	if (opts)
		w->opts = *opts;
	w->opts.metadata = NULL;
	w->opts.nmetadata = 0;
	if (!w->opts.row_group_rows)
		w->opts.row_group_rows = DEFAULT_ROW_GROUP_ROWS;
	if (!w->opts.row_group_bytes)
		w->opts.row_group_bytes = DEFAULT_ROW_GROUP_BYTES;
	if (!w->opts.page_bytes)
		w->opts.page_bytes = DEFAULT_PAGE_BYTES;
	if (!w->opts.dictionary_bytes)
		w->opts.dictionary_bytes = DEFAULT_DICT_BYTES;
	if (!w->opts.stats_max_bytes)
		w->opts.stats_max_bytes = DEFAULT_STATS_BYTES;
	if (!w->opts.zstd_level)
		w->opts.zstd_level = DEFAULT_ZSTD_LEVEL;
	w->created_by = xstrdup(opts && opts->created_by ? opts->created_by : DEFAULT_CREATED_BY);
	w->path = xstrdup(path);

	w->ncols = ncolumns;
	w->cols = calloc(ncolumns, sizeof(*w->cols));
	w->zstd = ZSTD_createCCtx();
	if (!w->cols || !w->zstd) {
		r = -ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i < ncolumns; i++) {
		struct column *c = &w->cols[i];

		c->name = xstrdup(columns[i].name);
		c->type = columns[i].type;
		c->logical = columns[i].logical;
		c->optional = columns[i].optional;
		c->filled_row = -1;
		dict_reset(c);
	}
	if (opts)
		for (size_t i = 0; i < opts->nmetadata; i++) {
			r = parquet_writer__set_metadata(w, opts->metadata[i].key, opts->metadata[i].value);
			if (r)
				goto fail;
		}

	r = create_tmp(w);
	if (r)
		goto fail;
	r = write_all(w, "PAR1", 4);
	if (r)
		goto fail;
	*ret = w;
	return 0;

fail:
	if (w->fd >= 0) {
		close(w->fd);
		unlink(w->tmp_path);
	}
	w->fd = -1;
	writer_free(w);
	return r;
}

/* fsync the directory holding path, so the rename itself is durable. */
static void sync_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? strndup(path, (size_t)(slash - path) + 1) : xstrdup(".");
	int fd = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;

	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(dir);
}

int parquet_writer__close(struct parquet_writer *w)
{
	int r;

	if (!w)
		return 0;
	if (w->row_started)
		parquet_writer__end_row(w);
	if (!w->err)
		group_flush(w);
	if (!w->err)
		write_footer(w);
	if (!w->err && fsync(w->fd) < 0)
		set_error(w, -errno);
	if (close(w->fd) < 0 && !w->err)
		set_error(w, -errno);
	w->fd = -1;
	if (!w->err && rename(w->tmp_path, w->path) < 0)
		set_error(w, -errno);
	r = w->err;
	if (r)
		unlink(w->tmp_path);
	else
		sync_dir(w->path);
	writer_free(w);
	return r;
}
