/* http_db PATH ROWS: writes a KernelSight database holding ROWS
 * syscall_events rows (1 us apart, the newest now), through the store API in
 * batches, for bench/http.sh.  Prints "rows seconds first_ts last_ts". */
#include <stdio.h>
#include <stdlib.h>

#include "../src/lib/clock.h"
#include "../src/store/store.h"

#define BATCH_ROWS 200000

int main(int argc, char **argv)
{
	static const char *const names[] = { "read", "write", "futex", "epoll_wait", "openat", "fsync", "nanosleep" };
	char err[STORE_ERR_MAX];
	struct store *s;
	struct batch b;
	int64_t rows, now = clock_real_ns(), first, t0 = clock_mono_ns();

	if (argc != 3 || (rows = atoll(argv[2])) <= 0) {
		fprintf(stderr, "usage: http_db PATH ROWS\n");
		return 2;
	}
	if (store__open(argv[1], STORE_READ_WRITE, &s, err)) {
		fprintf(stderr, "http_db: %s\n", err);
		return 1;
	}
	first = now - rows * 1000;
	batch__init(&b);
	for (int64_t i = 0; i < rows; i++) {
		batch__row(&b, T_SYSCALL_EVENTS);
		batch__int(&b, first + i * 1000);
		batch__int(&b, 1000 + i % 5000);
		batch__int(&b, 1000 + i % 7000);
		batch__text(&b, "bench");
		batch__int(&b, i % 7);
		batch__text(&b, names[i % 7]);
		batch__int(&b, 10000000 + (i * 7919) % 90000000);
		batch__int(&b, i % 11 ? 0 : -11);
		batch__int(&b, 1);
		batch__text(&b, "/bench");
		batch__end(&b);
		if (b.rows == BATCH_ROWS || i == rows - 1) {
			if (store__write_batch(s, &b, err)) {
				fprintf(stderr, "http_db: %s\n", err);
				return 1;
			}
			batch__clear(&b);
		}
	}
	batch__free(&b);
	store__close(s);
	printf("%lld %.1f %lld %lld\n", (long long)rows, (double)(clock_mono_ns() - t0) / 1e9, (long long)first,
	       (long long)(first + (rows - 1) * 1000));
	return 0;
}
