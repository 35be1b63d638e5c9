/* mcf_source_replay.c - the host-fed source (sensor.source `replay` or `serial`): there is no
 * live sensor; samples arrive as SAMPLES messages of the serial protocol, which
 * mcf_sensor_host.c pushes into the ring buffer (docs/protocol.md, SAMPLES). */
#include "mcf_sensor.h"
#include "mcf_source.h"

int mcf_source_init(void)
{
    return -1; /* nothing to sample: the host sends the samples */
}

int mcf_source_poll(float *sample)
{
    (void)sample;
    return 0;
}

int mcf_source_poll_frame(void *input)
{
    (void)input;
    return 0;
}

unsigned long mcf_source_overruns(void)
{
    return 0;
}

const char *mcf_source_name(void)
{
#if MCF_SENSOR_SOURCE == MCF_SENSOR_SOURCE_SERIAL
    return "serial";
#else
    return "replay";
#endif
}
