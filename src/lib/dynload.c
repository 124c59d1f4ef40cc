/* Optional libraries (see dynload.h). */
#include "dynload.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>

int dynload(const char *soname, const char *package, const struct dynsym *syms, size_t nsyms, char *err,
	    size_t errlen)
{
	void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);

	if (!h) {
		snprintf(err, errlen, "cannot load %s (Debian package %s): %s", soname, package, dlerror());
		return -ENOENT;
	}
	for (size_t i = 0; i < nsyms; i++) {
		if (!(*syms[i].slot = dlsym(h, syms[i].name))) {
			snprintf(err, errlen, "%s has no %s: a version too old for ksight", soname, syms[i].name);
			dlclose(h);
			return -ENOENT;
		}
	}
	return 0;
}
