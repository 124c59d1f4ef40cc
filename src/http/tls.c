/* TLS settings read into memory, and the client-certificate check (see
 * tls.h). */
#include "tls.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../config/config.h"
#include "../lib/dynload.h"
#include "server.h"

#define PEM_MAX (1 << 20)

bool http_tls__wanted(const struct config *cfg)
{
	return (cfg->http_tls_cert && cfg->http_tls_cert[0]) || (cfg->http_tls_key && cfg->http_tls_key[0]);
}

static int fail(char *err, int code, const char *fmt, const char *a, const char *b)
{
	snprintf(err, HTTP_ERR_MAX, fmt, a, b);
	return code;
}

/* Reads a PEM file whole.  secret: refuse it when group or others can read
 * it. */
static int read_pem(const char *setting, const char *path, bool secret, char **ret, char *err)
{
	struct stat st;
	char *data;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return fail(err, -errno, "%s: cannot read %s", setting, path);
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size <= 0 || st.st_size > PEM_MAX) {
		close(fd);
		snprintf(err, HTTP_ERR_MAX, "%s: %s is not a PEM file of 1 byte to 1 MiB", setting, path);
		return -EINVAL;
	}
	if (secret && (st.st_mode & 077)) {
		close(fd);
		snprintf(err, HTTP_ERR_MAX, "%s: %s can be read by others (mode %04o); a private key must not be: "
			 "chmod 600 %s", setting, path, (unsigned)(st.st_mode & 07777), path);
		return -EPERM;
	}
	if (!(data = malloc((size_t)st.st_size + 1))) {
		close(fd);
		return fail(err, -ENOMEM, "%s: out of memory reading %s", setting, path);
	}
	n = read(fd, data, (size_t)st.st_size);
	close(fd);
	if (n != st.st_size) {
		free(data);
		return fail(err, -EIO, "%s: cannot read all of %s", setting, path);
	}
	data[n] = 0;
	if (!strstr(data, "-----BEGIN ")) {
		free(data);
		return fail(err, -EINVAL, "%s: %s holds no PEM block (-----BEGIN ...)", setting, path);
	}
	*ret = data;
	return 0;
}

int http_tls__load(struct http_tls *t, const struct config *cfg, char *err)
{
	int rc;

	memset(t, 0, sizeof(*t));
	if (!cfg->http_tls_cert || !cfg->http_tls_cert[0] || !cfg->http_tls_key || !cfg->http_tls_key[0]) {
		snprintf(err, HTTP_ERR_MAX, "TLS needs both http.tls.cert and http.tls.key");
		return -EINVAL;
	}
	if ((rc = read_pem("http.tls.cert", cfg->http_tls_cert, false, &t->cert, err)) ||
	    (rc = read_pem("http.tls.key", cfg->http_tls_key, true, &t->key, err)) ||
	    (cfg->http_tls_client_ca && cfg->http_tls_client_ca[0] &&
	     (rc = read_pem("http.tls.client_ca", cfg->http_tls_client_ca, false, &t->client_ca, err)))) {
		http_tls__free(t);
		return rc;
	}
	return 0;
}

void http_tls__free(struct http_tls *t)
{
	free(t->cert);
	if (t->key) {
		explicit_bzero(t->key, strlen(t->key));
		free(t->key);
	}
	free(t->client_ca);
	memset(t, 0, sizeof(*t));
}

/* GnuTLS, already in the process with libmicrohttpd's TLS. */
static struct {
	int (*verify_peers2)(void *session, unsigned int *status);
	const void *(*get_peers)(void *session, unsigned int *list_size);
} G;
static int gnutls_rc = -1;

static void gnutls_load_once(void)
{
	const struct dynsym syms[] = {
		{ "gnutls_certificate_verify_peers2", (void **)&G.verify_peers2 },
		{ "gnutls_certificate_get_peers", (void **)&G.get_peers },
	};
	char err[256];

	gnutls_rc = dynload("libgnutls.so.30", "libgnutls30", syms, sizeof(syms) / sizeof(syms[0]), err, sizeof(err));
}

bool http_tls__client_verified(void *session)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	unsigned int status = 1, n = 0;

	if (!session)
		return false;
	pthread_once(&once, gnutls_load_once);
	if (gnutls_rc)
		return false;
	if (!G.get_peers(session, &n) || n == 0)
		return false;
	return G.verify_peers2(session, &status) == 0 && status == 0;
}
