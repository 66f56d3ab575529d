/* The sendgrid response reader (lib/http_sendgrid.c); see fuzz_http.h. */
#include "../../lib/http_sendgrid.c"

#define RM_FUZZ_NAME http_sendgrid
#include "fuzz_http.h"
