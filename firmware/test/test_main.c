#include <stdio.h>

#include "test.h"

unsigned test_failures;
static unsigned passed, failed;

void test_run(const char *name, void (*fn)(void))
{
    test_failures = 0;
    fn();
    if (test_failures == 0) {
        passed++;
    } else {
        failed++;
        printf("FAIL %s\n", name);
    }
}

int main(void)
{
    suite_crc();
    suite_rtu();
    suite_functions();
    suite_rain();
    suite_level();
    suite_smoke();
    suite_siren();
    suite_node();
    printf("%u passed, %u failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
