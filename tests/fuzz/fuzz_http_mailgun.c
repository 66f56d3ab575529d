/* The mailgun response reader (lib/http_mailgun.c); see fuzz_http.h. */
#include "../../lib/http_mailgun.c"

#define RM_FUZZ_NAME http_mailgun
#include "fuzz_http.h"
