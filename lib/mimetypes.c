/*
 * Content types from file name extensions, for attachments whose caller
 * did not give one. The table covers what mail usually carries; anything
 * else is application/octet-stream (RFC 2046 4.5.1).
 */
#include <string.h>

#include "message_int.h"

static const struct {
	const char *ext;
	const char *type;
} types[] = {
	{ "7z", "application/x-7z-compressed" },
	{ "avif", "image/avif" },
	{ "bmp", "image/bmp" },
	{ "bz2", "application/x-bzip2" },
	{ "css", "text/css" },
	{ "csv", "text/csv" },
	{ "doc", "application/msword" },
	{ "docx", "application/vnd.openxmlformats-officedocument."
	          "wordprocessingml.document" },
	{ "eml", "message/rfc822" },
	{ "epub", "application/epub+zip" },
	{ "gif", "image/gif" },
	{ "gz", "application/gzip" },
	{ "heic", "image/heic" },
	{ "htm", "text/html" },
	{ "html", "text/html" },
	{ "ico", "image/vnd.microsoft.icon" },
	{ "ics", "text/calendar" },
	{ "jpeg", "image/jpeg" },
	{ "jpg", "image/jpeg" },
	{ "js", "text/javascript" },
	{ "json", "application/json" },
	{ "log", "text/plain" },
	{ "m4a", "audio/mp4" },
	{ "md", "text/markdown" },
	{ "mov", "video/quicktime" },
	{ "mp3", "audio/mpeg" },
	{ "mp4", "video/mp4" },
	{ "odp", "application/vnd.oasis.opendocument.presentation" },
	{ "ods", "application/vnd.oasis.opendocument.spreadsheet" },
	{ "odt", "application/vnd.oasis.opendocument.text" },
	{ "ogg", "audio/ogg" },
	{ "pdf", "application/pdf" },
	{ "png", "image/png" },
	{ "ppt", "application/vnd.ms-powerpoint" },
	{ "pptx", "application/vnd.openxmlformats-officedocument."
	          "presentationml.presentation" },
	{ "rtf", "application/rtf" },
	{ "svg", "image/svg+xml" },
	{ "tar", "application/x-tar" },
	{ "tif", "image/tiff" },
	{ "tiff", "image/tiff" },
	{ "txt", "text/plain" },
	{ "vcf", "text/vcard" },
	{ "wav", "audio/wav" },
	{ "webm", "video/webm" },
	{ "webp", "image/webp" },
	{ "xls", "application/vnd.ms-excel" },
	{ "xlsx", "application/vnd.openxmlformats-officedocument."
	          "spreadsheetml.sheet" },
	{ "xml", "application/xml" },
	{ "zip", "application/zip" },
};

const char *rm__mime_type_for_name(const char *name)
{
	const char *dot = name != NULL ? strrchr(name, '.') : NULL;
	size_t i;

	if (dot == NULL || dot[1] == '\0')
		return "application/octet-stream";
	for (i = 0; i < RM__ARRAY_LEN(types); i++)
		if (rm__strcaseeq(types[i].ext, dot + 1))
			return types[i].type;
	return "application/octet-stream";
}
