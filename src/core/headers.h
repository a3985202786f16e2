/*
 * Custom request header text: the one rule BITS's SetCustomHeaders and IDO's HttpCustomHeaders
 * and HttpCustomAuthHeaders take it by, and the part of it that goes on the wire (docs/ido.md,
 * docs/engine.md). A pure function of the text.
 */
#ifndef DOSVC_CORE_HEADERS_H
#define DOSVC_CORE_HEADERS_H

#include "dos.h"

/* How lines may end and what a line that is no field does: BITS's and DoSvc's ways. */
enum dos_header_form
{
    DOS_HEADERS_STRICT,     /* BITS: every line a field, ended by CRLF (the last one may have no end) */
    DOS_HEADERS_LENIENT,    /* DoSvc: lines ended by CRLF or LF (the last by nothing); a line with no
                             * colon ("XCustom1=someData", an empty or folded line) is left out */
};

/*
 * Checks text (at most DOS_MAX_CUSTOM_HEADERS characters) by the rule both APIs share. A line
 * with a colon is a field: its name, before the first colon, a token (RFC 9110 5.6.2) and none
 * the transport writes itself (Host, Content-Length, Transfer-Encoding, Connection, Keep-Alive,
 * Proxy-Connection, TE, Trailer, Upgrade, Expect, Range, If-Range, in any case); no line holds
 * a control character but a tab, or a CR but before its LF. DOS_OK, or DOS_E_INVALID_ARG (NULL
 * text too) / DOS_E_STRING_TOO_LONG. With wire, *wire is what goes on the wire (malloc'd): each field as it
 * stands, ended by CRLF, "" for none; DOS_E_OUT_OF_MEMORY if it cannot be made.
 */
dos_status dos_check_custom_headers(const dos_char *text, enum dos_header_form form, dos_char **wire);

#endif
