/* mcf_zephyr.h - the mcuforge Zephyr module's services for the application.
 *
 * With CONFIG_MCUFORGE the module initialises itself before main() (SYS_INIT, APPLICATION
 * level): the host link and tick counter (mcf_port_init()), the model (its init()), and with
 * CONFIG_MCUFORGE_SELFTEST it runs the self-test and prints its line on the console. With
 * CONFIG_MCUFORGE_HOST_THREAD a thread of its own then answers the mcuforge host tools over the
 * console UART (mcf_host_serve()), sleeping while no byte arrives. main() belongs to the
 * application.
 *
 * The model has one arena: one inference at a time. Code that writes inputs, invokes and reads
 * outputs holds the model lock around all three; the host thread holds it while a host session
 * is active (from a received byte until CONFIG_MCUFORGE_HOST_HOLD_MS of silence), so that the
 * host's inputs, written over several frames, are not overwritten in between.
 */
#ifndef MCF_ZEPHYR_H
#define MCF_ZEPHYR_H

#ifdef __cplusplus
extern "C" {
#endif

struct k_sem;

/** Take the model lock (waits while another thread, e.g. the host session, uses the model). */
void mcf_model_lock(void);
/** Give the model lock back. */
void mcf_model_unlock(void);

/** Port internals: 1 when called on the host protocol's thread. */
int mcf_zephyr_is_host_thread(void);
/** Port internals: the host thread waits for received bytes; gives the model lock away once
 *  the host has been quiet for CONFIG_MCUFORGE_HOST_HOLD_MS, and takes it back on the next byte. */
void mcf_zephyr_host_wait(struct k_sem *ready);

#ifdef __cplusplus
}
#endif

#endif /* MCF_ZEPHYR_H */
