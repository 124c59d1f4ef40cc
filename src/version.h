/* The version of ksight, for everything that reports it: `ksight
 * --version`, /api/health, /metrics (ksight_build_info), the files `ksight
 * run` and `ksight export` write.  A header of its own so that any layer
 * can name the version without including the command table (cmd/cmd.h).
 */
#ifndef KS_VERSION_H
#define KS_VERSION_H

#define KSIGHT_VERSION "0.1.0"

#endif
