/* mcf_zephyr.c - see mcf_zephyr.h: start-up, the host protocol's thread and the model lock. */
#if defined(__ZEPHYR__)

#include "mcf_zephyr.h"

#include <zephyr/init.h>
#include <zephyr/kernel.h>

#include "mcf_app.h"
#include "mcf_port.h"
#include "mcf_selftest.h"
#include "mcf_zephyr_model.h" /* generated: MCF_ZEPHYR_MODEL, MCF_ZEPHYR_MODEL_INIT, MCF_ZEPHYR_BOARD_ID */
#if defined(CONFIG_MCUFORGE_HOST)
#include "mcf_host.h"
#endif

static K_MUTEX_DEFINE(model_lock);

void mcf_model_lock(void)
{
    (void)k_mutex_lock(&model_lock, K_FOREVER);
}

void mcf_model_unlock(void)
{
    (void)k_mutex_unlock(&model_lock);
}

static int mcf_zephyr_init(void)
{
    mcf_port_init();
    MCF_ZEPHYR_MODEL_INIT();
#if defined(CONFIG_MCUFORGE_SELFTEST)
    /* The input embedded at generation time; `mcuforge validate` computes the same checksum. */
    (void)mcf_selftest(&MCF_ZEPHYR_MODEL, mcf_selftest_inputs, MCF_SELFTEST_CHECKSUM);
#endif
    return 0;
}

SYS_INIT(mcf_zephyr_init, APPLICATION, CONFIG_APPLICATION_INIT_PRIORITY);

#if defined(CONFIG_MCUFORGE_HOST_THREAD)
static void host_main(void *p1, void *p2, void *p3)
{
    ARG_UNUSED(p1);
    ARG_UNUSED(p2);
    ARG_UNUSED(p3);
    mcf_model_lock(); /* released by mcf_zephyr_host_wait() whenever the host is quiet */
    mcf_host_serve(&MCF_ZEPHYR_MODEL, MCF_ZEPHYR_BOARD_ID);
}

/* Started after the APPLICATION init level, i.e. after mcf_zephyr_init(). */
K_THREAD_DEFINE(mcf_host_thread, CONFIG_MCUFORGE_HOST_STACK_SIZE, host_main, NULL, NULL, NULL,
                CONFIG_MCUFORGE_HOST_PRIORITY, 0, 0);

int mcf_zephyr_is_host_thread(void)
{
    return k_current_get() == mcf_host_thread;
}

void mcf_zephyr_host_wait(struct k_sem *ready)
{
    if (k_sem_take(ready, K_MSEC(CONFIG_MCUFORGE_HOST_HOLD_MS)) == 0) {
        return;
    }
    mcf_model_unlock();
    (void)k_sem_take(ready, K_FOREVER);
    mcf_model_lock();
}
#else
int mcf_zephyr_is_host_thread(void)
{
    return 0;
}

void mcf_zephyr_host_wait(struct k_sem *ready)
{
    (void)k_sem_take(ready, K_FOREVER);
}
#endif

#else
typedef int mcf_zephyr_unused; /* ISO C wants a non-empty translation unit */
#endif
