/* mcf_source_arduino_pdm.cpp - a PDM microphone through the PDM library of Arduino's mbed cores
 * (Nano 33 BLE Sense: libraries/PDM of ArduinoCore-mbed, nothing to install).
 *
 * PDM.onReceive(on_pdm) registers a callback, PDM.begin(1, MCF_AUDIO_RATE_HZ) starts mono 16-bit
 * capture (the nRF52 implementation accepts 16000 and 41667 Hz and returns 0 otherwise).
 *
 * Concurrency: on_pdm runs in the PDM interrupt (priority 7 on nRF52) each time the library's
 * double buffer swaps (MCF_AUDIO_PDM_BUFFER_BYTES per half, set with PDM.setBufferSize before
 * begin). It reads everything PDM.available() reports - the library stops the peripheral for good
 * if a half is still unread at the next swap - into a static block, and puts the block whole into
 * the single-producer/single-consumer FIFO of mcf_audio_fifo.h, or drops it whole and counts it
 * when the FIFO is full. The main loop's mcf_source_poll() takes one sample at a time from the
 * FIFO; neither side masks interrupts or writes the other's index.
 *
 * RAM: the FIFO, MCF_AUDIO_FIFO_SAMPLES x 2 bytes, and one block, MCF_AUDIO_PDM_BUFFER_BYTES (ours,
 * static); the library's double buffer, 2 x MCF_AUDIO_PDM_BUFFER_BYTES, comes from the library's
 * own realloc() at begin() (mcuforge's code allocates nothing). Outside Arduino builds (PlatformIO's
 * native env) the file is a source without samples, so the host can still replay recordings. */
#include "mcf_sensor.h"
#include "mcf_source.h"

#if defined(ARDUINO)

#include <Arduino.h>
#include <PDM.h>

#include "mcf_audio_fifo.h"

#if MCF_SENSOR_CHANNELS != 1
#error "the microphone source delivers one channel (mono PCM)"
#endif
#if (MCF_AUDIO_PDM_BUFFER_BYTES % 2) != 0
#error "MCF_AUDIO_PDM_BUFFER_BYTES holds whole 16-bit samples"
#endif

static mcf_audio_fifo audio_fifo MCF_SENSOR_ATTR;
static int16_t isr_block[MCF_AUDIO_PDM_BUFFER_BYTES / 2]; /* touched by on_pdm only */
static int started;

/* PDM interrupt context: no Serial, no allocation, no waiting. */
static void on_pdm(void)
{
    int avail = PDM.available();
    while (avail > 0) {
        int n = avail > (int)sizeof isr_block ? (int)sizeof isr_block : avail;
        n = PDM.read(isr_block, (size_t)n);
        if (n <= 0) {
            break;
        }
        (void)mcf_audio_fifo_put(&audio_fifo, isr_block, (uint32_t)n / 2u);
        avail -= n;
    }
}

extern "C" int mcf_source_init(void)
{
    PDM.onReceive(on_pdm);
    PDM.setBufferSize(MCF_AUDIO_PDM_BUFFER_BYTES);
    if (!PDM.begin(1, MCF_AUDIO_RATE_HZ)) {
        return -1; /* a rate or channel count the core does not support */
    }
#if defined(MCF_AUDIO_PDM_GAIN)
    PDM.setGain(MCF_AUDIO_PDM_GAIN);
#endif
    started = 1;
    return 0;
}

extern "C" int mcf_source_poll(float *sample)
{
    return mcf_audio_fifo_poll(&audio_fifo, started, sample);
}

extern "C" int mcf_source_poll_frame(void *input)
{
    (void)input; /* samples, not frames */
    return 0;
}

extern "C" unsigned long mcf_source_overruns(void)
{
    return (unsigned long)mcf_audio_fifo_dropped(&audio_fifo);
}

extern "C" const char *mcf_source_name(void)
{
    return "arduino PDM microphone";
}

#else /* not an Arduino build (PlatformIO native env): no live samples, replay still works */

#include "mcf_source_host_stub.h"

#endif /* ARDUINO */
