/* The smtp2go response reader (lib/http_smtp2go.c); see fuzz_http.h. */
#include "../../lib/http_smtp2go.c"

#define RM_FUZZ_NAME http_smtp2go
#include "fuzz_http.h"
