/* The ses response reader (lib/http_ses.c); see fuzz_http.h. */
#include "../../lib/http_ses.c"

#define RM_FUZZ_NAME http_ses
#include "fuzz_http.h"
