/* SHA-256 of a file through the system's crypto provider; shared by the tools and the tests. */
#ifndef DOSVC_TOOLS_SHA256_H
#define DOSVC_TOOLS_SHA256_H

#include <windows.h>

/* The file's SHA-256 as 64 lowercase hex digits; FALSE if it cannot be read. */
BOOL sha256_file_hex(const WCHAR *path, char hex[65]);

#endif
