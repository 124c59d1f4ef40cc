/* Small library pieces: JSON writer, strict parsers, the u64 hash map. */
#include "../../src/lib/json.h"
#include "../../src/lib/parse.h"
#include "../../src/lib/u64map.h"
#include "../lib/tap.h"

int main(void)
{
	struct buf out = BUF_INIT;
	struct json j;
	struct u64map m = U64MAP_INIT;
	int64_t ns;
	uint64_t u;
	bool b;

	plan(22);
	json_init(&j, &out);
	json_obj_begin(&j);
	json_key(&j, "s");
	json_str(&j, "a\"b\\c\n\x01 \xff ok \xc3\xa9");
	json_key(&j, "n");
	json_int(&j, -5);
	json_key(&j, "d");
	json_double(&j, 0.1);
	json_key(&j, "nan");
	json_double(&j, NAN);
	json_key(&j, "a");
	json_arr_begin(&j);
	json_bool(&j, true);
	json_null(&j);
	json_arr_end(&j);
	json_obj_end(&j);
	is_str(out.data, "{\"s\":\"a\\\"b\\\\c\\n\\u0001 \xef\xbf\xbd ok \xc3\xa9\",\"n\":-5,\"d\":0.1,\"nan\":null,\"a\":[true,null]}",
	       "JSON escapes, replaces invalid UTF-8, keeps valid UTF-8, commas by nesting");
	buf_reset(&out);
	json_init(&j, &out);
	json_arr_begin(&j);
	json_int(&j, INT64_MIN);
	json_int(&j, INT64_MAX);
	json_int(&j, 0);
	json_uint(&j, UINT64_MAX);
	json_str(&j, "plain ascii run, then \x7f del");
	json_arr_end(&j);
	is_str(out.data, "[-9223372036854775808,9223372036854775807,0,18446744073709551615,\"plain ascii run, then \x7f del\"]",
	       "JSON integers at the limits, ASCII runs");
	buf_free(&out);

	ok(parse_duration_ns("1500ms", &ns) == 0 && ns == 1500000000LL, "1500ms");
	ok(parse_duration_ns("30", &ns) == 0 && ns == 30000000000LL, "bare number is seconds");
	ok(parse_duration_ns("5m", &ns) == 0 && ns == 300000000000LL, "5m");
	ok(parse_duration_ns("0.5s", &ns) == 0 && ns == 500000000LL, "0.5s");
	ok(parse_duration_ns("5x", &ns) == -EINVAL, "unknown unit");
	ok(parse_duration_ns("-1s", &ns) == -EINVAL, "negative");
	ok(parse_duration_ns("", &ns) == -EINVAL, "empty");
	ok(parse_size("16M", &u) == 0 && u == 16u << 20, "16M");
	ok(parse_size("64KiB", &u) == 0 && u == 64u << 10, "64KiB");
	ok(parse_size("3q", &u) == -EINVAL, "bad size suffix");
	ok(parse_u64("12a", &u) == -EINVAL && parse_u64("-1", &u) == -EINVAL, "strict integers");
	ok(parse_u64("99999999999999999999999", &u) == -ERANGE, "overflow is a range error");
	ok(parse_bool("yes", &b) == 0 && b && parse_bool("off", &b) == 0 && !b && parse_bool("2", &b) == -EINVAL,
	   "booleans");

	for (uint64_t k = 0; k < 10000; k++)
		u64map_put(&m, k * 7919, (void *)(uintptr_t)(k + 1));
	is(m.len, 10000, "10000 keys");
	ok(u64map_get(&m, 7919 * 1234) == (void *)(uintptr_t)1235, "lookup");
	for (uint64_t k = 0; k < 10000; k += 2)
		u64map_del(&m, k * 7919);
	is(m.len, 5000, "half deleted");
	{
		int found = 0, wrong = 0;

		for (uint64_t k = 0; k < 10000; k++) {
			void *v = u64map_get(&m, k * 7919);

			if (k % 2 && v == (void *)(uintptr_t)(k + 1))
				found++;
			else if (!(k % 2) && v)
				wrong++;
		}
		is(found, 5000, "survivors all found after backward-shift deletion");
		is(wrong, 0, "deleted keys are gone");
	}
	{
		size_t it = 0, n = 0;

		while (u64map_next(&m, &it, NULL, NULL))
			n++;
		is(n, 5000, "iteration visits every key once");
	}
	ok(u64map_get(&m, 0) == NULL, "key 0 deleted");
	u64map_free(&m);
	return done_testing();
}
