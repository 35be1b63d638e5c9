{%- set m = cookiecutter.mcuforge -%}
/* `pio test -e native`: the generated model gives, on this computer, the checksum TFLite Micro
 * gave for the embedded input (`pio test -e <board env>` runs the same test on the board).
 * Add your own tests beside this one. */
#if defined(ARDUINO)
#include <Arduino.h>
#endif
#include <unity.h>

#include "mcf_app.h"
#include "mcf_host.h"
#include "mcf_selftest.h"
#include "{{ m.prefix }}.h"

void setUp(void) {}
void tearDown(void) {}

static void test_selftest_checksum_matches_tflite_micro(void)
{
    unsigned i;
    {{ m.prefix }}_init();
    for (i = 0; i < {{ m.prefix }}_model.num_inputs; ++i) {
        const mcf_tensor_info *t = &{{ m.prefix }}_model.inputs[i];
        const uint8_t *src = mcf_selftest_inputs[i];
        uint32_t k;
        for (k = 0; k < t->bytes; ++k) {
            ((uint8_t *)t->data)[k] = src[k];
        }
    }
    {{ m.prefix }}_invoke();
    TEST_ASSERT_EQUAL_HEX32(MCF_SELFTEST_CHECKSUM, mcf_output_checksum(&{{ m.prefix }}_model));
}

/* loop() polls the host link on every pass: before mcf_host_begin() a poll has nothing to do and
 * returns at once. */
static void test_host_poll_returns_at_once_before_begin(void)
{
    TEST_ASSERT_EQUAL_UINT32(0u, (uint32_t)mcf_host_poll());
    TEST_ASSERT_NULL(mcf_host_proto());
}

static int run_tests(void)
{
    UNITY_BEGIN();
    RUN_TEST(test_selftest_checksum_matches_tflite_micro);
    RUN_TEST(test_host_poll_returns_at_once_before_begin);
    return UNITY_END();
}

#if defined(ARDUINO)
/* `pio test -e <board env>`: the Arduino core owns main(); the results go out on Serial. */
void setup(void)
{
    delay(2000); /* boards that reset when the port opens: let the test runner attach first */
    (void)run_tests();
}

void loop(void) {}
#else
int main(void)
{
    return run_tests();
}
#endif
