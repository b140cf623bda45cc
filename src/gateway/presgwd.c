#include "config.h"
#include "core.h"
int
main(void)
{
    log_info("presgwd placeholder");
    return 0;
}
