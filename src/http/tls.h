/* TLS for the HTTP server: the certificate, its key and an optional client
 * CA (mutual TLS, as Prometheus' tls_config cert_file/key_file sends),
 * read into memory for libmicrohttpd (which does TLS through GnuTLS), and
 * the client-certificate check for each request.
 *
 * Settings: http.tls.cert, http.tls.key (PEM files; the key must not be
 * readable by group or others, like an ssh key) and http.tls.client_ca
 * (PEM; when set, every request must come with a client certificate that
 * this CA signed, else 403).  All three are re-read on SIGHUP
 * (http_server__reload_tls() in server.h), because certificates rotate.
 */
#ifndef KS_HTTP_TLS_H
#define KS_HTTP_TLS_H

#include <stdbool.h>

struct config;
struct MHD_Connection;

struct http_tls {
	char *cert;         /* PEM text, NUL-terminated; NULL: no TLS */
	char *key;
	char *client_ca;    /* NULL: no client certificates asked for */
};

/* True when the configuration turns TLS on (http.tls.cert or .key set). */
bool http_tls__wanted(const struct config *cfg);

/* Reads the files the configuration names into t (zeroed first).  Both
 * cert and key are needed; a key file that group or others can read is
 * refused.  Returns 0, or a negative errno with err (HTTP_ERR_MAX) naming
 * the setting and the file. */
int http_tls__load(struct http_tls *t, const struct config *cfg, char *err);

/* Frees what t holds; t is then empty. */
void http_tls__free(struct http_tls *t);

/* With a client CA: true when the connection's peer sent a certificate
 * that verifies against it.  session is libmicrohttpd's gnutls session of
 * the connection (NULL: not TLS, false).  Loads GnuTLS' two functions on
 * first use; false when they cannot be loaded. */
bool http_tls__client_verified(void *session);

#endif
