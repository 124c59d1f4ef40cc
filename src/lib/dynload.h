/* Optional libraries, loaded when a feature that needs them is turned on.
 *
 * Linked in, libcurl (webhooks, the LLM explainer) and libmicrohttpd (the
 * HTTP server) bring their TLS, LDAP and Kerberos libraries into every
 * ksight process: about 6 MB of RSS for `ksight query` or an agent run
 * without HTTP.  Loaded here instead, only the processes that use them pay.
 */
#ifndef KS_DYNLOAD_H
#define KS_DYNLOAD_H

#include <stddef.h>

struct dynsym {
	const char *name;
	void **slot;        /* where the function's address goes: (void **)&fn */
};

/* dlopens soname and resolves every symbol into its slot.  0, or -ENOENT
 * with err saying which library (and Debian package) is missing. */
int dynload(const char *soname, const char *package, const struct dynsym *syms, size_t nsyms, char *err,
	    size_t errlen);

#endif
