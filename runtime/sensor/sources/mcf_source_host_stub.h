/* mcf_source_host_stub.h - what an Arduino source file compiles to outside Arduino (PlatformIO's
 * native env, which builds the same project for this computer): a source with no live samples or
 * frames. mcf_source_init() fails, so mcf_sensor_serve() runs without a live source and the host
 * can still stream recordings in (`mcuforge test --replay`). Included once, by the #else branch of
 * mcf_source_arduino*.cpp; C++ only. */
#ifndef MCF_SOURCE_HOST_STUB_H
#define MCF_SOURCE_HOST_STUB_H

extern "C" int mcf_source_init(void)
{
    return -1;
}

extern "C" int mcf_source_poll(float *sample)
{
    (void)sample;
    return 0;
}

extern "C" int mcf_source_poll_frame(void *input)
{
    (void)input;
    return 0;
}

extern "C" unsigned long mcf_source_overruns(void)
{
    return 0;
}

extern "C" const char *mcf_source_name(void)
{
    return "none (host build)";
}

#endif /* MCF_SOURCE_HOST_STUB_H */
