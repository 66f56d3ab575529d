/* The postmark response reader (lib/http_postmark.c); see fuzz_http.h. */
#include "../../lib/http_postmark.c"

#define RM_FUZZ_NAME http_postmark
#include "fuzz_http.h"
