/*
 * The library's version at run time.
 */
#include "internal.h"

unsigned rm_version(void)
{
	return RM_VERSION_HEX;
}

const char *rm_version_string(void)
{
	return RM_VERSION_STRING;
}
