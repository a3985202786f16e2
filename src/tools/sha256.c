/* SHA-256 of a file; see sha256.h. */
#include "sha256.h"

#include <bcrypt.h>
#include <stdio.h>
#include <stdlib.h>

BOOL sha256_file_hex(const WCHAR *path, char hex[65])
{
    BCRYPT_ALG_HANDLE alg;
    BCRYPT_HASH_HANDLE hash;
    BYTE digest[32], *buffer;
    HANDLE file;
    DWORD got;
    BOOL ok = FALSE;
    int i;

    hex[0] = 0;
    file = CreateFileW(path, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, FILE_FLAG_SEQUENTIAL_SCAN, NULL);
    if (file == INVALID_HANDLE_VALUE) return FALSE;
    if ((buffer = malloc(1 << 20)) && !BCryptOpenAlgorithmProvider(&alg, BCRYPT_SHA256_ALGORITHM, NULL, 0))
    {
        if (!BCryptCreateHash(alg, &hash, NULL, 0, NULL, 0, 0))
        {
            while (ReadFile(file, buffer, 1 << 20, &got, NULL) && got) BCryptHashData(hash, buffer, got, 0);
            ok = !BCryptFinishHash(hash, digest, sizeof(digest), 0);
            BCryptDestroyHash(hash);
        }
        BCryptCloseAlgorithmProvider(alg, 0);
    }
    free(buffer);
    CloseHandle(file);
    for (i = 0; ok && i < 32; i++) sprintf(hex + 2 * i, "%02x", digest[i]);
    return ok;
}
