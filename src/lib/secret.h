/* Files that hold secrets: the HTTP token and the LLM API key.
 *
 * A secret is read only from a regular file that no one but its owner may
 * read or write (mode 0600 or 0400), the way ssh refuses a private key
 * whose permissions are too open: a token others can read is no longer a
 * secret, and one others can write is theirs.  A secret the agent makes
 * itself is written to a fresh file created 0600 and linked into place, so
 * that the name never shows a half-written or loosely-readable file, and a
 * name that already exists (or a symlink planted there) is never written
 * through.
 */
#ifndef KS_SECRET_H
#define KS_SECRET_H

#include <stddef.h>
#include <sys/types.h>

/* Reads up to size - 1 bytes of path into out (NUL-terminated).  Returns
 * the number of bytes read, or a negative errno with err (errlen bytes)
 * naming path and saying what to do: -EACCES when group or others have any
 * permission on it, -EINVAL when it is not a regular file, the open or
 * read error otherwise (-ENOENT when it does not exist). */
ssize_t secret_file__read(const char *path, char *out, size_t size, char *err, size_t errlen);

/* Creates path holding text, mode 0600, atomically: 0, -EEXIST when path
 * exists already (nothing is changed), another negative errno with err
 * otherwise. */
int secret_file__create(const char *path, const char *text, char *err, size_t errlen);

#endif
